//! `POST /api/v1/accounts`, `POST /api/v1/sessions`, `DELETE /api/v1/sessions/current`, and
//! leaving: `DELETE /api/v1/accounts/current`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::json::UserJson;
use super::{ApiResult, ApiUser, MaybeApiUser};
use crate::error::JsonError;
use crate::forum::accounts::{Registrar, Registration, SessionKind};
use crate::state::{client_address, AppState};

/// `POST /api/v1/accounts` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RegisterBody {
    username: String,
    display_name: String,
    password: String,
    /// Required when the instance allows only some e-mail domains.
    email: String,
    /// The answer to the instance's question (`approval` mode).
    answer: String,
    /// The invitation code (`invite` mode).
    invite: String,
    /// Make the account an administrator (administrators only).
    admin: bool,
}

/// A new account: the person, and whether it waits for an administrator's approval.
#[derive(Serialize)]
struct RegisteredJson {
    #[serde(flatten)]
    user: UserJson,
    awaiting_approval: bool,
}

/// POST /api/v1/accounts: register (or, for an administrator, create an account). 201 with
/// the person; 202 when the account waits for an administrator's approval.
pub async fn register(
    state: web::Data<AppState>,
    me: MaybeApiUser,
    body: web::Json<RegisterBody>,
) -> ApiResult {
    let body = body.into_inner();
    let by = match me.0 {
        Some(me) if me.user.is_admin => Registrar::Admin {
            by: Box::new(me.user),
            admin: body.admin,
        },
        _ if body.admin => {
            return Err(JsonError::new(
                403,
                "admin_only",
                "Only administrators can create administrators.",
            ))
        }
        _ => Registrar::Visitor,
    };
    let user = state
        .site
        .register(
            Registration {
                username: body.username,
                display_name: body.display_name,
                password: body.password,
                email: body.email,
                answer: body.answer,
                invite: body.invite,
            },
            by,
        )
        .await?;
    let mut answer = if user.pending {
        HttpResponse::Accepted()
    } else {
        HttpResponse::Created()
    };
    Ok(answer.json(RegisteredJson {
        user: UserJson::new(&user, state.site.urls()),
        awaiting_approval: user.pending,
    }))
}

/// `POST /api/v1/sessions` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginBody {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct TokenJson {
    token: String,
    expires_at: String,
    user: UserJson,
}

/// POST /api/v1/sessions: log in for a bearer token.
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginBody>,
) -> ApiResult {
    let body = body.into_inner();
    let session = state
        .site
        .login(
            body.username,
            body.password,
            client_address(&req),
            SessionKind::Api,
        )
        .await?;
    Ok(HttpResponse::Created().json(TokenJson {
        token: session.token,
        expires_at: session
            .expires_at
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        user: UserJson::new(&session.user, state.site.urls()),
    }))
}

/// DELETE /api/v1/sessions/current: revoke the token used.
pub async fn logout(state: web::Data<AppState>, me: ApiUser) -> ApiResult {
    state.site.logout(me.token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's own account, with their settings.
#[derive(Serialize)]
struct CurrentJson {
    #[serde(flatten)]
    user: UserJson,
    /// Whether starting or replying to a thread watches it.
    watch_on_post: bool,
}

/// GET /api/v1/accounts/current: the caller's account and settings.
pub async fn current(state: web::Data<AppState>, me: ApiUser) -> ApiResult {
    Ok(HttpResponse::Ok().json(CurrentJson {
        user: UserJson::new(&me.user, state.site.urls()),
        watch_on_post: me.user.watch_on_post,
    }))
}

/// `PATCH /api/v1/accounts/current` body: only the fields sent change.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpdateBody {
    watch_on_post: Option<bool>,
}

/// PATCH /api/v1/accounts/current {watch_on_post?}: changes the caller's settings; answers the
/// account as `GET` does.
pub async fn update_current(
    state: web::Data<AppState>,
    me: ApiUser,
    body: web::Json<UpdateBody>,
) -> ApiResult {
    let mut user = me.user;
    if let Some(on) = body.watch_on_post {
        state.site.set_watch_on_post(user.clone(), on).await?;
        user.watch_on_post = on;
    }
    Ok(HttpResponse::Ok().json(CurrentJson {
        user: UserJson::new(&user, state.site.urls()),
        watch_on_post: user.watch_on_post,
    }))
}

/// `DELETE /api/v1/accounts/current` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LeaveBody {
    password: String,
    /// `anonymise` or `remove`: what becomes of the posts.
    content: String,
}

/// DELETE /api/v1/accounts/current: delete your own account, with your password; your posts
/// are anonymised or removed (`content`), every session ends. 204.
pub async fn delete_current(
    state: web::Data<AppState>,
    me: ApiUser,
    body: web::Json<LeaveBody>,
) -> ApiResult {
    let body = body.into_inner();
    state
        .site
        .delete_account(me.user, body.password, body.content)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

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
    /// Their address (shown to them alone), whether it is confirmed, how they want mail, and
    /// whether this instance sends any.
    email: crate::forum::email::EmailSettings,
}

fn current_json(state: &AppState, user: &crate::forum::User) -> CurrentJson {
    CurrentJson {
        user: UserJson::new(user, state.site.urls()),
        watch_on_post: user.watch_on_post,
        email: state.site.email_settings(user),
    }
}

/// GET /api/v1/accounts/current: the caller's account and settings.
pub async fn current(state: web::Data<AppState>, me: ApiUser) -> ApiResult {
    Ok(HttpResponse::Ok().json(current_json(&state, &me.user)))
}

/// `PATCH /api/v1/accounts/current` body: only the fields sent change.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpdateBody {
    watch_on_post: Option<bool>,
    /// A new address (`""` removes it); a link to confirm it is sent to it.
    email: Option<String>,
    /// `immediate`, `digest` or `off`.
    email_mode: Option<String>,
}

/// PATCH /api/v1/accounts/current {watch_on_post?, email?, email_mode?}: changes the caller's
/// settings; answers the account as `GET` does (422 on the field at fault).
pub async fn update_current(
    state: web::Data<AppState>,
    me: ApiUser,
    body: web::Json<UpdateBody>,
) -> ApiResult {
    let body = body.into_inner();
    let mut user = me.user;
    if body.email.is_some() || body.email_mode.is_some() {
        state
            .site
            .update_email(user.clone(), body.email, body.email_mode)
            .await?;
        user = state
            .site
            .user_by_id(user.id)
            .await?
            .ok_or(crate::error::ForumError::NotFound { what: "person" })?;
    }
    if let Some(on) = body.watch_on_post {
        state.site.set_watch_on_post(user.clone(), on).await?;
        user.watch_on_post = on;
    }
    Ok(HttpResponse::Ok().json(current_json(&state, &user)))
}

/// POST /api/v1/accounts/current/email-verification: sends the confirmation link again (202;
/// 409 `email_verified` or `email_disabled`; 422 without an address).
pub async fn resend_verification(state: web::Data<AppState>, me: ApiUser) -> ApiResult {
    state.site.resend_verification(me.user).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// `POST /api/v1/password-resets` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResetRequestBody {
    username_or_email: String,
}

/// POST /api/v1/password-resets {username_or_email}: 202 whether or not there is such an
/// account; a link is sent to its confirmed address when there is.
pub async fn request_password_reset(
    state: web::Data<AppState>,
    body: web::Json<ResetRequestBody>,
) -> ApiResult {
    state
        .site
        .request_password_reset(body.into_inner().username_or_email)
        .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// `POST /api/v1/password-resets/{token}` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResetBody {
    password: String,
}

/// POST /api/v1/password-resets/{token} {password}: sets the password with the link's token,
/// once (204; 410 `link_expired`; 422 on `new_password`). Every session of the account ends.
pub async fn reset_password(
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<ResetBody>,
) -> ApiResult {
    state
        .site
        .reset_password(path.into_inner(), body.into_inner().password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
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

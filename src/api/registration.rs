//! Registration control through the API (administrators): applications waiting for approval
//! (`/api/v1/admin/applications`) and invitations (`/api/v1/admin/invites`).

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::json::{ts, UserJson};
use super::{ApiResult, ApiUser};
use crate::forum::registration::InviteView;
use crate::state::AppState;

#[derive(Serialize)]
struct ApplicationJson {
    id: i64,
    user: UserJson,
    email: Option<String>,
    answer: String,
    created_at: String,
}

/// GET /api/v1/admin/applications: the applications waiting, oldest first.
pub async fn applications(state: web::Data<AppState>, me: ApiUser) -> ApiResult {
    let waiting = state.site.applications(me.user).await?;
    let urls = state.site.urls();
    Ok(HttpResponse::Ok().json(
        waiting
            .iter()
            .map(|a| ApplicationJson {
                id: a.user.id,
                user: UserJson::new(&a.user, urls),
                email: a.user.email.clone(),
                answer: a.answer.clone(),
                created_at: ts(a.user.created_at),
            })
            .collect::<Vec<_>>(),
    ))
}

/// POST /api/v1/admin/applications/{id}/approve: the account can log in. Answers the person.
pub async fn approve(state: web::Data<AppState>, me: ApiUser, path: web::Path<i64>) -> ApiResult {
    let user = state
        .site
        .approve_application(me.user, path.into_inner())
        .await?;
    Ok(HttpResponse::Ok().json(UserJson::new(&user, state.site.urls())))
}

/// POST /api/v1/admin/applications/{id}/reject: the waiting account is deleted; 204.
pub async fn reject(state: web::Data<AppState>, me: ApiUser, path: web::Path<i64>) -> ApiResult {
    state
        .site
        .reject_application(me.user, path.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize)]
struct InviteJson {
    id: i64,
    note: String,
    created_by: Option<UserJson>,
    created_at: String,
    expires_at: Option<String>,
    used_by: Option<UserJson>,
    used_at: Option<String>,
}

fn invite_json(view: &InviteView, state: &AppState) -> InviteJson {
    let urls = state.site.urls();
    let i = &view.invite;
    InviteJson {
        id: i.id,
        note: i.note.clone(),
        created_by: view.created_by.as_ref().map(|u| UserJson::new(u, urls)),
        created_at: ts(i.created_at),
        expires_at: i.expires_at.map(ts),
        used_by: view.used_by.as_ref().map(|u| UserJson::new(u, urls)),
        used_at: i.used_at.map(ts),
    }
}

/// `POST /api/v1/admin/invites` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InviteBody {
    /// Whom it is for.
    note: String,
    /// RFC 3339; absent: until used.
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Serialize)]
struct NewInviteJson {
    #[serde(flatten)]
    invite: InviteJson,
    /// The code, shown this once.
    code: String,
    /// The link that registers with it.
    url: String,
}

/// POST /api/v1/admin/invites `{note?, expires_at?}`: a single-use invitation. 201 with its
/// code and link, which are not shown again.
pub async fn create(
    state: web::Data<AppState>,
    me: ApiUser,
    body: web::Json<InviteBody>,
) -> ApiResult {
    let body = body.into_inner();
    let made = state
        .site
        .create_invite(
            me.user.clone(),
            body.note,
            body.expires_at.map(|at| at.naive_utc()),
        )
        .await?;
    let view = InviteView {
        invite: made.invite,
        created_by: Some(me.user),
        used_by: None,
    };
    Ok(HttpResponse::Created().json(NewInviteJson {
        invite: invite_json(&view, &state),
        code: made.code,
        url: made.url,
    }))
}

/// GET /api/v1/admin/invites: every invitation, newest first, used or not.
pub async fn list(state: web::Data<AppState>, me: ApiUser) -> ApiResult {
    let all = state.site.invites(me.user).await?;
    Ok(HttpResponse::Ok().json(
        all.iter()
            .map(|v| invite_json(v, &state))
            .collect::<Vec<_>>(),
    ))
}

/// DELETE /api/v1/admin/invites/{id}: withdraws an unused invitation; 204.
pub async fn revoke(state: web::Data<AppState>, me: ApiUser, path: web::Path<i64>) -> ApiResult {
    state.site.revoke_invite(me.user, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

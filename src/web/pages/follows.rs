//! Following forums on other servers from the forum list, and unfollowing them from their page.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::super::session::{redirect_with_notice, Viewer};
use super::super::PageError;
use super::forums::render_index;
use crate::state::AppState;

/// The follow and unfollow forms.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FollowForm {
    csrf_token: String,
    target: String,
}

/// POST /follows: follow a remote forum by handle or address.
pub async fn follow(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<FollowForm>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let user = viewer.require_user("/")?;
    let Some(resolver) = state.resolver.as_deref() else {
        return Err(PageError::new(
            &viewer,
            404,
            "Not available",
            "This instance does not federate, so forums elsewhere cannot be followed.",
        ));
    };
    let target = form.target.trim();
    if target.is_empty() {
        return render_index(
            &viewer,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form.target,
            Some(
                "Say which forum to follow: a handle like maths@school.example, or its address."
                    .into(),
            ),
        )
        .await;
    }
    match viewer.site.follow_target(user, target, resolver).await {
        Ok(following) => {
            let notice = if following.follow.pending {
                format!(
                    "Asked to follow {}. It appears in the list once its server accepts.",
                    following.forum.title
                )
            } else {
                format!("You follow {}.", following.forum.title)
            };
            Ok(redirect_with_notice(&viewer.site, "/", &notice))
        }
        Err(e) if e.is_internal() => Err(viewer.error(e)),
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            // A server we could not reach is not the educator's mistake: say so plainly.
            let message = if status.is_server_error() {
                tracing::info!(target = %form.target, error = %e, "following failed");
                "That server could not be reached, or did not answer as a forum server does. \
                 Check the handle, or try again later."
                    .to_string()
            } else {
                e.public_message()
            };
            render_index(
                &viewer,
                if status.is_server_error() {
                    StatusCode::BAD_GATEWAY
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                },
                &form.target,
                Some(message),
            )
            .await
        }
    }
}

/// POST /follows/delete: stop following a remote forum (given by its handle).
pub async fn unfollow(
    viewer: Viewer,
    form: web::Form<FollowForm>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let user = viewer.require_user(&format!("/f/{}", form.target))?;
    let forum = viewer
        .site
        .forum_by_handle(form.target.clone(), viewer.user.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    viewer
        .site
        .unfollow_forum(user, forum.id)
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(redirect_with_notice(
        &viewer.site,
        "/",
        &format!("You no longer follow {}.", forum.title),
    ))
}

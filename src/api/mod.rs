//! The JSON API under `/api/v1`, one file per resource.
//!
//! `api` calls `forum` and never `db`, `web` or `federation`. Clients authenticate with
//! `Authorization: Bearer TOKEN` from `POST /api/v1/sessions`. Every error is
//! [`crate::error::JsonError`]: `{"error": CODE, "message": TEXT, "fields": {FIELD: TEXT}?}` with
//! a stable CODE and the matching status.

pub mod accounts;
pub mod follows;
pub mod forums;
pub mod instances;
pub mod json;
pub mod members;
pub mod moderation;
pub mod notifications;
pub mod posts;
pub mod registration;
pub mod search;
pub mod threads;
pub mod users;

use std::future::Future;
use std::pin::Pin;

use actix_web::error::JsonPayloadError;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};

use crate::error::JsonError;
use crate::forum::accounts::SessionKind;
use crate::forum::User;
use crate::state::AppState;

/// The answer of an API handler.
pub type ApiResult = Result<HttpResponse, JsonError>;

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, JsonError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| JsonError::new(500, "internal_error", "The server is misconfigured."))
}

fn bearer(req: &HttpRequest) -> Result<Option<String>, JsonError> {
    let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default();
    match text.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_string()))
        }
        _ => Err(JsonError::new(
            401,
            "invalid_token",
            "The Authorization header must be `Bearer TOKEN`.",
        )),
    }
}

/// The account behind the request's bearer token; 401 without one.
pub struct ApiUser {
    /// The account.
    pub user: User,
    /// The token presented.
    pub token: String,
}

/// The account behind the bearer token if one is sent; 401 only for a bad token.
pub struct MaybeApiUser(pub Option<ApiUser>);

async fn resolve(req: HttpRequest) -> Result<Option<ApiUser>, JsonError> {
    let state = state(&req)?;
    let Some(token) = bearer(&req)? else {
        return Ok(None);
    };
    match state.site.session(token.clone(), SessionKind::Api).await? {
        Some(session) => Ok(Some(ApiUser {
            user: session.user,
            token,
        })),
        None => Err(unknown_token()),
    }
}

/// 401 for a token that is not (or no longer) a live session.
pub fn unknown_token() -> JsonError {
    JsonError::new(
        401,
        "invalid_token",
        "The token is unknown, expired or revoked. Create a new one with POST /api/v1/sessions.",
    )
}

/// The bearer token sent, if any, not yet looked up: for a handler that looks it up in the
/// same round trip as what it reads (401 at once only for a malformed header).
pub struct BearerToken(pub Option<String>);

impl FromRequest for BearerToken {
    type Error = JsonError;
    type Future = std::future::Ready<Result<BearerToken, JsonError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(bearer(req).map(BearerToken))
    }
}

impl FromRequest for MaybeApiUser {
    type Error = JsonError;
    type Future = Pin<Box<dyn Future<Output = Result<MaybeApiUser, JsonError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(req).await.map(MaybeApiUser) })
    }
}

impl FromRequest for ApiUser {
    type Error = JsonError;
    type Future = Pin<Box<dyn Future<Output = Result<ApiUser, JsonError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            resolve(req).await?.ok_or_else(|| {
                JsonError::new(
                    401,
                    "unauthenticated",
                    "This needs a login: send `Authorization: Bearer TOKEN`.",
                )
            })
        })
    }
}

/// How a malformed or oversized JSON body is answered.
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match &err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            JsonError::new(413, "payload_too_large", "The request body is too large.")
        }
        JsonPayloadError::ContentType => JsonError::new(
            415,
            "unsupported_media_type",
            "Send JSON with `Content-Type: application/json`.",
        ),
        JsonPayloadError::Deserialize(e) => JsonError::new(
            400,
            "invalid_json",
            format!("The JSON body is not valid: {e}"),
        ),
        other => JsonError::new(
            400,
            "invalid_json",
            format!("The body could not be read: {other}"),
        ),
    };
    api.into()
}

/// `?page=N`
#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    /// 1-based page.
    pub page: Option<u32>,
}

/// Registers the API routes under `/api/v1`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use web::{delete, get, patch, post, put};
    cfg.service(
        web::scope("/api/v1")
            .route("/accounts", post().to(accounts::register))
            .route("/accounts/current", get().to(accounts::current))
            .route("/accounts/current", patch().to(accounts::update_current))
            .route("/accounts/current", delete().to(accounts::delete_current))
            .route(
                "/accounts/current/email-verification",
                post().to(accounts::resend_verification),
            )
            .route(
                "/password-resets",
                post().to(accounts::request_password_reset),
            )
            .route(
                "/password-resets/{token}",
                post().to(accounts::reset_password),
            )
            .route("/sessions", post().to(accounts::login))
            .route("/sessions/current", delete().to(accounts::logout))
            .route("/forums", get().to(forums::list))
            .route("/forums", post().to(forums::create))
            .route("/forums/{name}", get().to(forums::show))
            .route("/forums/{name}", patch().to(forums::update))
            .route("/forums/{name}/threads", get().to(forums::threads))
            .route("/forums/{name}/threads", post().to(forums::start_thread))
            .route("/forums/{name}/moderators", get().to(moderation::list))
            .route(
                "/forums/{name}/moderators/{person}",
                put().to(moderation::appoint),
            )
            .route(
                "/forums/{name}/moderators/{person}",
                delete().to(moderation::dismiss),
            )
            .route("/forums/{name}/modlog", get().to(moderation::log))
            .route("/modlog", get().to(moderation::instance_log))
            .route("/search", get().to(search::search))
            .route("/forums/{name}/members", get().to(members::list))
            .route("/forums/{name}/members/{person}", put().to(members::add))
            .route(
                "/forums/{name}/members/{person}",
                delete().to(members::remove),
            )
            .route("/forums/{name}/reports", get().to(moderation::reports))
            .route("/forums/{name}/bans", get().to(moderation::bans))
            .route("/forums/{name}/bans", post().to(moderation::ban))
            .route(
                "/forums/{name}/bans/{person}",
                delete().to(moderation::unban),
            )
            .route("/admin/applications", get().to(registration::applications))
            .route(
                "/admin/applications/{id}/approve",
                post().to(registration::approve),
            )
            .route(
                "/admin/applications/{id}/reject",
                post().to(registration::reject),
            )
            .route("/admin/invites", get().to(registration::list))
            .route("/admin/invites", post().to(registration::create))
            .route("/admin/invites/{id}", delete().to(registration::revoke))
            .route("/admin/instance-blocks", get().to(instances::list))
            .route("/admin/instance-blocks", post().to(instances::block))
            .route(
                "/admin/instance-blocks/{domain}",
                delete().to(instances::unblock),
            )
            .route("/admin/bans", get().to(moderation::instance_bans))
            .route("/admin/bans", post().to(moderation::ban_from_instance))
            .route(
                "/admin/bans/{person}",
                delete().to(moderation::unban_from_instance),
            )
            .route("/threads/{id}", get().to(threads::show))
            .route("/threads/{id}", patch().to(threads::update))
            .route("/threads/{id}/posts", post().to(threads::reply))
            .route("/threads/{id}/watch", put().to(notifications::watch_thread))
            .route(
                "/threads/{id}/watch",
                delete().to(notifications::unwatch_thread),
            )
            .route("/forums/{name}/watch", put().to(notifications::watch_forum))
            .route(
                "/forums/{name}/watch",
                delete().to(notifications::unwatch_forum),
            )
            .route("/notifications", get().to(notifications::list))
            .route("/notifications/read", post().to(notifications::mark_read))
            .route("/posts/{id}", get().to(posts::show))
            .route("/posts/{id}", patch().to(posts::edit))
            .route("/posts/{id}", delete().to(posts::delete))
            .route("/posts/{id}/revisions", get().to(posts::revisions))
            .route("/posts/{id}/helpful", post().to(posts::mark_helpful))
            .route("/posts/{id}/helpful", delete().to(posts::unmark_helpful))
            .route("/posts/{id}/remove", post().to(moderation::remove))
            .route("/posts/{id}/restore", post().to(moderation::restore))
            .route("/posts/{id}/reports", post().to(moderation::report))
            .route("/reports/{id}/resolve", post().to(moderation::resolve))
            .route(
                "/reports/{id}/dismiss",
                post().to(moderation::dismiss_report),
            )
            .route("/users/{name}", get().to(users::show))
            .route("/resolve", get().to(follows::resolve_target))
            .route("/follows", get().to(follows::list))
            .route("/follows", post().to(follows::follow))
            .route("/follows/{forum}", delete().to(follows::unfollow)),
    );
}

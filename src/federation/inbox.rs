//! Inboxes: `/inbox` (shared), `/f/{name}/inbox` and `/u/{name}/inbox` all take the same
//! activities. The `activitypub_federation` crate checks the body's digest, fetches the
//! signing actor (a person or a forum) and verifies the HTTP signature against its key before
//! [`InboxActivity`] sees anything; the activity's id and actor must share a domain.

use activitypub_federation::actix_web::inbox::receive_activity;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use either::Either;

use super::activities::InboxActivity;
use super::error::FederationError;
use super::remote::{ApForum, ApUser};
use crate::forum::Forum;
use crate::web::AppState;

/// POST to any inbox.
pub async fn inbox(
    request: HttpRequest,
    body: Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FederationError> {
    let Some(config) = state.federation.as_ref() else {
        return Err(FederationError::Refused {
            status: 404,
            code: "not_found",
            message: "Federation is not enabled here.".into(),
        });
    };
    let data = config.to_request_data();
    receive_activity::<InboxActivity, Either<ApUser, ApForum>, Forum>(request, body, &data).await
}

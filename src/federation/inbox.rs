//! Inboxes: `/inbox` (shared), `/f/{name}/inbox` and `/u/{name}/inbox` all take the same
//! activities. The `activitypub_federation` crate checks the body's digest, fetches the
//! signing actor (a person or a forum) and verifies the HTTP signature against its key before
//! [`InboxActivity`] sees anything; the activity's id and actor must share a server.
//!
//! Keys change (an account moved, a server re-keyed): when a signature fails against the key
//! stored for a known actor, the actor is fetched again once and the signature checked anew.

use activitypub_federation::actix_web::inbox::receive_activity;
use activitypub_federation::config::Data;
use activitypub_federation::error::Error as ApError;
use activitypub_federation::fetch::object_id::ObjectId;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use either::Either;
use url::Url;

use super::activities::InboxActivity;
use super::error::FederationError;
use super::remote::{ApForum, ApUser};
use crate::forum::Forum;
use crate::web::AppState;

type Signer = Either<ApUser, ApForum>;

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
    match receive_activity::<InboxActivity, Signer, Forum>(request.clone(), body.clone(), &data)
        .await
    {
        Err(FederationError::Protocol(ApError::ActivitySignatureInvalid))
            if refetched_signer(&body, &data).await =>
        {
            receive_activity::<InboxActivity, Signer, Forum>(request, body, &data).await
        }
        other => other,
    }
}

/// Fetches the actor named in `body` again, if it is one stored here; true when it was.
async fn refetched_signer(body: &[u8], data: &Data<Forum>) -> bool {
    let Some(actor) = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("actor")?.as_str().map(str::to_string))
        .and_then(|a| Url::parse(&a).ok())
    else {
        return false;
    };
    let known = matches!(data.user_by_ap_id(actor.to_string()).await, Ok(Some(_)))
        || matches!(data.forum_by_ap_id(actor.to_string()).await, Ok(Some(_)));
    if !known {
        // A new actor was fetched just now: its key is as fresh as it gets.
        return false;
    }
    match ObjectId::<Signer>::from(actor.clone())
        .dereference_forced(data)
        .await
    {
        Ok(_) => {
            tracing::info!(%actor, "signature failed; actor fetched again for a new key");
            true
        }
        Err(e) => {
            tracing::info!(%actor, error = %e, "signature failed and the actor could not be fetched again");
            false
        }
    }
}

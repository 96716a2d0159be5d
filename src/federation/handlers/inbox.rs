//! Inboxes: `/inbox` (shared), `/f/{name}/inbox` and `/u/{name}/inbox` all take the same
//! activities. Each request is received as the `activitypub_federation` crate's
//! `receive_activity` receives one, in the same order and with the same errors: the body's
//! digest is checked, the activity parsed, its id checked against its actor (same server, not
//! ours, a server we federate with), the signing actor (a person or a forum) read or fetched,
//! and the HTTP signature verified against its key, before [`InboxActivity`] verifies and
//! receives it. The one difference is the RSA check, done with `ring` (see
//! [`verification::verify`]), which a flood of replies showed to be a fifth of the server's time
//! with the crate's pure-Rust RSA; and the activity id's domain is not looked up in DNS, as the
//! crate does outside debug mode: it must be the actor's, and the actor was fetched through our
//! client, which refuses private addresses.
//!
//! Before any of that, [`crate::federation::signature`] refuses what could never verify (no
//! signature, a garbled one, one that does not sign the request line, host, date and digest, or a stale
//! date) and bodies that are not JSON, so such requests cost no fetch. Verdicts on the
//! signature are all 401 `invalid_signature`, whatever went wrong inside (a key that is not
//! valid PEM included). An activity that waits on other servers for longer than
//! `federation.inbox_timeout_seconds` is answered 503 with `Retry-After`, for the sender to
//! try again later, so a hanging server cannot hold our connections.
//!
//! Keys change (an account moved, a server re-keyed): when a signature fails against the key
//! stored for a known actor, the actor is fetched again once and the signature checked anew.

use activitypub_federation::config::Data;
use activitypub_federation::error::Error as ApError;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::protocol::verification::verify_domains_match;
use activitypub_federation::traits::{Activity, Actor};
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use either::Either;
use std::time::Duration;
use url::Url;

use crate::error::JsonError;
use crate::federation::actors::{ApForum, ApUser};
use crate::federation::error::FederationError;
use crate::federation::protocol::activities::InboxActivity;
use crate::federation::{signature, verification};
use crate::forum::Site;
use crate::state::AppState;

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
    signature::check_content_type(request.headers())?;
    signature::check(request.headers(), chrono::Utc::now())?;
    let data = config.to_request_data();
    let seconds = data.settings().federation.inbox_timeout_seconds;
    let received = tokio::time::timeout(Duration::from_secs_f64(seconds), async {
        match receive(&request, &body, &data).await {
            Err(FederationError::Protocol(ApError::ActivitySignatureInvalid))
                if refetched_signer(&body, &data).await =>
            {
                receive(&request, &body, &data).await
            }
            other => other,
        }
    })
    .await;
    match received {
        Ok(Err(FederationError::Protocol(ApError::Other(why)))) => {
            // Within receiving, the crate reports only signature checks this way: the
            // signature string could not be checked, or the actor's key is not a valid key.
            Err(FederationError::Refused {
                status: 401,
                code: "invalid_signature",
                message: format!("the signature could not be verified: {why}"),
            })
        }
        Ok(result) => result,
        Err(_) => {
            tracing::info!(
                seconds,
                "an incoming activity waited too long on other servers"
            );
            Ok(JsonError::new(
                503,
                "remote_timeout",
                "this activity needs something from another server that did not answer in \
                 time; try again later",
            )
            .retry_after(60)
            .error_response())
        }
    }
}

/// Receives one activity (see the module's documentation for the steps).
async fn receive(
    request: &HttpRequest,
    body: &[u8],
    data: &Data<Site>,
) -> Result<HttpResponse, FederationError> {
    verification::verify_digest(request.headers(), body)?;
    let activity: InboxActivity =
        serde_json::from_slice(body).map_err(|err| ApError::ParseReceivedActivity {
            err,
            id: serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| Url::parse(v.get("id")?.as_str()?).ok()),
        })?;
    verify_domains_match(activity.id(), activity.actor())?;
    // The checks a delivery's address passes (https, a plain domain, not this instance, a
    // server we federate with) are the ones an activity's id must pass.
    let policy = crate::federation::InstancePolicy::of(data);
    policy
        .deliverable(activity.id(), data.domain())
        .map_err(ApError::UrlVerificationError)?;
    let actor = ObjectId::<Signer>::from(activity.actor().clone())
        .dereference(data)
        .await?;
    verification::verify(request, actor.public_key_pem(), data.domain())?;
    activity.verify(data).await?;
    activity
        .receive_signed(actor.left().map(|person| person.user), data)
        .await?;
    Ok(HttpResponse::Ok().finish())
}

/// Fetches the actor named in `body` again, if it is one stored here; true when it was.
async fn refetched_signer(body: &[u8], data: &Data<Site>) -> bool {
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

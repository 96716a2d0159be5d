//! ActivityPub: how Staffroom appears to the rest of the fediverse (`../shared/docs/FEDERATION.md`
//! is the contract).
//!
//! `federation` calls `forum` and never `db`; it is the only module that speaks the protocol
//! (through the `activitypub_federation` crate). This first part makes an instance discoverable
//! and readable: WebFinger for people and forums, NodeInfo 2.1, the instance actor, and the
//! ActivityPub form of every canonical URL by content negotiation (`/u/{name}` Person,
//! `/f/{name}` Group, `/t/{id}` Page, `/p/{id}` Note, `/t/{id}/context` the thread's
//! OrderedCollection). Inboxes, outboxes and delivery come next; until then the actors name
//! their inbox and outbox URLs (ActivityPub requires them) but nothing answers there.
//!
//! Everything here is served only when `federation.enabled` is set.

pub mod actors;
pub mod nodeinfo;
pub mod objects;
pub mod protocol;

use activitypub_federation::config::FederationConfig;
use activitypub_federation::http_signatures::generate_actor_keypair;
use actix_web::guard::GuardContext;
use actix_web::http::header::ACCEPT;
use actix_web::{web, HttpResponse};
use serde::Serialize;

use crate::api::ApiError;
use crate::db::keys::KeyPair;
use crate::forum::actors::KeyOwner;
use crate::forum::Forum;

/// Builds the crate's configuration (only when federation is enabled: it starts the crate's
/// own sending queue, which Staffroom does not use for delivery).
pub async fn config(forum: Forum) -> anyhow::Result<FederationConfig<Forum>> {
    let settings = forum.settings().clone();
    Ok(FederationConfig::builder()
        .domain(settings.federation_domain())
        .app_data(forum)
        .debug(settings.federation.debug)
        .build()
        .await?)
}

/// Whether a request asks for ActivityPub JSON (`application/activity+json`, or
/// `application/ld+json` with the ActivityStreams profile) rather than a page.
pub fn wants_activitypub(ctx: &GuardContext<'_>) -> bool {
    ctx.head()
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(accepts_activitypub)
}

fn accepts_activitypub(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let part = part.trim().to_ascii_lowercase();
        part.starts_with("application/activity+json")
            || (part.starts_with("application/ld+json")
                && part.contains("https://www.w3.org/ns/activitystreams"))
    })
}

/// An ActivityPub document with our `@context`, as `application/activity+json`.
pub fn respond<T: Serialize>(object: T) -> Result<HttpResponse, ApiError> {
    activitypub_federation::actix_web::response::create_http_response(object, &protocol::context())
        .map_err(|e| ApiError::new(500, "internal_error", format!("serialising failed: {e}")))
}

/// An actor's keys, made on first use.
pub async fn keys(forum: &Forum, owner: KeyOwner) -> Result<KeyPair, ApiError> {
    Ok(forum
        .actor_keys(owner, || {
            generate_actor_keypair()
                .map(|k| KeyPair {
                    public_key: k.public_key,
                    private_key: k.private_key,
                })
                .map_err(|e| e.to_string())
        })
        .await?)
}

/// Registers the federation routes; call before the pages so content negotiation on the shared
/// URLs reaches these handlers first.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use web::get;
    let ap = || actix_web::guard::fn_guard(wants_activitypub);
    cfg.route("/.well-known/webfinger", get().to(actors::webfinger))
        .route("/.well-known/nodeinfo", get().to(nodeinfo::links))
        .route("/nodeinfo/2.1", get().to(nodeinfo::nodeinfo))
        .route("/actor", get().to(actors::instance))
        .service(
            web::resource("/u/{name}")
                .guard(ap())
                .route(get().to(actors::person)),
        )
        .service(
            web::resource("/f/{name}")
                .guard(ap())
                .route(get().to(actors::group)),
        )
        .service(
            web::resource("/t/{id}")
                .guard(ap())
                .route(get().to(objects::page)),
        )
        .service(
            web::resource("/p/{id}")
                .guard(ap())
                .route(get().to(objects::note)),
        )
        .route("/t/{id}/context", get().to(objects::context));
}

#[cfg(test)]
mod tests {
    use super::accepts_activitypub;

    #[test]
    fn both_accept_forms_are_recognised() {
        assert!(accepts_activitypub("application/activity+json"));
        assert!(accepts_activitypub(
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""
        ));
        assert!(accepts_activitypub(
            "text/html, application/activity+json;q=0.9"
        ));
        assert!(!accepts_activitypub("application/ld+json"));
        assert!(!accepts_activitypub(
            "text/html,application/xhtml+xml,*/*;q=0.8"
        ));
        assert!(!accepts_activitypub("application/json"));
    }
}

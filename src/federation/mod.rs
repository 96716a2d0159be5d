//! ActivityPub: how Staffroom appears to and talks with the rest of the fediverse
//! (`../shared/docs/FEDERATION.md` is the contract). Served only when `federation.enabled`.
//!
//! `federation` calls `forum` for everything it reads and stores, and never `db`, `web` or
//! `api`; it is the only module that speaks the protocol (through the `activitypub_federation`
//! crate). Where to look:
//!
//! - [`protocol`]: every wire type, actors and objects in `mod.rs`, activities in
//!   `activities.rs`.
//! - [`activities`]: receiving, one file per family (following, posts, announce, votes), each
//!   also building what it sends; [`outgoing`] says which family plans which outbox event.
//! - [`delivery`]: the worker that expands outbox events and sends them (the retry policy is
//!   the domain's, in `forum::delivery`).
//! - [`actors`] and [`objects`]: local and remote actors as the crate sees them (fetching and
//!   storing remote ones), and local posts built as `Page` and `Note`.
//! - [`handlers`]: what answers at each address: actors and WebFinger, objects and
//!   collections, the inboxes, NodeInfo.
//! - [`resolve`]: finding a person, forum or post from a handle or address (the domain's
//!   `Resolver`); [`signature`]: the checks made before an incoming signature is verified;
//!   [`signing`]: signing and posting deliveries.
//! - here: the crate's configuration, which instances we talk to, and the routes.

pub mod activities;
pub mod actors;
pub mod delivery;
pub mod error;
pub mod handlers;
pub mod objects;
pub mod outgoing;
pub mod protocol;
pub mod resolve;
pub mod signature;
pub mod signing;
pub mod software;
pub mod verification;

use std::sync::Arc;
use std::time::Duration;

use activitypub_federation::config::FederationConfig;
use activitypub_federation::http_signatures::generate_actor_keypair;
use activitypub_federation::resolver::ValidatingDnsResolver;
use actix_web::guard::GuardContext;
use actix_web::http::header::ACCEPT;
use actix_web::{web, HttpResponse};
use serde::Serialize;

use crate::error::ForumError;
use crate::forum::actors::KeyOwner;
use crate::forum::actors::KeyPair;
use crate::forum::Site;

/// Which servers this instance talks to: `federation.blocked_instances` and the servers
/// administrators block are refused, and when
/// `federation.allowed_instances` is set only those are let in. The crate asks for every
/// activity id received, every URL fetched and every inbox delivered to.
#[derive(Clone)]
pub(crate) struct InstancePolicy {
    /// The blocked servers: the configuration file's and the administrators', as they stand.
    blocked: crate::forum::instance_blocks::BlockList,
    allowed: Vec<String>,
    debug: bool,
}

/// The message a refusal by [`InstancePolicy`] carries (the error renders it as 403).
pub const INSTANCE_REFUSED: &str = "this server does not federate with that instance";

impl InstancePolicy {
    /// The policy of `site`: its blocked servers as they stand when asked, and
    /// `federation.allowed_instances`.
    pub(crate) fn of(site: &Site) -> InstancePolicy {
        let settings = &site.settings().federation;
        InstancePolicy {
            blocked: site.block_list(),
            allowed: settings.allowed_instances.clone(),
            debug: settings.debug,
        }
    }

    /// Whether a delivery may go to `inbox`: the checks the protocol crate makes before it
    /// sends (activitypub_federation's `verify_url_valid`): https (http in debug), a domain
    /// name (not an IP address) of plain characters, not this instance (`own`), no explicit
    /// port outside debug, and a server this one federates with.
    pub(crate) fn deliverable(&self, inbox: &url::Url, own: &str) -> Result<(), &'static str> {
        match inbox.scheme() {
            "https" => {}
            "http" if self.debug => {}
            _ => return Err("only https (http in debug mode)"),
        }
        let Some(domain) = inbox.domain() else {
            return Err("no domain name");
        };
        if crate::forum::remote::domain_of(inbox).as_deref() == Some(own) {
            return Err("an address of this instance");
        }
        if !domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            return Err("invalid characters in the domain");
        }
        if !self.debug && inbox.port().is_some() {
            return Err("explicit port outside debug mode");
        }
        if !self.permits(inbox) {
            return Err(INSTANCE_REFUSED);
        }
        Ok(())
    }

    fn covers(list: &[String], url: &url::Url) -> bool {
        // A trailing dot names the same host: it must not slip past the lists.
        let host = url
            .host_str()
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let with_port = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        list.iter().any(|entry| {
            let entry = entry.trim().to_ascii_lowercase();
            host == entry || with_port == entry || host.ends_with(&format!(".{entry}"))
        })
    }

    fn permits(&self, url: &url::Url) -> bool {
        !Self::covers(&self.blocked.get(), url)
            && (self.allowed.is_empty() || Self::covers(&self.allowed, url))
    }
}

#[async_trait::async_trait]
impl activitypub_federation::config::UrlVerifier for InstancePolicy {
    async fn verify(&self, url: &url::Url) -> Result<(), activitypub_federation::error::Error> {
        if self.permits(url) {
            Ok(())
        } else {
            Err(activitypub_federation::error::Error::UrlVerificationError(
                INSTANCE_REFUSED,
            ))
        }
    }
}

/// Installs rustls's ring provider as the process default (once; later calls do nothing).
/// reqwest is built without a provider of its own, so https:// needs this first.
pub fn install_tls_provider() {
    // Err means a provider is installed already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The HTTP client for every outgoing request: no automatic redirects (the crate follows one
/// itself, after checking it), `federation.connect_timeout_seconds` to connect and
/// `request_timeout_seconds` for the whole request, and outside `federation.debug` a DNS
/// resolver that refuses loopback and private addresses.
pub(crate) fn client(
    settings: &crate::config::FederationSettings,
) -> anyhow::Result<reqwest::Client> {
    install_tls_provider();
    let debug = settings.debug;
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs_f64(settings.request_timeout_seconds))
        .connect_timeout(Duration::from_secs_f64(settings.connect_timeout_seconds))
        .user_agent(concat!("Staffroom/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(ValidatingDnsResolver::new(Vec::new(), !debug)))
        .build()?)
}

/// Builds the crate's configuration (only when federation is enabled: it starts the crate's
/// own sending queue, which Staffroom does not use for delivery). Fetches are signed by the
/// instance actor, whose keys are made here on first start.
pub async fn config(site: Site) -> anyhow::Result<FederationConfig<Site>> {
    let settings = site.settings().clone();
    let policy = InstancePolicy::of(&site);
    let instance = actors::ApInstance::load(&site)
        .await
        .map_err(|e| anyhow::anyhow!("instance actor: {e}"))?;
    Ok(FederationConfig::builder()
        .domain(settings.federation_domain())
        .app_data(site)
        .debug(settings.federation.debug)
        .client(client(&settings.federation)?.into())
        // The crate sets this on each request it makes, over the client's own.
        .request_timeout(Duration::from_secs_f64(
            settings.federation.request_timeout_seconds,
        ))
        .signed_fetch_actor(&instance)
        // Signatures without (created) and (expires), which Pleroma needs and everyone takes.
        .http_signature_compat(true)
        .http_fetch_limit(50)
        .url_verifier(Box::new(policy))
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
pub fn respond<T: Serialize>(object: T) -> Result<HttpResponse, error::FederationError> {
    activitypub_federation::actix_web::response::create_http_response(object, &protocol::context())
        .map_err(|e| ForumError::Internal(format!("serialising failed: {e}")).into())
}

/// A URL this instance made: one that does not parse is our own bug (500), not the caller's.
pub(crate) fn own_url(s: &str) -> Result<url::Url, error::FederationError> {
    url::Url::parse(s)
        .map_err(|e| crate::error::ForumError::Internal(format!("bad URL {s}: {e}")).into())
}

/// An actor's keys, made on first use.
pub async fn keys(site: &Site, owner: KeyOwner) -> Result<KeyPair, ForumError> {
    site.actor_keys(owner, || {
        generate_actor_keypair()
            .map(|k| KeyPair {
                public_key: k.public_key,
                private_key: k.private_key,
            })
            .map_err(|e| e.to_string())
    })
    .await
}

/// Checks that two URLs come from the same server: same host and port. (The crate's
/// `verify_domains_match` compares hosts only, which cannot tell two development instances on
/// one host apart.)
pub fn same_origin(a: &url::Url, b: &url::Url) -> Result<(), error::FederationError> {
    use crate::forum::remote::domain_of;
    match (domain_of(a), domain_of(b)) {
        (Some(x), Some(y)) if x == y => Ok(()),
        _ => Err(error::FederationError::refused(
            "origin_mismatch",
            format!("{a} and {b} are not from the same server"),
        )),
    }
}

/// Registers the federation routes; call before the pages so content negotiation on the shared
/// URLs reaches these handlers first.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use handlers::{actors, inbox, nodeinfo, objects};
    use web::get;
    let ap = || actix_web::guard::fn_guard(wants_activitypub);
    cfg.route("/.well-known/webfinger", get().to(actors::webfinger))
        .route("/.well-known/nodeinfo", get().to(nodeinfo::links))
        .route("/nodeinfo/2.1", get().to(nodeinfo::nodeinfo))
        .route("/actor", get().to(actors::instance))
        .route("/inbox", web::post().to(inbox::inbox))
        .route("/u/{name}/inbox", web::post().to(inbox::inbox))
        .route("/f/{name}/inbox", web::post().to(inbox::inbox))
        .route("/f/{name}/outbox", get().to(objects::forum_outbox))
        .route("/f/{name}/followers", get().to(objects::forum_followers))
        .route("/f/{name}/featured", get().to(objects::forum_featured))
        .route("/f/{name}/moderators", get().to(objects::forum_moderators))
        .route("/u/{name}/outbox", get().to(objects::person_collection))
        .route("/u/{name}/followers", get().to(objects::person_collection))
        .route("/actor/outbox", get().to(objects::instance_outbox))
        .route("/activities/{kind}/{id}", get().to(objects::activity))
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
        .route("/t/{id}/context", get().to(objects::context))
        .route(
            "/t/{id}/context/followers",
            get().to(objects::context_followers),
        );
}

#[cfg(test)]
mod tests {
    use super::{accepts_activitypub, InstancePolicy};

    fn policy_of(blocked: &[&str], allowed: &[&str]) -> InstancePolicy {
        let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        InstancePolicy {
            blocked: crate::forum::instance_blocks::BlockList::new(owned(blocked)),
            allowed: owned(allowed),
            debug: false,
        }
    }

    #[test]
    fn blocked_and_allowed_instances_are_matched_by_domain() {
        let url = |s: &str| url::Url::parse(s).unwrap();
        let policy = policy_of(&["spam.example"], &[]);
        assert!(!policy.permits(&url("https://spam.example/u/x")));
        assert!(!policy.permits(&url("https://spam.example./u/x")));
        assert!(!policy.permits(&url("https://eu.spam.example/inbox")));
        assert!(policy.permits(&url("https://notspam.example/inbox")));
        let policy = policy_of(&["localhost:9"], &["school.example", "localhost:8"]);
        assert!(policy.permits(&url("https://school.example/f/maths")));
        assert!(policy.permits(&url("http://localhost:8/inbox")));
        assert!(!policy.permits(&url("http://localhost:9/inbox")));
        assert!(!policy.permits(&url("https://elsewhere.example/inbox")));
    }

    #[test]
    fn deliveries_go_only_where_the_protocol_crate_would_send() {
        let url = |s: &str| url::Url::parse(s).unwrap();
        let mut policy = policy_of(&["spam.example"], &[]);
        let own = "school.example";
        assert_eq!(
            policy.deliverable(&url("https://a.example/inbox"), own),
            Ok(())
        );
        for refused in [
            "http://a.example/inbox",
            "ftp://a.example/inbox",
            "https://127.0.0.1/inbox",
            "https://school.example/inbox",
            "https://a.example:8443/inbox",
            "https://spam.example/inbox",
            "https://a_b.example/inbox",
        ] {
            assert!(policy.deliverable(&url(refused), own).is_err(), "{refused}");
        }
        policy.debug = true;
        assert_eq!(
            policy.deliverable(&url("http://localhost:8081/inbox"), own),
            Ok(())
        );
        assert!(policy
            .deliverable(&url("http://localhost:8081/inbox"), "localhost:8081")
            .is_err());
    }

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

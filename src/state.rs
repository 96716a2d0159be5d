//! What every HTTP layer shares: [`AppState`], the service and the capabilities `app` wires in
//! at start-up, and [`client_address`]. It sits below `web`, `api` and `federation` so that none
//! of them imports another; it imports only `forum` and `config`-level types.

use std::sync::Arc;

use activitypub_federation::config::FederationConfig;
use actix_web::{web, HttpRequest};

use crate::forum::remote::Resolver;
use crate::forum::Site;
use crate::page_cache::PageCache;

/// Name of the login cookie (`web::session`); a request with it is someone's own (`page_cache`).
pub const SESSION_COOKIE: &str = "staffroom_session";
/// Name of the CSRF cookie (`web::session`).
pub const CSRF_COOKIE: &str = "staffroom_csrf";
/// Name of the notice cookie (`web::session`): a message for one visitor's next page.
pub const NOTICE_COOKIE: &str = "staffroom_notice";

/// What every handler shares (one per server, cloned into each worker).
pub struct AppState {
    /// The domain service.
    pub site: Site,
    /// The ActivityPub configuration, when `federation.enabled`.
    pub federation: Option<FederationConfig<Site>>,
    /// Finding people and forums elsewhere, when `federation.enabled`.
    pub resolver: Option<Arc<dyn Resolver>>,
    /// Pages as anonymous visitors see them, kept for the next.
    pub pages: PageCache,
}

impl AppState {
    /// The state of the server answering `req` (present on every request `app` builds).
    pub fn of(req: &HttpRequest) -> Option<web::Data<AppState>> {
        req.app_data::<web::Data<AppState>>().cloned()
    }
}

/// The client's address: the TCP peer, or the proxy's `Forwarded`/`X-Forwarded-For` when
/// `server.behind_proxy` says a proxy sets them (they are forgeable otherwise).
pub fn client_address(req: &HttpRequest) -> Option<String> {
    let behind_proxy = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.site.settings().server.behind_proxy);
    if behind_proxy {
        let info = req.connection_info();
        if let Some(addr) = info.realip_remote_addr() {
            return Some(
                addr.parse::<std::net::SocketAddr>()
                    .map(|s| s.ip().to_string())
                    .unwrap_or_else(|_| addr.to_string()),
            );
        }
    }
    req.peer_addr().map(|a| a.ip().to_string())
}

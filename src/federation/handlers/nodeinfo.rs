//! NodeInfo 2.1 (<https://nodeinfo.diaspora.software/protocol>): what software this is, whether
//! it takes registrations, and how big it is.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::federation::error::FederationError;
use crate::state::AppState;

const SCHEMA: &str = "http://nodeinfo.diaspora.software/ns/schema/2.1";

/// GET /.well-known/nodeinfo: where the NodeInfo document is.
pub async fn links(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "links": [{
            "rel": SCHEMA,
            "href": state.site.urls().absolute("/nodeinfo/2.1"),
        }]
    }))
}

/// GET /nodeinfo/2.1
pub async fn nodeinfo(state: web::Data<AppState>) -> Result<HttpResponse, FederationError> {
    let usage = state.site.usage().await?;
    let settings = state.site.settings();
    let mut software = json!({
        "name": "staffroom",
        "version": env!("CARGO_PKG_VERSION"),
    });
    if !settings.server.source_url.is_empty() {
        software["repository"] = json!(settings.server.source_url);
    }
    Ok(HttpResponse::Ok()
        .content_type(format!("application/json; profile=\"{SCHEMA}#\""))
        .json(json!({
            "version": "2.1",
            "software": software,
            "protocols": ["activitypub"],
            "services": {"inbound": [], "outbound": []},
            "openRegistrations": state.site.registration_open(),
            "usage": {
                "users": {"total": usage.users},
                "localPosts": usage.local_posts,
            },
            "metadata": {"nodeName": settings.server.instance_name},
        })))
}

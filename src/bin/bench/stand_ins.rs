//! The stand-in follower servers: one HTTP server listening on many loopback ports (each port
//! its own instance to Staffroom) that checks every delivery's signature before it counts it,
//! serves the person who writes the inbound replies, and NodeInfo when told what it runs.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use url::Url;

use staffroom::federation::{signature, verification};

/// The forum's key, which every stand-in checks signatures against.
#[derive(Clone)]
pub struct Known(pub Arc<HashMap<Url, String>>);

impl Known {
    /// The forum under measurement's key, the one deliveries are signed with.
    pub fn forum_of(instance: &crate::Instance) -> Known {
        Known(Arc::new(HashMap::from([(
            instance.forum_id.clone(),
            instance.forum_key.clone(),
        )])))
    }
}

/// What the stand-ins saw: activities taken per port, and refusals; and the software their
/// NodeInfo names, if any.
pub struct Seen {
    pub per_port: HashMap<u16, AtomicUsize>,
    pub refused: AtomicUsize,
    pub software: Option<String>,
}

/// NodeInfo's links, when the stand-ins have it.
async fn nodeinfo_links(req: HttpRequest, seen: web::Data<Arc<Seen>>) -> HttpResponse {
    if seen.software.is_none() {
        return HttpResponse::NotFound().finish();
    }
    let base = format!("http://localhost:{}", req.app_config().local_addr().port());
    HttpResponse::Ok().json(serde_json::json!({"links": [{
        "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
        "href": format!("{base}/nodeinfo/2.1"),
    }]}))
}

/// NodeInfo: the software the stand-ins say they run.
async fn nodeinfo(seen: web::Data<Arc<Seen>>) -> HttpResponse {
    match &seen.software {
        Some(name) => HttpResponse::Ok().json(serde_json::json!({
            "version": "2.1",
            "software": {"name": name, "version": "1.0"},
        })),
        None => HttpResponse::NotFound().finish(),
    }
}

async fn inbox(
    req: HttpRequest,
    body: web::Bytes,
    seen: web::Data<Arc<Seen>>,
    known: web::Data<Known>,
) -> HttpResponse {
    let port = req.app_config().local_addr().port();
    match check(&req, &body, &known) {
        Ok(()) => {
            if let Some(n) = seen.per_port.get(&port) {
                n.fetch_add(1, Ordering::SeqCst);
            }
            HttpResponse::Accepted().finish()
        }
        Err(e) => {
            seen.refused.fetch_add(1, Ordering::SeqCst);
            eprintln!("stand-in on port {port} refused a delivery: {e}");
            HttpResponse::Unauthorized().finish()
        }
    }
}

/// A delivery's digest and signature, checked against the known key of the actor its `keyId`
/// names, as Staffroom checks what it receives (a real server's check is as fast: OpenSSL's RSA
/// is as fast as ring's).
fn check(req: &HttpRequest, body: &[u8], known: &Known) -> Result<(), String> {
    let header = req
        .headers()
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .ok_or("not signed")?;
    let mut actor = Url::parse(&signature::parse(header)?.key_id).map_err(|e| e.to_string())?;
    actor.set_fragment(None);
    let key = known.0.get(&actor).ok_or("an unknown signer")?;
    verification::verify_digest(req.headers(), body).map_err(|e| e.to_string())?;
    verification::verify(req, key, "bench.invalid").map_err(|e| e.to_string())
}

/// Starts the stand-ins' HTTP server on `listeners`: every POST is checked against the
/// forum's key and counted per port; `GET /u/writer` is the stand-in's person, with `key`.
pub async fn stand_ins(
    listeners: Vec<TcpListener>,
    known: Known,
    seen: Arc<Seen>,
    key: String,
) -> anyhow::Result<()> {
    let known = web::Data::new(known);
    let state = web::Data::new(seen);
    let key = web::Data::new(key);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(key.clone())
            .app_data(known.clone())
            .route("/u/writer", web::get().to(person))
            .route("/.well-known/nodeinfo", web::get().to(nodeinfo_links))
            .route("/nodeinfo/2.1", web::get().to(nodeinfo))
            .default_service(web::post().to(inbox))
    })
    .workers(1)
    .backlog(4096);
    for listener in listeners {
        server = server.listen(listener)?;
    }
    tokio::spawn(server.run());
    Ok(())
}

/// The stand-in's person, who writes the inbound replies.
async fn person(req: HttpRequest, key: web::Data<String>) -> HttpResponse {
    let base = format!("http://localhost:{}", req.app_config().local_addr().port());
    let id = format!("{base}/u/writer");
    HttpResponse::Ok()
        .content_type("application/activity+json")
        .json(serde_json::json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id,
            "type": "Person",
            "preferredUsername": "writer",
            "inbox": format!("{base}/inbox"),
            "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": key.as_str()},
        }))
}

/// Deliveries the stand-ins have taken, all together.
pub fn delivered(seen: &Seen) -> usize {
    seen.per_port
        .values()
        .map(|n| n.load(Ordering::SeqCst))
        .sum()
}

//! The stand-in follower servers: one HTTP server listening on many loopback ports (each port
//! its own instance to Staffroom) that checks every delivery's signature before it counts it,
//! serves the person who writes the inbound replies, and NodeInfo when told what it runs.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use activitypub_federation::config::{Data, FederationConfig};
use activitypub_federation::traits::{Actor, Object};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use url::Url;

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

/// The signer of a delivery, as a stand-in knows it.
#[derive(Debug, Clone)]
struct Signer {
    id: Url,
    public_key: String,
}

#[async_trait::async_trait]
impl Object for Signer {
    type DataType = Known;
    type Kind = serde_json::Value;
    type Error = activitypub_federation::error::Error;

    fn id(&self) -> &Url {
        &self.id
    }

    async fn read_from_id(id: Url, data: &Data<Known>) -> Result<Option<Self>, Self::Error> {
        Ok(data.0.get(&id).map(|key| Signer {
            id,
            public_key: key.clone(),
        }))
    }

    async fn into_json(self, _: &Data<Known>) -> Result<serde_json::Value, Self::Error> {
        Err(activitypub_federation::error::Error::NotFound)
    }

    async fn verify(_: &serde_json::Value, _: &Url, _: &Data<Known>) -> Result<(), Self::Error> {
        Err(activitypub_federation::error::Error::NotFound)
    }

    async fn from_json(_: serde_json::Value, _: &Data<Known>) -> Result<Self, Self::Error> {
        Err(activitypub_federation::error::Error::NotFound)
    }
}

impl Actor for Signer {
    fn public_key_pem(&self) -> &str {
        &self.public_key
    }

    fn private_key_pem(&self) -> Option<String> {
        None
    }

    fn inbox(&self) -> Url {
        self.id.clone()
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
    data: Data<Known>,
) -> HttpResponse {
    let port = req.app_config().local_addr().port();
    match activitypub_federation::actix_web::signing_actor::<Signer>(&req, Some(body), &data).await
    {
        Ok(_) => {
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

/// Starts the stand-ins' HTTP server on `listeners`: every POST is checked against the
/// forum's key and counted per port; `GET /u/writer` is the stand-in's person, with `key`.
pub async fn stand_ins(
    listeners: Vec<TcpListener>,
    known: Known,
    seen: Arc<Seen>,
    key: String,
) -> anyhow::Result<()> {
    let config = FederationConfig::builder()
        .domain("bench.invalid")
        .app_data(known)
        .debug(true)
        .build()
        .await?;
    let state = web::Data::new(seen);
    let key = web::Data::new(key);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(key.clone())
            .wrap(activitypub_federation::config::FederationMiddleware::new(
                config.clone(),
            ))
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

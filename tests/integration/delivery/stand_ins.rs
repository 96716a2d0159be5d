//! Stand-in servers for the delivery tests: one that takes connections and never answers, and
//! one that records what it is sent (behind a gate), with a NodeInfo that says what it runs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpResponse, HttpServer};
use tokio::sync::Semaphore;

/// A server that accepts connections and never answers: it holds every socket open, reading
/// nothing and writing nothing, until it is dropped.
pub(super) struct Hanging {
    pub(super) domain: String,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Hanging {
    pub(super) async fn start() -> Hanging {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let domain = format!("localhost:{}", listener.local_addr().unwrap().port());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                held.push(socket);
            }
        });
        Hanging {
            domain,
            accepted,
            task,
        }
    }

    pub(super) fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Hanging {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the recorder's handler shares: the activities received, the gate, the status it
/// answers and the software its NodeInfo names (none: it has no NodeInfo).
struct RecorderState {
    received: Arc<Mutex<Vec<serde_json::Value>>>,
    gate: Arc<Semaphore>,
    status: u16,
    nodeinfo: NodeInfo,
    base: String,
}

/// What a recorder's NodeInfo says.
#[derive(Clone)]
pub(super) enum NodeInfo {
    /// Nothing: it has none (404).
    Missing,
    /// That it runs this software.
    Says(&'static str),
    /// That it runs this software, in a document padded past 64 KiB.
    Oversized(&'static str),
    /// Its links point to this address, not to its own document.
    LinksTo(String),
    /// Its links redirect (302) to a list naming its own document, which names this software.
    Redirects(&'static str),
}

/// A follower's server that takes every activity (202) it is let through its gate, and
/// remembers them in the order they arrived; one not let through waits at the gate. Its
/// NodeInfo, if it has one, says what software it is.
pub(super) struct Recorder {
    pub(super) domain: String,
    received: Arc<Mutex<Vec<serde_json::Value>>>,
    gate: Arc<Semaphore>,
    _server: actix_web::dev::ServerHandle,
}

impl Recorder {
    /// A recorder that lets `open` activities through before its gate shuts.
    pub(super) async fn start(open: usize) -> Recorder {
        Recorder::serving(open, 202, NodeInfo::Missing).await
    }

    /// A recorder that answers every activity with `status`.
    pub(super) async fn answering(open: usize, status: u16) -> Recorder {
        Recorder::serving(open, status, NodeInfo::Missing).await
    }

    /// A recorder of `software` (NodeInfo's name for it) that takes everything.
    pub(super) async fn running(software: &'static str) -> Recorder {
        Recorder::describing(NodeInfo::Says(software)).await
    }

    /// A recorder that takes everything, with `nodeinfo`.
    pub(super) async fn describing(nodeinfo: NodeInfo) -> Recorder {
        Recorder::serving(Semaphore::MAX_PERMITS / 2, 202, nodeinfo).await
    }

    async fn serving(open: usize, status: u16, nodeinfo: NodeInfo) -> Recorder {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let domain = format!("localhost:{}", listener.local_addr().unwrap().port());
        let received = Arc::new(Mutex::new(Vec::new()));
        let gate = Arc::new(Semaphore::new(open));
        let state = web::Data::new(RecorderState {
            received: received.clone(),
            gate: gate.clone(),
            status,
            nodeinfo,
            base: format!("http://{domain}"),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .route("/.well-known/nodeinfo", web::get().to(nodeinfo_links))
                .route("/nodeinfo/2.1", web::get().to(nodeinfo_document))
                .route("/moved/nodeinfo", web::get().to(moved_nodeinfo_links))
                .default_service(web::to(
                    |state: web::Data<RecorderState>, body: web::Bytes| async move {
                        if let Ok(pass) = state.gate.acquire().await {
                            pass.forget();
                        }
                        let activity: serde_json::Value =
                            serde_json::from_slice(&body).unwrap_or_default();
                        state.received.lock().unwrap().push(activity);
                        HttpResponse::build(
                            actix_web::http::StatusCode::from_u16(state.status).unwrap(),
                        )
                        .finish()
                    },
                ))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Recorder {
            domain,
            received,
            gate,
            _server: handle,
        }
    }

    /// Lets everything through from now on.
    pub(super) fn open(&self) {
        self.gate.add_permits(Semaphore::MAX_PERMITS / 2);
    }

    /// The ids of the activities received, in order.
    pub(super) fn received(&self) -> Vec<String> {
        self.activities()
            .iter()
            .filter_map(|a| a["id"].as_str().map(str::to_string))
            .collect()
    }

    pub(super) fn activities(&self) -> Vec<serde_json::Value> {
        self.received.lock().unwrap().clone()
    }
}

async fn nodeinfo_links(state: web::Data<RecorderState>) -> HttpResponse {
    let href = match &state.nodeinfo {
        NodeInfo::Missing => return HttpResponse::NotFound().finish(),
        NodeInfo::Redirects(_) => {
            return HttpResponse::Found()
                .insert_header(("Location", format!("{}/moved/nodeinfo", state.base)))
                .finish()
        }
        NodeInfo::LinksTo(href) => href.clone(),
        NodeInfo::Says(_) | NodeInfo::Oversized(_) => format!("{}/nodeinfo/2.1", state.base),
    };
    HttpResponse::Ok().json(serde_json::json!({"links": [{
        "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
        "href": href,
    }]}))
}

async fn moved_nodeinfo_links(state: web::Data<RecorderState>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"links": [{
        "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
        "href": format!("{}/nodeinfo/2.1", state.base),
    }]}))
}

async fn nodeinfo_document(state: web::Data<RecorderState>) -> HttpResponse {
    let (name, padding) = match state.nodeinfo {
        NodeInfo::Says(name) | NodeInfo::Redirects(name) => (name, 0),
        NodeInfo::Oversized(name) => (name, 70 * 1024),
        NodeInfo::Missing | NodeInfo::LinksTo(_) => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok().json(serde_json::json!({
        "version": "2.1",
        "software": {"name": name, "version": "1.0"},
        "metadata": {"padding": "x".repeat(padding)},
    }))
}

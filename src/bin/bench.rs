//! `staffroom-bench`: how fast a new thread reaches a forum's followers, measured from outside.
//!
//! One Staffroom instance runs in this process on its own temporary database (SQLite, or a
//! fresh PostgreSQL database with `--postgres URL`), with one forum followed by `--servers`
//! follower servers: stand-ins on loopback, each on its own port (so each is its own
//! instance to Staffroom), that check every delivery's HTTP signature and digest against the
//! forum's key before they count it. `--hanging PERCENT` of them take the connection and
//! never answer. A thread is posted, and the bench reports when the last healthy follower
//! server had everything the thread sends.
//!
//! With `--scenario inbound`, the other direction: `--servers` stand-ins (50 by default there)
//! each send signed replies to the forum's thread as fast as they can for `--seconds`, and the
//! bench reports how many a second were taken and whether every one taken was stored.
//!
//! Run it on a release build, as issue 14 measures:
//! `cargo run --release --bin staffroom-bench -- --servers 1000 --hanging 10`.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use activitypub_federation::config::{Data, FederationConfig};
use activitypub_federation::traits::{Actor, Object};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use anyhow::Context;
use clap::Parser;
use diesel::{Connection, RunQueryDsl};
use url::Url;

use staffroom::app::Application;
use staffroom::config::Settings;
use staffroom::federation::signing::{self, SigningKey};
use staffroom::forum::accounts::{Registrar, Registration};
use staffroom::forum::actors::KeyOwner;
use staffroom::forum::forums::ForumForm;
use staffroom::forum::remote::RemoteUser;
use staffroom::forum::Site;

/// What to measure.
#[derive(Debug, Parser)]
#[command(about = "Measures delivery of a new thread to many follower servers")]
struct Args {
    /// `fanout` (a new thread to many followers) or `inbound` (replies from many servers).
    #[arg(long, default_value = "fanout")]
    scenario: String,
    /// Follower servers (fanout: 1000 unless given; inbound: 50 unless given).
    #[arg(long)]
    servers: Option<usize>,
    /// How long the inbound senders send, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Percent of them that take the connection and never answer.
    #[arg(long, default_value_t = 0)]
    hanging: usize,
    /// A PostgreSQL server to measure on instead of SQLite (a fresh database is made and
    /// dropped), e.g. postgres://postgres@127.0.0.1:5432/postgres.
    #[arg(long)]
    postgres: Option<String>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

/// The forum's key, which every stand-in checks signatures against.
#[derive(Clone)]
struct Known(Arc<HashMap<Url, String>>);

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

/// What the stand-ins saw: activities taken per port, and refusals.
struct Seen {
    per_port: HashMap<u16, AtomicUsize>,
    refused: AtomicUsize,
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

/// A fresh PostgreSQL database on the server at `url`, and how to drop it.
fn postgres_database(url: &str) -> anyhow::Result<(String, impl FnOnce())> {
    let name = format!("staffroom_bench_{}", std::process::id());
    let mut admin = diesel::PgConnection::establish(url).context("connecting to PostgreSQL")?;
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
    let mut db_url = Url::parse(url)?;
    db_url.set_path(&format!("/{name}"));
    let admin_url = url.to_string();
    let drop = move || {
        if let Ok(mut admin) = diesel::PgConnection::establish(&admin_url) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
    };
    Ok((db_url.to_string(), drop))
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    staffroom::federation::install_tls_provider();
    let dir = std::env::temp_dir().join(format!("staffroom-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (db_url, drop_db): (String, Box<dyn FnOnce()>) = match &args.postgres {
        Some(url) => {
            let (db, drop) = postgres_database(url)?;
            (db, Box::new(drop))
        }
        None => (
            format!("sqlite://{}", dir.join("bench.db").display()),
            Box::new(|| {}),
        ),
    };
    let result = run(&args, &db_url).await;
    drop_db();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The instance under measurement, with an administrator and the forum `maths`.
struct Instance {
    site: Site,
    head: staffroom::forum::User,
    forum: staffroom::forum::Forum,
    forum_id: Url,
    forum_key: String,
}

async fn start_instance(db_url: &str) -> anyhow::Result<Instance> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let mut settings = Settings::defaults()?;
    settings.server.host = "127.0.0.1".into();
    settings.server.port = port;
    settings.server.public_url = Url::parse(&format!("http://localhost:{port}"))?;
    settings.database.url = db_url.to_string();
    settings.federation.enabled = true;
    settings.federation.debug = true;
    settings.log.filter = "warn".into();
    let app = Application::from_listener(settings, listener).await?;
    let site = app.site().clone();
    tokio::spawn(app.run_until_stopped());
    let head = site
        .register(
            Registration {
                username: "head".into(),
                display_name: "Head of Maths".into(),
                password: "a long bench password".into(),
            },
            Registrar::Console { admin: true },
        )
        .await?;
    let forum = site
        .create_forum(
            head.clone(),
            ForumForm {
                name: "maths".into(),
                title: "Maths".into(),
                description: String::new(),
            },
        )
        .await?;
    let forum_id = Url::parse(&site.urls().forum(&forum))?;
    let keys = staffroom::federation::keys(&site, KeyOwner::Forum(forum.id)).await?;
    Ok(Instance {
        site,
        head,
        forum,
        forum_id,
        forum_key: keys.public_key,
    })
}

async fn run(args: &Args, db_url: &str) -> anyhow::Result<()> {
    let instance = start_instance(db_url).await?;
    let backend = if args.postgres.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    match args.scenario.as_str() {
        "fanout" => fanout(args, &instance, backend).await,
        "inbound" => inbound(args, &instance, backend).await,
        other => anyhow::bail!("no scenario {other:?}: fanout or inbound"),
    }
}

/// Starts the stand-ins' HTTP server on `listeners`: every POST is checked against the
/// forum's key and counted per port; `GET /u/writer` is the stand-in's person, with `key`.
async fn stand_ins(
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

async fn fanout(args: &Args, instance: &Instance, backend: &str) -> anyhow::Result<()> {
    let site = &instance.site;
    let servers = args.servers.unwrap_or(1000);
    let known = Known(Arc::new(HashMap::from([(
        instance.forum_id.clone(),
        instance.forum_key.clone(),
    )])));

    // The follower servers.
    let hanging = servers * args.hanging / 100;
    let mut healthy_listeners = Vec::new();
    let mut held = Vec::new();
    let mut ports = Vec::new();
    for n in 0..servers {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        ports.push(listener.local_addr()?.port());
        if n < hanging {
            // Takes connections (the kernel's backlog does) and never reads or answers.
            held.push(listener);
        } else {
            healthy_listeners.push(listener);
        }
    }
    let seen = Arc::new(Seen {
        per_port: healthy_listeners
            .iter()
            .map(|l| {
                (
                    l.local_addr().map(|a| a.port()).unwrap_or(0),
                    AtomicUsize::new(0),
                )
            })
            .collect(),
        refused: AtomicUsize::new(0),
    });
    stand_ins(healthy_listeners, known, seen.clone(), String::new()).await?;

    // Every follower server has a person following the forum; their Accepts go first.
    for (n, port) in ports.iter().enumerate() {
        let base = format!("http://localhost:{port}");
        let now = staffroom::forum::now();
        let person = site
            .remember_remote_user(RemoteUser {
                name: format!("follower{n}"),
                display_name: format!("Follower {n}"),
                local: false,
                domain: Some(format!("localhost:{port}")),
                ap_id: Some(format!("{base}/u/follower")),
                public_key: None,
                inbox_url: Some(format!("{base}/inbox")),
                shared_inbox_url: None,
                profile_url: None,
                last_refreshed_at: Some(now),
                updated_at: now,
            })
            .await?;
        site.remote_follows(instance.forum.id, person, format!("{base}/follows/{n}"))
            .await?;
    }
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let all_have = |count: usize| {
        seen.per_port
            .values()
            .all(|n| n.load(Ordering::SeqCst) >= count)
    };
    wait(
        site,
        deadline,
        "every healthy follower to have its Accept",
        || all_have(1),
    )
    .await?;

    // The measurement: a new thread, until the last healthy follower has all it sends.
    let started = Instant::now();
    site.start_thread(
        instance.head.clone(),
        "maths".into(),
        "Fractions on a number line".into(),
        "Where does 3/4 go, and why?".into(),
    )
    .await?;
    let per_thread = 2;
    wait(
        site,
        deadline,
        "every healthy follower to have the thread",
        || all_have(1 + per_thread),
    )
    .await?;
    let elapsed = started.elapsed();
    println!(
        "{backend}: {servers} follower servers ({hanging} hanging): the last healthy one had the thread after {:.2} s ({} deliveries refused by the stand-ins)",
        elapsed.as_secs_f64(),
        seen.refused.load(Ordering::SeqCst)
    );
    drop(held);
    Ok(())
}

async fn inbound(args: &Args, instance: &Instance, backend: &str) -> anyhow::Result<()> {
    let site = &instance.site;
    let servers = args.servers.unwrap_or(50);
    let (_, thread, opening) = site
        .start_thread(
            instance.head.clone(),
            "maths".into(),
            "Number bonds".into(),
            "How do you teach bonds to ten?".into(),
        )
        .await?;
    let thread_url = site.urls().post(&opening);
    let inbox = Url::parse(&site.urls().absolute("/inbox"))?;
    let keys = activitypub_federation::http_signatures::generate_actor_keypair()?;
    let mut listeners = Vec::new();
    for _ in 0..servers {
        listeners.push(TcpListener::bind("127.0.0.1:0")?);
    }
    let ports: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()?;
    let seen = Arc::new(Seen {
        per_port: HashMap::new(),
        refused: AtomicUsize::new(0),
    });
    stand_ins(
        listeners,
        Known(Arc::new(HashMap::new())),
        seen,
        keys.public_key.clone(),
    )
    .await?;

    let client = reqwest::Client::builder().build()?;
    let taken = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut senders = tokio::task::JoinSet::new();
    for port in ports {
        let base = format!("http://localhost:{port}");
        let actor = Url::parse(&format!("{base}/u/writer"))?;
        let key = Arc::new(SigningKey::from_pem(&actor, &keys.private_key)?);
        let (client, inbox, taken, failed) =
            (client.clone(), inbox.clone(), taken.clone(), failed.clone());
        let (forum, thread_url) = (instance.forum_id.clone(), thread_url.clone());
        senders.spawn(async move {
            let mut n = 0u64;
            while Instant::now() < until {
                n += 1;
                let note = format!("{base}/notes/{n}");
                let create = serde_json::json!({
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": format!("{note}/create"),
                    "type": "Create",
                    "actor": actor,
                    "to": [forum, "https://www.w3.org/ns/activitystreams#Public"],
                    "object": {
                        "id": note,
                        "type": "Note",
                        "attributedTo": actor,
                        "content": format!("<p>Reply {n}: pairs that make ten.</p>"),
                        "inReplyTo": thread_url,
                        "to": [forum, "https://www.w3.org/ns/activitystreams#Public"],
                        "audience": forum,
                        "published": chrono::Utc::now().to_rfc3339(),
                    },
                });
                let body = serde_json::to_vec(&create).unwrap_or_default();
                match signing::post(&client, key.clone(), &inbox, body).await {
                    Ok(()) => taken.fetch_add(1, Ordering::SeqCst),
                    Err(_) => failed.fetch_add(1, Ordering::SeqCst),
                };
            }
        });
    }
    while senders.join_next().await.is_some() {}
    let elapsed = started.elapsed().as_secs_f64();
    let taken = taken.load(Ordering::SeqCst);
    let stored = site.thread_page(thread.id, None).await?.paging.total;
    println!(
        "{backend}: {servers} servers sending replies for {:.1} s: {:.0} a second answered 2xx/4xx ({taken} in all, {} failed), {stored} stored",
        elapsed,
        taken as f64 / elapsed,
        failed.load(Ordering::SeqCst)
    );
    Ok(())
}

async fn wait(
    site: &Site,
    deadline: Instant,
    what: &str,
    mut done: impl FnMut() -> bool,
) -> anyhow::Result<()> {
    while !done() {
        if Instant::now() > deadline {
            let backlog = site.outbox_backlog().await?;
            anyhow::bail!("gave up waiting for {what} (outbox backlog: {backlog:?})");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

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
//! send `--replies` signed replies to the forum's thread in all, each as fast as it is
//! answered, and the bench reports how many a second were taken and whether every one taken
//! was stored. The replies are signed before the clock starts: signing is the senders' work.
//!
//! With `--scenario relays`, both at once: the stand-ins follow the forum, and while they send
//! their replies (each relayed by the forum to the others) the bench compares the rate relays
//! go out with the rate they reach with nothing coming in (local replies), then watches the
//! backlog left afterwards drain for up to `--seconds`.
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
use staffroom::federation::software::Reads;
use staffroom::forum::accounts::{Registrar, Registration};
use staffroom::forum::actors::KeyOwner;
use staffroom::forum::forums::ForumForm;
use staffroom::forum::remote::RemoteUser;
use staffroom::forum::Site;

/// What to measure.
#[derive(Debug, Parser)]
#[command(about = "Measures delivery of a new thread to many follower servers")]
struct Args {
    /// `fanout` (a new thread to many followers), `inbound` (replies from many servers) or
    /// `relays` (replies from many follower servers, each relayed to the others).
    #[arg(long, default_value = "fanout")]
    scenario: String,
    /// Follower servers (fanout: 1000 unless given; inbound: 50 unless given).
    #[arg(long)]
    servers: Option<usize>,
    /// Replies the stand-ins send in all (inbound: 20000 unless given; relays: 5000), signed
    /// before the clock starts.
    #[arg(long)]
    replies: Option<usize>,
    /// relays: how long the backlog left afterwards is watched draining, in seconds.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Percent of them that take the connection and never answer.
    #[arg(long, default_value_t = 0)]
    hanging: usize,
    /// A PostgreSQL server to measure on instead of SQLite (a fresh database is made and
    /// dropped), e.g. postgres://postgres@127.0.0.1:5432/postgres.
    #[arg(long)]
    postgres: Option<String>,
    /// What the follower servers' NodeInfo says they run (e.g. `lemmy`, `mastodon`); without
    /// it they have no NodeInfo, and get every form of announcement.
    #[arg(long)]
    software: Option<String>,
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

/// What the stand-ins saw: activities taken per port, and refusals; and the software their
/// NodeInfo names, if any.
struct Seen {
    per_port: HashMap<u16, AtomicUsize>,
    refused: AtomicUsize,
    software: Option<String>,
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
        "relays" => relays(args, &instance, backend).await,
        other => anyhow::bail!("no scenario {other:?}: fanout, inbound or relays"),
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
        software: args.software.clone(),
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
    // The hanging servers are ones already known to hang (the scenario is peers that hang, not
    // peers met for the first time): wait until each has timed out once.
    for port in &ports[..hanging] {
        let domain = format!("localhost:{port}");
        loop {
            if Instant::now() > deadline {
                anyhow::bail!("gave up waiting for the hanging servers to time out once");
            }
            let instance = site.instance_state(domain.clone()).await?;
            if instance.is_some_and(|i| i.failures > 0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // What the followers run is looked up beside delivery (once a day per server): wait until
    // every healthy one was asked, so that the measurement is of delivery alone.
    let reads = Reads::of(args.software.as_deref());
    let healthy: Vec<String> = seen
        .per_port
        .keys()
        .map(|port| format!("localhost:{port}"))
        .collect();
    let mut left = healthy.len();
    while left > 0 {
        if Instant::now() > deadline {
            anyhow::bail!("gave up waiting for the followers' software to be looked up");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = 0;
        for domain in &healthy {
            let instance = site.instance_state(domain.clone()).await?;
            let done = instance.is_some_and(|i| {
                i.software.is_some() || (reads == Reads::Unknown && i.software_checked_at.is_some())
            });
            if !done {
                left += 1;
            }
        }
    }
    // A look-up taken just now may not have been written yet.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // The measurement: a new thread, until the last healthy follower has all it sends.
    let started = Instant::now();
    site.start_thread(
        instance.head.clone(),
        "maths".into(),
        "Fractions on a number line".into(),
        "Where does 3/4 go, and why?".into(),
    )
    .await?;
    let per_thread = usize::from(reads.activities()) + usize::from(reads.objects());
    // When each tenth of the healthy followers had it, to show where time goes.
    let healthy_count = seen.per_port.len();
    let mut tenths = Vec::new();
    while !all_have(1 + per_thread) {
        if Instant::now() > deadline {
            let backlog = site.outbox_backlog().await?;
            anyhow::bail!("gave up waiting for every healthy follower to have the thread (outbox backlog: {backlog:?})");
        }
        let have = seen
            .per_port
            .values()
            .filter(|n| n.load(Ordering::SeqCst) > per_thread)
            .count();
        while tenths.len() < 10 * have / healthy_count.max(1) {
            tenths.push(started.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let tenths: Vec<String> = tenths.iter().map(|t| format!("{t:.2}")).collect();
    println!(
        "  tenths of the healthy followers had it after (s): {}",
        tenths.join(" ")
    );
    println!(
        "{backend}: {servers} follower servers ({hanging} hanging, software {}): the last healthy one had the thread ({per_thread} POST each) after {:.2} s ({} deliveries refused by the stand-ins)",
        args.software.as_deref().unwrap_or("unknown"),
        elapsed.as_secs_f64(),
        seen.refused.load(Ordering::SeqCst)
    );
    drop(held);
    Ok(())
}

/// Signed `Create(Note)`s from the person `/u/writer` of each stand-in on `ports`, replying to
/// `thread_url` in `forum`: `per_server` each, signed before the clock starts so that the
/// signing (the senders' work, not the server's) is not measured.
async fn presigned_replies(
    client: &reqwest::Client,
    ports: &[u16],
    private_key: &str,
    per_server: usize,
    forum: &Url,
    thread_url: &str,
    inbox: &Url,
) -> anyhow::Result<Vec<Vec<reqwest::Request>>> {
    let mut signers = tokio::task::JoinSet::new();
    for (index, port) in ports.iter().enumerate() {
        let base = format!("http://localhost:{port}");
        let actor = Url::parse(&format!("{base}/u/writer"))?;
        let key = Arc::new(SigningKey::from_pem(&actor, private_key)?);
        let (client, inbox, forum) = (client.clone(), inbox.clone(), forum.clone());
        let thread_url = thread_url.to_string();
        signers.spawn(async move {
            let mut requests = Vec::with_capacity(per_server);
            for n in 1..=per_server {
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
                        "content": format!("<p>Reply {n}: pairs that make <em>ten</em>.</p>"),
                        "inReplyTo": thread_url,
                        "to": [forum, "https://www.w3.org/ns/activitystreams#Public"],
                        "audience": forum,
                        "published": chrono::Utc::now().to_rfc3339(),
                    },
                });
                let body = serde_json::to_vec(&create)?;
                requests.push(signing::signed_request(&client, key.clone(), &inbox, body).await?);
            }
            anyhow::Ok((index, requests))
        });
    }
    let mut all: Vec<Vec<reqwest::Request>> = (0..ports.len()).map(|_| Vec::new()).collect();
    while let Some(done) = signers.join_next().await {
        let (index, requests) = done??;
        all[index] = requests;
    }
    Ok(all)
}

/// Sends each stand-in's requests, one after another per stand-in, all stand-ins at once;
/// returns how many were taken (2xx, or refused for good) and how many failed.
async fn send_all(
    client: &reqwest::Client,
    inbox: &Url,
    requests: Vec<Vec<reqwest::Request>>,
) -> (usize, usize) {
    let taken = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut senders = tokio::task::JoinSet::new();
    for queue in requests {
        let (client, inbox, taken, failed) =
            (client.clone(), inbox.clone(), taken.clone(), failed.clone());
        senders.spawn(async move {
            for request in queue {
                match signing::send(&client, request, &inbox).await {
                    Ok(()) => taken.fetch_add(1, Ordering::SeqCst),
                    Err(_) => failed.fetch_add(1, Ordering::SeqCst),
                };
            }
        });
    }
    while senders.join_next().await.is_some() {}
    (taken.load(Ordering::SeqCst), failed.load(Ordering::SeqCst))
}

/// `count` loopback listeners and their ports.
fn listeners(count: usize) -> anyhow::Result<(Vec<TcpListener>, Vec<u16>)> {
    let mut listeners = Vec::new();
    for _ in 0..count {
        listeners.push(TcpListener::bind("127.0.0.1:0")?);
    }
    let ports = listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()?;
    Ok((listeners, ports))
}

async fn inbound(args: &Args, instance: &Instance, backend: &str) -> anyhow::Result<()> {
    let site = &instance.site;
    let servers = args.servers.unwrap_or(50);
    let replies = args.replies.unwrap_or(20_000);
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
    let (listeners, ports) = listeners(servers)?;
    let seen = Arc::new(Seen {
        per_port: HashMap::new(),
        refused: AtomicUsize::new(0),
        software: None,
    });
    stand_ins(
        listeners,
        Known(Arc::new(HashMap::new())),
        seen,
        keys.public_key.clone(),
    )
    .await?;

    let client = reqwest::Client::builder().build()?;
    let requests = presigned_replies(
        &client,
        &ports,
        &keys.private_key,
        replies.div_ceil(servers),
        &instance.forum_id,
        &thread_url,
        &inbox,
    )
    .await?;
    let started = Instant::now();
    let (taken, failed) = send_all(&client, &inbox, requests).await;
    let elapsed = started.elapsed().as_secs_f64();
    let stored = site.thread_page(thread.id, None).await?.paging.total;
    println!(
        "{backend}: {servers} servers sending signed replies as fast as they are answered: {:.0} a second taken over {elapsed:.1} s ({taken} in all, {failed} failed), {stored} stored",
        taken as f64 / elapsed,
    );
    Ok(())
}

/// Deliveries the stand-ins have taken, all together.
fn delivered(seen: &Seen) -> usize {
    seen.per_port
        .values()
        .map(|n| n.load(Ordering::SeqCst))
        .sum()
}

async fn relays(args: &Args, instance: &Instance, backend: &str) -> anyhow::Result<()> {
    let site = &instance.site;
    let servers = args.servers.unwrap_or(50);
    let replies = args.replies.unwrap_or(5_000);
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let keys = activitypub_federation::http_signatures::generate_actor_keypair()?;
    let (listeners, ports) = listeners(servers)?;
    let seen = Arc::new(Seen {
        per_port: ports.iter().map(|p| (*p, AtomicUsize::new(0))).collect(),
        refused: AtomicUsize::new(0),
        software: None,
    });
    let known = Known(Arc::new(HashMap::from([(
        instance.forum_id.clone(),
        instance.forum_key.clone(),
    )])));
    stand_ins(listeners, known, seen.clone(), keys.public_key.clone()).await?;
    // Each stand-in's writer follows the forum.
    for (n, port) in ports.iter().enumerate() {
        let base = format!("http://localhost:{port}");
        let now = staffroom::forum::now();
        let person = site
            .remember_remote_user(RemoteUser {
                name: "writer".into(),
                display_name: format!("Writer {n}"),
                local: false,
                domain: Some(format!("localhost:{port}")),
                ap_id: Some(format!("{base}/u/writer")),
                public_key: Some(keys.public_key.clone()),
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
    let (_, thread, opening) = site
        .start_thread(
            instance.head.clone(),
            "maths".into(),
            "Number bonds".into(),
            "How do you teach bonds to ten?".into(),
        )
        .await?;
    // The Accept, and the thread (two forms: the stand-ins have no NodeInfo).
    let everyone = servers * 3;
    wait(site, deadline, "the Accepts and the thread", || {
        delivered(&seen) >= everyone
    })
    .await?;

    // With nothing coming in: local replies, each announced to every follower.
    let local = 100;
    let before = delivered(&seen);
    let started = Instant::now();
    for n in 0..local {
        site.reply(
            instance.head.clone(),
            thread.id,
            format!("Local reply {n}: try a rekenrek."),
            None,
        )
        .await?;
    }
    let quiet_target = before + local * servers;
    wait(site, deadline, "the local replies to be relayed", || {
        delivered(&seen) >= quiet_target
    })
    .await?;
    let quiet_rate = (local * servers) as f64 / started.elapsed().as_secs_f64();

    // Every stand-in sends replies as fast as it is answered; each is relayed to the others.
    let client = reqwest::Client::builder().build()?;
    let inbox = Url::parse(&site.urls().absolute("/inbox"))?;
    let requests = presigned_replies(
        &client,
        &ports,
        &keys.private_key,
        replies.div_ceil(servers),
        &instance.forum_id,
        &site.urls().post(&opening),
        &inbox,
    )
    .await?;
    let before = delivered(&seen);
    let started = Instant::now();
    let (taken, failed) = send_all(&client, &inbox, requests).await;
    let busy = started.elapsed().as_secs_f64();
    let during = delivered(&seen) - before;
    let busy_rate = during as f64 / busy;

    // What is left afterwards drains at the full rate.
    let owed = quiet_target + taken * (servers - 1);
    let (events, waiting) = site.outbox_backlog().await?;
    let before = delivered(&seen);
    let started = Instant::now();
    let drain_for = Duration::from_secs(args.seconds);
    while delivered(&seen) < owed && started.elapsed() < drain_for {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drained = delivered(&seen) - before;
    let drain_rate = drained as f64 / started.elapsed().as_secs_f64();
    println!("{backend}: {servers} follower servers; relays with nothing coming in: {quiet_rate:.0} deliveries a second");
    println!(
        "{backend}: while they sent {taken} replies in {busy:.1} s ({:.0} a second, {failed} failed): {busy_rate:.0} deliveries a second went out ({:.0}% of the quiet rate)",
        taken as f64 / busy,
        100.0 * busy_rate / quiet_rate
    );
    println!(
        "{backend}: afterwards {events} events and {waiting} deliveries were waiting; {drained} went out in {:.1} s: {drain_rate:.0} a second ({} of {} owed delivered, {} refused)",
        started.elapsed().as_secs_f64(),
        delivered(&seen),
        owed,
        seen.refused.load(Ordering::SeqCst)
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

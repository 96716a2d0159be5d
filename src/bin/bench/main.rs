//! `staffroom-bench`: Staffroom measured from outside, one scenario a run (see the README
//! beside this file).
//!
//! With `--scenario reads`, the release server runs as its own process and is read and
//! written under load by `wrk` (see `reads.rs`).
//!
//! With `--scenario fanout` (the default), how fast a new thread reaches a forum's followers.
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
//! With `--scenario search`, how long searches take over `--posts` posts (100,000 unless given).
//!
//! Run it on a release build, as issues 10 and 14 measure:
//! `cargo run --release --bin staffroom-bench -- --servers 1000 --hanging 10`.

mod fanout;
mod inbound;
mod load;
mod reads;
mod search;
mod server;
mod stand_ins;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use diesel::{Connection, RunQueryDsl};
use url::Url;

use staffroom::app::Application;
use staffroom::config::Settings;
use staffroom::forum::accounts::{Registrar, Registration};
use staffroom::forum::actors::KeyOwner;
use staffroom::forum::forums::ForumForm;
use staffroom::forum::remote::RemoteUser;
use staffroom::forum::Site;

/// What to measure.
#[derive(Debug, Parser)]
#[command(
    about = "Measures Staffroom: reads and writes under load, delivery, inbound federation, search"
)]
pub struct Args {
    /// `reads` (pages and replies under load, from a server process), `fanout` (a new thread
    /// to many followers), `inbound` (replies from many servers), `relays` (replies from many
    /// follower servers, each relayed to the others) or `search` (searches over many posts).
    #[arg(long, default_value = "fanout")]
    scenario: String,
    /// Follower servers (fanout: 1000 unless given; inbound: 50 unless given).
    #[arg(long)]
    servers: Option<usize>,
    /// Replies the stand-ins send in all (inbound: 20000 unless given; relays: 5000), signed
    /// before the clock starts.
    #[arg(long)]
    replies: Option<usize>,
    /// search: how many posts to write before searching (100000 unless given).
    #[arg(long)]
    posts: Option<usize>,
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
    /// reads: a `staffroom` binary to measure (the one beside this bench unless given); give
    /// several to measure them side by side (an older commit's build first, say).
    #[arg(long)]
    server: Vec<std::path::PathBuf>,
    /// reads: how long each load runs, in seconds.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// reads: a file the table is added to, to compare runs.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// Keep the database afterwards (its address is printed), to look at its plans by hand.
    #[arg(long)]
    keep: bool,
    /// inbound: also list the statements the server ran while the replies came in, by shape,
    /// most frequent first, with how many it ran per reply.
    #[arg(long)]
    statements: bool,
    /// What the follower servers' NodeInfo says they run (e.g. `lemmy`, `mastodon`); without
    /// it they have no NodeInfo, and get every form of announcement.
    #[arg(long)]
    software: Option<String>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
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
    if args.scenario == "reads" {
        let result = reads_everywhere(&args, &dir).await;
        if !args.keep {
            let _ = std::fs::remove_dir_all(&dir);
        }
        return result;
    }
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
    if args.keep {
        println!("kept: {db_url}");
    } else {
        drop_db();
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

/// `--scenario reads`: each server binary on SQLite, then on PostgreSQL when given, each on a
/// fresh database; with several binaries, how each compares with the first.
async fn reads_everywhere(args: &Args, dir: &std::path::Path) -> anyhow::Result<()> {
    load::ensure_wrk()?;
    let binaries = server::binaries(args)?;
    let mut backends = vec!["SQLite"];
    if args.postgres.is_some() {
        backends.push("PostgreSQL");
    }
    for backend in backends {
        let mut tables = Vec::new();
        for (n, binary) in binaries.iter().enumerate() {
            let rows = match &args.postgres {
                Some(url) if backend == "PostgreSQL" => {
                    let (db_url, drop_db) = postgres_database(url)?;
                    let rows = reads::reads(args, binary, &db_url, backend, dir).await;
                    if args.keep {
                        println!("kept: {db_url}");
                    } else {
                        drop_db();
                    }
                    rows?
                }
                _ => {
                    let db = dir.join(format!("reads-{n}.db"));
                    reads::reads(
                        args,
                        binary,
                        &format!("sqlite://{}", db.display()),
                        backend,
                        dir,
                    )
                    .await?
                }
            };
            tables.push(rows);
        }
        if tables.len() > 1 {
            print!("{}", load::comparison(backend, &binaries, &tables));
        }
    }
    Ok(())
}

/// The instance under measurement, with an administrator and the forum `maths`.
pub struct Instance {
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
                ..Default::default()
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
        "fanout" => fanout::fanout(args, &instance, backend).await,
        "inbound" => inbound::inbound(args, &instance, backend).await,
        "relays" => inbound::relays(args, &instance, backend).await,
        "search" => search::search(args, &instance, backend).await,
        other => anyhow::bail!("no scenario {other:?}: reads, fanout, inbound, relays or search"),
    }
}

/// The person `/u/{name}` of the stand-in on `port` (the `n`th) follows the forum; with
/// `public_key` when it also signs what it sends.
async fn follow_from_stand_in(
    instance: &Instance,
    n: usize,
    port: u16,
    name: &str,
    public_key: Option<String>,
) -> anyhow::Result<()> {
    let base = format!("http://localhost:{port}");
    let now = staffroom::forum::now();
    let person = instance
        .site
        .remember_remote_user(RemoteUser {
            name: name.into(),
            display_name: format!("{name} {n}"),
            local: false,
            domain: Some(format!("localhost:{port}")),
            ap_id: Some(format!("{base}/u/{name}")),
            public_key,
            inbox_url: Some(format!("{base}/inbox")),
            shared_inbox_url: None,
            profile_url: None,
            last_refreshed_at: Some(now),
            updated_at: now,
        })
        .await?;
    instance
        .site
        .remote_follows(
            instance.forum.name.clone(),
            person,
            format!("{base}/follows/{n}"),
        )
        .await?;
    Ok(())
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

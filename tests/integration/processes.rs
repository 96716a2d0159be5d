//! Several Staffroom processes sharing one PostgreSQL behind one address: the real binary run
//! twice on one database, with a small TCP proxy in front (as a load balancer would be) and
//! stand-in servers on loopback that follow a forum and record what reaches their inboxes.
//! Sessions, CSRF tokens and login throttling hold across the processes; each activity reaches
//! each server once and in order; killing a process in the middle of a fan-out loses nothing,
//! as the other takes over its servers when its leases end.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use activitypub_federation::http_signatures::{generate_actor_keypair, Keypair};
use actix_web::{web, HttpResponse};
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{
    api_at as api, csrf_in, postgres_url, report_postgres_skipped, wait_until, TestDatabase,
    PASSWORD,
};

/// How long a process's hold on a server lasts unless renewed (short, so the test is quick).
const LEASE_SECONDS: &str = "2";

/// A TCP proxy on one address that hands each connection to the next process in turn, and to
/// another when one does not answer (a load balancer's health check, in its simplest form).
async fn proxy(backends: Vec<u16>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let turn = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let (backends, turn) = (backends.clone(), turn.clone());
            tokio::spawn(async move {
                let first = turn.fetch_add(1, Ordering::Relaxed);
                for i in 0..backends.len() {
                    let port = backends[(first + i) % backends.len()];
                    if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", port)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        return;
                    }
                }
            });
        }
    });
    port
}

/// A free port on loopback (bound, then let go for a process to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `staffroom` command on the test's database, answering at `public`.
fn staffroom(db_url: &str, public: u16) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_staffroom"));
    cmd.env("STAFFROOM__DATABASE__URL", db_url)
        .env("STAFFROOM__DATABASE__POOL_SIZE", "4")
        .env("STAFFROOM__SERVER__HOST", "127.0.0.1")
        .env("STAFFROOM__SERVER__WORKERS", "1")
        .env(
            "STAFFROOM__SERVER__PUBLIC_URL",
            format!("http://localhost:{public}"),
        )
        .env("STAFFROOM__FEDERATION__ENABLED", "true")
        .env("STAFFROOM__FEDERATION__DEBUG", "true")
        .env("STAFFROOM__FEDERATION__RETRY_BASE_SECONDS", "0.05")
        .env("STAFFROOM__FEDERATION__RETRY_MAX_SECONDS", "0.5")
        .env(
            "STAFFROOM__FEDERATION__DELIVERY_LEASE_SECONDS",
            LEASE_SECONDS,
        )
        .env("STAFFROOM__ACCOUNTS__MAX_FAILURES_PER_ACCOUNT", "3")
        .env("STAFFROOM__LOG__FILTER", "warn")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// Starts `staffroom serve` on `port`; returns once it answers.
async fn serve(db_url: &str, public: u16, port: u16) -> tokio::process::Child {
    let child = staffroom(db_url, public)
        .env("STAFFROOM__SERVER__PORT", port.to_string())
        .arg("serve")
        .spawn()
        .unwrap();
    wait_until("the process to answer", || async {
        reqwest::get(format!("http://127.0.0.1:{port}/"))
            .await
            .is_ok()
    })
    .await;
    child
}

/// A server on loopback with one person, `reader`, who follows a forum; it records every
/// activity its inboxes receive, and answers only while `open` says so (a server that holds a
/// delivery in flight until the test lets it go).
struct StandIn {
    base: String,
    keys: Keypair,
    open: tokio::sync::watch::Sender<bool>,
    received: Mutex<Vec<Value>>,
}

impl StandIn {
    fn reader(&self) -> String {
        format!("{}/users/reader", self.base)
    }

    fn received(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }
}

async fn reader(state: web::Data<Arc<StandIn>>) -> HttpResponse {
    let id = state.reader();
    HttpResponse::Ok()
        .content_type("application/activity+json")
        .json(json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id,
            "type": "Person",
            "preferredUsername": "reader",
            "inbox": format!("{id}/inbox"),
            "endpoints": {"sharedInbox": format!("{}/inbox", state.base)},
            "publicKey": {
                "id": format!("{id}#main-key"),
                "owner": id,
                "publicKeyPem": state.keys.public_key,
            },
        }))
}

async fn inbox(state: web::Data<Arc<StandIn>>, body: web::Bytes) -> HttpResponse {
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.received.lock().unwrap().push(value);
    // The sender waits for the answer until the gate opens (never closed: it stays open).
    let _ = state.open.subscribe().wait_for(|open| *open).await;
    HttpResponse::Accepted().finish()
}

/// Starts a stand-in and has its reader follow `forum` (an actor's URL) through `inbox`.
async fn follower(forum: &str, inbox_url: &str) -> (Arc<StandIn>, actix_web::dev::ServerHandle) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stand_in = Arc::new(StandIn {
        base: format!("http://localhost:{port}"),
        keys: generate_actor_keypair().unwrap(),
        open: tokio::sync::watch::Sender::new(true),
        received: Mutex::new(Vec::new()),
    });
    let state = web::Data::new(stand_in.clone());
    let (handle, data) = crate::support::serve_stand_in(listener, move |app| {
        app.app_data(state.clone())
            .route("/users/reader", web::get().to(reader))
            .route("/users/reader/inbox", web::post().to(inbox))
            .route("/inbox", web::post().to(inbox));
    })
    .await;
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/follows/1", stand_in.base),
        "type": "Follow",
        "actor": stand_in.reader(),
        "object": forum,
    });
    let keys = (
        stand_in.keys.public_key.as_str(),
        stand_in.keys.private_key.as_str(),
    );
    crate::support::send_signed(keys, &data, follow, inbox_url).await;
    (stand_in, handle)
}

/// The thread each activity a stand-in received is about (a thread's address is
/// `/t/{id}`), in the order they arrived, with the activity's id.
fn threads_received(stand_in: &StandIn) -> Vec<(String, i64)> {
    stand_in
        .received()
        .iter()
        .filter_map(|activity| {
            let object = &activity["object"];
            let object = if object["object"].is_object() {
                &object["object"]
            } else {
                object
            };
            let url = object["id"].as_str().or_else(|| object.as_str())?;
            let thread = url.rsplit_once("/t/")?.1.parse().ok()?;
            Some((activity["id"].as_str()?.to_string(), thread))
        })
        .collect()
}

/// Whether nothing waits to be sent: every outbox event expanded and every delivery made.
fn nothing_waits(db_url: &str) -> bool {
    #[derive(diesel::QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = PgConnection::establish(db_url).unwrap();
    let waiting: Waiting = diesel::sql_query(
        "SELECT (SELECT COUNT(*) FROM deliveries) \
         + (SELECT COUNT(*) FROM outbox_events WHERE expanded_at IS NULL) AS n",
    )
    .get_result(&mut conn)
    .unwrap();
    waiting.n == 0
}

/// Who holds each stand-in's server's lease now: domain -> lease owner.
fn lease_owners(conn: &mut PgConnection) -> HashMap<String, Option<String>> {
    #[derive(diesel::QueryableByName)]
    struct Held {
        #[diesel(sql_type = diesel::sql_types::Text)]
        domain: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        lease_owner: Option<String>,
    }
    diesel::sql_query("SELECT domain, lease_owner FROM instances")
        .load::<Held>(conn)
        .unwrap()
        .into_iter()
        .map(|h| (h.domain, h.lease_owner))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_postgresql_behind_one_address() {
    if postgres_url().is_none() {
        report_postgres_skipped();
        return;
    }
    staffroom::federation::install_tls_provider();
    let database = TestDatabase::new(staffroom::db::Backend::Postgres);
    let db_url = database.url.clone();
    let (port_a, port_b) = (free_port(), free_port());
    let public = proxy(vec![port_a, port_b]).await;
    let site = format!("http://localhost:{public}");
    let (a, b) = (
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    );

    // Both processes start on the fresh database at once (the migrations run once).
    let (process_a, process_b) = tokio::join!(
        serve(&db_url, public, port_a),
        serve(&db_url, public, port_b)
    );
    let out = staffroom(&db_url, public)
        .args(["admin", "create-user", "head", "--admin"])
        .env("STAFFROOM_PASSWORD", PASSWORD)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, body) = api(
        &site,
        Method::POST,
        "/api/v1/sessions",
        None,
        Some(json!({"username": "head", "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let head = body["token"].as_str().unwrap().to_string();
    let forum = json!({"name": "maths", "title": "Maths", "description": "About maths."});
    let (status, body) = api(
        &site,
        Method::POST,
        "/api/v1/forums",
        Some(&head),
        Some(forum),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // A session made by one process is good on the other, with the CSRF token of its pages.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = browser.get(format!("{a}/login")).send().await.unwrap();
    let csrf = csrf_in(&page.text().await.unwrap()).expect("a CSRF token on /login");
    let res = browser
        .post(format!("{a}/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "head"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "logged in on the first process");
    let page = browser
        .get(format!("{b}/f/maths/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "the second process knows the session");
    let form = page.text().await.unwrap();
    assert!(
        form.contains("Log out"),
        "logged in on the second process too"
    );
    // The form of the second process's page is taken by the first.
    let csrf = csrf_in(&form).expect("a CSRF token on the form");
    let res = browser
        .post(format!("{a}/f/maths/new"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("title", "Written on one process, sent to the other"),
            ("body", "With one session."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "the form is taken");
    // Failed logins count together: three on either, and the account waits on both.
    for base in [&a, &b, &a] {
        let wrong = json!({"username": "head", "password": "not the password"});
        let (status, _) = api(base, Method::POST, "/api/v1/sessions", None, Some(wrong)).await;
        assert_eq!(status, 401);
    }
    for base in [&a, &b] {
        let right = json!({"username": "head", "password": PASSWORD});
        let (status, body) = api(base, Method::POST, "/api/v1/sessions", None, Some(right)).await;
        assert_eq!(status, 429, "{base}: {body}");
    }

    // Three servers follow the forum; whichever process takes each Follow, the Accept goes out
    // once.
    let forum_url = format!("{site}/f/maths");
    let mut followers = Vec::new();
    for _ in 0..3 {
        followers.push(follower(&forum_url, &format!("{site}/f/maths/inbox")).await);
    }
    for (stand_in, _) in &followers {
        wait_until("the Accept", || async {
            stand_in.received().iter().any(|a| a["type"] == "Accept")
        })
        .await;
    }

    // Threads started through the one address (so on both processes in turn) reach every
    // follower, each activity once, in the order the threads were started.
    let mut started = Vec::new();
    for n in 0..6 {
        let new = json!({"title": format!("Plan {n}"), "body": "Ideas welcome."});
        let path = "/api/v1/forums/maths/threads";
        let (status, body) = api(&site, Method::POST, path, Some(&head), Some(new)).await;
        assert_eq!(status, 201, "{body}");
        started.push(body["thread"]["id"].as_i64().unwrap());
    }
    // Once nothing waits to be sent, everything sent has arrived (a delivery is done only
    // when its server answered).
    wait_until("the outbox drained", || async { nothing_waits(&db_url) }).await;
    for (stand_in, _) in &followers {
        let received = threads_received(stand_in);
        let mut ids: Vec<&String> = received.iter().map(|r| &r.0).collect();
        let all = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all, "each activity once: {received:?}");
        let order: Vec<i64> = received.iter().map(|r| r.1).collect();
        assert!(order.is_sorted(), "in the order started: {order:?}");
    }

    for (stand_in, _) in &followers {
        let received: Vec<i64> = threads_received(stand_in).iter().map(|t| t.1).collect();
        assert!(started.iter().all(|t| received.contains(t)), "{received:?}");
    }

    // The followers hold the next delivery unanswered, and twenty threads are started. With
    // a delivery in flight to each follower, the process that holds the followers' servers
    // (its id is in its leases' name) is killed and the followers answer again; the other
    // process takes the servers over when the leases end, and finishes.
    for (stand_in, _) in &followers {
        stand_in.open.send_replace(false);
    }
    let before: Vec<usize> = followers
        .iter()
        .map(|(s, _)| threads_received(s).len())
        .collect();
    for n in 0..20 {
        let new = json!({"title": format!("Lesson {n}"), "body": "Ideas welcome."});
        let path = "/api/v1/forums/maths/threads";
        let (status, body) = api(&site, Method::POST, path, Some(&head), Some(new)).await;
        assert_eq!(status, 201, "{body}");
        started.push(body["thread"]["id"].as_i64().unwrap());
    }
    wait_until("a delivery in flight to each follower", || async {
        followers
            .iter()
            .zip(&before)
            .all(|((s, _), n)| threads_received(s).len() > *n)
    })
    .await;
    let domains: Vec<String> = followers
        .iter()
        .map(|(s, _)| s.base.trim_start_matches("http://").to_string())
        .collect();
    let held = lease_owners(&mut PgConnection::establish(&db_url).unwrap());
    let holder = domains
        .iter()
        .find_map(|d| held.get(d).cloned().flatten())
        .unwrap_or_else(|| panic!("no follower's server is held mid-fan-out: {held:?}"));
    // HOST:PORT/PID-RANDOM
    let pid: u32 = holder
        .split_once('/')
        .and_then(|(_, rest)| rest.split('-').next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("a process id in {holder}"));
    let (mut killed, mut survivor) = if process_a.id() == Some(pid) {
        (process_a, process_b)
    } else {
        assert_eq!(process_b.id(), Some(pid), "{holder} is one of ours");
        (process_b, process_a)
    };
    let survivor_pid = survivor.id().unwrap().to_string();
    killed.kill().await.unwrap();
    let killed_at = Instant::now();
    for (stand_in, _) in &followers {
        stand_in.open.send_replace(true);
    }
    // The survivor takes the dead process's servers.
    wait_until("the servers taken over", || async {
        let now = lease_owners(&mut PgConnection::establish(&db_url).unwrap());
        domains.iter().any(|d| {
            now.get(d)
                .cloned()
                .flatten()
                .is_some_and(|owner| owner.contains(&format!("/{survivor_pid}-")))
        })
    })
    .await;
    wait_until("the outbox drained after the kill", || async {
        nothing_waits(&db_url)
    })
    .await;
    let took = killed_at.elapsed();
    for (stand_in, _) in &followers {
        let received: Vec<i64> = threads_received(stand_in).iter().map(|t| t.1).collect();
        assert!(started.iter().all(|t| received.contains(t)), "{received:?}");
    }
    for (stand_in, _) in &followers {
        let received = threads_received(stand_in);
        let order: Vec<i64> = received.iter().map(|r| r.1).collect();
        let mut first_seen: Vec<i64> = Vec::new();
        for thread in &order {
            if !first_seen.contains(thread) {
                first_seen.push(*thread);
            }
        }
        assert!(first_seen.is_sorted(), "in the order started: {order:?}");
        // The one activity in flight when the process died may come again (the receiver
        // recognises its id); nothing else does.
        let mut ids: Vec<&String> = received.iter().map(|r| &r.0).collect();
        let all = ids.len();
        ids.sort();
        ids.dedup();
        assert!(all - ids.len() <= 1, "at most one sent twice: {received:?}");
    }
    eprintln!("after the kill, the fan-out finished in {took:?}");
    survivor.kill().await.unwrap();
    for (_, handle) in followers {
        handle.stop(false).await;
    }
}

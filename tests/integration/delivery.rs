//! Delivery that no server can stall: a server that takes connections and never answers delays
//! only itself, and its time-outs count as failures, backed off like any other.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use reqwest::Method;
use staffroom::config::Settings;
use staffroom::db::Backend;
use staffroom::forum::remote::RemoteUser;

use crate::both_backends;
use crate::support::{federating, wait_until, TestApp};

both_backends!(
    a_server_that_never_answers_delays_only_itself,
    a_server_that_times_out_is_backed_off_like_one_that_fails,
);

/// A server that accepts connections and never answers: it holds every socket open, reading
/// nothing and writing nothing, until it is dropped.
struct Hanging {
    domain: String,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Hanging {
    async fn start() -> Hanging {
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

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Hanging {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A person on the hanging server follows `app`'s forum `maths`: `app` owes them an Accept,
/// and from then on everything the forum sends.
async fn hanging_follower(app: &TestApp, hanging: &Hanging) {
    let base = format!("http://{}", hanging.domain);
    let now = staffroom::forum::now();
    let person = app
        .site
        .remember_remote_user(RemoteUser {
            name: "waits".into(),
            display_name: "Waits Forever".into(),
            local: false,
            domain: Some(hanging.domain.clone()),
            ap_id: Some(format!("{base}/u/waits")),
            public_key: None,
            inbox_url: Some(format!("{base}/u/waits/inbox")),
            shared_inbox_url: None,
            profile_url: None,
            last_refreshed_at: Some(now),
            updated_at: now,
        })
        .await
        .unwrap();
    let forum = app.site.forum("maths".into()).await.unwrap();
    app.site
        .remote_follows(forum.id, person, format!("{base}/follows/1"))
        .await
        .unwrap();
}

/// One send at a time, given up to another server after `connect` seconds, each request
/// allowed `request` seconds.
fn one_place(connect: f64, request: f64) -> impl FnOnce(&mut Settings) {
    move |s: &mut Settings| {
        federating(s);
        s.federation.delivery_workers = 1;
        s.federation.connect_timeout_seconds = connect;
        s.federation.request_timeout_seconds = request;
    }
}

async fn with_maths(app: &TestApp) {
    app.create_user("head", true).await;
    app.forum_named(&app.token("head").await, "maths").await;
}

async fn a_server_that_never_answers_delays_only_itself(backend: Backend) {
    // alpha has a single place to send from, and gives a request a minute: were a hanging
    // server to keep its place for the whole request, nothing else would go for a minute.
    let alpha = TestApp::spawn_with(backend, one_place(1.0, 60.0)).await;
    let beta = TestApp::spawn_with(backend, federating).await;
    with_maths(&alpha).await;
    let hanging = Hanging::start().await;
    hanging_follower(&alpha, &hanging).await;
    wait_until("alpha to start sending to the hanging server", || async {
        hanging.accepted() > 0
    })
    .await;

    // beta follows: alpha's Accept goes out while the hanging send still waits.
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let (status, body) = beta.follow(&bea, format!("maths@{}", alpha.domain())).await;
    assert!((200..300).contains(&status), "{status} {body}");
    wait_until("alpha to accept beta's follow", || async {
        let (_, follows) = beta
            .api(Method::GET, "/api/v1/follows", Some(&bea), None)
            .await;
        follows[0]["state"] == "accepted"
    })
    .await;

    // And a new thread reaches beta.
    let head = alpha.token("head").await;
    alpha
        .thread(
            &head,
            "maths",
            "Fractions on a number line",
            "Where does 3/4 go?",
        )
        .await;
    let remote = format!("/api/v1/forums/maths@{}/threads", alpha.domain());
    wait_until("the thread to reach beta", || async {
        let (_, body) = beta.read(&remote).await;
        body["threads"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["title"] == "Fractions on a number line"))
    })
    .await;

    // All of that happened inside the hanging request's minute: its first send has neither
    // failed nor finished, so beta's deliveries never waited for it.
    let state = alpha
        .site
        .instance_state(hanging.domain.clone())
        .await
        .unwrap()
        .expect("the hanging server is known");
    assert_eq!(state.failures, 0, "{state:?}");
    let (_, waiting) = alpha.site.outbox_backlog().await.unwrap();
    assert!(waiting >= 1, "the hanging server's deliveries still wait");
}

async fn a_server_that_times_out_is_backed_off_like_one_that_fails(backend: Backend) {
    let alpha = TestApp::spawn_with(backend, one_place(0.5, 1.5)).await;
    with_maths(&alpha).await;
    let hanging = Hanging::start().await;
    hanging_follower(&alpha, &hanging).await;
    wait_until("the hanging server to fail twice", || async {
        alpha
            .site
            .instance_state(hanging.domain.clone())
            .await
            .unwrap()
            .is_some_and(|s| s.failures >= 2)
    })
    .await;
    let state = alpha
        .site
        .instance_state(hanging.domain.clone())
        .await
        .unwrap()
        .unwrap();
    assert!(state.next_attempt_at.is_some(), "retried later: {state:?}");
    assert!(state.failing_since.is_some());
    let error = state.last_error.unwrap_or_default();
    assert!(
        error.contains("timed out") || error.contains("timeout"),
        "the failure says it was a time-out: {error}"
    );
    // Each attempt was one connection, made anew.
    assert!(hanging.accepted() >= 2);
}

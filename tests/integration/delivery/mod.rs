//! Delivery that no server can stall: a server that takes connections and never answers delays
//! only itself, and its time-outs count as failures, backed off like any other.

use tokio::sync::Semaphore;

use reqwest::Method;
use staffroom::config::Settings;
use staffroom::db::Backend;

mod stand_ins;

use stand_ins::{Hanging, NodeInfo, Recorder};

use crate::both_backends;
use crate::support::{column, drain_all, federating, wait_until, TestApp};

both_backends!(
    a_server_that_never_answers_delays_only_itself,
    a_server_that_times_out_is_backed_off_like_one_that_fails,
    relays_go_out_while_a_backlog_of_events_is_expanded,
    relays_planned_together_each_leave_out_their_origin,
    a_refusal_is_final_and_a_server_error_is_retried,
    deliveries_stay_in_order_and_arrive_once_across_a_restart,
    each_server_gets_the_announcements_its_software_reads,
    a_hanging_server_being_retried_never_takes_the_place_of_one_that_answers,
    what_a_server_says_it_runs_is_believed_only_within_limits,
);

/// A person on the server at `domain` follows `app`'s forum `maths`: `app` owes them an
/// Accept, and from then on everything the forum sends.
async fn remote_follower(app: &TestApp, domain: &str) {
    let base = format!("http://{domain}");
    let person = app.remember_remote_person(&base, "waits").await;
    app.site
        .remote_follows("maths".into(), person, format!("{base}/follows/1"))
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

/// What `app` knows of delivering to the server at `domain`.
async fn state_of(app: &TestApp, domain: &str) -> Option<staffroom::forum::delivery::Instance> {
    app.site.instance_state(domain.to_string()).await.unwrap()
}

/// "bea" on beta follows alpha's maths, and waits until alpha has accepted.
async fn bea_follows_maths(alpha: &TestApp, beta: &TestApp) {
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
    remote_follower(&alpha, &hanging.domain).await;
    wait_until("alpha to start sending to the hanging server", || async {
        hanging.accepted() > 0
    })
    .await;

    // beta follows: alpha's Accept goes out while the hanging send still waits.
    bea_follows_maths(&alpha, &beta).await;

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
    let state = state_of(&alpha, &hanging.domain)
        .await
        .expect("the hanging server is known");
    assert_eq!(state.failures, 0, "{state:?}");
    let (_, waiting) = alpha.site.outbox_backlog().await.unwrap();
    assert!(waiting >= 1, "the hanging server's deliveries still wait");
}

async fn a_server_that_times_out_is_backed_off_like_one_that_fails(backend: Backend) {
    let alpha = TestApp::spawn_with(backend, one_place(0.5, 1.5)).await;
    with_maths(&alpha).await;
    let hanging = Hanging::start().await;
    remote_follower(&alpha, &hanging.domain).await;
    wait_until("the hanging server to fail twice", || async {
        state_of(&alpha, &hanging.domain)
            .await
            .is_some_and(|s| s.failures >= 2)
    })
    .await;
    let state = state_of(&alpha, &hanging.domain).await.unwrap();
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

/// Writes `count` events at once, as a burst of inbound replies would (each an edit of one
/// post, which the forum's followers must hear about).
fn burst_of_events(db: &staffroom::db::Db, post_id: i64, count: usize) {
    let event = format!(r#"{{"type":"post","post_id":{post_id},"action":"update"}}"#);
    db.with_conn(|conn| -> Result<(), staffroom::error::ForumError> {
        conn.transaction(|conn| {
            for _ in 0..count {
                staffroom::db::outbox::push_event(conn, &event, staffroom::forum::now())?;
            }
            Ok(())
        })
    })
    .unwrap();
}

async fn relays_go_out_while_a_backlog_of_events_is_expanded(backend: Backend) {
    let alpha = TestApp::spawn_with(backend, federating).await;
    with_maths(&alpha).await;
    let recorder = Recorder::start(Semaphore::MAX_PERMITS / 2).await;
    remote_follower(&alpha, &recorder.domain).await;
    let head = alpha.token("head").await;
    let thread = alpha
        .thread(&head, "maths", "Place value", "Tens and ones")
        .await;
    alpha.drained().await;
    let before = recorder.received().len();
    assert_eq!(before, 3, "the Accept, and the thread announced twice");

    // Two thousand events waiting when the worker starts: the first of them goes out while
    // most still wait to be expanded (expanding every one before sending any would leave none
    // waiting by then).
    let opening = alpha.read(&format!("/api/v1/threads/{thread}")).await.1["opening_post"]["id"]
        .as_i64()
        .unwrap();
    let stopped = alpha.stop().await;
    burst_of_events(&stopped.db(), opening, 2000);
    let alpha = stopped.restart().await;
    wait_until("a relay to go out", || async {
        recorder.received().len() > before
    })
    .await;
    let (unexpanded, _) = alpha.site.outbox_backlog().await.unwrap();
    assert!(
        unexpanded > 0,
        "sending waited for the whole backlog to be expanded"
    );
}

/// Writes, at once, a relay of a reply from each of `origins` (by index) into thread `thread` of
/// forum `forum`, as replies coming in from those servers would.
fn relays_waiting(db: &staffroom::db::Db, forum: i64, thread: i64, origins: &[&str]) {
    db.with_conn(|conn| -> Result<(), staffroom::error::ForumError> {
        conn.transaction(|conn| {
            for (n, origin) in origins.iter().enumerate() {
                let activity = serde_json::json!({
                    "type": "Create",
                    "id": format!("http://{origin}/activities/{n}"),
                    "actor": format!("http://{origin}/u/waits"),
                    "object": {
                        "type": "Note",
                        "id": format!("http://{origin}/notes/{n}"),
                        "inReplyTo": "http://example.invalid/t/1",
                    },
                });
                let event = serde_json::json!({
                    "type": "relay",
                    "forum_id": forum,
                    "activity": activity.to_string(),
                    "origin": origin,
                    "thread_id": thread,
                });
                staffroom::db::outbox::push_event(
                    conn,
                    &event.to_string(),
                    staffroom::forum::now(),
                )?;
            }
            Ok(())
        })
    })
    .unwrap();
}

async fn relays_planned_together_each_leave_out_their_origin(backend: Backend) {
    let alpha = TestApp::spawn_with(backend, federating).await;
    with_maths(&alpha).await;
    let (first, second) = (Recorder::start(1_000).await, Recorder::start(1_000).await);
    remote_follower(&alpha, &first.domain).await;
    remote_follower(&alpha, &second.domain).await;
    let head = alpha.token("head").await;
    let thread = alpha
        .thread(&head, "maths", "Place value", "Tens and ones")
        .await;
    alpha.drained().await;
    let forum = alpha.site.forum("maths".into()).await.unwrap().id;
    let (seen_first, seen_second) = (announced(&first).len(), announced(&second).len());

    // Six replies waiting to be relayed, from both servers in turn: planned in one round, each
    // goes to the other server only, in the order they came.
    let stopped = alpha.stop().await;
    let origins: Vec<&str> = (0..6)
        .map(|n| [first.domain.as_str(), second.domain.as_str()][n % 2])
        .collect();
    relays_waiting(&stopped.db(), forum, thread, &origins);
    let alpha = stopped.restart().await;
    alpha.drained().await;
    let relayed = |recorder: &Recorder, seen: usize| -> Vec<String> {
        announced(recorder)[seen..]
            .iter()
            .map(|a| a["object"]["id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let from = |origin: &str, ns: [usize; 3]| -> Vec<String> {
        ns.iter()
            .map(|n| format!("http://{origin}/activities/{n}"))
            .collect()
    };
    assert_eq!(relayed(&first, seen_first), from(&second.domain, [1, 3, 5]));
    assert_eq!(
        relayed(&second, seen_second),
        from(&first.domain, [0, 2, 4])
    );
}

async fn deliveries_stay_in_order_and_arrive_once_across_a_restart(backend: Backend) {
    let alpha = TestApp::spawn_with(backend, federating).await;
    with_maths(&alpha).await;
    // A follower that takes four activities and holds the fifth unanswered: the restart
    // falls mid-stream, with a delivery in flight.
    let recorder = Recorder::start(4).await;
    remote_follower(&alpha, &recorder.domain).await;
    let head = alpha.token("head").await;
    for n in 0..12 {
        alpha
            .thread(&head, "maths", &format!("Question {n}"), "Which is larger?")
            .await;
    }
    wait_until("a few activities to arrive", || async {
        recorder.received().len() >= 4
    })
    .await;
    let stopped = alpha.stop().await;
    recorder.open();
    let alpha = stopped.restart().await;
    alpha.drained().await;
    // A local thread reaches the forum's followers as the forum's Announce (FEP-1b12); the
    // author's Create itself goes to no follower.
    let made: Vec<String> = column(&alpha, "SELECT ap_id AS v FROM activities ORDER BY id")
        .into_iter()
        .filter(|id| !id.contains("/activities/create/"))
        .collect();
    assert_eq!(
        made.len(),
        1 + 2 * 12,
        "an Accept, then each thread announced"
    );

    let received = recorder.received();
    let mut distinct = received.clone();
    distinct.dedup();
    assert_eq!(distinct, made, "in the order they were made, none missing");
    assert!(
        received.len() <= distinct.len() + 1,
        "only the one in flight at the stop may come twice: {received:?}"
    );
}

async fn a_refusal_is_final_and_a_server_error_is_retried(backend: Backend) {
    let alpha = TestApp::spawn_with(backend, federating).await;
    with_maths(&alpha).await;
    let refuses = Recorder::answering(Semaphore::MAX_PERMITS / 2, 403).await;
    let fails = Recorder::answering(Semaphore::MAX_PERMITS / 2, 503).await;
    remote_follower(&alpha, &refuses.domain).await;
    remote_follower(&alpha, &fails.domain).await;
    // A 4xx (other than 408 and 429) is the server's last word: the Accept is not sent again.
    // A 5xx is a failure: tried again, and again.
    wait_until("the refusing server to be tried", || async {
        !refuses.received().is_empty()
    })
    .await;
    let tried = fails.received().len();
    wait_until(
        "the failing server to be tried three times more",
        || async { fails.received().len() >= tried + 3 },
    )
    .await;
    let refused = state_of(&alpha, &refuses.domain).await.unwrap();
    assert_eq!(refused.failures, 0, "{refused:?}");
    assert_eq!(refuses.received().len(), 1, "refused once, never again");
    let failing = state_of(&alpha, &fails.domain).await.unwrap();
    assert!(failing.failures >= 2, "{failing:?}");
    assert!(
        failing.last_error.unwrap_or_default().contains("503"),
        "the failure says what the server answered"
    );
}

/// The `Announce`s a recorder received, in order.
fn announced(recorder: &Recorder) -> Vec<serde_json::Value> {
    recorder
        .activities()
        .into_iter()
        .filter(|a| a["type"] == "Announce")
        .collect()
}

async fn each_server_gets_the_announcements_its_software_reads(backend: Backend) {
    let alpha = TestApp::spawn_with(backend, federating).await;
    let beta = TestApp::spawn_with(backend, federating).await;
    with_maths(&alpha).await;
    let lemmy = Recorder::running("lemmy").await;
    let mastodon = Recorder::running("mastodon").await;
    let unknown = Recorder::start(Semaphore::MAX_PERMITS / 2).await;
    for recorder in [&lemmy, &mastodon, &unknown] {
        remote_follower(&alpha, &recorder.domain).await;
    }
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let handle = format!("maths@{}", alpha.domain());
    let (status, body) = beta.follow(&bea, &handle).await;
    assert!((200..300).contains(&status), "{status} {body}");
    // alpha looks up what each follower's server runs (their NodeInfo) beside delivery.
    let runs = |domain: String| {
        let alpha = &alpha;
        async move {
            state_of(alpha, &domain)
                .await
                .and_then(|instance| instance.software)
        }
    };
    wait_until("alpha to know what its followers' servers run", || async {
        runs(lemmy.domain.clone()).await.as_deref() == Some("lemmy")
            && runs(mastodon.domain.clone()).await.as_deref() == Some("mastodon")
            && runs(beta.domain()).await.as_deref() == Some("staffroom")
    })
    .await;
    assert_eq!(runs(unknown.domain.clone()).await, None);

    // A new thread: Lemmy and Staffroom read the announced Create, Mastodon only the announced
    // post; a server whose software is not known gets both.
    let head = alpha.token("head").await;
    let thread = alpha
        .thread(&head, "maths", "Number talks", "How do you start them?")
        .await;
    drain_all(&[&alpha, &beta]).await;
    let page = alpha.url(&format!("/t/{thread}"));
    let got = announced(&lemmy);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["object"]["type"], "Create");
    assert_eq!(got[0]["object"]["object"]["id"], page);
    let got = announced(&mastodon);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["object"]["type"], "Page");
    assert_eq!(got[0]["object"]["id"], page);
    let got = announced(&unknown);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0]["object"]["type"], "Create");
    assert_eq!(got[1]["object"]["type"], "Page");
    assert_eq!(
        alpha.site.activities_sent("Announce").await.unwrap(),
        2,
        "one Announce of each form, each to the servers that read it"
    );
    let (_, threads) = beta.read(&format!("/api/v1/forums/{handle}/threads")).await;
    assert_eq!(threads["threads"][0]["title"], "Number talks", "{threads}");

    // A thread started on beta, relayed by alpha: Mastodon gets the post by its address (alpha
    // is not where it lives); a reply goes to everyone in the one form.
    let started = beta.thread(&bea, &handle, "From beta", "Hello").await;
    drain_all(&[&beta, &alpha]).await;
    let got = announced(&lemmy);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1]["object"]["type"], "Create");
    assert_eq!(got[1]["object"]["object"]["name"], "From beta");
    let got = announced(&mastodon);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1]["object"], beta.url(&format!("/t/{started}")));
    assert_eq!(announced(&unknown).len(), 4);
    alpha
        .reply(&head, thread, "Start with a dot image.", None)
        .await;
    drain_all(&[&alpha, &beta]).await;
    for recorder in [&lemmy, &mastodon, &unknown] {
        let got = announced(recorder);
        let last = got.last().unwrap();
        assert_eq!(last["object"]["type"], "Create", "{got:?}");
        assert_eq!(last["object"]["object"]["type"], "Note", "{got:?}");
    }
}

async fn a_hanging_server_being_retried_never_takes_the_place_of_one_that_answers(
    backend: Backend,
) {
    // One place to send from, and a send holds it for its whole ten seconds: a retry of the
    // hanging server, were it to take that place, would keep beta waiting for ten seconds.
    let alpha = TestApp::spawn_with(backend, one_place(10.0, 10.0)).await;
    let beta = TestApp::spawn_with(backend, federating).await;
    with_maths(&alpha).await;
    let hanging = Hanging::start().await;
    remote_follower(&alpha, &hanging.domain).await;
    // Its first send timed out, and its retry is waiting (connections: the first send, the
    // look-up of its NodeInfo, the retry).
    wait_until("the hanging server to be retried", || async {
        let failures = state_of(&alpha, &hanging.domain)
            .await
            .map(|i| i.failures)
            .unwrap_or(0);
        failures == 1 && hanging.accepted() >= 3
    })
    .await;

    bea_follows_maths(&alpha, &beta).await;
    // beta had its Accept while the retry still waited: retries have places of their own.
    let hanging_state = state_of(&alpha, &hanging.domain).await.unwrap();
    assert_eq!(hanging_state.failures, 1, "{hanging_state:?}");
}

async fn what_a_server_says_it_runs_is_believed_only_within_limits(backend: Backend) {
    let alpha = TestApp::spawn_with(backend, federating).await;
    with_maths(&alpha).await;
    let honest = Recorder::describing(NodeInfo::Says("lemmy")).await;
    let padded = Recorder::describing(NodeInfo::Oversized("lemmy")).await;
    // Pointing at alpha itself, which would say "staffroom" were it asked.
    let elsewhere = Recorder::describing(NodeInfo::LinksTo(alpha.url("/nodeinfo/2.1"))).await;
    let moved = Recorder::describing(NodeInfo::Redirects("lemmy")).await;
    let all = [&honest, &padded, &elsewhere, &moved];
    for recorder in all {
        remote_follower(&alpha, &recorder.domain).await;
    }
    // A look-up claims a server (its time of checking set) before it asks; the honest answer
    // is recorded once its look-up is done, by when the others' have failed or soon will.
    wait_until("alpha to learn what the honest server runs", || async {
        state_of(&alpha, &honest.domain)
            .await
            .and_then(|instance| instance.software)
            .is_some()
    })
    .await;
    // What cannot be told costs nothing but a second form: every one of them has the thread.
    let head = alpha.token("head").await;
    alpha
        .thread(&head, "maths", "Number talks", "How do you start them?")
        .await;
    drain_all(&[&alpha]).await;
    for (recorder, forms) in [(&honest, 1), (&padded, 2), (&elsewhere, 2), (&moved, 2)] {
        assert_eq!(announced(recorder).len(), forms, "{}", recorder.domain);
    }
    // Only the honest answer is believed: a document over 64 KiB, a link to an address
    // delivery could not go to (this instance) and a redirect are not followed.
    for (recorder, software) in [
        (&honest, Some("lemmy")),
        (&padded, None),
        (&elsewhere, None),
        (&moved, None),
    ] {
        let instance = state_of(&alpha, &recorder.domain).await.unwrap();
        assert!(
            instance.software_checked_at.is_some(),
            "{}",
            recorder.domain
        );
        assert_eq!(
            instance.software.as_deref(),
            software,
            "{}",
            recorder.domain
        );
    }
}

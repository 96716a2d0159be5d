//! Every statement the everyday pages and API calls send is served by an index: no scan of a
//! growing table and no temporary sort. Checked with SQLite's planner (`EXPLAIN QUERY PLAN`) on
//! the SQL diesel actually sent, recorded while the requests ran. PostgreSQL's planner chooses by
//! table size, so its plans belong to benchmarks with realistic data, not to this test.

use diesel::sql_types::Text;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use reqwest::Method;
use staffroom::db::Backend;

use crate::support::{drain_all, network, TestApp, PASSWORD};

#[derive(QueryableByName)]
struct PlanStep {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// Scans that are bounded by design: the forum list shows every forum; `SELECT 1` (the pool's
/// connection check) reads a constant row; "is there an administrator?" reads the admins-only
/// partial index, as many rows as there are administrators; the mailer reads its queues from
/// their head (partial indexes holding only the notifications it has not looked at yet and the
/// messages not yet sent); a list of ids bound as one value (`db::Ids`) is read whole, as many
/// rows as ids were given, each then found by its key.
const BOUNDED_SCANS: &[&str] = &[
    "json_each VIRTUAL TABLE INDEX 1:",
    "forums",
    "forums USING INDEX forums_listing",
    "CONSTANT ROW",
    "users USING INDEX users_admins",
    "users USING COVERING INDEX users_admins",
    "notifications USING INDEX notifications_to_mail",
    "mail_outbox USING INDEX mail_outbox_due",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyday_requests_use_indexes_for_every_query() {
    // With a mail server, so that the mailer's queries are checked too.
    let sink = crate::support::smtp::SmtpSink::start(0);
    let smtp = sink.url();
    let app = TestApp::spawn_with(Backend::Sqlite, move |s| {
        s.email.smtp_url = smtp;
        s.email.notify_after_minutes = 0.0;
        s.email.poll_seconds = 0.2;
    })
    .await;
    app.create_user("head", true).await;
    app.create_user("alice", false).await;
    let head = app.token("head").await;
    app.forum_named(&head, "maths").await;
    let thread = app.thread(&head, "maths", "Plans", "Opening").await;
    let first = app.reply(&head, thread, "First", None).await;
    app.reply(&head, thread, "Second", Some(first)).await;
    // Members-only forums: alice is a member of staff, not of closed (which her reading of
    // profiles then leaves out).
    for forum in ["staff", "closed"] {
        app.forum_named(&head, forum).await;
        let (status, body) = app
            .api(
                Method::PATCH,
                &format!("/api/v1/forums/{forum}"),
                Some(&head),
                Some(serde_json::json!({"visibility": "members"})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = app
        .api(
            Method::PUT,
            "/api/v1/forums/staff/members/alice",
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let staff_thread = app.thread(&head, "staff", "Staff", "Room").await;
    let alice = app.logged_in("alice").await;
    let alice_token = app.token("alice").await;
    let from_alice = app.reply(&alice_token, thread, "Alice's", None).await;
    let (status, _) = app
        .api(
            Method::PATCH,
            "/api/v1/accounts/current",
            Some(&alice_token),
            Some(serde_json::json!({"email": "alice@school.example"})),
        )
        .await;
    assert_eq!(status, 200);
    let sent = sink.wait_for(1).await;
    let text = sent[0]["text"].as_str().unwrap();
    let confirm = text[text.find("http").unwrap()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(reqwest::get(&confirm).await.unwrap().status(), 200);

    app.site.db().start_recording();
    // E-mail: a reset link asked for, and the notifications below mailed.
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/password-resets",
            None,
            Some(serde_json::json!({"username_or_email": "alice@school.example"})),
        )
        .await;
    assert_eq!(status, 202);
    // Notifications: a reply that answers, quotes and mentions alice, in a thread and forum
    // she watches; listed, counted, opened and marked read.
    let (status, _) = app
        .api(
            Method::PUT,
            "/api/v1/forums/maths/watch",
            Some(&alice_token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let quoting = format!(
        "> [Alice wrote]({}/p/{from_alice}):\n> Alice's\n\nYes, @alice.",
        app.address
    );
    app.reply(&head, thread, &quoting, Some(from_alice)).await;
    app.reply(&head, staff_thread, "@alice, see this.", None)
        .await;
    // The reset link and a notification mailed before she reads them.
    sink.wait_for(3).await;
    for (method, path) in [
        (Method::GET, "/api/v1/notifications?unread=true".to_string()),
        (Method::GET, "/api/v1/notifications?page=2".into()),
        (Method::PUT, format!("/api/v1/threads/{thread}/watch")),
        (Method::DELETE, format!("/api/v1/threads/{thread}/watch")),
        (Method::DELETE, "/api/v1/forums/maths/watch".into()),
        (Method::POST, "/api/v1/notifications/read".into()),
        (Method::GET, "/api/v1/accounts/current".into()),
    ] {
        let (status, body) = app.api(method, &path, Some(&alice_token), None).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    for path in [
        "/".to_string(),
        "/f/staff".into(),
        format!("/t/{staff_thread}"),
        "/f/staff/members".into(),
        "/f/maths".into(),
        "/f/maths?page=2".into(),
        format!("/t/{thread}"),
        format!("/t/{thread}?page=2"),
        format!("/p/{first}"),
        format!("/t/{thread}/reply?to={first}&quote=1"),
        format!("/p/{first}/revisions"),
        "/u/alice".into(),
        "/u/head".into(),
        format!("/u/head?before={first}"),
        format!("/u/head?after={first}"),
        "/f/maths/feed.atom".into(),
        format!("/t/{thread}/feed.atom"),
        "/notifications".into(),
        "/notifications?unread=true&page=2".into(),
        "/settings/notifications".into(),
    ] {
        let (status, _) = app.get(&alice, &path).await;
        assert!(status == 200 || status == 303, "{path}: {status}");
    }
    for path in [
        "/api/v1/forums".to_string(),
        "/api/v1/forums/maths/threads".into(),
        format!("/api/v1/threads/{thread}"),
        "/api/v1/users/alice".into(),
        "/api/v1/search?q=opening".into(),
    ] {
        let (status, _) = app.api(Method::GET, &path, None, None).await;
        assert_eq!(status, 200, "{path}");
    }
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(serde_json::json!({"username": "alice", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 201);
    app.reply(&head, thread, "Third", Some(first)).await;
    app.create_user("bob", false).await;
    app.forum_named(&head, "science").await;
    let bob = app.token("bob").await;
    app.reply(&bob, thread, "Bob's", None).await;
    // Reports: made, queued, resolved.
    let (status, made) = app
        .api(
            Method::POST,
            &format!("/api/v1/posts/{first}/reports"),
            Some(&bob),
            Some(serde_json::json!({"reason": "Plans"})),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let report = made["id"].as_i64().unwrap();
    // Moderation: appointing, locking, pinning, the log and the moderators.
    for (method, path, body) in [
        (
            Method::PUT,
            "/api/v1/forums/maths/moderators/alice".to_string(),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/threads/{thread}"),
            Some(serde_json::json!({"locked": true, "pinned": true, "reason": "Plans"})),
        ),
        (Method::GET, "/api/v1/forums/maths/modlog".into(), None),
        (Method::GET, "/api/v1/forums/maths/moderators".into(), None),
        // Bans from a forum and the instance (with what they posted), lifted; a move.
        (
            Method::POST,
            "/api/v1/forums/maths/bans".into(),
            Some(serde_json::json!({"person": "bob", "reason": "Plans", "remove_content": true})),
        ),
        (Method::GET, "/api/v1/forums/maths/bans".into(), None),
        (Method::GET, "/api/v1/forums/maths/reports".into(), None),
        (
            Method::POST,
            format!("/api/v1/reports/{report}/resolve"),
            None,
        ),
        (
            Method::GET,
            "/api/v1/forums/maths/reports?state=closed".into(),
            None,
        ),
        (Method::DELETE, "/api/v1/forums/maths/bans/bob".into(), None),
        (
            Method::POST,
            "/api/v1/admin/bans".into(),
            Some(
                serde_json::json!({"person": "bob", "reason": "Plans", "remove_content": true, "expires_at": "2099-01-01T00:00:00Z"}),
            ),
        ),
        (Method::GET, "/api/v1/admin/bans".into(), None),
        (Method::DELETE, "/api/v1/admin/bans/bob".into(), None),
        (
            Method::PATCH,
            format!("/api/v1/threads/{thread}"),
            Some(serde_json::json!({"forum": "science"})),
        ),
    ] {
        let (status, body) = app.api(method, &path, Some(&head), body).await;
        assert!((200..300).contains(&status), "{path}: {status} {body}");
    }
    for path in [
        "/f/maths/modlog".to_string(),
        "/modlog".into(),
        "/search?q=plans+-nothing".into(),
        "/search?q=%22first+second%22&forum=maths&author=head&from=2020-01-01&to=2099-01-01".into(),
        format!("/t/{thread}/lock"),
        "/admin/forums/maths".into(),
        "/f/maths/bans".into(),
        "/f/maths/reports".into(),
        format!("/p/{first}/report"),
        format!("/t/{thread}/move"),
    ] {
        let (status, _) = app.get(&alice, &path).await;
        assert!(status == 200 || status == 403, "{path}: {status}");
    }
    // bob leaves, taking his words with him.
    let (status, body) = app
        .api(
            Method::DELETE,
            "/api/v1/accounts/current",
            Some(&bob),
            Some(serde_json::json!({"password": PASSWORD, "content": "remove"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let statements = app.site.db().stop_recording();

    let (checked, problems) = plan_problems(&app, &statements, BOUNDED_SCANS);
    assert!(checked >= 20, "only {checked} statements were checked");
    assert!(
        problems.is_empty(),
        "queries not served by an index:\n{}",
        problems.join("\n")
    );
}

/// Runs every recorded SELECT, UPDATE and DELETE through SQLite's planner on `app`'s database;
/// returns how many were checked and the steps that scan (outside `bounded`) or sort.
fn plan_problems(app: &TestApp, statements: &[String], bounded: &[&str]) -> (usize, Vec<String>) {
    let url = app.site.settings().database.url.clone();
    let path = url.trim_start_matches("sqlite://").to_string();
    let mut conn = SqliteConnection::establish(&path).unwrap();
    let mut checked = 0;
    let mut problems = Vec::new();
    for statement in statements {
        let sql = statement.split(" -- binds:").next().unwrap().trim();
        // A bound value compared with a partial index's condition makes SQLite prepare the
        // statement again on every run (see the `db` module).
        for flag in PARTIAL_INDEX_FLAGS {
            if sql.contains(&format!("{flag} = ?")) {
                problems.push(format!("{flag} compared with a bound value\n    in: {sql}"));
            }
        }
        if CACHED_COUNTS.contains(&sql) {
            continue;
        }
        if !(sql.starts_with("SELECT") || sql.starts_with("UPDATE") || sql.starts_with("DELETE")) {
            continue;
        }
        let plan: Vec<PlanStep> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load(&mut conn)
            .unwrap_or_else(|e| panic!("cannot plan {sql}: {e}"));
        checked += 1;
        for step in plan {
            let detail = step.detail;
            // "SCAN forums", "SCAN users USING INDEX users_admins", "SCAN CONSTANT ROW"; a
            // full-text MATCH is its index's lookup ("VIRTUAL TABLE INDEX 0:M...", or
            // "192:M..." read newest first); a search reads back its candidates, at most
            // `db::search::CANDIDATES` of them ("SCAN (subquery-1)").
            let search = sql.contains("post_search MATCH");
            // Placing a thread's new replies numbers them (and, for a reply that came late,
            // those after it) in a window read from the index, then writes each by its key.
            let placing = sql.starts_with("UPDATE posts SET position = numbered.n");
            let scan_ok = detail.strip_prefix("SCAN ").is_none_or(|rest| {
                bounded.contains(&rest)
                    || rest
                        .split_once("VIRTUAL TABLE INDEX ")
                        .is_some_and(|(_, index)| {
                            index.split_once(':').is_some_and(|(_, how)| {
                                how.starts_with('M') || how.starts_with('=')
                            })
                        })
                    || (search && rest.starts_with("(subquery-"))
                    || (placing && (rest == "numbered" || rest.starts_with("(subquery-")))
            });
            // Ranking a search sorts its matches (and only those).
            let ranked = search && detail.contains("ORDER BY");
            if !scan_ok || (detail.contains("TEMP B-TREE") && !ranked) {
                problems.push(format!("{detail}\n    in: {sql}"));
            }
        }
    }
    (checked, problems)
}

/// The columns partial indexes test: compared as SQL, never with a bound value.
const PARTIAL_INDEX_FLAGS: &[&str] = &[
    "`posts`.`is_opening`",
    "`users`.`local`",
    "`users`.`is_admin`",
    "`users`.`pending`",
    "`forums`.`local`",
];

/// Statements that count by scanning, run at most every ten minutes: NodeInfo's usage (local
/// accounts and posts), read by the servers that deliver here, and cached by the server.
const CACHED_COUNTS: &[&str] = &[
    "SELECT COUNT(*) FROM `users` WHERE `users`.`local`",
    "SELECT COUNT(*) FROM `posts` WHERE (`posts`.`local` AND (`posts`.`deleted_at` IS NULL))",
];

/// Scans bounded by design in federation: `instances` has a row per server talked to (the
/// delivery worker reads the due ones, least failing first, through `instances_by_failures`),
/// and the partial index of outbox events holds only those
/// not yet sent on (the backlog, normally empty).
const FEDERATION_BOUNDED_SCANS: &[&str] = &[
    // The administrators' list of blocked servers, read whole every few seconds so that every
    // process keeps it current (whenever the test runs long enough to see it).
    "instance_blocks",
    "instances",
    "instances USING INDEX instances_by_failures",
    "outbox_events USING INDEX outbox_events_pending",
    "outbox_events USING COVERING INDEX outbox_events_pending",
    // The follows of threads elsewhere that no server answered: exactly the threads the
    // refresh reads again from their contexts (none once followed threads are accepted).
    "thread_follows USING INDEX thread_follows_pending",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federation_uses_indexes_for_every_query() {
    let net = network(Backend::Sqlite, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("head", true).await;
    let head = alpha.token("head").await;
    alpha.forum_named(&head, "maths").await;
    alpha.thread(&head, "maths", "Backfilled", "Before").await;
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;

    alpha.site.db().start_recording();
    beta.site.db().start_recording();
    let handle = format!("maths@{}", alpha.domain());
    let (status, _) = beta.follow(&bea, &handle).await;
    assert_eq!(status, 202);
    drain_all(&[alpha, beta]).await;
    let thread = alpha.thread(&head, "maths", "Live", "After").await;
    drain_all(&[alpha, beta]).await;
    let (_, threads) = beta.read(&format!("/api/v1/forums/{handle}/threads")).await;
    let on_beta = threads["threads"][0]["id"].as_i64().unwrap();
    let reply = beta.reply(&bea, on_beta, "From beta", None).await;
    drain_all(&[alpha, beta]).await;
    let (_, opening) = beta.read(&format!("/api/v1/threads/{on_beta}")).await;
    let opening = opening["opening_post"]["id"].as_i64().unwrap();
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/api/v1/posts/{reply}"),
            Some(serde_json::json!({"body": "Edited"})),
        ),
        (
            Method::POST,
            format!("/api/v1/posts/{opening}/helpful"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/posts/{opening}/helpful"),
            None,
        ),
        (Method::DELETE, format!("/api/v1/posts/{reply}"), None),
        (
            Method::GET,
            format!("/api/v1/resolve?q={}", alpha.url(&format!("/t/{thread}"))),
            None,
        ),
        (Method::DELETE, format!("/api/v1/follows/{handle}"), None),
    ] {
        let (status, json) = beta.api(method, &path, Some(&bea), body).await;
        assert!((200..300).contains(&status), "{path}: {status} {json}");
        drain_all(&[alpha, beta]).await;
    }
    // bea watches the thread she answered: with the forum no longer followed, she follows the
    // thread itself, alpha accepts, and what happens in it still reaches beta.
    assert_eq!(alpha.site.thread_follower_count(thread).await.unwrap(), 1);
    alpha
        .reply(&head, thread, "To the thread's follower", None)
        .await;
    drain_all(&[alpha, beta]).await;
    // What the refresh of watched threads asks (nothing is due: the follow was accepted).
    assert_eq!(
        beta.site.threads_to_refresh(20).await.unwrap(),
        Vec::<i64>::new()
    );
    for app in [alpha, beta] {
        let statements = app.site.db().stop_recording();
        let bounded: Vec<&str> = BOUNDED_SCANS
            .iter()
            .chain(FEDERATION_BOUNDED_SCANS)
            .copied()
            .collect();
        let (checked, problems) = plan_problems(app, &statements, &bounded);
        assert!(checked >= 20, "{}: only {checked} statements", app.address);
        assert!(
            problems.is_empty(),
            "{}: queries not served by an index:\n{}",
            app.address,
            problems.join("\n")
        );
    }
}

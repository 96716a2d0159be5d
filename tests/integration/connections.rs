//! The database connections behind every request: handed out without a test statement each
//! time, and on PostgreSQL replaced when the server drops them (a restart, an administrator's
//! `pg_terminate_backend`, a broken link), so the forum goes on answering.

use diesel::{Connection, RunQueryDsl};
use reqwest::Method;
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{drain_all, network, postgres_url, report_postgres_skipped, TestApp};

both_backends!(
    a_page_asks_the_database_only_its_own_questions,
    posting_and_reading_run_only_prepared_statements
);

/// A page's statements are its own: the pool does not test the connection with `SELECT 1`
/// each time it hands one out (on PostgreSQL that was a round trip per use of the database).
async fn a_page_asks_the_database_only_its_own_questions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.create_user("ada", true).await;
    let token = app.token(&admin.name).await;
    app.forum_named(&token, "maths").await;
    let thread = app
        .thread(&token, "maths", "Fractions", "How do you start?")
        .await;
    let browser = TestApp::browser();
    // Connections opened and used once before recording, as on a server that has run a while.
    for path in ["/", "/f/maths"] {
        assert_eq!(app.get(&browser, path).await.0, 200);
    }
    app.site.db().start_recording();
    for path in ["/", "/f/maths", &format!("/t/{thread}")] {
        assert_eq!(app.get(&browser, path).await.0, 200, "{path}");
    }
    let (status, _) = app
        .api(
            Method::GET,
            &format!("/api/v1/threads/{thread}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let statements = app.site.db().stop_recording();
    assert!(!statements.is_empty(), "the pages were recorded");
    let tests: Vec<&String> = statements
        .iter()
        .filter(|s| s.trim_start().to_ascii_uppercase().starts_with("SELECT 1"))
        .collect();
    assert!(
        tests.is_empty(),
        "connections tested at check-out: {tests:?} among {} statements",
        statements.len()
    );
}

/// What every post and every thread page runs is kept prepared on its connection, parsed and
/// planned once: a reply posted here, a reply from another server (the group-committed path, with
/// its notifications, search words, counts and the relay it queues), a thread page and its
/// JSON, anonymous and logged in. A statement diesel would not keep (raw SQL through
/// `sql_query`, an `UPDATE`, an upsert, a literal) was parsed and planned on every run, which on
/// PostgreSQL cost more than running it. A person who signed an activity a moment ago is not
/// read again for the next.
async fn posting_and_reading_run_only_prepared_statements(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("head", true).await;
    let head = alpha.token("head").await;
    alpha.forum_named(&head, "maths").await;
    let thread = alpha.thread(&head, "maths", "Bonds", "Pairs to ten?").await;
    let reader = alpha.logged_in("head").await;
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let handle = format!("maths@{}", alpha.domain());
    assert_eq!(beta.follow(&bea, &handle).await.0, 202);
    drain_all(&[alpha, beta]).await;
    let (_, threads) = beta.read(&format!("/api/v1/forums/{handle}/threads")).await;
    let on_beta = threads["threads"][0]["id"].as_i64().unwrap();
    // Once before recording, so that what only the first post of a thread or person does
    // (an author's first count in a forum, say) is behind us.
    beta.reply(&bea, on_beta, "Seven and three.", None).await;
    alpha.reply(&head, thread, "And four and six.", None).await;
    drain_all(&[alpha, beta]).await;

    alpha.site.db().start_recording();
    beta.reply(&bea, on_beta, "Eight and two.", None).await;
    drain_all(&[alpha, beta]).await;
    let received = alpha.site.db().stop_recording();
    // bea signed a reply a moment ago: she and her key are not read again for this one.
    let signer_reads: Vec<&String> = received
        .iter()
        .filter(|s| s.contains(r#""users"."public_key" FROM "users""#))
        .collect();
    assert!(signer_reads.is_empty(), "{signer_reads:?}");
    alpha.site.db().start_recording();
    alpha.reply(&head, thread, "Nine and one.", None).await;
    for who in [&TestApp::browser(), &reader] {
        assert_eq!(alpha.get(who, &format!("/t/{thread}")).await.0, 200);
    }
    let (status, _) = alpha
        .api(
            Method::GET,
            &format!("/api/v1/threads/{thread}"),
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let here = alpha.site.db().stop_recording();
    let (_, page) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(page["thread"]["reply_count"], 4, "{page}");

    // Transactions are begun and ended by plain statements, not prepared ones. Queuing
    // activities for their servers writes and reads them by a list as long as they are many:
    // on PostgreSQL bound as arrays (prepared), on SQLite one statement per thousand servers
    // (run once per round of activities, not per delivery).
    let control = ["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"];
    let per_activity: &[&str] = match backend {
        Backend::Postgres => &[],
        Backend::Sqlite => &[
            r#"INSERT INTO "instances" ("domain", "created_at") VALUES"#,
            r#"INSERT INTO "deliveries" ("activity_id", "instance_id", "inbox_url", "created_at") VALUES"#,
            r#"SELECT "instances"."domain", "instances"."software" FROM "instances" WHERE (("instances"."domain" IN"#,
            r#"SELECT "instances"."id", "instances"."domain" FROM "instances" WHERE ("instances"."domain" IN"#,
        ],
    };
    for (what, statements) in [("a reply from elsewhere", &received), ("here", &here)] {
        assert!(statements.len() >= 10, "{what}: {statements:?}");
        let unprepared: Vec<&String> = statements
            .iter()
            .filter(|s| !control.iter().any(|c| s.trim_start().starts_with(c)))
            .filter(|s| {
                let s = s.replace('`', "\"");
                !per_activity.iter().any(|p| s.starts_with(p))
            })
            .filter(|s| !alpha.site.db().kept_prepared(s))
            .collect();
        assert!(
            unprepared.is_empty(),
            "{what}: statements parsed and planned on every run:\n{}",
            unprepared
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// Ends every connection the server has open to its database, as a PostgreSQL restart would.
fn drop_server_connections(app: &TestApp) -> usize {
    #[derive(diesel::QueryableByName)]
    struct Ended {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut admin = diesel::PgConnection::establish(&app.settings.database.url)
        .expect("connect to the test database");
    let ended: Ended = diesel::sql_query(
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .get_result(&mut admin)
    .expect("end the server's connections");
    ended.n as usize
}

/// Runs `n` front-page requests one after another and gives their statuses.
async fn front_pages(app: &TestApp, n: usize) -> Vec<u16> {
    let browser = TestApp::browser();
    let mut statuses = Vec::new();
    for _ in 0..n {
        statuses.push(app.get(&browser, "/").await.0);
    }
    statuses
}

/// Starts a PostgreSQL server whose pool tests a connection that waited longer than
/// `idle_check_seconds`, with every pooled connection opened (as many requests at once as the
/// pool holds, twice over) and a forum to write in; gives it and an administrator's token.
async fn busy_postgresql(idle_check_seconds: f64) -> (TestApp, String) {
    let app = TestApp::spawn_with(Backend::Postgres, |s| {
        s.database.idle_check_seconds = idle_check_seconds;
        // Every front page below asks the database (no anonymous page is given again).
        s.server.page_cache_seconds = 0;
    })
    .await;
    let admin = app.create_user("ada", true).await;
    let token = app.token(&admin.name).await;
    app.forum_named(&token, "maths").await;
    let mut pages = tokio::task::JoinSet::new();
    for _ in 0..app.settings.database.pool_size * 2 {
        pages.spawn(reqwest::get(app.url("/")));
    }
    while let Some(page) = pages.join_next().await {
        assert_eq!(page.unwrap().unwrap().status(), 200);
    }
    (app, token)
}

/// PostgreSQL drops every connection twice: once in a pool that tests no connection for having
/// waited (an hour's idle check), as under load, where the first statement that finds a lost
/// connection fails and every other connection is tested before it is used again; and once in
/// a pool that tests every connection that waited at all (`idle_check_seconds = 0`), as for a
/// forum that was quiet longer than its idle check, where nobody's request fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_connections_dropped_by_the_server_are_replaced() {
    if postgres_url().is_none() {
        report_postgres_skipped();
        return;
    }
    let (busy, token) = busy_postgresql(3600.0).await;
    let ended = drop_server_connections(&busy);
    assert!(ended >= 1, "the server had connections open ({ended})");
    let statuses = front_pages(&busy, 3 * busy.settings.database.pool_size as usize).await;
    let failed = statuses.iter().filter(|s| **s != 200).count();
    assert!(
        failed <= 1,
        "only the request that found the lost connection may fail: {statuses:?}"
    );
    assert!(
        statuses.iter().rev().take(5).all(|s| *s == 200),
        "{statuses:?}"
    );
    // Writing works on the new connections.
    let thread = busy
        .thread(&token, "maths", "After the restart", "Still here.")
        .await;
    assert!(thread > 0);

    let (quiet, token) = busy_postgresql(0.0).await;
    let ended = drop_server_connections(&quiet);
    assert!(ended >= 1, "the server had connections open ({ended})");
    let statuses = front_pages(&quiet, 3 * quiet.settings.database.pool_size as usize).await;
    assert!(
        statuses.iter().all(|s| *s == 200),
        "no request fails when waiting connections are tested: {statuses:?}"
    );
    let thread = quiet
        .thread(&token, "maths", "After the restart", "Still here.")
        .await;
    assert!(thread > 0);
}

/// On SQLite, which has one writer at a time, a writer that asks while another keeps writing
/// transaction after transaction gets its turn after the one in progress, not when the other
/// stops: writers take turns in the order they ask (before, the second slept in SQLite's busy
/// handler while the first took the lock again and again, as a flood of replies from other
/// servers kept the delivery worker from recording its sends). PostgreSQL locks rows, not the
/// database, so there is nothing to take turns at.
#[test]
fn sqlite_writers_take_turns_in_the_order_they_ask() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    let database = crate::support::TestDatabase::new(Backend::Sqlite);
    let db =
        staffroom::db::Db::connect(&database.url, 4, std::time::Duration::from_secs(1)).unwrap();
    // Each transaction of the flood writes a thousand rows (a few milliseconds, as a batch of
    // replies does), the one that asks a single row.
    let write = |rows: usize| {
        move |conn: &mut staffroom::db::Conn<'_>| -> Result<(), staffroom::error::ForumError> {
            conn.transaction(|conn| {
                staffroom::dispatch!(conn, |c| diesel::sql_query(format!(
                    "INSERT INTO received_activities (ap_id, received_at) \
                     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
                     SELECT lower(hex(randomblob(16))), CURRENT_TIMESTAMP FROM n"
                ))
                .execute(c))?;
                Ok(())
            })
        }
    };
    let (stop, flood) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let flooding = {
        let (db, stop, flood) = (db.clone(), stop.clone(), flood.clone());
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            while !stop.load(Ordering::SeqCst) && started.elapsed().as_secs() < 20 {
                db.with_conn(write(1000)).unwrap();
                flood.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    while flood.load(Ordering::SeqCst) < 3 {
        std::thread::yield_now();
    }
    let mut waited_for = Vec::new();
    for _ in 0..20 {
        let before = flood.load(Ordering::SeqCst);
        db.with_conn(write(1)).unwrap();
        waited_for.push(flood.load(Ordering::SeqCst) - before);
    }
    stop.store(true, Ordering::SeqCst);
    flooding.join().unwrap();
    // The flood's transaction in progress, and at most the one it began as this one asked.
    assert!(
        waited_for.iter().all(|&n| n <= 2),
        "transactions of the flood stored while one write waited: {waited_for:?}"
    );
}

/// On PostgreSQL each statement kept prepared is planned once per connection: none is planned
/// again for the values of its run. PostgreSQL's default plans every prepared statement for its
/// values on its first five runs, and for ever after when such plans look cheaper, as the
/// unread count in a logged-in page's header did (its planning took thirty times as long as
/// running it). Searches still get plans made for their words, and find what they should.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_plans_each_prepared_statement_once() {
    if postgres_url().is_none() {
        report_postgres_skipped();
        return;
    }
    // One connection, so the statements of every request below are on the one read after.
    let app = TestApp::spawn_with(Backend::Postgres, |s| s.database.pool_size = 1).await;
    app.create_user("head", true).await;
    let head = app.token("head").await;
    app.forum_named(&head, "maths").await;
    let thread = app.thread(&head, "maths", "Bonds", "Pairs to ten?").await;
    app.create_user("bea", false).await;
    let bea = app.token("bea").await;
    app.reply(&bea, thread, "Seven and three.", None).await;
    let reader = app.logged_in("head").await;
    for _ in 0..8 {
        assert_eq!(app.get(&reader, &format!("/t/{thread}")).await.0, 200);
        assert_eq!(app.get(&reader, "/").await.0, 200);
    }
    let (status, found) = app
        .api(
            Method::GET,
            "/api/v1/search?q=%22seven+and+three%22",
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["total"], 1, "{found}");

    #[derive(diesel::QueryableByName, Debug)]
    struct Planned {
        #[diesel(sql_type = diesel::sql_types::Text)]
        statement: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        generic_plans: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        custom_plans: i64,
    }
    let planned: Vec<Planned> = app
        .site
        .db()
        .with_conn(
            |conn| -> Result<Vec<Planned>, staffroom::error::ForumError> {
                match conn {
                    staffroom::db::Conn::Pg(c) => Ok(diesel::sql_query(
                        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements",
                    )
                    .load(&mut **c)?),
                    staffroom::db::Conn::Sqlite(..) => unreachable!("a PostgreSQL test"),
                }
            },
        )
        .unwrap();
    let unread_count = planned
        .iter()
        .find(|p| p.statement.contains(r#"SELECT "notifications"."id" FROM"#))
        .expect("the header's unread count is kept prepared");
    assert!(unread_count.generic_plans >= 8, "{unread_count:?}");
    let replanned: Vec<&Planned> = planned.iter().filter(|p| p.custom_plans > 0).collect();
    assert!(
        replanned.is_empty(),
        "statements planned for their values:\n{replanned:#?}"
    );
}

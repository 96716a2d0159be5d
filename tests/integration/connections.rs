//! The database connections behind every request: handed out without a test statement each
//! time, and on PostgreSQL replaced when the server drops them (a restart, an administrator's
//! `pg_terminate_backend`, a broken link), so the forum goes on answering.

use diesel::{Connection, RunQueryDsl};
use reqwest::Method;
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{postgres_url, report_postgres_skipped, TestApp};

both_backends!(a_page_asks_the_database_only_its_own_questions);

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

/// PostgreSQL drops every connection twice: once while requests come one after another (the
/// first statement that finds a lost connection fails, and every other connection is tested
/// before it is used again), and once while the forum is quiet (connections that waited in the
/// pool longer than its idle check are tested, so nobody's request fails).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_connections_dropped_by_the_server_are_replaced() {
    if postgres_url().is_none() {
        report_postgres_skipped();
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).await;
    let admin = app.create_user("ada", true).await;
    let token = app.token(&admin.name).await;
    app.forum_named(&token, "maths").await;
    // Every pooled connection opened: as many requests at once as the pool holds.
    let mut pages = tokio::task::JoinSet::new();
    for _ in 0..app.settings.database.pool_size * 2 {
        pages.spawn(reqwest::get(app.url("/")));
    }
    while let Some(page) = pages.join_next().await {
        assert_eq!(page.unwrap().unwrap().status(), 200);
    }

    // Busy: requests follow each other at once.
    let ended = drop_server_connections(&app);
    assert!(ended >= 1, "the server had connections open ({ended})");
    let statuses = front_pages(&app, 3 * app.settings.database.pool_size as usize).await;
    let failed = statuses.iter().filter(|s| **s != 200).count();
    assert!(
        failed <= 1,
        "only the request that found the lost connection may fail: {statuses:?}"
    );
    assert!(
        statuses.iter().rev().take(5).all(|s| *s == 200),
        "{statuses:?}"
    );

    // Quiet: the connections wait in the pool past its idle check before anyone asks. (The
    // pause is what is under test: a forum nobody reads for a while, its database restarted.)
    let ended = drop_server_connections(&app);
    assert!(
        ended >= 1,
        "the server had connections open again ({ended})"
    );
    tokio::time::sleep(staffroom::db::pool::IDLE_CHECK + std::time::Duration::from_millis(300))
        .await;
    let statuses = front_pages(&app, 3 * app.settings.database.pool_size as usize).await;
    assert!(
        statuses.iter().all(|s| *s == 200),
        "no request fails after a quiet restart: {statuses:?}"
    );
    // And writing works on the new connections.
    let thread = app
        .thread(&token, "maths", "After the restart", "Still here.")
        .await;
    assert!(thread > 0);
}

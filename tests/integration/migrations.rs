//! Every migration runs up, down and up again on each backend.

use staffroom::db::{self, Backend, Db};

use crate::both_backends;
use crate::support::{column, TestApp, TestDatabase};

both_backends!(
    migrations_run_up_down_and_up_again,
    posts_stored_before_put_their_code_and_tables_in_the_tab_order,
);

async fn migrations_run_up_down_and_up_again(backend: Backend) {
    let database = TestDatabase::new(backend);
    let url = database.url.clone();
    tokio::task::spawn_blocking(move || {
        // Connecting applies every migration.
        let pool = Db::connect(&url, 1, std::time::Duration::ZERO).expect("connect and migrate");
        assert_eq!(pool.backend(), backend);
        pool.with_conn(|conn| -> Result<(), db::DbError> {
            assert!(!db::users::admin_exists(conn)?, "tables exist after up");
            let reverted = db::revert_all_migrations(conn)?;
            assert!(reverted >= 1);
            assert!(
                db::users::admin_exists(conn).is_err(),
                "tables are gone after down"
            );
            db::run_migrations(conn)?;
            assert!(
                !db::users::admin_exists(conn)?,
                "tables are back after up again"
            );
            db::run_migrations(conn)?; // and running again is a no-op
            Ok(())
        })
        .expect("migration round trip");
    })
    .await
    .unwrap();
}

/// Posts stored before the sanitizer put code blocks and tables in the Tab order get them there
/// when the server is upgraded; reverting takes them out again.
async fn posts_stored_before_put_their_code_and_tables_in_the_tab_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    let token = app.token("head").await;
    app.forum_named(&token, "maths").await;
    let body = "| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nlet x = 1;\n```\n\nAfter.";
    let thread = app.thread(&token, "maths", "Tables", body).await;
    let html = || async {
        let (status, page) = app
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/threads/{thread}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        page["opening_post"]["html"].as_str().unwrap().to_string()
    };
    let now = html().await;
    assert!(now.contains("<table tabindex=\"0\">"), "{now}");
    assert!(now.contains("<pre tabindex=\"0\">"), "{now}");
    let migrate = |down: bool| {
        let db = app.site.db().clone();
        tokio::task::spawn_blocking(move || {
            db.with_conn(|conn| {
                if down {
                    db::revert_migrations_from(conn, "2026-12-03-000000").map(|n| assert!(n >= 1))
                } else {
                    db::run_migrations(conn)
                }
            })
        })
    };
    // Read from the table itself: with later migrations reverted too, the server's own queries
    // no longer fit the tables.
    let stored = || {
        column(
            &app,
            &format!("SELECT body_html AS v FROM posts WHERE thread_id = {thread} AND is_opening"),
        )
        .remove(0)
    };
    assert_eq!(stored(), now);
    migrate(true).await.unwrap().expect("revert");
    let before = stored();
    assert!(
        before.contains("<table>") && before.contains("<pre>"),
        "{before}"
    );
    assert!(!before.contains("tabindex"), "{before}");
    migrate(false).await.unwrap().expect("migrate");
    assert_eq!(stored(), now);
    assert_eq!(html().await, now);
}

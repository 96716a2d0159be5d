//! Leaving: a person deletes their own account with their password, keeping their posts
//! anonymised or removing them; their sessions end, nobody can log in to it or take its name,
//! and the servers that have their posts hear a `Delete` of the person and act on it.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::conversation::thread_titled;
use crate::support::{column, drain_all, expect_error, main_of, TestApp, PASSWORD};

both_backends!(
    a_person_leaves_and_their_posts_stay_anonymised,
    a_person_leaves_and_their_words_are_erased,
    the_last_administrator_cannot_leave,
    leaving_on_the_page_keeps_the_choice_after_a_mistake,
    servers_that_have_the_posts_hear_of_the_deletion,
);

async fn leave(app: &TestApp, token: &str, password: &str, content: &str) -> (u16, Value) {
    app.api(
        Method::DELETE,
        "/api/v1/accounts/current",
        Some(token),
        Some(json!({"password": password, "content": content})),
    )
    .await
}

/// head (administrator), alice and bob; alice started a thread in maths (and edited it), bob
/// answered. Answers the app, alice's token and the thread.
async fn school(backend: Backend) -> (TestApp, String, i64) {
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    app.create_user("alice", false).await;
    app.create_user("bob", false).await;
    let head = app.token("head").await;
    app.forum_named(&head, "maths").await;
    let alice = app.token("alice").await;
    let thread = app
        .thread(&alice, "maths", "Times tables", "Learn them by heart?")
        .await;
    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    let opening = page["opening_post"]["id"].as_i64().unwrap();
    let (status, body) = app
        .edit_post(
            Some(&alice),
            opening,
            "Learn them by heart, ALICE-WROTE-THIS?",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let bob = app.token("bob").await;
    app.reply(&bob, thread, "Patterns first.", None).await;
    app.reply(&alice, thread, "Thanks, Bob.", None).await;
    (app, alice, thread)
}

async fn a_person_leaves_and_their_posts_stay_anonymised(backend: Backend) {
    let (app, alice, thread) = school(backend).await;
    // A wrong password and an unknown choice are said beside their fields; nothing changes.
    let (status, body) = leave(&app, &alice, "not my password", "anonymise").await;
    expect_error(status, &body, 422, "invalid_input");
    assert!(body["fields"]["password"].is_string(), "{body}");
    let (status, body) = leave(&app, &alice, PASSWORD, "vanish").await;
    expect_error(status, &body, 422, "invalid_input");
    assert!(body["fields"]["content"].is_string(), "{body}");
    let (status, _) = app.read("/api/v1/users/alice").await;
    assert_eq!(status, 200, "still there");

    let web = app.logged_in("alice").await;
    let (status, body) = leave(&app, &alice, PASSWORD, "anonymise").await;
    assert_eq!(status, 204, "{body}");

    // Every session is over and nobody logs in to the account again.
    let (status, body) = app
        .api(
            Method::DELETE,
            "/api/v1/sessions/current",
            Some(&alice),
            None,
        )
        .await;
    expect_error(status, &body, 401, "invalid_token");
    let (_, page) = app.get(&web, "/settings/password").await;
    assert!(!page.contains("Change password"), "the web session ended");
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({"username": "alice", "password": PASSWORD})),
        )
        .await;
    expect_error(status, &body, 401, "invalid_credentials");

    // The posts stay, by "Deleted account"; the name is nowhere.
    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    let opening = &page["opening_post"];
    assert_eq!(
        opening["author"]["display_name"], "Deleted account",
        "{page}"
    );
    assert!(opening["body"]
        .as_str()
        .unwrap()
        .contains("ALICE-WROTE-THIS"));
    let retired = opening["author"]["name"].as_str().unwrap().to_string();
    assert!(retired.starts_with("deleted-"), "{retired}");
    assert_eq!(page["posts"][1]["author"]["name"], retired.as_str());
    assert!(!page.to_string().contains("alice"), "{page}");
    let (status, page) = app.get(&TestApp::browser(), &format!("/t/{thread}")).await;
    assert_eq!(status, 200);
    let main = main_of(&page);
    assert!(main.contains("Deleted account"), "{main}");
    assert!(
        !main.contains("Alice") && !main.contains("/u/alice"),
        "{main}"
    );

    // No profile; the name stays out of use.
    let (status, body) = app.read("/api/v1/users/alice").await;
    expect_error(status, &body, 404, "not_found");
    let (status, body) = app.read(&format!("/api/v1/users/{retired}")).await;
    expect_error(status, &body, 410, "account_deleted");
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/accounts",
            None,
            Some(json!({"username": "alice", "password": PASSWORD})),
        )
        .await;
    expect_error(status, &body, 409, "username_taken");
}

async fn a_person_leaves_and_their_words_are_erased(backend: Backend) {
    let (app, alice, thread) = school(backend).await;
    let id = column(
        &app,
        "SELECT CAST(id AS TEXT) AS v FROM users WHERE name = 'alice'",
    );
    let (status, body) = leave(&app, &alice, PASSWORD, "remove").await;
    assert_eq!(status, 204, "{body}");

    // Placeholders stay, so bob's reply still reads; the words and earlier versions are gone.
    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(page["thread"]["title"], "Times tables");
    assert_eq!(page["opening_post"]["deleted"], true, "{page}");
    assert_eq!(page["posts"][0]["body"], "Patterns first.");
    assert_eq!(page["posts"][1]["deleted"], true);
    assert!(!page.to_string().contains("ALICE-WROTE-THIS"), "{page}");
    let words = column(
        &app,
        &format!(
            "SELECT body_markdown || body_html AS v FROM posts WHERE author_id = {}",
            id[0]
        ),
    );
    assert_eq!(words, ["", ""]);
    let versions = column(
        &app,
        &format!(
            "SELECT body_markdown AS v FROM post_revisions WHERE post_id IN \
             (SELECT id FROM posts WHERE author_id = {})",
            id[0]
        ),
    );
    assert!(versions.is_empty(), "{versions:?}");
    // bob's own words are untouched.
    let bob_words = column(
        &app,
        "SELECT body_markdown AS v FROM posts WHERE author_id = (SELECT id FROM users WHERE name = 'bob')",
    );
    assert_eq!(bob_words, ["Patterns first."]);
}

async fn the_last_administrator_cannot_leave(backend: Backend) {
    let (app, _alice, _thread) = school(backend).await;
    let head = app.token("head").await;
    let (status, body) = leave(&app, &head, PASSWORD, "anonymise").await;
    expect_error(status, &body, 409, "last_admin");
    let (status, _) = app.read("/api/v1/users/head").await;
    assert_eq!(status, 200);
    // With a second administrator, the first may go.
    app.create_user("deputy", true).await;
    let (status, body) = leave(&app, &head, PASSWORD, "anonymise").await;
    assert_eq!(status, 204, "{body}");
    // Two administrators leaving at the same moment: one goes, and the other is then the last.
    app.create_user("second", true).await;
    let (deputy, second) = (app.token("deputy").await, app.token("second").await);
    let (first, other) = tokio::join!(
        leave(&app, &deputy, PASSWORD, "anonymise"),
        leave(&app, &second, PASSWORD, "anonymise")
    );
    let mut statuses = [first.0, other.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [204, 409], "{first:?} {other:?}");
    let admins = column(&app, "SELECT name AS v FROM users WHERE is_admin");
    assert_eq!(admins.len(), 1, "{admins:?}");
}

async fn leaving_on_the_page_keeps_the_choice_after_a_mistake(backend: Backend) {
    let (app, _alice, thread) = school(backend).await;
    let web = app.logged_in("alice").await;
    let (status, page) = app.get(&web, "/settings/password").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"href="/settings/delete""#), "{page}");
    let (status, page) = app.get(&web, "/settings/delete").await;
    assert_eq!(status, 200);
    assert!(page.contains("cannot be undone"), "{page}");

    let res = app
        .submit(
            &web,
            "/settings/delete",
            "/settings/delete",
            &[("content", "remove"), ("password", "wrong wrong wrong")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains(r#"value="remove" checked"#), "{page}");
    assert!(page.contains("password-error"), "{page}");
    let (status, _) = app.read("/api/v1/users/alice").await;
    assert_eq!(status, 200, "nothing happened");

    let res = app
        .submit(
            &web,
            "/settings/delete",
            "/settings/delete",
            &[("content", "remove"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(crate::support::location(&res), "/");
    // Logged out: the settings ask for a login.
    let (status, _) = app.get(&web, "/settings/delete").await;
    assert_eq!(status, 303);
    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(page["opening_post"]["deleted"], true, "{page}");
}

async fn servers_that_have_the_posts_hear_of_the_deletion(backend: Backend) {
    let (net, _head, _bea, handle) = crate::moderation::followed_maths(backend).await;
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("alice", false).await;
    alpha.create_user("carl", false).await;
    let alice = alpha.token("alice").await;
    let carl = alpha.token("carl").await;
    alpha
        .thread(&alice, "maths", "Fractions", "ALICE-WROTE-THIS")
        .await;
    alpha
        .thread(&carl, "maths", "Decimals", "CARL-WROTE-THIS")
        .await;
    drain_all(&[alpha, beta]).await;
    let copy = thread_titled(beta, &handle, "Fractions").await;
    assert!(copy.to_string().contains("ALICE-WROTE-THIS"), "{copy}");

    // alice removes everything; carl keeps his posts anonymised.
    let (status, body) = leave(alpha, &alice, PASSWORD, "remove").await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = leave(alpha, &carl, PASSWORD, "anonymise").await;
    assert_eq!(status, 204, "{body}");
    drain_all(&[alpha, beta]).await;
    assert_eq!(alpha.site.activities_sent("Delete").await.unwrap(), 2);

    // beta erased alice's words and marks both deleted; carl's words stay there.
    let copy = thread_titled(beta, &handle, "Fractions").await;
    assert_eq!(copy["opening_post"]["deleted"], true, "{copy}");
    assert!(!copy.to_string().contains("ALICE-WROTE-THIS"), "{copy}");
    assert_eq!(
        copy["opening_post"]["author"]["display_name"],
        "Deleted account"
    );
    let copy = thread_titled(beta, &handle, "Decimals").await;
    assert_eq!(copy["opening_post"]["deleted"], false, "{copy}");
    assert!(copy.to_string().contains("CARL-WROTE-THIS"), "{copy}");
    assert_eq!(
        copy["opening_post"]["author"]["display_name"],
        "Deleted account"
    );
}

/// Two administrators leaving at once cannot both count on the other staying. On PostgreSQL,
/// where transactions run side by side, the count taken in the transaction that retires one
/// holds the administrators' rows until it commits: a second count made meanwhile waits for it,
/// then counts without the one retired. (SQLite's write transactions never overlap.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_count_waits_for_a_retirement_in_progress() {
    use staffroom::db::users::count_admins_for_update;
    use staffroom::error::ForumError;
    use std::sync::mpsc;
    if crate::support::postgres_url().is_none() {
        crate::support::report_postgres_skipped();
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).await;
    let first = app.create_user("first", true).await;
    app.create_user("second", true).await;
    let (counted, on_counted) = mpsc::channel();
    let (go, on_go) = mpsc::channel::<()>();
    let db = app.site.db().clone();
    let retiring = tokio::task::spawn_blocking(move || {
        db.with_conn(|conn| {
            conn.transaction(|conn| -> Result<(), ForumError> {
                counted.send(count_admins_for_update(conn)?).unwrap();
                staffroom::dispatch!(conn, |c| diesel::RunQueryDsl::execute(
                    diesel::sql_query(format!(
                        "UPDATE users SET is_admin = FALSE WHERE id = {}",
                        first.id
                    )),
                    c
                ))?;
                on_go.recv().unwrap();
                Ok(())
            })
        })
    });
    assert_eq!(on_counted.recv().unwrap(), 2);
    let db = app.site.db().clone();
    let counting = tokio::task::spawn_blocking(move || {
        db.with_conn(|conn| {
            conn.transaction(|conn| -> Result<i64, ForumError> {
                Ok(count_admins_for_update(conn)?)
            })
        })
    });
    // The second count waits on the rows the first holds...
    crate::support::wait_until("the second count to wait on a lock", || async {
        column(
            &app,
            "SELECT pid::text AS v FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .len()
            == 1
    })
    .await;
    // ...and once the first commits, counts without the one it retired.
    go.send(()).unwrap();
    retiring.await.unwrap().unwrap();
    assert_eq!(counting.await.unwrap().unwrap(), 1);
}

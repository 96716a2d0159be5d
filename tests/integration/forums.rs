//! Forums: the setup hint, administration, the forum list and a forum's threads.

use reqwest::Method;
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{expect_error, location, main_of, TestApp};

both_backends!(
    the_front_page_says_how_to_create_the_first_administrator,
    administrators_create_edit_and_archive_forums_on_the_web,
    forum_form_mistakes_come_back_with_messages,
    only_administrators_manage_forums,
    forums_are_managed_through_the_api,
    the_forum_list_shows_counts_and_latest_activity,
    threads_are_listed_pinned_first_then_by_latest_activity_in_pages,
    unknown_forums_are_not_found,
);

async fn the_front_page_says_how_to_create_the_first_administrator(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let browser = TestApp::browser();
    let (status, page) = app.get(&browser, "/").await;
    assert_eq!(status, 200);
    assert!(page.contains("staffroom admin create-user NAME --admin"));
    app.create_user("member", false).await;
    let (_, page) = app.get(&browser, "/").await;
    assert!(
        page.contains("no administrator yet"),
        "a member is not an administrator"
    );
    app.create_user("head", true).await;
    let (_, page) = app.get(&browser, "/").await;
    assert!(!page.contains("staffroom admin create-user"));
}

async fn administrators_create_edit_and_archive_forums_on_the_web(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    let admin = app.logged_in("head").await;
    let (status, page) = app.get(&admin, "/").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("href=\"/admin\""),
        "administrators see Administration"
    );

    let res = app
        .submit(
            &admin,
            "/admin",
            "/admin/forums",
            &[
                ("name", "Science"),
                ("title", "Science teaching"),
                ("description", "Labs, inquiry and safety."),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/admin");
    let (_, page) = app.get(&admin, "/admin").await;
    assert!(page.contains("The forum “Science teaching” is created."));
    let (_, home) = app.get(&TestApp::browser(), "/").await;
    assert!(home.contains("<a href=\"/f/science\"><bdi>Science teaching</bdi></a>"));
    assert!(home.contains("Labs, inquiry and safety."));

    let res = app
        .submit(
            &admin,
            "/admin/forums/science",
            "/admin/forums/science",
            &[
                ("title", "Science and technology"),
                ("description", "Now with design and technology."),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, home) = app.get(&TestApp::browser(), "/").await;
    assert!(home.contains("Science and technology"));
    assert!(home.contains("Now with design and technology."));
    assert!(!home.contains("Archived forums"));

    let token = app.token("head").await;
    let thread = app
        .thread(&token, "science", "Before the archive", "Opening words")
        .await;
    let (_, json) = app.read(&format!("/api/v1/threads/{thread}")).await;
    let opening = json["opening_post"]["id"].as_i64().unwrap();
    let res = app
        .submit(
            &admin,
            "/admin/forums/science",
            "/admin/forums/science",
            &[
                ("title", "Science and technology"),
                ("description", "Closed."),
                ("archived", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, home) = app.get(&TestApp::browser(), "/").await;
    assert!(home.contains("Archived forums"));
    let (status, _) = app.get(&admin, "/f/science/new").await;
    assert_eq!(status, 403, "an archived forum takes no new threads");
    let (status, json) = app
        .api(
            Method::POST,
            &format!("/api/v1/threads/{thread}/posts"),
            Some(&token),
            Some(serde_json::json!({"body": "Too late"})),
        )
        .await;
    assert_eq!(status, 403, "no replies in an archived forum");
    assert_eq!(json["error"], "forum_archived");
    let (status, json) = app.edit_post(Some(&token), opening, "Rewritten").await;
    assert_eq!(status, 403, "no edits in an archived forum");
    assert_eq!(json["error"], "forum_archived");
    let (status, page) = app.get(&admin, &format!("/t/{thread}")).await;
    assert_eq!(status, 200, "the thread still reads");
    assert!(page.contains("Opening words"));
    assert!(!page.contains("Your reply"), "no reply box");
    let (status, json) = app
        .api(
            Method::POST,
            "/api/v1/forums/science/threads",
            Some(&token),
            Some(serde_json::json!({"title": "t", "body": "b"})),
        )
        .await;
    expect_error(status, &json, 403, "forum_archived");
}

async fn forum_form_mistakes_come_back_with_messages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    let admin = app.logged_in("head").await;
    let res = app
        .submit(
            &admin,
            "/admin",
            "/admin/forums",
            &[("name", "a b"), ("title", ""), ("description", "Kept text")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"name-error\""));
    assert!(page.contains("id=\"title-error\""));
    assert!(page.contains("Title is required."));
    assert!(page.contains("value=\"a b\""));
    assert!(page.contains(">Kept text</textarea>"));

    app.submit(
        &admin,
        "/admin",
        "/admin/forums",
        &[("name", "maths"), ("title", "Maths")],
    )
    .await;
    let res = app
        .submit(
            &admin,
            "/admin",
            "/admin/forums",
            &[("name", "MATHS"), ("title", "Maths again")],
        )
        .await;
    assert_eq!(res.status(), 409);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("A forum with that name exists already."));

    let res = app
        .submit(
            &admin,
            "/admin/forums/maths",
            "/admin/forums/maths",
            &[("title", " "), ("description", "d")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Title is required."));
}

async fn only_administrators_manage_forums(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    app.create_user("member", false).await;
    let member = app.logged_in("member").await;
    let (status, _) = app.get(&member, "/admin").await;
    assert_eq!(status, 403);
    let res = app
        .submit(
            &member,
            "/",
            "/admin/forums",
            &[("name", "mine"), ("title", "Mine")],
        )
        .await;
    assert_eq!(res.status(), 403);
    let (status, _) = app.get(&TestApp::browser(), "/admin").await;
    assert_eq!(status, 303, "visitors are sent to log in");

    let token = app.token("member").await;
    let body = serde_json::json!({"name": "mine", "title": "Mine"});
    let (status, json) = app
        .api(
            Method::POST,
            "/api/v1/forums",
            Some(&token),
            Some(body.clone()),
        )
        .await;
    expect_error(status, &json, 403, "admin_only");
    let (status, json) = app
        .api(Method::POST, "/api/v1/forums", None, Some(body))
        .await;
    expect_error(status, &json, 401, "unauthenticated");
    let (_, forums) = app.read("/api/v1/forums").await;
    assert_eq!(forums.as_array().unwrap().len(), 0, "nothing was created");

    let admin = app.token("head").await;
    app.forum_named(&admin, "maths").await;
    let (status, _) = app
        .api(
            Method::PATCH,
            "/api/v1/forums/maths",
            Some(&token),
            Some(serde_json::json!({"archived": true})),
        )
        .await;
    assert_eq!(status, 403);
    let (_, forum) = app.read("/api/v1/forums/maths").await;
    assert_eq!(forum["archived"], false);
}

async fn forums_are_managed_through_the_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    let admin = app.token("head").await;
    let (status, json) = app
        .api(
            Method::POST,
            "/api/v1/forums",
            Some(&admin),
            Some(serde_json::json!({"name": "Early_Years", "title": "Early years", "description": "Play."})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(json["name"], "early_years");
    assert_eq!(json["url"], app.url("/f/early_years"));
    assert_eq!(json["local"], true);
    let (status, json) = app
        .api(
            Method::PATCH,
            "/api/v1/forums/early_years",
            Some(&admin),
            Some(serde_json::json!({"description": "Play-based learning.", "archived": true})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(json["title"], "Early years", "fields not sent stay");
    assert_eq!(json["description"], "Play-based learning.");
    assert_eq!(json["archived"], true);
    let (status, json) = app
        .api(
            Method::PATCH,
            "/api/v1/forums/early_years",
            Some(&admin),
            Some(serde_json::json!({"title": ""})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(json["fields"]["title"].is_string());
    let (status, json) = app
        .api(
            Method::POST,
            "/api/v1/forums",
            Some(&admin),
            Some(serde_json::json!({"name": "early_years", "title": "Again"})),
        )
        .await;
    expect_error(status, &json, 409, "forum_name_taken");
    let (_, list) = app.read("/api/v1/forums").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

async fn the_forum_list_shows_counts_and_latest_activity(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    let token = app.token("head").await;
    app.forum_named(&token, "maths").await;
    app.forum_named(&token, "history").await;
    let (_, home) = app.get(&TestApp::browser(), "/").await;
    assert!(main_of(&home).contains("0 threads"));
    app.thread(&token, "maths", "One", "Body").await;
    app.thread(&token, "maths", "Two", "Body").await;
    let (_, home) = app.get(&TestApp::browser(), "/").await;
    let maths = &home[home.find("/f/maths").unwrap()..];
    assert!(
        maths.contains("2 threads · latest activity <time datetime="),
        "{maths}"
    );
    assert!(maths.contains("just now"));
    let (_, json) = app.read("/api/v1/forums/maths").await;
    assert_eq!(json["thread_count"], 2);
    assert_eq!(json["post_count"], 2);
    assert!(json["last_activity_at"].is_string());
}

async fn threads_are_listed_pinned_first_then_by_latest_activity_in_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await; // five threads a page
    app.create_user("head", true).await;
    let token = app.token("head").await;
    app.forum_named(&token, "maths").await;
    let mut ids = Vec::new();
    for n in 1..=7 {
        ids.push(
            app.thread(&token, "maths", &format!("Thread {n}"), "Body")
                .await,
        );
    }
    // Activity brings thread 1 back to the top; pinning puts thread 4 above everything.
    app.reply(&token, ids[0], "A new reply", None).await;
    let (status, _) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/threads/{}", ids[3]),
            Some(&token),
            Some(serde_json::json!({"pinned": true})),
        )
        .await;
    assert_eq!(status, 200);

    let (_, json) = app.read("/api/v1/forums/maths/threads").await;
    let titles: Vec<&str> = json["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["Thread 4", "Thread 1", "Thread 7", "Thread 6", "Thread 5"]
    );
    assert_eq!(json["paging"]["pages"], 2);
    assert_eq!(json["paging"]["total"], 7);
    let (_, json) = app.read("/api/v1/forums/maths/threads?page=2").await;
    let titles: Vec<&str> = json["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Thread 3", "Thread 2"]);

    let browser = TestApp::browser();
    let (_, page) = app.get(&browser, "/f/maths").await;
    let page = main_of(&page);
    let pos = |t: &str| {
        page.find(&format!("><bdi>{t}</bdi></a>"))
            .unwrap_or_else(|| panic!("{t} on page 1"))
    };
    assert!(pos("Thread 4") < pos("Thread 1") && pos("Thread 1") < pos("Thread 7"));
    assert!(page.contains("Pinned"));
    assert!(!page.contains("><bdi>Thread 2</bdi></a>"));
    assert!(page.contains("href=\"/f/maths?page=2\" rel=\"next\""));
    assert!(page.contains("aria-current=\"page\""));
    let (_, page2) = app.get(&browser, "/f/maths?page=2").await;
    assert!(
        page2.contains("><bdi>Thread 2</bdi></a>") && page2.contains("><bdi>Thread 3</bdi></a>")
    );
    assert!(page2.contains("Started by <a href=\"/u/head\"><bdi>Head</bdi></a>"));
    let (status, page9) = app.get(&browser, "/f/maths?page=9").await;
    assert_eq!(status, 200, "a page past the end shows the last page");
    assert!(page9.contains("><bdi>Thread 2</bdi></a>"));
}

async fn unknown_forums_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, page) = app.get(&TestApp::browser(), "/f/nowhere").await;
    assert_eq!(status, 404);
    assert!(page.contains("Forum not found."));
    assert!(
        page.contains("<html lang=\"en\">"),
        "a friendly page, not a bare error"
    );
    let (status, json) = app.read("/api/v1/forums/nowhere").await;
    expect_error(status, &json, 404, "not_found");
    let (status, _) = app.get(&TestApp::browser(), "/f/nowhere/feed.atom").await;
    assert_eq!(status, 404);
    let (status, page) = app.get(&TestApp::browser(), "/no/such/page").await;
    assert_eq!(status, 404);
    assert!(page.contains("There is no page at this address."));
}

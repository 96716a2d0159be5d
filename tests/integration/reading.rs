//! Reading threads: what a page costs in queries, feeds, helpful marks, and going straight
//! to what is new.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{main_of, TestApp};
use crate::threads::setup;

both_backends!(
    a_thread_page_costs_the_same_queries_however_long_the_thread,
    feeds_list_new_threads_and_new_posts,
    educators_mark_posts_helpful,
    readers_see_what_is_new_and_go_straight_to_it,
    a_thread_page_knows_its_reader_from_the_same_round_trip,
);

async fn a_thread_page_costs_the_same_queries_however_long_the_thread(backend: Backend) {
    let (app, token) = setup(backend).await; // five replies a page
    let thread = app
        .thread(&token, "maths", "Counting queries", "Opening")
        .await;
    let first = app.reply(&token, thread, "Reply 0", None).await;
    for n in 1..5 {
        app.reply(&token, thread, &format!("Reply {n}"), Some(first))
            .await;
    }
    let alice = app.logged_in("alice").await;
    let bob = app.logged_in("bob").await;
    let cost_for = |reader: &reqwest::Client, path: String| {
        let (app, reader) = (&app, reader.clone());
        async move {
            let before = app.site.db().query_count();
            let (status, _) = app.get(&reader, &path).await;
            assert_eq!(status, 200);
            app.site.db().query_count() - before
        }
    };
    let cost = |path: String| cost_for(&alice, path);
    let short = cost(format!("/t/{thread}")).await;
    let mut previous = first;
    for n in 5..40 {
        // Every reply answers a different earlier post.
        previous = app
            .reply(&token, thread, &format!("Reply {n}"), Some(previous))
            .await;
    }
    // Each page below is new to the reader (one more write, to say how far they read).
    let long_first_page = cost_for(&bob, format!("/t/{thread}")).await;
    let long_last_page = cost(format!("/t/{thread}?page=8")).await;
    assert_eq!(short, long_first_page, "page 1 of 5 replies vs of 40");
    assert_eq!(short, long_last_page, "a later page costs the same");
    // The session and the header's count of unread notifications; the thread with its opening
    // post and, in the same statement, whether the viewer moderates the forum, whether a ban
    // keeps them from posting there, how far they had read, whether they watch it and whether
    // they marked the opening post helpful; the page of replies with the viewer's marks; the
    // posts they answer; then how far they have now read, and that what this page shows needs
    // no notifying any more; all on one connection, found with the session (which PostgreSQL
    // may check with one statement more, after a second unused).
    assert!(short <= 8, "{short} queries");
    let forum_page = cost("/f/maths".to_string()).await;
    assert!(
        forum_page <= 8,
        "checkouts, session, unread count, forum, threads, how far the reader read them, \
         whether they watch the forum: {forum_page}"
    );
}

async fn feeds_list_new_threads_and_new_posts(backend: Backend) {
    let (app, token) = setup(backend).await;
    let thread = app
        .thread(&token, "maths", "Feed & friends", "First <b>words</b>")
        .await;
    app.reply(&token, thread, "A reply in the feed", None).await;
    let res = reqwest::get(app.url("/f/maths/feed.atom")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let xml = res.text().await.unwrap();
    assert!(
        xml.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\""),
        "{xml}"
    );
    assert!(xml.contains("<title>Feed &amp; friends</title>"), "{xml}");
    assert!(xml.contains(&format!("<id>{}</id>", app.url(&format!("/t/{thread}")))));
    assert!(
        !xml.contains("A reply in the feed"),
        "the forum feed lists threads"
    );
    let xml = reqwest::get(app.url(&format!("/t/{thread}/feed.atom")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(xml.contains("A reply in the feed"));
    assert!(xml.contains("Head replied to"));
    assert!(xml.contains("<name>Head</name>"));
    let status = reqwest::get(app.url("/t/999999/feed.atom"))
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404);
}

async fn educators_mark_posts_helpful(backend: Backend) {
    let (app, token) = setup(backend).await;
    let thread = app
        .thread(&token, "maths", "Homework policy", "How much, how often?")
        .await;
    app.create_user("bea", false).await;
    let bea = app.token("bea").await;
    let opening = app.read(&format!("/api/v1/threads/{thread}")).await.1["opening_post"]["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/posts/{opening}/helpful");

    let (status, body) = app.api(Method::POST, &path, None, None).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = app.api(Method::POST, &path, Some(&token), None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "own_post");
    let (status, body) = app.api(Method::POST, &path, Some(&bea), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["helpful_count"], 1);

    // On the page: the count for everyone, the pressed button for bea.
    let browser = app.logged_in("bea").await;
    let (_, page) = app.get(&browser, &format!("/t/{thread}")).await;
    assert!(page.contains("1 found this helpful"), "{page}");
    assert!(page.contains("aria-pressed=\"true\""), "{page}");

    // Marks on replies: each reader sees their own pressed, and only their own.
    let first = app.reply(&token, thread, "Twice a week.", None).await;
    let second = app.reply(&token, thread, "Never on Fridays.", None).await;
    app.create_user("cyd", false).await;
    let cy = app.token("cyd").await;
    let mark = |post: i64, who: &str| {
        let who = who.to_owned();
        let app = &app;
        async move {
            let path = format!("/api/v1/posts/{post}/helpful");
            let (status, body) = app.api(Method::POST, &path, Some(&who), None).await;
            assert_eq!(status, 200, "{body}");
        }
    };
    mark(first, &bea).await;
    mark(second, &cy).await;
    let pressed = |page: &str| -> Vec<i64> {
        page.split("<article ")
            .skip(1)
            .filter(|a| a.contains("aria-pressed=\"true\""))
            .map(|a| {
                let id = a.split("id=\"p").nth(1).unwrap().split('"').next().unwrap();
                id.parse().unwrap()
            })
            .collect()
    };
    let (_, page) = app.get(&browser, &format!("/t/{thread}")).await;
    assert_eq!(pressed(&page), vec![opening, first], "{page}");
    let cy_browser = app.logged_in("cyd").await;
    let (_, page) = app.get(&cy_browser, &format!("/t/{thread}")).await;
    assert_eq!(pressed(&page), vec![second], "{page}");
    assert_eq!(page.matches("1 found this helpful").count(), 3, "{page}");

    // Taking it back through the page's form.
    let res = app
        .submit(
            &browser,
            &format!("/t/{thread}"),
            &format!("/p/{opening}/helpful"),
            &[("mark", "0")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = app.get(&browser, &format!("/t/{thread}")).await;
    assert_eq!(pressed(&page), vec![first], "{page}");
    assert_eq!(page.matches("1 found this helpful").count(), 2, "{page}");
    assert!(page.contains("aria-pressed=\"false\""), "{page}");

    // A deleted post takes no marks.
    let (status, _) = app.delete_post(Some(&token), opening).await;
    assert_eq!(status, 204);
    let (status, body) = app.api(Method::POST, &path, Some(&bea), None).await;
    assert_eq!(status, 410, "{body}");
}

async fn readers_see_what_is_new_and_go_straight_to_it(backend: Backend) {
    let (app, head) = setup(backend).await; // five replies a page
    let thread = app.thread(&head, "maths", "Counting on", "From 7.").await;
    let mut replies = Vec::new();
    for n in 0..7 {
        replies.push(app.reply(&head, thread, &format!("Reply {n}"), None).await);
    }
    let alice_token = app.token("alice").await;
    let listed = |token: String| {
        let app = &app;
        async move {
            let (status, body) = app
                .api(
                    reqwest::Method::GET,
                    "/api/v1/forums/maths/threads",
                    Some(&token),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{body}");
            (
                body["threads"][0]["posts_read"].clone(),
                body["threads"][0]["new_posts"].clone(),
            )
        }
    };
    let alice = app.logged_in("alice").await;
    let unread = || {
        let (app, alice) = (&app, &alice);
        async move {
            let res = alice
                .get(app.url(&format!("/t/{thread}/unread")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 303);
            crate::support::location(&res)
        }
    };
    // Never opened: nothing counted as new; "first unread" is the start.
    assert_eq!(
        listed(alice_token.clone()).await,
        (Value::Null, Value::Null)
    );
    assert_eq!(
        unread().await,
        format!("/t/{thread}#p{}", {
            let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
            page["opening_post"]["id"].as_i64().unwrap()
        })
    );

    // Page 1 shows the opening post and five replies: two are new, from the sixth reply on.
    let (status, _) = app.get(&alice, &format!("/t/{thread}")).await;
    assert_eq!(status, 200);
    assert_eq!(listed(alice_token.clone()).await, (json!(6), json!(2)));
    let (_, page) = app.get(&alice, "/f/maths").await;
    assert!(
        main_of(&page).contains(&format!("href=\"/t/{thread}/unread\"")),
        "{page}"
    );
    assert!(main_of(&page).contains("2 new"), "{page}");
    assert_eq!(
        unread().await,
        format!("/t/{thread}?page=2#p{}", replies[5])
    );

    // Page 2 read: nothing new; "first unread" is the last post. Page 1 again lowers nothing.
    app.get(&alice, &format!("/t/{thread}?page=2")).await;
    app.get(&alice, &format!("/t/{thread}")).await;
    assert_eq!(listed(alice_token.clone()).await, (json!(8), json!(0)));
    assert_eq!(
        unread().await,
        format!("/t/{thread}?page=2#p{}", replies[6])
    );
    let (_, page) = app.get(&alice, "/f/maths").await;
    assert!(!main_of(&page).contains("new<"), "{page}");

    // A new reply is new to her, and "first unread" goes to it; the API reads count too.
    let newest = app.reply(&head, thread, "Reply 7", None).await;
    assert_eq!(listed(alice_token.clone()).await, (json!(8), json!(1)));
    assert_eq!(unread().await, format!("/t/{thread}?page=2#p{newest}"));
    app.api(
        reqwest::Method::GET,
        &format!("/api/v1/threads/{thread}?page=2"),
        Some(&alice_token),
        None,
    )
    .await;
    assert_eq!(listed(alice_token.clone()).await, (json!(9), json!(0)));
    // Someone else's reading is their own; a visitor goes to the thread.
    assert_eq!(
        listed(app.token("bob").await).await,
        (Value::Null, Value::Null)
    );
    let res = TestApp::browser()
        .get(app.url(&format!("/t/{thread}/unread")))
        .send()
        .await
        .unwrap();
    assert_eq!(crate::support::location(&res), format!("/t/{thread}"));
}

/// The thread page and the JSON thread look the reader's session up with the page itself: the
/// reader is known (or not) just as on any other page.
async fn a_thread_page_knows_its_reader_from_the_same_round_trip(backend: Backend) {
    let (app, token) = setup(backend).await;
    let thread = app
        .thread(&token, "maths", "Who is reading", "Opening")
        .await;
    let page = format!("/t/{thread}");
    let alice = app.logged_in("alice").await;
    let (status, body) = app.get(&alice, &page).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("Log out") && body.contains("Your reply"),
        "{body}"
    );
    // A thread that is not there: the error page still shows who is logged in.
    let (status, body) = app.get(&alice, "/t/999999").await;
    assert_eq!(status, 404);
    assert!(body.contains("Log out"), "{body}");
    // A session cookie that is no longer a session: the page anyone not logged in is given.
    let stale = reqwest::Client::new()
        .get(app.url(&page))
        .header("cookie", "staffroom_session=no-longer-a-session")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
    let body = stale.text().await.unwrap();
    assert!(body.contains("Log in</a> to reply") && !body.contains("Log out"));
    // The JSON thread: the token's holder, or 401 for a token that is not a session.
    let (status, json) = app
        .api(
            Method::GET,
            &format!("/api/v1/threads/{thread}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(json["watching"], true, "{json}");
    let (status, json) = app
        .api(
            Method::GET,
            &format!("/api/v1/threads/{thread}"),
            Some("no-such-token"),
            None,
        )
        .await;
    crate::support::expect_error(status, &json, 401, "invalid_token");
    let (status, json) = app.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(status, 200);
    assert!(json.get("watching").is_none(), "{json}");
}

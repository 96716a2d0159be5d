//! Threads and posts: starting, replying, quoting, editing, deleting, pages, feeds, profiles.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{csrf_in, expect_error, location, main_of, TestApp, PASSWORD};

both_backends!(
    a_thread_started_on_the_web_reads_started_by_name_on_date,
    readers_see_what_is_new_and_go_straight_to_it,
    thread_form_mistakes_keep_what_was_typed,
    replies_read_oldest_first_across_pages,
    replies_answer_and_quote_earlier_posts,
    authors_edit_their_posts_and_earlier_versions_are_kept,
    nobody_edits_or_deletes_someone_elses_post,
    deleted_posts_leave_a_placeholder_and_the_thread_still_reads,
    administrators_pin_threads_and_may_delete_any_post,
    unknown_threads_posts_and_people_are_not_found,
    markdown_is_rendered_and_raw_html_never_runs,
    request_bodies_over_the_limit_are_refused,
    a_thread_page_costs_the_same_queries_however_long_the_thread,
    educators_mark_posts_helpful,
    feeds_list_new_threads_and_new_posts,
    profiles_list_what_a_person_started_and_replied_to,
    profile_pages_follow_a_post_and_counts_follow_every_change,
    a_reply_written_after_the_session_ended_is_not_lost,
);

/// An instance with an administrator `head` (returned token), member `alice` and forum `maths`.
async fn setup(backend: Backend) -> (TestApp, String) {
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    app.create_user("alice", false).await;
    app.create_user("bob", false).await;
    let token = app.token("head").await;
    app.forum_named(&token, "maths").await;
    (app, token)
}

async fn a_thread_started_on_the_web_reads_started_by_name_on_date(backend: Backend) {
    let (app, _) = setup(backend).await;
    let alice = app.logged_in("alice").await;
    let res = app
        .submit(
            &alice,
            "/f/maths/new",
            "/f/maths/new",
            &[
                ("title", "Number lines for fractions"),
                ("body", "We tried **number lines** in year 5."),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let thread_url = location(&res);
    assert!(thread_url.starts_with("/t/"), "{thread_url}");
    let (status, page) = app.get(&TestApp::browser(), &thread_url).await;
    assert_eq!(status, 200);
    let today = chrono::Utc::now().format("%-d %B %Y").to_string();
    assert!(page.contains("<h1><bdi>Number lines for fractions</bdi></h1>"));
    assert_eq!(
        page.matches("<h1").count(),
        1,
        "the title is the page's only h1"
    );
    let main = main_of(&page);
    assert!(
        main.contains("Started by\n      <a href=\"/u/alice\"><bdi>Alice</bdi></a>"),
        "{main}"
    );
    assert!(main.contains(&format!(">{today}</time>")));
    assert!(main.contains("<strong>number lines</strong>"));
    assert!(page.contains("<a class=\"skip-link\" href=\"#main\">"));
    assert!(page.contains("<main id=\"main\""));
    // Visitors read it but get no reply box.
    assert!(page.contains("Log in</a> to reply."));
    let (_, forum) = app.get(&TestApp::browser(), "/f/maths").await;
    assert!(forum.contains("><bdi>Number lines for fractions</bdi></a>"));
}

async fn thread_form_mistakes_keep_what_was_typed(backend: Backend) {
    let (app, token) = setup(backend).await;
    let alice = app.logged_in("alice").await;
    let careful = "A long, careful post about <fractions> & decimals.";
    let res = app
        .submit(
            &alice,
            "/f/maths/new",
            "/f/maths/new",
            &[("title", "  "), ("body", careful)],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"title-error\" class=\"field-error\">Title is required."));
    assert!(page.contains("aria-describedby=\"title-error\""));
    assert!(
        page.contains("A long, careful post about &#60;fractions&#62; &#38; decimals.")
            || page.contains("A long, careful post about &lt;fractions&gt; &amp; decimals."),
        "the body is kept, escaped"
    );

    let long_title = "x".repeat(201);
    let res = app
        .submit(
            &alice,
            "/f/maths/new",
            "/f/maths/new",
            &[("title", &long_title), ("body", "ok")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("Title is 201 characters long; the limit is 200."));
    assert!(page.contains(&long_title));

    let huge = "y".repeat(65 * 1024);
    let res = app
        .submit(
            &alice,
            "/f/maths/new",
            "/f/maths/new",
            &[("title", "Big"), ("body", &huge)],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("the limit is 64 KiB"));
    assert!(page.contains("value=\"Big\""));

    let res = app
        .submit(
            &alice,
            "/f/maths/new",
            "/f/maths/new",
            &[("title", "Empty"), ("body", " \n ")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("the post is empty"));

    let (status, json) = app
        .api(
            Method::POST,
            "/api/v1/forums/maths/threads",
            Some(&token),
            Some(serde_json::json!({"title": "", "body": ""})),
        )
        .await;
    expect_error(status, &json, 422, "invalid_input");
    assert!(json["fields"]["title"].is_string() && json["fields"]["body"].is_string());
    let (_, forum) = app.read("/api/v1/forums/maths").await;
    assert_eq!(forum["thread_count"], 0, "nothing was stored");
}

async fn replies_read_oldest_first_across_pages(backend: Backend) {
    let (app, token) = setup(backend).await; // five replies a page
    let thread = app
        .thread(&token, "maths", "Long discussion", "Opening words")
        .await;
    for n in 1..=7 {
        app.reply(&token, thread, &format!("Reply number {n}"), None)
            .await;
    }
    let browser = TestApp::browser();
    let (_, page1) = app.get(&browser, &format!("/t/{thread}")).await;
    let positions: Vec<usize> = (1..=5)
        .map(|n| {
            page1
                .find(&format!("Reply number {n}<"))
                .unwrap_or_else(|| panic!("reply {n} on page 1"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "oldest first");
    assert!(!page1.contains("Reply number 6"));
    assert!(page1.contains("7 replies"));
    let (_, page2) = app.get(&browser, &format!("/t/{thread}?page=2")).await;
    assert!(
        page2.contains("Opening words"),
        "the opening post heads every page"
    );
    assert!(page2.contains("Reply number 6") && page2.contains("Reply number 7"));
    assert!(!page2.contains("Reply number 5<"));

    let (_, json) = app.read(&format!("/api/v1/threads/{thread}?page=2")).await;
    assert_eq!(json["opening_post"]["body"], "Opening words");
    let bodies: Vec<&str> = json["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["Reply number 6", "Reply number 7"]);
    assert_eq!(json["paging"]["pages"], 2);

    // Replies written at the same moment by several people each take their own place: every
    // page holds its five, and the pages together hold each reply once, in the order written.
    let tokens = [
        token.clone(),
        app.token("alice").await,
        app.token("bob").await,
    ];
    let mut writes = tokio::task::JoinSet::new();
    for n in 0..24 {
        let url = app.url(&format!("/api/v1/threads/{thread}/posts"));
        let token = tokens[n % 3].clone();
        writes.spawn(async move {
            let res = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&serde_json::json!({"body": format!("At once {n}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
            let body: serde_json::Value = res.json().await.unwrap();
            body["id"].as_i64().unwrap()
        });
    }
    let mut written = writes.join_all().await;
    written.sort_unstable();
    let mut read = Vec::new();
    for page in 1..=7 {
        let (_, json) = app
            .read(&format!("/api/v1/threads/{thread}?page={page}"))
            .await;
        let posts = json["posts"].as_array().unwrap();
        assert_eq!(posts.len(), if page < 7 { 5 } else { 1 }, "page {page}");
        read.extend(posts.iter().map(|p| p["id"].as_i64().unwrap()));
    }
    assert_eq!(read.len(), 31);
    let mut at_once: Vec<i64> = read[7..].to_vec();
    at_once.sort_unstable();
    assert_eq!(at_once, written, "each reply once");
    let (_, json) = app.read(&format!("/api/v1/threads/{thread}?page=2")).await;
    assert_eq!(json["paging"]["pages"], 7);
    // Stored in shared transactions, each is still counted once, for the thread and for its
    // author, and tells the thread's author once.
    assert_eq!(json["thread"]["reply_count"], 31, "{json}");
    assert_eq!(profile_counts(&app, None, "alice").await, (0, 8));
    assert_eq!(profile_counts(&app, None, "bob").await, (0, 8));
    assert_eq!(profile_counts(&app, None, "head").await, (1, 15));
    let (status, told) = app
        .api(
            Method::GET,
            "/api/v1/notifications?unread=true",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{told}");
    assert_eq!(told["unread"], 16, "{told}");
}

async fn replies_answer_and_quote_earlier_posts(backend: Backend) {
    let (app, token) = setup(backend).await;
    let thread = app
        .thread(
            &token,
            "maths",
            "Homework policy",
            "What is your homework policy?",
        )
        .await;
    let alice_token = app.token("alice").await;
    let first = app
        .reply(
            &alice_token,
            thread,
            "We set none before year 7.\n\nIt works.",
            None,
        )
        .await;
    let bob = app.logged_in("bob").await;

    let (status, page) = app
        .get(&bob, &format!("/t/{thread}/reply?to={first}&quote=1"))
        .await;
    assert_eq!(status, 200);
    // The quote names its author and links the post it quotes (which tells them of it).
    let heading = format!("[Alice wrote]({}/p/{first}):", app.address);
    assert!(
        page.contains(&format!(
            "&gt; {heading}\n&gt;\n&gt; We set none before year 7.\n&gt;\n&gt; It works."
        )) || page.contains(&format!("&#62; {heading}\n&#62;\n&#62; We set none")),
        "{}",
        main_of(&page)
    );
    assert!(page.contains(&format!("name=\"in_reply_to\" value=\"{first}\"")));

    let res = app
        .submit(
            &bob,
            &format!("/t/{thread}/reply?to={first}"),
            &format!("/t/{thread}/reply"),
            &[
                ("body", "> Alice wrote:\n> We set none\n\nInteresting, why?"),
                ("in_reply_to", &first.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let at = location(&res);
    assert!(at.starts_with(&format!("/t/{thread}#p")), "{at}");
    let (_, page) = app.get(&bob, &format!("/t/{thread}")).await;
    assert!(page.contains(&format!(
        "In reply to <a href=\"/p/{first}\"><bdi>Alice</bdi></a>"
    )));
    assert!(page.contains("<blockquote>"));
    assert!(page.contains(&format!(
        "href=\"/t/{thread}/reply?to={first}&amp;quote=1\">Quote</a>"
    )));

    // /p/{id} leads to the post on its page of the thread.
    let res = bob
        .get(app.url(&format!("/p/{first}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("/t/{thread}#p{first}"));

    // A malformed answered-post number is refused, with the text kept.
    let res = app
        .submit(
            &bob,
            &format!("/t/{thread}"),
            &format!("/t/{thread}/reply"),
            &[
                ("body", "Words worth keeping"),
                ("in_reply_to", "not-a-number"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("Words worth keeping"));

    // Answering a post of another thread is refused, with the text kept.
    let other = app.thread(&token, "maths", "Other", "Other thread").await;
    let res = app
        .submit(
            &bob,
            &format!("/t/{other}"),
            &format!("/t/{other}/reply"),
            &[
                ("body", "Misplaced words"),
                ("in_reply_to", &first.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("not in this thread"));
    assert!(page.contains("Misplaced words"));
    let (status, json) = app
        .api(
            Method::POST,
            &format!("/api/v1/threads/{other}/posts"),
            Some(&alice_token),
            Some(serde_json::json!({"body": "x", "in_reply_to": first})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(json["fields"]["in_reply_to"].is_string());
}

async fn authors_edit_their_posts_and_earlier_versions_are_kept(backend: Backend) {
    let (app, _) = setup(backend).await;
    let alice_token = app.token("alice").await;
    let thread = app
        .thread(&alice_token, "maths", "Original title", "Original opening")
        .await;
    let reply = app.reply(&alice_token, thread, "First draft", None).await;
    let alice = app.logged_in("alice").await;

    let (status, page) = app.get(&alice, &format!("/p/{reply}/edit")).await;
    assert_eq!(status, 200);
    assert!(page.contains(">First draft</textarea>"));
    let res = app.edit_on_web(&alice, reply, "Second, better draft").await;
    assert_eq!(res.status(), 303);
    let (_, page) = app.get(&alice, &format!("/t/{thread}")).await;
    assert!(page.contains("Second, better draft"));
    assert!(!page.contains("First draft"));
    assert!(page.contains(&format!("<a href=\"/p/{reply}/revisions\">edited")));
    let (status, history) = app
        .get(&TestApp::browser(), &format!("/p/{reply}/revisions"))
        .await;
    assert_eq!(status, 200);
    assert!(history.contains("First draft") && history.contains("Second, better draft"));

    // An edit that leaves the form empty is refused and keeps nothing from the old text.
    let res = app.edit_on_web(&alice, reply, "").await;
    assert_eq!(res.status(), 422);

    // The opening post carries the title; editing it keeps the old title in the revision.
    let opening = {
        let (_, json) = app.read(&format!("/api/v1/threads/{thread}")).await;
        json["opening_post"]["id"].as_i64().unwrap()
    };
    let (status, json) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/posts/{opening}"),
            Some(&alice_token),
            Some(serde_json::json!({"body": "Revised opening", "title": "Revised title"})),
        )
        .await;
    assert_eq!(status, 200, "{json}");
    assert!(json["edited_at"].is_string());
    let (_, json) = app.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(json["thread"]["title"], "Revised title");
    let (_, json) = app
        .read(&format!("/api/v1/posts/{opening}/revisions"))
        .await;
    let revisions = json["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 1);
    assert_eq!(revisions[0]["title"], "Original title");
    assert_eq!(revisions[0]["body"], "Original opening");
    assert_eq!(json["post"]["body"], "Revised opening");
    let (_, json) = app.read(&format!("/api/v1/posts/{reply}/revisions")).await;
    assert_eq!(json["revisions"].as_array().unwrap().len(), 1);

    // A title on a reply is refused.
    let (status, json) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/posts/{reply}"),
            Some(&alice_token),
            Some(serde_json::json!({"body": "b", "title": "t"})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(json["fields"]["title"].is_string());
}

async fn nobody_edits_or_deletes_someone_elses_post(backend: Backend) {
    let (app, _) = setup(backend).await;
    let alice_token = app.token("alice").await;
    let thread = app
        .thread(&alice_token, "maths", "Mine", "Alice's words")
        .await;
    let reply = app.reply(&alice_token, thread, "Alice's reply", None).await;
    let bob = app.logged_in("bob").await;
    let bob_token = app.token("bob").await;

    let (status, _) = app.get(&bob, &format!("/p/{reply}/edit")).await;
    assert_eq!(status, 403);
    let res = app
        .submit(
            &bob,
            &format!("/t/{thread}"),
            &format!("/p/{reply}/edit"),
            &[("body", "Bob's words")],
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = app
        .submit(
            &bob,
            &format!("/t/{thread}"),
            &format!("/p/{reply}/delete"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 403);
    let (status, json) = app.edit_post(Some(&bob_token), reply, "Bob's words").await;
    expect_error(status, &json, 403, "not_author");
    let (status, json) = app.delete_post(Some(&bob_token), reply).await;
    expect_error(status, &json, 403, "not_author");
    let (status, _) = app.delete_post(None, reply).await;
    assert_eq!(status, 401);
    let (_, json) = app.read(&format!("/api/v1/posts/{reply}")).await;
    assert_eq!(json["body"], "Alice's reply");
    assert_eq!(json["deleted"], false);
    let (_, page) = app.get(&bob, &format!("/t/{thread}")).await;
    assert!(
        !page.contains(&format!("/p/{reply}/edit")),
        "no edit link for others' posts"
    );
}

async fn deleted_posts_leave_a_placeholder_and_the_thread_still_reads(backend: Backend) {
    let (app, _) = setup(backend).await;
    let alice_token = app.token("alice").await;
    let bob_token = app.token("bob").await;
    let thread = app
        .thread(
            &alice_token,
            "maths",
            "Assessment",
            "Opening words to delete",
        )
        .await;
    let reply = app
        .reply(&bob_token, thread, "Bob's reply to delete", None)
        .await;
    app.reply(&alice_token, thread, "A reply that stays", Some(reply))
        .await;
    let bob = app.logged_in("bob").await;

    let (status, page) = app.get(&bob, &format!("/p/{reply}/delete")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Delete this post?"));
    let res = app.delete_on_web(&bob, reply).await;
    assert_eq!(res.status(), 303);
    let (_, page) = app.get(&TestApp::browser(), &format!("/t/{thread}")).await;
    assert!(!page.contains("Bob's reply to delete"));
    assert!(page.contains("This post was deleted."));
    assert!(page.contains("A reply that stays"));
    let (_, json) = app.read(&format!("/api/v1/posts/{reply}")).await;
    assert_eq!(json["deleted"], true);
    assert!(json["body"].is_null() && json["html"].is_null());
    let (status, json) = app.edit_post(Some(&bob_token), reply, "back").await;
    expect_error(status, &json, 410, "post_deleted");

    let (_, json) = app.read(&format!("/api/v1/threads/{thread}")).await;
    let opening = json["opening_post"]["id"].as_i64().unwrap();
    let (status, _) = app.delete_post(Some(&alice_token), opening).await;
    assert_eq!(status, 204);
    let (status, page) = app.get(&TestApp::browser(), &format!("/t/{thread}")).await;
    assert_eq!(status, 200, "the thread still reads");
    assert!(!page.contains("Opening words to delete"));
    assert!(page.contains("A reply that stays"));
    assert!(page.contains("<h1><bdi>Assessment</bdi></h1>"));
    let (_, profile) = app.read("/api/v1/users/alice").await;
    assert_eq!(
        profile["threads_started"], 0,
        "deleted posts leave the profile"
    );
}

async fn administrators_pin_threads_and_may_delete_any_post(backend: Backend) {
    let (app, _) = setup(backend).await;
    let alice_token = app.token("alice").await;
    let thread = app
        .thread(&alice_token, "maths", "Welcome", "Read this first")
        .await;
    let reply = app
        .reply(&alice_token, thread, "Off-topic words", None)
        .await;

    let alice = app.logged_in("alice").await;
    let res = app
        .submit(
            &alice,
            &format!("/t/{thread}"),
            &format!("/t/{thread}/pin"),
            &[("pinned", "true")],
        )
        .await;
    assert_eq!(res.status(), 403);
    let (_, page) = app.get(&alice, &format!("/t/{thread}")).await;
    assert!(!page.contains("Pin thread"));

    let head = app.logged_in("head").await;
    let res = app
        .submit(
            &head,
            &format!("/t/{thread}"),
            &format!("/t/{thread}/pin"),
            &[("pinned", "true")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = app.get(&head, &format!("/t/{thread}")).await;
    assert!(page.contains("Unpin thread"));
    let (_, json) = app.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(json["thread"]["pinned"], true);

    assert!(
        page.contains(&format!("/p/{reply}/delete")),
        "administrators see Delete on any post"
    );
    assert!(
        !page.contains(&format!("/p/{reply}/edit")),
        "but never Edit on someone else's"
    );
    let res = app.delete_on_web(&head, reply).await;
    assert_eq!(res.status(), 303);
    let (_, json) = app.read(&format!("/api/v1/posts/{reply}")).await;
    assert_eq!(json["deleted"], true);
}

async fn unknown_threads_posts_and_people_are_not_found(backend: Backend) {
    let (app, token) = setup(backend).await;
    let browser = TestApp::browser();
    for (path, message) in [
        ("/t/999999", "Thread not found."),
        ("/p/999999", "Post not found."),
        ("/u/nobody_at_all", "User not found."),
        ("/p/999999/revisions", "Post not found."),
    ] {
        let (status, page) = app.get(&browser, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(page.contains(message), "{path}");
    }
    let (status, _) = app.get(&browser, "/t/not-a-number").await;
    assert_eq!(status, 404);
    for path in [
        "/api/v1/threads/999999",
        "/api/v1/posts/999999",
        "/api/v1/users/nobody_at_all",
        "/api/v1/posts/999999/revisions",
    ] {
        let (status, json) = app.api(Method::GET, path, None, None).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(json["error"], "not_found");
    }
    let (status, json) = app
        .api(
            Method::POST,
            "/api/v1/threads/999999/posts",
            Some(&token),
            Some(serde_json::json!({"body": "x"})),
        )
        .await;
    expect_error(status, &json, 404, "not_found");
}

async fn markdown_is_rendered_and_raw_html_never_runs(backend: Backend) {
    let (app, token) = setup(backend).await;
    let body = "See Boaler (2016)[^1] and https://www.nctm.org.\n\n| Year | Method |\n|---|---|\n| 5 | Number lines |\n\n<script>alert('x')</script>\n\n[click](javascript:alert(1))\n\n[^1]: Boaler, J. (2016). *Mathematical Mindsets*.";
    let thread = app.thread(&token, "maths", "References", body).await;
    let (_, page) = app.get(&TestApp::browser(), &format!("/t/{thread}")).await;
    let main = main_of(&page);
    assert!(main.contains("<table tabindex=\"0\">"));
    assert!(main.contains("<a href=\"https://www.nctm.org\" rel=\"nofollow ugc noopener\">"));
    assert!(main.contains("<section class=\"footnotes\">"));
    assert!(main.contains("<em>Mathematical Mindsets</em>"));
    assert!(!main.contains("<script"));
    assert!(main.contains("&lt;script&gt;"), "raw HTML shows as text");
    assert!(!main.contains("javascript:"));
    let (_, json) = app.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(
        json["opening_post"]["body"], body,
        "the Markdown source is kept as written"
    );
}

async fn request_bodies_over_the_limit_are_refused(backend: Backend) {
    let (app, token) = setup(backend).await;
    let alice = app.logged_in("alice").await;
    let megabyte = "z".repeat(1024 * 1024);
    let res = app
        .submit(
            &alice,
            "/f/maths/new",
            "/f/maths/new",
            &[("title", "Huge"), ("body", &megabyte)],
        )
        .await;
    assert_eq!(res.status(), 413);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("larger than this server accepts"));
    let (status, json) = app
        .api(
            Method::POST,
            "/api/v1/forums/maths/threads",
            Some(&token),
            Some(serde_json::json!({"title": "Huge", "body": megabyte})),
        )
        .await;
    expect_error(status, &json, 413, "payload_too_large");
    let (_, forum) = app.read("/api/v1/forums/maths").await;
    assert_eq!(forum["thread_count"], 0);
}

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
    // no notifying any more. Two connection checkouts may each be checked with one statement
    // more (PostgreSQL, after a second unused).
    assert!(short <= 9, "{short} queries");
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

async fn profiles_list_what_a_person_started_and_replied_to(backend: Backend) {
    let (app, token) = setup(backend).await;
    let alice_token = app.token("alice").await;
    let mine = app
        .thread(&alice_token, "maths", "Question from Alice", "Q")
        .await;
    let theirs = app.thread(&token, "maths", "Head's thread", "H").await;
    let reply = app.reply(&alice_token, theirs, "Alice answers", None).await;
    let (status, page) = app.get(&TestApp::browser(), "/u/alice").await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1><bdi>Alice</bdi></h1>"));
    assert!(page.contains(&format!(
        "Started <a href=\"/t/{mine}\"><bdi>Question from Alice</bdi></a>"
    )));
    assert!(page.contains(&format!("Replied to <a href=\"/p/{reply}\">")));
    assert!(page.contains("1 thread started, 1 reply."));
    let (status, json) = app.read("/api/v1/users/ALICE").await;
    assert_eq!(status, 200);
    assert_eq!(json["user"]["name"], "alice");
    assert_eq!(json["threads_started"], 1);
    assert_eq!(json["replies"], 1);
    assert_eq!(json["posts"][0]["post_id"], reply, "newest first");
    assert_eq!(json["posts"][1]["thread_id"], mine);
}

/// A profile page as the API answers it: its posts' ids, and the paths of the older and newer
/// pages.
async fn profile_page(app: &TestApp, path: &str) -> (Vec<i64>, Option<String>, Option<String>) {
    let (status, json) = app.read(path).await;
    assert_eq!(status, 200, "{path}: {json}");
    let ids = json["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["post_id"].as_i64().unwrap())
        .collect();
    let link = |key: &str| {
        json["paging"][key].as_str().map(|url| {
            url.strip_prefix(&app.address)
                .unwrap_or_else(|| panic!("{url} is ours"))
                .to_string()
        })
    };
    assert_eq!(json["paging"]["per_page"], 5);
    (ids, link("older"), link("newer"))
}

/// (threads started, replies) on a person's profile, as `token`'s holder (or anyone) reads it.
async fn profile_counts(app: &TestApp, token: Option<&str>, name: &str) -> (i64, i64) {
    let (status, json) = app
        .api(Method::GET, &format!("/api/v1/users/{name}"), token, None)
        .await;
    assert_eq!(status, 200, "{json}");
    let counts = (
        json["threads_started"].as_i64().unwrap(),
        json["replies"].as_i64().unwrap(),
    );
    assert_eq!(json["paging"]["total"], counts.0 + counts.1, "{json}");
    counts
}

async fn profile_pages_follow_a_post_and_counts_follow_every_change(backend: Backend) {
    let (app, head) = setup(backend).await;
    app.forum_named(&head, "science").await;
    let alice = app.token("alice").await;
    let own = app.thread(&alice, "maths", "Alice's question", "Q").await;
    let (_, json) = app.read(&format!("/api/v1/threads/{own}")).await;
    let mut written = vec![json["opening_post"]["id"].as_i64().unwrap()];
    let heads = app.thread(&head, "maths", "Head's thread", "H").await;
    for n in 0..11 {
        written.push(app.reply(&alice, heads, &format!("Reply {n}"), None).await);
    }
    let newest_first: Vec<i64> = written.iter().rev().copied().collect();

    // Older pages, one after another, hold every post once, newest first (pages of 5).
    let (first, mut older, newer) = profile_page(&app, "/api/v1/users/alice").await;
    assert_eq!(first, newest_first[..5], "the newest page");
    assert_eq!(newer, None, "nothing is newer than the newest page");
    let mut pages = vec![first];
    while let Some(path) = older {
        assert!(path.starts_with("/api/v1/users/alice?before="), "{path}");
        let (ids, next, newer) = profile_page(&app, &path).await;
        assert!(newer.is_some(), "{path} has a newer page");
        pages.push(ids);
        older = next;
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [5, 5, 2]);
    assert_eq!(pages.concat(), newest_first);
    // And back: the page newer than the last is the second; newer than the second, the first.
    let (_, older, _) = profile_page(&app, "/api/v1/users/alice").await;
    let (_, older, _) = profile_page(&app, &older.unwrap()).await;
    let (last, none, newer) = profile_page(&app, &older.unwrap()).await;
    assert_eq!((last, none), (pages[2].clone(), None));
    let (second, _, newer) = profile_page(&app, &newer.unwrap()).await;
    assert_eq!(second, pages[1]);
    let (again, _, newer) = profile_page(&app, &newer.unwrap()).await;
    assert_eq!(
        (again, newer),
        (pages[0].clone(), None),
        "the newest page, whole"
    );

    // The web page links the same way.
    let browser = TestApp::browser();
    let (_, page) = app.get(&browser, "/u/alice").await;
    let to_older = format!(
        "<a href=\"/u/alice?before={}\" rel=\"next\">Older</a>",
        pages[0][4]
    );
    assert!(page.contains(&to_older), "{page}");
    assert!(!page.contains(">Newer<") && !page.contains(">Newest<"));
    let (status, page) = app
        .get(&browser, &format!("/u/alice?before={}", pages[0][4]))
        .await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("href=\"/p/{}\"", pages[1][0])),
        "{page}"
    );
    assert!(page.contains("<a href=\"/u/alice\">Newest</a>"), "{page}");
    let to_newer = format!(
        "<a href=\"/u/alice?after={}\" rel=\"prev\">Newer</a>",
        pages[1][0]
    );
    assert!(page.contains(&to_newer), "{page}");
    // A bound that is not one of the person's posts is not found.
    let (_, json) = app.read(&format!("/api/v1/threads/{heads}")).await;
    let not_hers = json["opening_post"]["id"].as_i64().unwrap();
    for bound in [format!("before={not_hers}"), "after=999999".into()] {
        let (status, json) = app.read(&format!("/api/v1/users/alice?{bound}")).await;
        expect_error(status, &json, 404, "not_found");
    }
    let (status, _) = app
        .get(&browser, &format!("/u/alice?before={not_hers}"))
        .await;
    assert_eq!(status, 404);

    // Counts: a deleted post leaves them, a removed one too until it is restored.
    assert_eq!(profile_counts(&app, None, "alice").await, (1, 11));
    let (status, _) = app.delete_post(Some(&alice), written[1]).await;
    assert_eq!(status, 204);
    assert_eq!(profile_counts(&app, None, "alice").await, (1, 10));
    let (ids, _, _) = profile_page(&app, "/api/v1/users/alice").await;
    assert!(!ids.contains(&written[1]), "{ids:?}");
    let remove = json!({"reason": "Off topic"});
    let path = format!("/api/v1/posts/{}/remove", written[2]);
    let (status, body) = app
        .api(Method::POST, &path, Some(&head), Some(remove))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(profile_counts(&app, None, "alice").await, (1, 9));
    let path = format!("/api/v1/posts/{}/restore", written[2]);
    let (status, body) = app.api(Method::POST, &path, Some(&head), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(profile_counts(&app, None, "alice").await, (1, 10));

    // A thread moved into a members-only forum takes its posts out of what others see.
    let members_only = json!({"visibility": "members"});
    let (status, body) = app
        .api(
            Method::PATCH,
            "/api/v1/forums/science",
            Some(&head),
            Some(members_only),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let move_to = |forum: &str| json!({"forum": forum, "reason": "Tidying"});
    let path = format!("/api/v1/threads/{heads}");
    let (status, body) = app
        .api(Method::PATCH, &path, Some(&head), Some(move_to("science")))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(profile_counts(&app, None, "alice").await, (1, 0));
    assert_eq!(profile_counts(&app, Some(&head), "alice").await, (1, 10));
    let (ids, older, _) = profile_page(&app, "/api/v1/users/alice").await;
    assert_eq!(
        (ids, older),
        (vec![written[0]], None),
        "only what they may read"
    );
    let (status, body) = app
        .api(Method::PATCH, &path, Some(&head), Some(move_to("maths")))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(profile_counts(&app, None, "alice").await, (1, 10));

    // A ban that removes what the person wrote in a forum.
    let ban = json!({"person": "alice", "reason": "Spam", "remove_content": true});
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/forums/maths/bans",
            Some(&head),
            Some(ban),
        )
        .await;
    assert!((200..300).contains(&status), "{body}");
    assert_eq!(profile_counts(&app, None, "alice").await, (0, 0));
}

async fn a_reply_written_after_the_session_ended_is_not_lost(backend: Backend) {
    let (app, token) = setup(backend).await;
    let thread = app
        .thread(&token, "maths", "Draft keeping", "Opening")
        .await;
    // A browser whose session has ended: it has its CSRF cookie (the token is the same on
    // every page of the browser) but no valid login.
    let alice = TestApp::browser();
    let csrf = app.csrf(&alice, "/login").await;
    let text = "A long reply I spent twenty minutes writing.";
    let res = alice
        .post(app.url(&format!("/t/{thread}/reply")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("body", text),
            ("in_reply_to", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let page = res.text().await.unwrap();
    assert!(page.contains("Your session has ended"));
    assert!(
        page.contains(text),
        "the text rides along in the login form"
    );
    let csrf = csrf_in(&page).unwrap();
    let res = alice
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", "alice"),
            ("password", PASSWORD),
            ("draft_action", &format!("/t/{thread}/reply")),
            ("draft_body", text),
            ("draft_title", ""),
            ("draft_in_reply_to", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Your text is waiting"));
    assert!(page.contains(&format!(">{text}</textarea>")));
    assert!(page.contains(&format!("action=\"/t/{thread}/reply\"")));
    let csrf = csrf_in(&page).unwrap();
    let res = alice
        .post(app.url(&format!("/t/{thread}/reply")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("body", text),
            ("in_reply_to", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let (_, page) = app.get(&alice, &format!("/t/{thread}")).await;
    assert!(page.contains(text));
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

//! Threads and posts: starting, replying, pages, quoting, Markdown, limits.

use reqwest::Method;
use staffroom::db::Backend;

use crate::both_backends;
use crate::profiles::profile_counts;
use crate::support::{csrf_in, expect_error, location, main_of, TestApp, PASSWORD};

both_backends!(
    a_thread_started_on_the_web_reads_started_by_name_on_date,
    thread_form_mistakes_keep_what_was_typed,
    replies_read_oldest_first_across_pages,
    replies_answer_and_quote_earlier_posts,
    unknown_threads_posts_and_people_are_not_found,
    markdown_is_rendered_and_raw_html_never_runs,
    request_bodies_over_the_limit_are_refused,
    a_reply_written_after_the_session_ended_is_not_lost,
);

/// An instance with an administrator `head` (returned token), member `alice` and forum `maths`.
pub(crate) async fn setup(backend: Backend) -> (TestApp, String) {
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

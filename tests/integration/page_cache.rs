//! The page cache: a page as a visitor who is not logged in sees it is given again to the next
//! (with an `Age` header, as from any cache) until something is written, and never to anyone
//! logged in; another process's writes are seen within `server.page_cache_seconds`. A browser
//! that already has the page is answered `304 Not Modified`. Logged-in readers each get their
//! own page, made on posts read once and kept the same way (`forum::thread_pages`).

use reqwest::Method;
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{csrf_in, wait_until, TestApp};
use crate::threads::setup;

both_backends!(
    anonymous_readers_are_given_a_kept_page_until_something_is_written,
    nobody_logged_in_or_with_a_notice_is_given_a_kept_page,
    another_process_is_seen_within_the_cache_seconds,
    a_page_cache_of_zero_seconds_keeps_nothing,
    a_browser_that_has_the_page_is_answered_not_modified,
    logged_in_readers_share_the_posts_read_once,
    a_reply_written_elsewhere_reaches_a_logged_in_reader_at_once,
);

/// What an anonymous visitor is given at `path`: the body, and the `Age` header when the
/// answer was kept from before.
async fn visit(app: &TestApp, path: &str) -> (String, Option<String>) {
    let res = TestApp::browser().get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let age = res
        .headers()
        .get("age")
        .map(|v| v.to_str().unwrap().to_string());
    (res.text().await.unwrap(), age)
}

async fn anonymous_readers_are_given_a_kept_page_until_something_is_written(backend: Backend) {
    let (app, token) = setup(backend).await;
    let thread = app
        .thread(
            &token,
            "maths",
            "Fractions on a number line",
            "Opening words",
        )
        .await;
    app.reply(&token, thread, "A first answer", None).await;
    let page = format!("/t/{thread}");
    let json = format!("/api/v1/threads/{thread}");
    for path in [page.as_str(), json.as_str(), "/f/maths", "/", "/u/head"] {
        let (first, age) = visit(&app, path).await;
        assert_eq!(age, None, "{path} is made the first time");
        let (again, age) = visit(&app, path).await;
        assert_eq!(
            age.as_deref(),
            Some("0"),
            "{path} is kept for the next visitor"
        );
        assert_eq!(first, again, "{path}");
    }
    // What is kept is what every anonymous visitor may be given: no form, no token.
    let (kept, _) = visit(&app, &page).await;
    assert!(kept.contains("A first answer"));
    assert!(!kept.contains("csrf_token"), "{kept}");
    assert!(kept.contains("Log in</a> to reply"));

    // A reply through the API is on the next anonymous page, and on the forum's.
    app.reply(&token, thread, "A second answer", None).await;
    let (fresh, age) = visit(&app, &page).await;
    assert_eq!(age, None);
    assert!(fresh.contains("A second answer"));
    let (fresh, _) = visit(&app, &json).await;
    assert!(fresh.contains("A second answer"), "{fresh}");
    let (forum, age) = visit(&app, "/f/maths").await;
    assert_eq!(age, None);
    assert!(forum.contains("2 replies"), "{forum}");

    // A write that comes through no request (the service called directly, as the command line
    // and the background tasks do) is seen as well: each committed transaction counts.
    let keeper = app.create_user("keeper", true).await;
    visit(&app, &page).await;
    assert!(visit(&app, &page).await.1.is_some());
    app.site
        .pin_thread(keeper.clone(), thread, true)
        .await
        .expect("pinned");
    let (pinned, age) = visit(&app, &page).await;
    assert_eq!(age, None);
    assert!(pinned.contains(r#"<span class="badge">Pinned</span>"#));
    app.site
        .reply(keeper, thread, "Written by the service".into(), None)
        .await
        .expect("replied");
    assert!(visit(&app, &page)
        .await
        .0
        .contains("Written by the service"));

    // A query string is another page.
    assert!(visit(&app, &page).await.1.is_some());
    assert_eq!(visit(&app, &format!("{page}?page=1")).await.1, None);
}

async fn nobody_logged_in_or_with_a_notice_is_given_a_kept_page(backend: Backend) {
    let (app, token) = setup(backend).await;
    let thread = app.thread(&token, "maths", "Times tables", "Opening").await;
    let page = format!("/t/{thread}");
    visit(&app, &page).await;
    assert!(visit(&app, &page).await.1.is_some(), "kept for anonymous");

    // Alice sees her own page, with her reply form, each time.
    let alice = app.logged_in("alice").await;
    for _ in 0..2 {
        let res = alice.get(app.url(&page)).send().await.unwrap();
        assert!(res.headers().get("age").is_none());
        let body = res.text().await.unwrap();
        assert!(body.contains("Your reply"), "{body}");
        assert!(body.contains("Log out"));
    }
    // The API with a token: the caller's own answer (whether they watch the thread).
    for _ in 0..2 {
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
    }
    // A bad token is refused, not answered with the anonymous page.
    let res = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/threads/{thread}")))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // A visitor with a notice to see is given it, and nobody else is. (Alice's reading, like
    // any write, means the page is made anew first.)
    visit(&app, &page).await;
    assert!(visit(&app, &page).await.1.is_some());
    let res = reqwest::Client::new()
        .get(app.url(&page))
        .header("cookie", "staffroom_notice=Only%20for%20you")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("age").is_none());
    assert!(res.text().await.unwrap().contains("Only for you"));
    let (kept, age) = visit(&app, &page).await;
    assert!(age.is_some());
    assert!(!kept.contains("Only for you"));

    // Pages that depend on the request's Accept header are kept apart by it.
    let res = reqwest::Client::new()
        .get(app.url(&page))
        .header("accept", "text/html;q=0.9, */*;q=0.1")
        .send()
        .await
        .unwrap();
    assert!(
        res.headers().get("age").is_none(),
        "another Accept, another page"
    );
}

async fn another_process_is_seen_within_the_cache_seconds(backend: Backend) {
    let (app, token) = setup(backend).await;
    let thread = app.thread(&token, "maths", "Shared work", "Opening").await;
    let page = format!("/t/{thread}");
    // Beside it, as another process on the same database: one that keeps pages an hour, and
    // one that keeps them a second.
    let hour = app.beside(|s| s.server.page_cache_seconds = 3600).await;
    let second = app.beside(|s| s.server.page_cache_seconds = 1).await;
    for other in [&hour, &second] {
        visit(other, &page).await;
        assert!(visit(other, &page).await.1.is_some());
    }
    app.reply(&token, thread, "Written on the first", None)
        .await;
    assert!(visit(&app, &page).await.0.contains("Written on the first"));
    // The other process does not see the write: it serves what it kept, for as long as its
    // setting says...
    let (stale, age) = visit(&hour, &page).await;
    assert!(age.is_some());
    assert!(!stale.contains("Written on the first"));
    // ...and one written through it is seen at once.
    hour.reply(&token, thread, "Written on the second", None)
        .await;
    let (fresh, _) = visit(&hour, &page).await;
    assert!(fresh.contains("Written on the first") && fresh.contains("Written on the second"));
    // With a second's setting, the page is made anew within about a second.
    let started = std::time::Instant::now();
    wait_until("the other process to show the reply", || async {
        visit(&second, &page)
            .await
            .0
            .contains("Written on the second")
    })
    .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

async fn a_page_cache_of_zero_seconds_keeps_nothing(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.server.page_cache_seconds = 0).await;
    app.create_user("head", true).await;
    let token = app.token("head").await;
    app.forum_named(&token, "maths").await;
    let thread = app.thread(&token, "maths", "Uncached", "Opening").await;
    for path in [format!("/t/{thread}"), "/".to_string()] {
        for _ in 0..3 {
            let before = app.site.db().query_count();
            let (_, age) = visit(&app, &path).await;
            assert_eq!(age, None, "{path}");
            assert!(
                app.site.db().query_count() > before,
                "{path} asks the database"
            );
        }
    }
    // Nor are the posts of a page kept for the logged-in: each page reads them.
    app.create_user("alice", false).await;
    let alice = app.logged_in("alice").await;
    for _ in 0..2 {
        let statements = recorded(&app, &alice, &format!("/t/{thread}")).await.0;
        assert!(reads_posts(&statements), "{statements:#?}");
    }
}

/// The statements `app` ran for `reader`'s page at `path`, and the page.
async fn recorded(app: &TestApp, reader: &reqwest::Client, path: &str) -> (Vec<String>, String) {
    app.site.db().start_recording();
    let (status, body) = app.get(reader, path).await;
    let statements = app.site.db().stop_recording();
    assert_eq!(status, 200, "{path}");
    (statements, body)
}

/// Whether `statements` read the words of posts (the opening post, a page of replies).
fn reads_posts(statements: &[String]) -> bool {
    statements.iter().any(|s| s.contains("body_html"))
}

/// How many "Helpful" buttons on `page` are pressed (the reader's own marks).
fn pressed(page: &str) -> usize {
    page.matches(r#"aria-pressed="true""#).count()
}

/// Each logged-in reader is given a page of their own (their forms, their marks), but the posts
/// on it are read from the database once and given to the next reader while nothing is written.
async fn logged_in_readers_share_the_posts_read_once(backend: Backend) {
    let (app, token) = setup(backend).await;
    let thread = app.thread(&token, "maths", "Shared posts", "Opening").await;
    let first = app.reply(&token, thread, "First answer", None).await;
    app.reply(&token, thread, "Second answer", Some(first))
        .await;
    let page = format!("/t/{thread}");
    let alice = app.logged_in("alice").await;
    let bob = app.logged_in("bob").await;
    let res = app
        .submit(
            &alice,
            &page,
            &format!("/p/{first}/helpful"),
            &[("mark", "1")],
        )
        .await;
    assert_eq!(res.status(), 303);
    // The first page after a write reads the posts; the next reader's does not.
    let (statements, _) = recorded(&app, &bob, &page).await;
    assert!(reads_posts(&statements), "{statements:#?}");
    let (statements, for_alice) = recorded(&app, &alice, &page).await;
    assert!(!reads_posts(&statements), "{statements:#?}");
    let (statements, for_bob) = recorded(&app, &bob, &page).await;
    assert!(!reads_posts(&statements), "{statements:#?}");
    // Each page is its reader's own: the same posts, their own mark, their own form token.
    for body in [&for_alice, &for_bob] {
        assert!(body.contains("First answer") && body.contains("Second answer"));
        assert!(body.contains("Your reply"), "{body}");
    }
    assert_eq!(pressed(&for_alice), 1, "{for_alice}");
    assert_eq!(pressed(&for_bob), 0, "{for_bob}");
    assert!(for_alice.contains("1 found this helpful"));
    assert_ne!(csrf_in(&for_alice), csrf_in(&for_bob));
    // The JSON thread too, for a token's holder.
    let api = |token: String| {
        let (app, path) = (&app, format!("/api/v1/threads/{thread}"));
        async move {
            app.site.db().start_recording();
            let (status, json) = app.api(Method::GET, &path, Some(&token), None).await;
            assert_eq!(status, 200);
            (app.site.db().stop_recording(), json)
        }
    };
    let (statements, json) = api(token.clone()).await;
    assert!(!reads_posts(&statements), "{statements:#?}");
    assert!(
        json["posts"][0].to_string().contains("First answer"),
        "{json}"
    );

    // An edit, a mark or anything else written here is on the next page at once, read anew.
    let (status, _) = app
        .edit_post(Some(&token), first, "First answer, corrected")
        .await;
    assert_eq!(status, 200);
    let (statements, body) = recorded(&app, &bob, &page).await;
    assert!(reads_posts(&statements));
    assert!(body.contains("First answer, corrected"), "{body}");
    let res = app
        .submit(
            &bob,
            &page,
            &format!("/p/{first}/helpful"),
            &[("mark", "1")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, body) = recorded(&app, &alice, &page).await;
    assert!(body.contains("2 found this helpful"), "{body}");
    assert_eq!(pressed(&body), 1);
    // So is what the service writes when no request asks (a committed transaction): a reply,
    // which the thread's row shows too, and an edit, which it does not.
    let keeper = app.create_user("keeper", true).await;
    recorded(&app, &alice, &page).await;
    let written = app
        .site
        .reply(
            keeper.clone(),
            thread,
            "Written by the service".into(),
            None,
        )
        .await
        .expect("replied");
    let (_, body) = recorded(&app, &alice, &page).await;
    assert!(body.contains("Written by the service"), "{body}");
    let (statements, _) = recorded(&app, &alice, &page).await;
    assert!(!reads_posts(&statements), "kept again: {statements:#?}");
    let edit = staffroom::forum::editing::PostEdit {
        body: "Rewritten by the service".into(),
        title: None,
    };
    app.site
        .edit_post(keeper, written.id, edit)
        .await
        .expect("edited");
    let (_, body) = recorded(&app, &alice, &page).await;
    assert!(body.contains("Rewritten by the service"), "{body}");
}

/// Posts kept by one process are read again as soon as the thread's row says a reply was
/// written, by any process: a logged-in reader sees it at once, where an anonymous visitor of
/// the same process is given the page kept before (within `server.page_cache_seconds`).
async fn a_reply_written_elsewhere_reaches_a_logged_in_reader_at_once(backend: Backend) {
    let (app, token) = setup(backend).await;
    let thread = app
        .thread(&token, "maths", "Two processes", "Opening")
        .await;
    let page = format!("/t/{thread}");
    let other = app.beside(|s| s.server.page_cache_seconds = 3600).await;
    let alice = other.logged_in("alice").await;
    recorded(&other, &alice, &page).await;
    let (statements, _) = recorded(&other, &alice, &page).await;
    assert!(!reads_posts(&statements), "kept: {statements:#?}");
    visit(&other, &page).await;
    assert!(visit(&other, &page).await.1.is_some());

    app.reply(&token, thread, "Written on the first", None)
        .await;
    let (stale, age) = visit(&other, &page).await;
    assert!(age.is_some() && !stale.contains("Written on the first"));
    let (statements, body) = recorded(&other, &alice, &page).await;
    assert!(reads_posts(&statements));
    assert!(body.contains("Written on the first"), "{body}");
}

async fn a_browser_that_has_the_page_is_answered_not_modified(backend: Backend) {
    let (app, token) = setup(backend).await;
    let thread = app.thread(&token, "maths", "Revalidated", "Opening").await;
    let page = app.url(&format!("/t/{thread}"));
    let ask = |etag: Option<String>| {
        let page = page.clone();
        async move {
            let mut req = reqwest::Client::new().get(page);
            if let Some(tag) = etag {
                req = req.header("if-none-match", tag);
            }
            let res = req.send().await.unwrap();
            let header = |name: &str| {
                res.headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_string())
            };
            let (etag, cache_control) = (header("etag"), header("cache-control"));
            let status = res.status().as_u16();
            (status, etag, cache_control, res.text().await.unwrap())
        }
    };
    let (status, etag, cache_control, body) = ask(None).await;
    assert_eq!(status, 200);
    let etag = etag.expect("an anonymous page has an entity tag");
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(cache_control.as_deref(), Some("no-cache"));
    assert!(body.contains("Revalidated"));
    // Asked again with the tag, made or kept: 304 and no body.
    for _ in 0..2 {
        let (status, again, _, body) = ask(Some(etag.clone())).await;
        assert_eq!(status, 304);
        assert_eq!(again.as_ref(), Some(&etag));
        assert!(body.is_empty());
    }
    // Any of several tags, strong or weak, matches; another tag does not.
    let (status, ..) = ask(Some(format!("\"other\", {}", &etag[2..]))).await;
    assert_eq!(status, 304);
    let (status, ..) = ask(Some("W/\"0123\"".into())).await;
    assert_eq!(status, 200);
    let (status, ..) = ask(Some("*".into())).await;
    assert_eq!(status, 304, "`*` matches any current page");
    // Once the thread changes, the old tag gets the new page.
    app.reply(&token, thread, "Something new", None).await;
    let (status, new_tag, _, body) = ask(Some(etag.clone())).await;
    assert_eq!(status, 200);
    assert_ne!(new_tag, Some(etag));
    assert!(body.contains("Something new"));
    // A logged-in reader's page has no tag to revalidate: it is theirs alone.
    let alice = app.logged_in("alice").await;
    let res = alice.get(&page).send().await.unwrap();
    assert!(res.headers().get("etag").is_none());
}

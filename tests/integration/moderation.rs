//! Moderation: moderators appointed per forum, locking and pinning threads, and the
//! moderation log, through the API, the pages and from other servers, with each role tried
//! against each action.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::conversation::thread_titled;
use crate::following::{mastodon_style_reply, post_signed};
use crate::support::{drain_all, expect_error, location, main_of, network, TestApp};

both_backends!(
    each_role_can_do_what_it_may_and_nothing_more,
    a_locked_thread_takes_replies_only_from_moderators,
    the_moderation_log_says_who_did_what_and_why,
    the_log_can_keep_moderators_names_to_moderators,
    moderators_are_appointed_and_threads_locked_on_the_pages,
    a_locked_thread_refuses_replies_from_other_servers,
    locks_reach_every_server_that_follows_the_forum,
    a_moderator_elsewhere_locks_in_lemmys_words,
    moderators_appointed_elsewhere_lock_from_their_own_server,
    a_removed_post_is_hidden_from_readers_and_kept_for_moderators,
    posts_are_removed_and_restored_on_the_pages,
    removals_reach_every_server_that_follows_the_forum,
    a_moderator_elsewhere_removes_in_lemmys_words,
    only_moderators_start_threads_where_the_forum_says_so,
    a_forum_elsewhere_that_keeps_threads_to_moderators_is_respected_here,
);

/// A school: `head` administers; `bea` moderates maths; `cara` moderates science; `dev` is an
/// educator. Answers the app and a token for each, in that order.
pub(crate) async fn school(backend: Backend) -> (TestApp, [String; 4]) {
    school_with(backend, |_| {}).await
}

pub(crate) async fn school_with(
    backend: Backend,
    change: impl FnOnce(&mut staffroom::config::Settings),
) -> (TestApp, [String; 4]) {
    let app = TestApp::spawn_with(backend, change).await;
    app.create_user("head", true).await;
    for name in ["bea", "cara", "dev"] {
        app.create_user(name, false).await;
    }
    let head = app.token("head").await;
    app.forum_named(&head, "maths").await;
    app.forum_named(&head, "science").await;
    for (forum, person) in [("maths", "bea"), ("science", "cara")] {
        let (status, body) = appoint(&app, &head, forum, person).await;
        assert_eq!(status, 200, "{body}");
    }
    let tokens = [
        head,
        app.token("bea").await,
        app.token("cara").await,
        app.token("dev").await,
    ];
    (app, tokens)
}

pub(crate) async fn appoint(app: &TestApp, token: &str, forum: &str, person: &str) -> (u16, Value) {
    app.api(
        Method::PUT,
        &format!("/api/v1/forums/{forum}/moderators/{person}"),
        Some(token),
        None,
    )
    .await
}

pub(crate) async fn patch_thread(
    app: &TestApp,
    token: Option<&str>,
    id: i64,
    body: Value,
) -> (u16, Value) {
    app.api(
        Method::PATCH,
        &format!("/api/v1/threads/{id}"),
        token,
        Some(body),
    )
    .await
}

pub(crate) async fn try_reply(app: &TestApp, token: &str, thread: i64, body: &str) -> (u16, Value) {
    app.api(
        Method::POST,
        &format!("/api/v1/threads/{thread}/posts"),
        Some(token),
        Some(json!({ "body": body })),
    )
    .await
}

pub(crate) async fn log_of(app: &TestApp, token: Option<&str>, forum: &str) -> Vec<Value> {
    let (status, body) = app
        .api(
            Method::GET,
            &format!("/api/v1/forums/{forum}/modlog"),
            token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["entries"].as_array().unwrap().clone()
}

async fn each_role_can_do_what_it_may_and_nothing_more(backend: Backend) {
    let (app, [head, bea, cara, dev]) = school(backend).await;
    let thread = app
        .thread(&dev, "maths", "Fractions", "Halves first?")
        .await;

    // Who moderates maths: bea (appointed), listed for anyone.
    let (status, list) = app
        .api(Method::GET, "/api/v1/forums/maths/moderators", None, None)
        .await;
    assert_eq!(status, 200, "{list}");
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bea"]);

    // Only administrators appoint and dismiss.
    for token in [&bea, &cara, &dev] {
        let (status, body) = appoint(&app, token, "maths", "dev").await;
        expect_error(status, &body, 403, "admin_only");
        let (status, body) = app
            .api(
                Method::DELETE,
                "/api/v1/forums/maths/moderators/bea",
                Some(token),
                None,
            )
            .await;
        expect_error(status, &body, 403, "admin_only");
    }
    let (status, body) = app
        .api(
            Method::PUT,
            "/api/v1/forums/maths/moderators/dev",
            None,
            None,
        )
        .await;
    expect_error(status, &body, 401, "unauthenticated");
    let (status, body) = appoint(&app, &head, "maths", "nobody").await;
    expect_error(status, &body, 422, "unknown_person");
    assert!(body["fields"]["person"].is_string(), "{body}");
    let (status, body) = appoint(&app, &head, "history", "dev").await;
    expect_error(status, &body, 404, "not_found");

    // Locking and pinning: the forum's moderator and administrators; not a moderator of another
    // forum, not an educator, not a visitor.
    for token in [&cara, &dev] {
        for change in [json!({"locked": true}), json!({"pinned": true})] {
            let (status, body) = patch_thread(&app, Some(token), thread, change).await;
            expect_error(status, &body, 403, "moderators_only");
        }
    }
    let (status, body) = patch_thread(&app, None, thread, json!({"locked": true})).await;
    expect_error(status, &body, 401, "unauthenticated");
    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(
        (&page["thread"]["locked"], &page["thread"]["pinned"]),
        (&json!(false), &json!(false)),
        "refusals change nothing: {page}"
    );
    for token in [&bea, &head] {
        let (status, page) = patch_thread(
            &app,
            Some(token),
            thread,
            json!({"locked": true, "pinned": true}),
        )
        .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["thread"]["locked"], true, "{page}");
        assert_eq!(page["thread"]["pinned"], true, "{page}");
        let (status, page) = patch_thread(
            &app,
            Some(token),
            thread,
            json!({"locked": false, "pinned": false}),
        )
        .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["thread"]["locked"], false, "{page}");
    }
    // Nothing to change, and a reason too long.
    let (status, body) = patch_thread(&app, Some(&bea), thread, json!({})).await;
    expect_error(status, &body, 422, "invalid_input");
    let long = "x".repeat(1001);
    let (status, body) = patch_thread(
        &app,
        Some(&bea),
        thread,
        json!({"locked": true, "reason": long}),
    )
    .await;
    expect_error(status, &body, 422, "invalid_input");
    assert!(body["fields"]["reason"].is_string(), "{body}");

    // Dismissed, bea moderates no more.
    let (status, list) = app
        .api(
            Method::DELETE,
            "/api/v1/forums/maths/moderators/bea",
            Some(&head),
            None,
        )
        .await;
    assert_eq!((status, list.clone()), (200, json!([])), "{list}");
    let (status, body) = patch_thread(&app, Some(&bea), thread, json!({"locked": true})).await;
    expect_error(status, &body, 403, "moderators_only");
}

async fn a_locked_thread_takes_replies_only_from_moderators(backend: Backend) {
    let (app, [head, bea, cara, dev]) = school(backend).await;
    let thread = app
        .thread(&dev, "maths", "Fractions", "Halves first?")
        .await;
    app.reply(&cara, thread, "Before locking.", None).await;
    let (status, page) = patch_thread(
        &app,
        Some(&bea),
        thread,
        json!({"locked": true, "reason": "Answered; see the pinned thread"}),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["locked_by"]["name"], "bea", "{page}");
    assert!(page["thread"]["locked_at"].is_string(), "{page}");

    for token in [&dev, &cara] {
        let (status, body) = try_reply(&app, token, thread, "After locking.").await;
        expect_error(status, &body, 403, "thread_locked");
    }
    // The forum's moderators may still answer, and so may administrators.
    app.reply(&bea, thread, "A note from the moderator.", None)
        .await;
    app.reply(&head, thread, "And from the head.", None).await;
    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    let bodies: Vec<&str> = page["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            "Before locking.",
            "A note from the moderator.",
            "And from the head."
        ]
    );

    // On the page: the thread says it is locked and by whom, and offers no reply form; the
    // educator's reply sent anyway comes back refused with their words kept.
    let browser = app.logged_in("dev").await;
    let (status, html) = app.get(&browser, &format!("/t/{thread}")).await;
    assert_eq!(status, 200);
    let main = main_of(&html);
    assert!(main.contains("Locked by"), "{main}");
    assert!(main.contains("Bea"), "{main}");
    assert!(
        !main.contains(&format!("action=\"/t/{thread}/reply\"")),
        "no reply form: {main}"
    );
    assert!(
        !main.contains("Lock thread"),
        "no moderator's controls: {main}"
    );
    let res = app
        .submit(
            &browser,
            "/",
            &format!("/t/{thread}/reply"),
            &[("body", "My words, kept."), ("in_reply_to", "")],
        )
        .await;
    assert_eq!(res.status(), 403);
    let html = res.text().await.unwrap();
    assert!(html.contains("This thread is locked"), "{html}");
    assert!(html.contains("My words, kept."), "{html}");

    // Unlocked, everyone replies again.
    let (status, _) = patch_thread(&app, Some(&bea), thread, json!({"locked": false})).await;
    assert_eq!(status, 200);
    app.reply(&dev, thread, "After unlocking.", None).await;
}

async fn the_moderation_log_says_who_did_what_and_why(backend: Backend) {
    let (app, [head, bea, _cara, dev]) = school(backend).await;
    let thread = app
        .thread(&dev, "maths", "Fractions", "Halves first?")
        .await;
    let reason = "Heated <b>thread</b>; a pause";
    patch_thread(
        &app,
        Some(&bea),
        thread,
        json!({"locked": true, "reason": reason}),
    )
    .await;
    // Locking again changes nothing and records nothing.
    patch_thread(&app, Some(&bea), thread, json!({"locked": true})).await;
    patch_thread(&app, Some(&head), thread, json!({"pinned": true})).await;
    patch_thread(&app, Some(&bea), thread, json!({"locked": false})).await;

    let entries = log_of(&app, None, "maths").await;
    let summary: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["moderator"]["name"].as_str().unwrap(),
                e["person"]["name"]
                    .as_str()
                    .or(e["thread"]["title"].as_str())
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("unlock", "bea", "Fractions"),
            ("pin", "head", "Fractions"),
            ("lock", "bea", "Fractions"),
            ("appoint", "head", "bea"),
        ]
    );
    assert_eq!(entries[2]["reason"], reason);
    assert_eq!(entries[2]["thread"]["id"], thread);
    // Each forum has its own log.
    let science = log_of(&app, None, "science").await;
    assert_eq!(science.len(), 1);
    assert_eq!(science[0]["person"]["name"], "cara");

    // The page lists the same, the reason escaped.
    let (status, html) = app.get(&TestApp::browser(), "/f/maths/modlog").await;
    assert_eq!(status, 200);
    let main = main_of(&html);
    assert!(main.contains("locked the thread"), "{main}");
    assert!(main.contains("appointed a moderator"), "{main}");
    assert!(
        main.contains("Heated &#60;b&#62;thread&#60;/b&#62;; a pause"),
        "{main}"
    );
    assert!(!main.contains("<b>thread"), "{main}");
    let (_, forum) = app.get(&TestApp::browser(), "/f/maths").await;
    assert!(forum.contains("href=\"/f/maths/modlog\""));
    let (status, _) = app.get(&TestApp::browser(), "/f/history/modlog").await;
    assert_eq!(status, 404);
}

async fn the_log_can_keep_moderators_names_to_moderators(backend: Backend) {
    let (app, [_head, bea, cara, dev]) = school_with(backend, |s| {
        s.moderation.log_shows_moderators = false;
    })
    .await;
    let thread = app
        .thread(&dev, "maths", "Fractions", "Halves first?")
        .await;
    patch_thread(
        &app,
        Some(&bea),
        thread,
        json!({"locked": true, "reason": "Pause"}),
    )
    .await;
    for token in [None, Some(dev.as_str()), Some(cara.as_str())] {
        let entries = log_of(&app, token, "maths").await;
        assert_eq!(entries[0]["action"], "lock");
        assert_eq!(entries[0]["reason"], "Pause");
        assert!(entries[0]["moderator"].is_null(), "{token:?}: {entries:?}");
        // The person appointed is named; who appointed them is not.
        assert_eq!(entries[1]["person"]["name"], "bea");
        assert!(entries[1]["moderator"].is_null());
    }
    let entries = log_of(&app, Some(&bea), "maths").await;
    assert_eq!(entries[0]["moderator"]["name"], "bea");
    let (_, html) = app.get(&TestApp::browser(), "/f/maths/modlog").await;
    assert!(main_of(&html).contains("A moderator"), "{html}");
}

async fn moderators_are_appointed_and_threads_locked_on_the_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    app.create_user("bea", false).await;
    app.create_user("dev", false).await;
    let head = app.token("head").await;
    app.forum_named(&head, "maths").await;
    let dev = app.token("dev").await;
    let thread = app
        .thread(&dev, "maths", "Fractions", "Halves first?")
        .await;

    // The administrator appoints bea on the forum's settings page; a mistake comes back beside
    // the field with what was typed.
    let admin = app.logged_in("head").await;
    let settings = "/admin/forums/maths";
    let res = app
        .submit(
            &admin,
            settings,
            "/admin/forums/maths/moderators",
            &[("person", "bee")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"person-error\""), "{html}");
    assert!(html.contains("value=\"bee\""), "{html}");
    assert!(html.contains("autofocus"), "{html}");
    let res = app
        .submit(
            &admin,
            settings,
            "/admin/forums/maths/moderators",
            &[("person", "bea")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), settings);
    let (_, html) = app.get(&admin, settings).await;
    assert!(html.contains("now moderates"), "{html}");
    assert!(
        html.contains("value=\"@bea\""),
        "a remove button for bea: {html}"
    );

    // bea sees the moderator's controls on the thread; dev does not, nor can dev use them.
    let moderator = app.logged_in("bea").await;
    let (_, html) = app.get(&moderator, &format!("/t/{thread}")).await;
    assert!(
        html.contains(&format!("href=\"/t/{thread}/lock\"")),
        "{html}"
    );
    assert!(html.contains("Pin thread"), "{html}");
    let educator = app.logged_in("dev").await;
    let (status, _) = app.get(&educator, &format!("/t/{thread}/lock")).await;
    assert_eq!(status, 403);
    let res = app
        .submit(
            &educator,
            "/",
            &format!("/t/{thread}/lock"),
            &[("locked", "true"), ("reason", "")],
        )
        .await;
    assert_eq!(res.status(), 403);

    // A reason too long comes back beside the field, kept.
    let lock_page = format!("/t/{thread}/lock");
    let long = "x".repeat(1001);
    let res = app
        .submit(
            &moderator,
            &lock_page,
            &lock_page,
            &[("locked", "true"), ("reason", &long)],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"reason-error\""), "{html}");
    assert!(html.contains(&long), "the reason is kept");
    let res = app
        .submit(
            &moderator,
            &lock_page,
            &lock_page,
            &[("locked", "true"), ("reason", "Answered")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = app.get(&moderator, &format!("/t/{thread}")).await;
    assert!(html.contains("The thread is locked"), "notice: {html}");
    assert!(html.contains("Unlock thread"), "{html}");
    let (_, html) = app.get(&educator, "/f/maths").await;
    assert!(
        html.contains(">Locked<"),
        "the forum's list says so: {html}"
    );
    // And pinned, from the same place.
    let res = app
        .submit(
            &moderator,
            &format!("/t/{thread}"),
            &format!("/t/{thread}/pin"),
            &[("pinned", "true")],
        )
        .await;
    assert_eq!(res.status(), 303);
    // Unlocked again from its page.
    let (_, html) = app.get(&moderator, &lock_page).await;
    assert!(html.contains("Unlock the thread"), "{html}");
    let res = app
        .submit(&moderator, &lock_page, &lock_page, &[("locked", "false")])
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(page["thread"]["locked"], false);
    assert_eq!(page["thread"]["pinned"], true);

    // Removed on the settings page, bea's controls are gone.
    let res = app
        .submit(
            &admin,
            settings,
            "/admin/forums/maths/moderators/remove",
            &[("person", "bea")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = app.get(&moderator, &format!("/t/{thread}")).await;
    assert!(
        !html.contains("Pin thread") && !html.contains("Unpin thread"),
        "{html}"
    );
    let entries = log_of(&app, None, "maths").await;
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["dismiss", "unlock", "pin", "lock", "appoint"]);
}

async fn a_locked_thread_refuses_replies_from_other_servers(backend: Backend) {
    use staffroom::forum::incoming::{IncomingPost, Placement};
    let (net, head, _alice, thread) = two_schools(backend).await;
    let (alpha, beta) = (&net[0], &net[1]);
    let (status, _) = patch_thread(alpha, Some(&head), thread, json!({"locked": true})).await;
    assert_eq!(status, 200);

    // A reply sent to the author's inbox, and one sent to the shared inbox: both refused, 403.
    for inbox in ["/u/alice/inbox", "/inbox"] {
        let reply = mastodon_style_reply(
            beta,
            &alpha.url(&format!("/t/{thread}")),
            &alpha.url("/u/alice"),
            "<p>Dienes blocks.</p>",
        );
        let (status, text) = post_signed(beta, &alpha.url(inbox), &reply).await;
        assert_eq!(status, 403, "{inbox}: {text}");
        assert!(text.contains("thread_locked"), "{text}");
    }
    // The long way (a reply whose author had to be fetched) is refused the same.
    let author = alpha
        .remember_remote_person("https://remote.example", "rita")
        .await;
    let (_, page) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
    let opening = page["opening_post"]["id"].as_i64().unwrap();
    let refused = alpha
        .site
        .receive_post(
            author,
            Placement::Reply { parent_id: opening },
            IncomingPost {
                ap_id: "https://remote.example/p/1".into(),
                title: None,
                markdown: None,
                html: "<p>Also refused.</p>".into(),
                published: staffroom::forum::now(),
                updated: None,
                mentions: Vec::new(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 403, "{refused}");
    let (_, page) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(page["posts"], json!([]), "nothing stored: {page}");
    assert_eq!(page["thread"]["reply_count"], 0);
}

/// Two schools, alpha and beta: on alpha, `head` administers the forum maths, where alice
/// started "Place value". Answers them, head's and alice's tokens, and the thread.
pub(crate) async fn two_schools(backend: Backend) -> (Vec<TestApp>, String, String, i64) {
    let net = network(backend, 2).await;
    let alpha = &net[0];
    alpha.create_user("head", true).await;
    alpha.create_user("alice", false).await;
    let head = alpha.token("head").await;
    alpha.forum_named(&head, "maths").await;
    let alice = alpha.token("alice").await;
    let thread = alpha
        .thread(&alice, "maths", "Place value", "Base ten.")
        .await;
    (net, head, alice, thread)
}

/// alpha, where head administers the forum maths, and beta, where bea follows it. Answers the
/// two, head's and bea's tokens, and maths' handle as beta names it.
pub(crate) async fn followed_maths(backend: Backend) -> (Vec<TestApp>, String, String, String) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("head", true).await;
    let head = alpha.token("head").await;
    alpha.forum_named(&head, "maths").await;
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let handle = format!("maths@{}", alpha.domain());
    let (status, body) = beta.follow(&bea, &handle).await;
    assert_eq!(status, 202, "{body}");
    drain_all(&[alpha, beta]).await;
    (net, head, bea, handle)
}

async fn locks_reach_every_server_that_follows_the_forum(backend: Backend) {
    let (net, head, bea, handle) = followed_maths(backend).await;
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("alice", false).await;
    let alice = alpha.token("alice").await;
    let thread = alpha
        .thread(&alice, "maths", "Place value", "Base ten.")
        .await;
    drain_all(&[alpha, beta]).await;
    let copy = thread_titled(beta, &handle, "Place value").await;
    assert_eq!(copy["thread"]["locked"], false);
    let copy_id = copy["thread"]["id"].as_i64().unwrap();

    let (status, _) = patch_thread(
        alpha,
        Some(&head),
        thread,
        json!({"locked": true, "reason": "Answered in full"}),
    )
    .await;
    assert_eq!(status, 200);
    drain_all(&[alpha, beta]).await;
    let copy = thread_titled(beta, &handle, "Place value").await;
    assert_eq!(copy["thread"]["locked"], true, "{copy}");
    assert_eq!(
        copy["locked_by"]["name"],
        format!("head@{}", alpha.domain())
    );
    // On beta too, no one replies to it now.
    let (status, body) = try_reply(beta, &bea, copy_id, "Too late?").await;
    expect_error(status, &body, 403, "thread_locked");

    let (status, _) = patch_thread(alpha, Some(&head), thread, json!({"locked": false})).await;
    assert_eq!(status, 200);
    drain_all(&[alpha, beta]).await;
    let copy = thread_titled(beta, &handle, "Place value").await;
    assert_eq!(copy["thread"]["locked"], false, "{copy}");
    let (status, body) = try_reply(beta, &bea, copy_id, "Open again.").await;
    assert_eq!(status, 201, "{body}");
    drain_all(&[alpha, beta]).await;
    let (_, page) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(page["posts"][0]["body"], "Open again.", "{page}");
}

async fn a_moderator_elsewhere_locks_in_lemmys_words(backend: Backend) {
    let (net, head, _alice, thread) = two_schools(backend).await;
    let (alpha, beta) = (&net[0], &net[1]);
    let forum = alpha.url("/f/maths");
    // Lemmy's Lock, as its fixture has it, by beta's actor standing in for a moderator there.
    let lock = |summary: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": beta.url(&format!("/activities/lock/{}", uuid::Uuid::new_v4())),
            "actor": beta.url("/actor"),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": alpha.url(&format!("/t/{thread}")),
            "cc": [forum],
            "type": "Lock",
            "summary": summary,
            "audience": forum,
        })
    };
    let locked = || async {
        let (_, page) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
        page["thread"]["locked"].as_bool().unwrap()
    };
    // Not a moderator of maths: refused, nothing changes.
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &lock("Not mine to lock")).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("moderators_only"), "{text}");
    assert!(!locked().await);

    // Appointed (beta's actor is known here now, from its signature), the same is taken.
    let person = format!("{0}@{0}", beta.domain());
    let (status, body) = appoint(alpha, &head, "maths", &person).await;
    assert_eq!(status, 200, "{body}");
    let (status, text) =
        post_signed(beta, &alpha.url("/inbox"), &lock("A reason for the lock")).await;
    assert!((200..300).contains(&status), "{status} {text}");
    assert!(locked().await);
    let entries = log_of(alpha, None, "maths").await;
    assert_eq!(entries[0]["action"], "lock");
    assert_eq!(entries[0]["reason"], "A reason for the lock");
    assert_eq!(entries[0]["moderator"]["name"], person);

    // Lemmy's Undo of a Lock unlocks, its reason in the log.
    let mut inner = lock("");
    inner.as_object_mut().unwrap().remove("@context");
    inner.as_object_mut().unwrap().remove("summary");
    let undo = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": beta.url(&format!("/activities/undo/{}", uuid::Uuid::new_v4())),
        "actor": beta.url("/actor"),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": inner,
        "cc": [forum],
        "type": "Undo",
        "audience": forum,
        "summary": "A reason for the unlock",
    });
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &undo).await;
    assert!((200..300).contains(&status), "{status} {text}");
    assert!(!locked().await);
    let entries = log_of(alpha, None, "maths").await;
    assert_eq!(
        (&entries[0]["action"], &entries[0]["reason"]),
        (&json!("unlock"), &json!("A reason for the unlock"))
    );
}

async fn moderators_of(app: &TestApp, forum: &str) -> Vec<String> {
    let (status, list) = app
        .api(
            Method::GET,
            &format!("/api/v1/forums/{forum}/moderators"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_string())
        .collect()
}

async fn moderators_appointed_elsewhere_lock_from_their_own_server(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("head", true).await;
    alpha.create_user("alice", false).await;
    let head = alpha.token("head").await;
    alpha.forum_named(&head, "maths").await;
    for name in ["bea", "cara", "dan"] {
        beta.create_user(name, false).await;
    }
    let (bea, dan) = (beta.token("bea").await, beta.token("dan").await);
    let handle = format!("maths@{}", alpha.domain());

    // cara of beta is appointed before beta knows the forum (alpha finds her by her handle);
    // beta reads it from the forum's moderators collection when it first fetches the forum.
    let (status, body) = appoint(alpha, &head, "maths", &format!("cara@{}", beta.domain())).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = beta.follow(&bea, &handle).await;
    assert_eq!(status, 202, "{body}");
    drain_all(&[alpha, beta]).await;
    assert_eq!(moderators_of(beta, &handle).await, ["cara"]);

    // bea is appointed after: the forum tells its followers (Add to its moderators).
    let (status, body) = appoint(alpha, &head, "maths", &format!("bea@{}", beta.domain())).await;
    assert_eq!(status, 200, "{body}");
    drain_all(&[alpha, beta]).await;
    assert_eq!(moderators_of(beta, &handle).await, ["cara", "bea"]);

    let alice = alpha.token("alice").await;
    let thread = alpha
        .thread(&alice, "maths", "Place value", "Base ten.")
        .await;
    drain_all(&[alpha, beta]).await;
    let copy = thread_titled(beta, &handle, "Place value").await;
    let copy_id = copy["thread"]["id"].as_i64().unwrap();

    // On beta, dan may not lock it; bea may, and the forum's own server takes her lock.
    let (status, body) = patch_thread(beta, Some(&dan), copy_id, json!({"locked": true})).await;
    expect_error(status, &body, 403, "moderators_only");
    let (status, body) = patch_thread(
        beta,
        Some(&bea),
        copy_id,
        json!({"locked": true, "reason": "Answered"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    drain_all(&[alpha, beta]).await;
    let (_, page) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(page["thread"]["locked"], true, "{page}");
    assert_eq!(page["locked_by"]["name"], format!("bea@{}", beta.domain()));
    let entries = log_of(alpha, None, "maths").await;
    assert_eq!(entries[0]["action"], "lock");
    assert_eq!(entries[0]["reason"], "Answered");

    // Removed on alpha, bea moderates nothing there, and beta knows it.
    let (status, _) = alpha
        .api(
            Method::DELETE,
            &format!("/api/v1/forums/maths/moderators/bea@{}", beta.domain()),
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 200);
    drain_all(&[alpha, beta]).await;
    assert_eq!(moderators_of(beta, &handle).await, ["cara"]);
    let (status, body) = patch_thread(beta, Some(&bea), copy_id, json!({"locked": false})).await;
    expect_error(status, &body, 403, "moderators_only");
}

async fn remove(
    app: &TestApp,
    token: Option<&str>,
    post: i64,
    reason: Option<&str>,
) -> (u16, Value) {
    let body = reason.map(|r| json!({ "reason": r })).unwrap_or(json!({}));
    app.api(
        Method::POST,
        &format!("/api/v1/posts/{post}/remove"),
        token,
        Some(body),
    )
    .await
}

async fn a_removed_post_is_hidden_from_readers_and_kept_for_moderators(backend: Backend) {
    let (app, [head, bea, cara, dev]) = school(backend).await;
    let thread = app
        .thread(&dev, "maths", "Fractions", "Halves first?")
        .await;
    let reply = app.reply(&cara, thread, "Buy my worksheets!", None).await;
    app.reply(&head, thread, "Thirds next.", None).await;
    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    let opening = page["opening_post"]["id"].as_i64().unwrap();

    // Only the forum's moderators (and administrators) remove, and only with a reason.
    for token in [&dev, &cara] {
        let (status, body) = remove(&app, Some(token), reply, Some("Spam")).await;
        expect_error(status, &body, 403, "moderators_only");
    }
    let (status, body) = remove(&app, None, reply, Some("Spam")).await;
    expect_error(status, &body, 401, "unauthenticated");
    let (status, body) = remove(&app, Some(&bea), reply, None).await;
    expect_error(status, &body, 422, "invalid_input");
    assert!(body["fields"]["reason"].is_string(), "{body}");
    let long = "x".repeat(1001);
    let (status, body) = remove(&app, Some(&bea), reply, Some(&long)).await;
    expect_error(status, &body, 422, "invalid_input");
    assert!(body["fields"]["reason"].is_string(), "{body}");
    let (status, post) = remove(&app, Some(&bea), reply, Some("Advertising")).await;
    assert_eq!(status, 200, "{post}");
    assert_eq!(post["removed"], true);
    assert_eq!(
        post["body"], "Buy my worksheets!",
        "moderators read it: {post}"
    );

    // Readers see that it was removed, not what it said; moderators see both.
    let reply_in = |page: &Value| {
        page["posts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == reply)
            .cloned()
            .unwrap()
    };
    for token in [None, Some(dev.as_str()), Some(cara.as_str())] {
        let (_, page) = app
            .api(
                Method::GET,
                &format!("/api/v1/threads/{thread}"),
                token,
                None,
            )
            .await;
        let shown = reply_in(&page);
        assert_eq!(shown["removed"], true, "{shown}");
        assert_eq!(shown["removal_reason"], "Advertising");
        assert!(
            shown["body"].is_null() && shown["html"].is_null(),
            "{token:?}: {shown}"
        );
    }
    for token in [&bea, &head] {
        let (_, page) = app
            .api(
                Method::GET,
                &format!("/api/v1/threads/{thread}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(reply_in(&page)["body"], "Buy my worksheets!");
    }
    let (_, html) = app.get(&TestApp::browser(), &format!("/t/{thread}")).await;
    let main = main_of(&html);
    assert!(main.contains("Removed by a moderator."), "{main}");
    assert!(!main.contains("Buy my worksheets"), "{main}");
    assert!(!main.contains("/restore"), "{main}");
    let moderator = app.logged_in("bea").await;
    let (_, html) = app.get(&moderator, &format!("/t/{thread}")).await;
    let main = main_of(&html);
    assert!(main.contains("Buy my worksheets"), "{main}");
    assert!(main.contains("Only moderators see it"), "{main}");
    assert!(
        main.contains(&format!("action=\"/p/{reply}/restore\"")),
        "{main}"
    );

    // Its author can no longer edit or quote it, and nobody marks it helpful.
    let (status, body) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/posts/{reply}"),
            Some(&cara),
            Some(json!({"body": "Edited"})),
        )
        .await;
    expect_error(status, &body, 410, "post_removed");
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/posts/{reply}/helpful"),
            Some(&dev),
            None,
        )
        .await;
    expect_error(status, &body, 410, "post_removed");
    let (_, profile) = app.read("/api/v1/users/cara").await;
    assert!(
        !profile.to_string().contains("Buy my worksheets"),
        "{profile}"
    );

    // A removed opening post keeps its thread and replies.
    let (status, _) = remove(&app, Some(&bea), opening, Some("Off topic")).await;
    assert_eq!(status, 200);
    let (status, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(status, 200);
    assert_eq!(page["opening_post"]["removed"], true);
    assert_eq!(page["posts"].as_array().unwrap().len(), 2);

    // Restored, it reads again; the log has it all.
    let (status, post) = app
        .api(
            Method::POST,
            &format!("/api/v1/posts/{reply}/restore"),
            Some(&bea),
            None,
        )
        .await;
    assert_eq!(status, 200, "{post}");
    assert_eq!(post["removed"], false);
    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(reply_in(&page)["body"], "Buy my worksheets!");
    let entries = log_of(&app, None, "maths").await;
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .take(3)
        .map(|e| (e["action"].as_str().unwrap(), e["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("restore", ""),
            ("remove", "Off topic"),
            ("remove", "Advertising")
        ]
    );
    assert_eq!(entries[2]["post_id"], reply);
    assert_eq!(entries[2]["person"]["name"], "cara");

    // A post its author deleted is gone already.
    let own = app.reply(&dev, thread, "Never mind.", None).await;
    let (status, _) = app.delete_post(Some(&dev), own).await;
    assert_eq!(status, 204);
    let (status, body) = remove(&app, Some(&bea), own, Some("Late")).await;
    expect_error(status, &body, 410, "post_deleted");
}

async fn posts_are_removed_and_restored_on_the_pages(backend: Backend) {
    let (app, [_head, _bea, cara, dev]) = school(backend).await;
    let thread = app
        .thread(&dev, "maths", "Fractions", "Halves first?")
        .await;
    let reply = app.reply(&cara, thread, "Buy my worksheets!", None).await;
    let moderator = app.logged_in("bea").await;
    let educator = app.logged_in("dev").await;
    let page = format!("/p/{reply}/remove");
    let (_, html) = app.get(&moderator, &format!("/t/{thread}")).await;
    assert!(
        html.contains(&format!("href=\"{page}\"")),
        "a Remove link: {html}"
    );
    let (_, html) = app.get(&educator, &format!("/t/{thread}")).await;
    assert!(!html.contains(&page), "no Remove link for educators");
    let (status, _) = app.get(&educator, &page).await;
    assert_eq!(status, 403);

    // Without a reason the form comes back, saying so beside the field.
    let res = app
        .submit(&moderator, &page, &page, &[("reason", " ")])
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"reason-error\""), "{html}");
    assert!(
        html.contains("Buy my worksheets!"),
        "the post is shown: {html}"
    );
    let res = app
        .submit(&moderator, &page, &page, &[("reason", "Advertising")])
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = app.get(&educator, &format!("/t/{thread}")).await;
    assert!(main_of(&html).contains("Removed by a moderator."));
    assert!(!html.contains("Buy my worksheets!"));
    let (_, html) = app.get(&moderator, &format!("/t/{thread}")).await;
    assert!(
        html.contains("Removed by a moderator: <bdi>Advertising</bdi>"),
        "{html}"
    );
    let res = app
        .submit(
            &moderator,
            &format!("/t/{thread}"),
            &format!("/p/{reply}/restore"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = app.get(&educator, &format!("/t/{thread}")).await;
    assert!(html.contains("Buy my worksheets!"));
    let (_, html) = app.get(&TestApp::browser(), "/f/maths/modlog").await;
    assert!(html.contains("removed a post in"), "{html}");
    assert!(html.contains("restored a post in"), "{html}");
}

async fn removals_reach_every_server_that_follows_the_forum(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("head", true).await;
    alpha.create_user("alice", false).await;
    let head = alpha.token("head").await;
    alpha.forum_named(&head, "maths").await;
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let handle = format!("maths@{}", alpha.domain());
    let (status, body) = beta.follow(&bea, &handle).await;
    assert_eq!(status, 202, "{body}");
    drain_all(&[alpha, beta]).await;
    let alice = alpha.token("alice").await;
    let thread = alpha
        .thread(&alice, "maths", "Place value", "Base ten.")
        .await;
    let reply = alpha
        .reply(&alice, thread, "Buy my worksheets!", None)
        .await;
    drain_all(&[alpha, beta]).await;
    let copy = thread_titled(beta, &handle, "Place value").await;
    assert_eq!(copy["posts"][0]["body"], "Buy my worksheets!", "{copy}");

    let (status, _) = remove(alpha, Some(&head), reply, Some("Advertising")).await;
    assert_eq!(status, 200);
    drain_all(&[alpha, beta]).await;
    let copy = thread_titled(beta, &handle, "Place value").await;
    let shown = &copy["posts"][0];
    assert_eq!(shown["removed"], true, "{copy}");
    assert_eq!(shown["removal_reason"], "Advertising");
    assert!(shown["body"].is_null(), "{shown}");

    let (status, _) = alpha
        .api(
            Method::POST,
            &format!("/api/v1/posts/{reply}/restore"),
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 200);
    drain_all(&[alpha, beta]).await;
    let copy = thread_titled(beta, &handle, "Place value").await;
    assert_eq!(copy["posts"][0]["removed"], false, "{copy}");
    assert_eq!(copy["posts"][0]["body"], "Buy my worksheets!");
}

async fn a_moderator_elsewhere_removes_in_lemmys_words(backend: Backend) {
    let (net, head, alice, thread) = two_schools(backend).await;
    let (alpha, beta) = (&net[0], &net[1]);
    let reply = alpha
        .reply(&alice, thread, "Buy my worksheets!", None)
        .await;
    let forum = alpha.url("/f/maths");
    // Lemmy's removal, as its fixture has it: a Delete by a moderator, with the reason.
    let delete = json!({
        "actor": beta.url("/actor"),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": alpha.url(&format!("/p/{reply}")),
        "cc": [forum],
        "audience": forum,
        "type": "Delete",
        "summary": "bad comment",
        "id": beta.url(&format!("/activities/delete/{}", uuid::Uuid::new_v4())),
    });
    let removed = || async {
        let (_, page) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
        page["posts"][0]["removed"].as_bool().unwrap()
    };
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &delete).await;
    assert_eq!(status, 403, "not a moderator: {text}");
    assert!(!removed().await);

    let person = format!("{0}@{0}", beta.domain());
    let (status, body) = appoint(alpha, &head, "maths", &person).await;
    assert_eq!(status, 200, "{body}");
    let mut delete = delete;
    delete["id"] = json!(beta.url(&format!("/activities/delete/{}", uuid::Uuid::new_v4())));
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &delete).await;
    assert!((200..300).contains(&status), "{status} {text}");
    assert!(removed().await);
    let entries = log_of(alpha, None, "maths").await;
    assert_eq!(
        (&entries[0]["action"], &entries[0]["reason"]),
        (&json!("remove"), &json!("bad comment"))
    );

    let undo = json!({
        "actor": beta.url("/actor"),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": delete,
        "cc": [forum],
        "audience": forum,
        "type": "Undo",
        "id": beta.url(&format!("/activities/undo/{}", uuid::Uuid::new_v4())),
    });
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &undo).await;
    assert!((200..300).contains(&status), "{status} {text}");
    assert!(!removed().await);
    // The post's author, deleting it from its own server, still deletes it.
    let (status, _) = alpha.delete_post(Some(&alice), reply).await;
    assert_eq!(status, 204);
}

async fn only_moderators_start_threads_where_the_forum_says_so(backend: Backend) {
    let (app, [head, bea, cara, dev]) = school(backend).await;
    // Only administrators set it.
    let body = json!({"posting_restricted_to_mods": true});
    let (status, answer) = app
        .api(
            Method::PATCH,
            "/api/v1/forums/maths",
            Some(&bea),
            Some(body.clone()),
        )
        .await;
    expect_error(status, &answer, 403, "admin_only");
    let (status, forum) = app
        .api(
            Method::PATCH,
            "/api/v1/forums/maths",
            Some(&head),
            Some(body),
        )
        .await;
    assert_eq!(status, 200, "{forum}");
    assert_eq!(forum["posting_restricted_to_mods"], true);

    // dev, and cara (who moderates science, not maths), may not start one; bea and head may.
    for token in [&dev, &cara] {
        let (status, answer) = app
            .api(
                Method::POST,
                "/api/v1/forums/maths/threads",
                Some(token),
                Some(json!({"title": "Mine", "body": "Words."})),
            )
            .await;
        expect_error(status, &answer, 403, "posting_restricted");
    }
    let thread = app.thread(&bea, "maths", "Week 1", "Read this.").await;
    app.thread(&head, "maths", "Week 2", "And this.").await;
    // Everyone still replies; science is as before.
    let (status, body) = try_reply(&app, &dev, thread, "Thanks.").await;
    assert_eq!(status, 201, "{body}");
    app.thread(&dev, "science", "Magnets", "Poles?").await;

    // The page says so instead of offering the button; the Group says so to other servers.
    let web = app.logged_in("dev").await;
    let (_, page) = app.get(&web, "/f/maths").await;
    let main = main_of(&page);
    assert!(main.contains("only its moderators start threads"), "{main}");
    assert!(!main.contains("/f/maths/new"), "{main}");
    let (_, page) = app.get(&app.logged_in("bea").await, "/f/maths").await;
    assert!(main_of(&page).contains("/f/maths/new"));

    // What a person elsewhere sends as a new thread is refused the same way.
    use staffroom::forum::incoming::{IncomingPost, Placement};
    let remote = app
        .remember_remote_person("http://elsewhere.example", "zed")
        .await;
    let (_, forum) = app.read("/api/v1/forums/maths").await;
    let maths = app
        .site
        .forum_by_handle("maths".into(), None)
        .await
        .unwrap();
    assert_eq!(forum["name"], "maths");
    let refused = app
        .site
        .receive_post(
            remote,
            Placement::NewThread { forum_id: maths.id },
            IncomingPost {
                ap_id: "http://elsewhere.example/post/1".into(),
                title: Some("Unasked".into()),
                markdown: None,
                html: "<p>Hello.</p>".into(),
                published: staffroom::forum::now(),
                updated: None,
                mentions: Vec::new(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 403, "{refused}");
    assert!(
        refused.to_string().contains("only its moderators"),
        "{refused}"
    );
}

async fn a_forum_elsewhere_that_keeps_threads_to_moderators_is_respected_here(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("head", true).await;
    let head = alpha.token("head").await;
    alpha.forum_named(&head, "maths").await;
    let (status, body) = alpha
        .api(
            Method::PATCH,
            "/api/v1/forums/maths",
            Some(&head),
            Some(json!({"posting_restricted_to_mods": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Its Group says so, in Lemmy's words.
    let res = reqwest::Client::new()
        .get(alpha.url("/f/maths"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    let group: Value = res.json().await.unwrap();
    assert_eq!(group["postingRestrictedToMods"], true, "{group}");

    // Followed from beta, it is known there to take threads from its moderators only.
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let handle = format!("maths@{}", alpha.domain());
    let (status, body) = beta.follow(&bea, &handle).await;
    assert_eq!(status, 202, "{body}");
    drain_all(&[alpha, beta]).await;
    let (_, forum) = beta.read(&format!("/api/v1/forums/{handle}")).await;
    assert_eq!(forum["posting_restricted_to_mods"], true, "{forum}");
    let (status, answer) = beta
        .api(
            Method::POST,
            &format!("/api/v1/forums/{handle}/threads"),
            Some(&bea),
            Some(json!({"title": "Mine", "body": "Words."})),
        )
        .await;
    expect_error(status, &answer, 403, "posting_restricted");
    // Replies from there are welcome.
    let thread = alpha.thread(&head, "maths", "Week 1", "Read this.").await;
    drain_all(&[alpha, beta]).await;
    let copy = thread_titled(beta, &handle, "Week 1").await;
    let copy_id = copy["thread"]["id"].as_i64().unwrap();
    let (status, body) = try_reply(beta, &bea, copy_id, "Done.").await;
    assert_eq!(status, 201, "{body}");
    drain_all(&[alpha, beta]).await;
    let (_, page) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(page["posts"][0]["body"], "Done.", "{page}");
}

//! Threads and replies across instances: a forum on alpha followed from beta and gamma; threads
//! and replies written on any of them reach all of them (the forum relays what it receives,
//! FEP-1b12), and so do edits and deletions. Unfollowing stops delivery.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{column, drain_all, network, TestApp};

both_backends!(
    threads_and_replies_reach_every_follower,
    edits_and_deletions_follow_the_post,
    unfollowing_stops_delivery,
    educators_follow_and_answer_remote_forums_in_the_browser,
    helpful_marks_travel_and_count_once,
    sent_activities_are_readable_and_forgotten_in_time,
);

/// alpha with forum "maths", administrator "admin" and member "alice"; beta with "bea" and
/// gamma with "gus", each following maths@alpha. Returns (alice, bea, gus) tokens.
async fn three_schools(net: &[TestApp]) -> (String, String, String) {
    let (alpha, beta, gamma) = (&net[0], &net[1], &net[2]);
    alpha.create_user("admin", true).await;
    let admin = alpha.token("admin").await;
    alpha.forum_named(&admin, "maths").await;
    alpha.create_user("alice", false).await;
    beta.create_user("bea", false).await;
    gamma.create_user("gus", false).await;
    let handle = format!("maths@{}", alpha.domain());
    for (app, name) in [(beta, "bea"), (gamma, "gus")] {
        let token = app.token(name).await;
        let (status, body) = app.follow(&token, &handle).await;
        assert_eq!(status, 202, "{body}");
    }
    drain_all(&net.iter().collect::<Vec<_>>()).await;
    (
        alpha.token("alice").await,
        beta.token("bea").await,
        gamma.token("gus").await,
    )
}

/// The threads `app` shows in forum `handle`.
pub(crate) async fn threads_in(app: &TestApp, handle: &str) -> Vec<Value> {
    let (status, body) = app.read(&format!("/api/v1/forums/{handle}/threads")).await;
    assert_eq!(status, 200, "{body}");
    body["threads"].as_array().unwrap().clone()
}

/// `app`'s copy of the thread titled `title` in forum `handle`.
pub(crate) async fn thread_titled(app: &TestApp, handle: &str, title: &str) -> Value {
    let threads = threads_in(app, handle).await;
    let thread = threads
        .iter()
        .find(|t| t["title"] == title)
        .unwrap_or_else(|| panic!("{}: no thread {title:?} in {threads:?}", app.address));
    let (status, body) = app
        .api(
            Method::GET,
            &format!("/api/v1/threads/{}", thread["id"]),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn threads_and_replies_reach_every_follower(backend: Backend) {
    let net = network(backend, 3).await;
    let all: Vec<&TestApp> = net.iter().collect();
    let (alpha, beta, gamma) = (&net[0], &net[1], &net[2]);
    let (alice, bea, gus) = three_schools(&net).await;
    let remote = format!("maths@{}", alpha.domain());

    // A thread started on alpha reaches beta and gamma, with its author shown by handle.
    let opening = "How do you introduce **fractions**? See <https://example.org/fractions>.";
    alpha
        .thread(&alice, "maths", "Fractions in year 3", opening)
        .await;
    drain_all(&all).await;
    for app in [beta, gamma] {
        let thread = thread_titled(app, &remote, "Fractions in year 3").await;
        assert_eq!(thread["thread"]["forum"], remote);
        let author = &thread["opening_post"]["author"];
        assert_eq!(author["name"], format!("alice@{}", alpha.domain()));
        assert_eq!(author["local"], false);
        let html = thread["opening_post"]["html"].as_str().unwrap();
        assert!(html.contains("<strong>fractions</strong>"), "{html}");
        assert!(
            html.contains("href=\"https://example.org/fractions\""),
            "{html}"
        );
    }

    // bea answers on beta: alpha takes it into its thread and relays it to gamma.
    let on_beta = thread_titled(beta, &remote, "Fractions in year 3").await;
    let thread_on_beta = on_beta["thread"]["id"].as_i64().unwrap();
    beta.reply(&bea, thread_on_beta, "Pizza slices, every time.", None)
        .await;
    drain_all(&all).await;
    for app in [alpha, gamma] {
        let thread = thread_titled(
            app,
            if app.address == alpha.address {
                "maths"
            } else {
                &remote
            },
            "Fractions in year 3",
        )
        .await;
        let posts = thread["posts"].as_array().unwrap();
        assert_eq!(posts.len(), 1, "{}: {thread}", app.address);
        assert_eq!(posts[0]["author"]["name"], format!("bea@{}", beta.domain()));
        assert!(posts[0]["html"].as_str().unwrap().contains("Pizza slices"));
        assert_eq!(thread["thread"]["reply_count"], 1);
    }

    // gus answers bea on gamma: the answer names bea's post everywhere.
    let on_gamma = thread_titled(gamma, &remote, "Fractions in year 3").await;
    let bea_on_gamma = on_gamma["posts"][0]["id"].as_i64().unwrap();
    gamma
        .reply(
            &gus,
            on_gamma["thread"]["id"].as_i64().unwrap(),
            "Pizza works for halves; thirds need a ruler.",
            Some(bea_on_gamma),
        )
        .await;
    drain_all(&all).await;
    for (app, forum) in [(alpha, "maths"), (beta, remote.as_str())] {
        let thread = thread_titled(app, forum, "Fractions in year 3").await;
        let posts = thread["posts"].as_array().unwrap();
        assert_eq!(posts.len(), 2, "{}: {thread}", app.address);
        assert_eq!(
            posts[1]["author"]["name"],
            format!("gus@{}", gamma.domain())
        );
        assert_eq!(posts[1]["in_reply_to"], posts[0]["id"], "{thread}");
    }

    // A thread started on beta in alpha's forum lives on alpha and reaches gamma.
    let (status, body) = beta
        .api(
            Method::POST,
            &format!("/api/v1/forums/{remote}/threads"),
            Some(&bea),
            Some(json!({"title": "Times tables by heart?", "body": "Worth it or not?"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    drain_all(&all).await;
    let on_alpha = thread_titled(alpha, "maths", "Times tables by heart?").await;
    assert_eq!(
        on_alpha["opening_post"]["author"]["name"],
        format!("bea@{}", beta.domain())
    );
    thread_titled(gamma, &remote, "Times tables by heart?").await;
    // And beta still has exactly one copy of its own thread.
    let mine: Vec<Value> = threads_in(beta, &remote)
        .await
        .into_iter()
        .filter(|t| t["title"] == "Times tables by heart?")
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
}

async fn edits_and_deletions_follow_the_post(backend: Backend) {
    let net = network(backend, 3).await;
    let all: Vec<&TestApp> = net.iter().collect();
    let (alpha, beta, gamma) = (&net[0], &net[1], &net[2]);
    let (alice, bea, _gus) = three_schools(&net).await;
    let remote = format!("maths@{}", alpha.domain());
    let thread = alpha
        .thread(&alice, "maths", "Number bonds", "Bonds to 10 first.")
        .await;
    drain_all(&all).await;
    let on_beta = thread_titled(beta, &remote, "Number bonds").await;
    let reply = beta
        .reply(
            &bea,
            on_beta["thread"]["id"].as_i64().unwrap(),
            "Bead strings help.",
            None,
        )
        .await;
    drain_all(&all).await;

    // alice edits her opening post and title on alpha.
    let opening_id = thread_titled(alpha, "maths", "Number bonds").await["opening_post"]["id"]
        .as_i64()
        .unwrap();
    let (status, body) = alpha
        .api(
            Method::PATCH,
            &format!("/api/v1/posts/{opening_id}"),
            Some(&alice),
            Some(json!({"title": "Number bonds to 10 and 20", "body": "Bonds to 10 first, then 20."})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // bea edits her reply on beta.
    let (status, body) = beta
        .api(
            Method::PATCH,
            &format!("/api/v1/posts/{reply}"),
            Some(&bea),
            Some(json!({"body": "Bead strings and ten frames help."})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    drain_all(&all).await;
    for (app, forum) in [(beta, remote.as_str()), (gamma, remote.as_str())] {
        let t = thread_titled(app, forum, "Number bonds to 10 and 20").await;
        assert!(
            t["opening_post"]["html"]
                .as_str()
                .unwrap()
                .contains("then 20"),
            "{t}"
        );
        assert!(t["opening_post"]["edited_at"].is_string(), "{t}");
    }
    for (app, forum) in [(alpha, "maths"), (gamma, remote.as_str())] {
        let t = thread_titled(app, forum, "Number bonds to 10 and 20").await;
        assert!(
            t["posts"][0]["html"]
                .as_str()
                .unwrap()
                .contains("ten frames"),
            "{t}"
        );
    }

    // bea deletes her reply: a placeholder everywhere.
    let (status, _) = beta.delete_post(Some(&bea), reply).await;
    assert_eq!(status, 204);
    drain_all(&all).await;
    for (app, forum) in [(alpha, "maths"), (gamma, remote.as_str())] {
        let t = thread_titled(app, forum, "Number bonds to 10 and 20").await;
        assert_eq!(t["posts"][0]["deleted"], true, "{}: {t}", app.address);
        assert!(t["posts"][0]["html"].is_null(), "{t}");
    }
    let _ = thread;
}

async fn unfollowing_stops_delivery(backend: Backend) {
    let net = network(backend, 3).await;
    let all: Vec<&TestApp> = net.iter().collect();
    let (alpha, beta, gamma) = (&net[0], &net[1], &net[2]);
    let (alice, _bea, gus) = three_schools(&net).await;
    let remote = format!("maths@{}", alpha.domain());
    let (status, _) = gamma
        .api(
            Method::DELETE,
            &format!("/api/v1/follows/{remote}"),
            Some(&gus),
            None,
        )
        .await;
    assert_eq!(status, 204);
    drain_all(&all).await;
    alpha
        .thread(&alice, "maths", "After gamma left", "Only beta hears this.")
        .await;
    drain_all(&all).await;
    thread_titled(beta, &remote, "After gamma left").await;
    let (status, body) = gamma
        .read(&format!("/api/v1/forums/{remote}/threads"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["threads"],
        json!([]),
        "gamma got nothing after unfollowing"
    );
}

async fn educators_follow_and_answer_remote_forums_in_the_browser(backend: Backend) {
    let net = network(backend, 2).await;
    let all: Vec<&TestApp> = net.iter().collect();
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("admin", true).await;
    let admin = alpha.token("admin").await;
    alpha.forum_named(&admin, "maths").await;
    alpha.create_user("alice", false).await;
    let alice = alpha.token("alice").await;
    alpha
        .thread(
            &alice,
            "maths",
            "Mental maths warm-ups",
            "What do you start lessons with?",
        )
        .await;
    beta.create_user("bea", false).await;
    let handle = format!("maths@{}", alpha.domain());

    // Visitors see no follow form; educators do.
    let (_, page) = beta.get(&TestApp::browser(), "/").await;
    assert!(!page.contains("Follow a forum on another server"), "{page}");
    let bea = beta.logged_in("bea").await;
    let (_, page) = beta.get(&bea, "/").await;
    assert!(page.contains("Follow a forum on another server"), "{page}");

    // A mistake comes back beside the field, with what was typed.
    let wrong = format!("nobody@{}", alpha.domain());
    let res = beta
        .submit(&bea, "/", "/follows", &[("target", wrong.as_str())])
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"target-error\""), "{page}");
    assert!(page.contains(&format!("value=\"{wrong}\"")), "{page}");
    let res = beta.submit(&bea, "/", "/follows", &[("target", "")]).await;
    assert_eq!(res.status(), 422);

    // Following by handle.
    let res = beta
        .submit(&bea, "/", "/follows", &[("target", handle.as_str())])
        .await;
    assert_eq!(res.status(), 303);
    drain_all(&all).await;
    let (_, page) = beta.get(&bea, "/").await;
    assert!(page.contains(&format!("href=\"/f/{handle}\"")), "{page}");
    assert!(page.contains(&format!("from {}", alpha.domain())), "{page}");

    // The remote forum's page, its thread, and who wrote it.
    let (status, page) = beta.get(&bea, &format!("/f/{handle}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("This forum lives on"), "{page}");
    assert!(page.contains("Mental maths warm-ups"), "{page}");
    assert!(page.contains("Unfollow"), "{page}");
    let thread = thread_titled(beta, &handle, "Mental maths warm-ups").await;
    let thread_id = thread["thread"]["id"].as_i64().unwrap();
    let (_, page) = beta.get(&bea, &format!("/t/{thread_id}")).await;
    assert!(
        page.contains(&format!("@alice@{}", alpha.domain())),
        "{page}"
    );
    assert!(
        page.contains(&format!("original on {}", alpha.domain())),
        "{page}"
    );
    assert!(
        page.contains(&format!("href=\"{}\"", alpha.url("/u/alice"))),
        "{page}"
    );

    // Answering on beta's page reaches alpha.
    let res = beta
        .submit(
            &bea,
            &format!("/t/{thread_id}/reply"),
            &format!("/t/{thread_id}/reply"),
            &[
                ("body", "Counting in sevens, round the room."),
                ("in_reply_to", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    drain_all(&all).await;
    let on_alpha = thread_titled(alpha, "maths", "Mental maths warm-ups").await;
    assert_eq!(on_alpha["posts"].as_array().unwrap().len(), 1, "{on_alpha}");

    // Unfollowing from the forum's page.
    let res = beta
        .submit(
            &bea,
            &format!("/f/{handle}"),
            "/follows/delete",
            &[("target", handle.as_str())],
        )
        .await;
    assert_eq!(res.status(), 303);
    drain_all(&all).await;
    let (_, page) = beta.get(&bea, "/").await;
    assert!(!page.contains(&format!("href=\"/f/{handle}\"")), "{page}");
}

async fn helpful_marks_travel_and_count_once(backend: Backend) {
    let net = network(backend, 3).await;
    let all: Vec<&TestApp> = net.iter().collect();
    let (alpha, beta, gamma) = (&net[0], &net[1], &net[2]);
    let (alice, bea, _gus) = three_schools(&net).await;
    let remote = format!("maths@{}", alpha.domain());
    alpha
        .thread(&alice, "maths", "Fluency", "Little and often.")
        .await;
    drain_all(&all).await;
    let on_beta = thread_titled(beta, &remote, "Fluency").await;
    let opening_on_beta = on_beta["opening_post"]["id"].as_i64().unwrap();

    // bea marks alice's post on beta: counted on alpha, and relayed to gamma.
    for _ in 0..2 {
        let (status, body) = beta
            .api(
                Method::POST,
                &format!("/api/v1/posts/{opening_on_beta}/helpful"),
                Some(&bea),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["helpful_count"], 1, "marking twice counts once");
    }
    drain_all(&all).await;
    for (app, forum) in [(alpha, "maths"), (gamma, remote.as_str())] {
        let t = thread_titled(app, forum, "Fluency").await;
        assert_eq!(
            t["opening_post"]["helpful_count"], 1,
            "{}: {t}",
            app.address
        );
    }

    // alice marks bea's reply from alpha: bea's own instance counts it.
    let reply = beta
        .reply(
            &bea,
            on_beta["thread"]["id"].as_i64().unwrap(),
            "Daily practice.",
            None,
        )
        .await;
    drain_all(&all).await;
    let reply_on_alpha = thread_titled(alpha, "maths", "Fluency").await["posts"][0]["id"]
        .as_i64()
        .unwrap();
    let (status, body) = alpha
        .api(
            Method::POST,
            &format!("/api/v1/posts/{reply_on_alpha}/helpful"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    drain_all(&all).await;
    let (_, post) = beta.read(&format!("/api/v1/posts/{reply}")).await;
    assert_eq!(post["helpful_count"], 1, "{post}");

    // Taking the mark back travels too.
    let (status, body) = beta
        .api(
            Method::DELETE,
            &format!("/api/v1/posts/{opening_on_beta}/helpful"),
            Some(&bea),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["helpful_count"], 0);
    drain_all(&all).await;
    for (app, forum) in [(alpha, "maths"), (gamma, remote.as_str())] {
        let t = thread_titled(app, forum, "Fluency").await;
        assert_eq!(
            t["opening_post"]["helpful_count"], 0,
            "{}: {t}",
            app.address
        );
    }
}

async fn sent_activities_are_readable_and_forgotten_in_time(backend: Backend) {
    let net = network(backend, 3).await;
    let all: Vec<&TestApp> = net.iter().collect();
    let alpha = &net[0];
    let (alice, _, _) = three_schools(&net).await;
    alpha
        .thread(&alice, "maths", "Kept a while", "Then forgotten.")
        .await;
    drain_all(&all).await;

    // An Accept reads at its id; an Announce (which carries a post as it was) does not.
    let accept = column(
        alpha,
        "SELECT ap_id AS v FROM activities WHERE kind = 'Accept'",
    );
    assert_eq!(accept.len(), 2, "one Accept per follower: {accept:?}");
    let res = reqwest::Client::new()
        .get(&accept[0])
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], "Accept");
    assert_eq!(body["id"], accept[0].as_str());
    let announce = column(
        alpha,
        "SELECT ap_id AS v FROM activities WHERE kind = 'Announce'",
    );
    assert!(!announce.is_empty());
    let res = reqwest::get(&announce[0]).await.unwrap();
    assert_eq!(res.status(), 404);

    // A month on, housekeeping forgets them (nothing waits to be delivered).
    let month_ago = (chrono::Utc::now() - chrono::TimeDelta::days(40))
        .naive_utc()
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    for table in ["activities", "outbox_events"] {
        column(
            alpha,
            &format!("UPDATE {table} SET created_at = '{month_ago}' RETURNING 'x' AS v"),
        );
    }
    column(
        alpha,
        &format!("UPDATE received_activities SET received_at = '{month_ago}' RETURNING 'x' AS v"),
    );
    alpha.site.housekeeping().await.unwrap();
    for table in ["activities", "outbox_events", "received_activities"] {
        let left = column(
            alpha,
            &format!("SELECT CAST(COUNT(*) AS TEXT) AS v FROM {table}"),
        );
        assert_eq!(left, vec!["0".to_string()], "{table}");
    }
}

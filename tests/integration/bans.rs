//! Bans and moving threads: a person banned from a forum or the whole instance cannot post
//! there while the ban lasts (through the API, the pages and from other servers), each role
//! tried against each action; bans travel as Lemmy's `Block` and `Undo(Block)`; threads move
//! between forums with their counts.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::following::{mastodon_style_reply, post_signed};
use crate::moderation::{appoint, log_of, patch_thread, school, try_reply, two_schools};
use crate::support::{drain_all, expect_error, main_of, network, wait_until, TestApp};

both_backends!(
    a_ban_keeps_a_person_from_posting_in_one_forum,
    bans_are_for_moderators_and_spare_administrators,
    a_ban_ends_by_itself_when_its_time_is_up,
    an_instance_ban_can_take_everything_they_posted,
    bans_are_made_and_lifted_on_the_pages,
    a_thread_moves_to_another_forum_with_its_counts,
    bans_reach_the_servers_that_follow_the_forum,
    a_moderator_elsewhere_bans_in_lemmys_words,
    a_persons_own_server_bans_them_here_too,
    a_banned_server_actor_is_refused_at_every_inbox,
);

pub(crate) async fn ban(
    app: &TestApp,
    token: &str,
    forum: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let path = match forum {
        Some(f) => format!("/api/v1/forums/{f}/bans"),
        None => "/api/v1/admin/bans".to_string(),
    };
    app.api(Method::POST, &path, Some(token), Some(body)).await
}

async fn unban(app: &TestApp, token: &str, forum: Option<&str>, person: &str) -> (u16, Value) {
    let path = match forum {
        Some(f) => format!("/api/v1/forums/{f}/bans/{person}"),
        None => format!("/api/v1/admin/bans/{person}"),
    };
    app.api(Method::DELETE, &path, Some(token), None).await
}

async fn banned_names(app: &TestApp, token: &str, forum: Option<&str>) -> Vec<String> {
    let path = match forum {
        Some(f) => format!("/api/v1/forums/{f}/bans"),
        None => "/api/v1/admin/bans".to_string(),
    };
    let (status, list) = app.api(Method::GET, &path, Some(token), None).await;
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .map(|b| b["person"]["name"].as_str().unwrap().to_string())
        .collect()
}

async fn try_thread(app: &TestApp, token: &str, forum: &str, title: &str) -> (u16, Value) {
    app.api(
        Method::POST,
        &format!("/api/v1/forums/{forum}/threads"),
        Some(token),
        Some(json!({"title": title, "body": "Words."})),
    )
    .await
}

async fn a_ban_keeps_a_person_from_posting_in_one_forum(backend: Backend) {
    let (app, [head, bea, _cara, dev]) = school(backend).await;
    let thread = app
        .thread(&head, "maths", "Fractions", "Halves first?")
        .await;
    let own = app.reply(&dev, thread, "Quarters, surely.", None).await;
    let elsewhere = app.thread(&head, "science", "Magnets", "Poles?").await;

    let (status, body) = ban(
        &app,
        &bea,
        Some("maths"),
        json!({"person": "dev", "reason": "Advertising <b>worksheets</b>"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["person"]["name"], "dev");
    assert_eq!(body["forum"], "maths");
    assert_eq!(body["expires_at"], Value::Null);
    assert_eq!(banned_names(&app, &bea, Some("maths")).await, ["dev"]);

    // In maths dev can neither reply, start a thread, edit nor mark helpful: 403 banned, told why.
    let (status, body) = try_reply(&app, &dev, thread, "But quarters!").await;
    expect_error(status, &body, 403, "banned");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("this forum"), "{body}");
    assert!(message.contains("Advertising <b>worksheets</b>"), "{body}");
    let (status, body) = try_thread(&app, &dev, "maths", "Decimals").await;
    expect_error(status, &body, 403, "banned");
    let (status, body) = app.edit_post(Some(&dev), own, "Edited while banned").await;
    expect_error(status, &body, 403, "banned");
    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    let opening = page["opening_post"]["id"].as_i64().unwrap();
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/posts/{opening}/helpful"),
            Some(&dev),
            None,
        )
        .await;
    expect_error(status, &body, 403, "banned");
    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(page["thread"]["reply_count"], 1, "nothing stored: {page}");
    assert_eq!(page["posts"][0]["body"], "Quarters, surely.");

    // Everywhere else dev posts as before.
    let (status, body) = try_reply(&app, &dev, elsewhere, "North and south.").await;
    assert_eq!(status, 201, "{body}");

    // Lifted: dev replies again; lifting again finds no ban.
    let (status, body) = unban(&app, &bea, Some("maths"), "dev").await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = try_reply(&app, &dev, thread, "Thank you.").await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = unban(&app, &bea, Some("maths"), "dev").await;
    expect_error(status, &body, 404, "not_found");
    assert!(banned_names(&app, &bea, Some("maths")).await.is_empty());

    // Both are in the forum's log, with the reason.
    let entries = log_of(&app, None, "maths").await;
    assert_eq!(entries[0]["action"], "unban");
    assert_eq!(entries[1]["action"], "ban");
    assert_eq!(entries[1]["person"]["name"], "dev");
    assert_eq!(entries[1]["reason"], "Advertising <b>worksheets</b>");
    let (status, page) = app.get(&TestApp::browser(), "/f/maths/modlog").await;
    assert_eq!(status, 200);
    let main = main_of(&page);
    assert!(main.contains("worksheets"), "{main}");
    assert!(
        !main.contains("<b>worksheets"),
        "the reason is shown escaped: {main}"
    );
}

async fn bans_are_for_moderators_and_spare_administrators(backend: Backend) {
    let (app, [head, bea, cara, dev]) = school(backend).await;
    let body = json!({"person": "dev", "reason": "Rude"});
    // Not maths's moderators: refused.
    let (status, reply) = ban(&app, &cara, Some("maths"), body.clone()).await;
    expect_error(status, &reply, 403, "moderators_only");
    let (status, reply) = ban(
        &app,
        &dev,
        Some("maths"),
        json!({"person": "cara", "reason": "x"}),
    )
    .await;
    expect_error(status, &reply, 403, "moderators_only");
    let (status, reply) = app
        .api(Method::GET, "/api/v1/forums/maths/bans", Some(&dev), None)
        .await;
    expect_error(status, &reply, 403, "moderators_only");
    let (status, reply) = app
        .api(Method::GET, "/api/v1/forums/maths/bans", None, None)
        .await;
    assert_eq!(status, 401, "{reply}");
    // Only administrators ban from the whole instance.
    for token in [&bea, &cara, &dev] {
        let (status, reply) = ban(&app, token, None, body.clone()).await;
        expect_error(status, &reply, 403, "admin_only");
        let (status, reply) = app
            .api(Method::GET, "/api/v1/admin/bans", Some(token), None)
            .await;
        expect_error(status, &reply, 403, "admin_only");
    }
    // Administrators, oneself, and (but for administrators) fellow moderators are spared.
    let (status, reply) = ban(
        &app,
        &bea,
        Some("maths"),
        json!({"person": "head", "reason": "x"}),
    )
    .await;
    expect_error(status, &reply, 403, "cannot_ban_admin");
    let (status, reply) = ban(
        &app,
        &bea,
        Some("maths"),
        json!({"person": "bea", "reason": "x"}),
    )
    .await;
    expect_error(status, &reply, 403, "cannot_ban_self");
    let (status, reply) = appoint(&app, &head, "maths", "cara").await;
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = ban(
        &app,
        &bea,
        Some("maths"),
        json!({"person": "cara", "reason": "x"}),
    )
    .await;
    expect_error(status, &reply, 403, "cannot_ban_moderator");
    let (status, reply) = ban(&app, &head, None, json!({"person": "head", "reason": "x"})).await;
    expect_error(status, &reply, 403, "cannot_ban_self");

    // What is wrong with a ban is said next to its field.
    let (status, reply) = ban(&app, &bea, Some("maths"), json!({"person": "dev"})).await;
    expect_error(status, &reply, 422, "invalid_input");
    assert!(reply["fields"]["reason"].is_string(), "{reply}");
    let (status, reply) = ban(
        &app,
        &bea,
        Some("maths"),
        json!({"person": "dev", "reason": "x".repeat(1001)}),
    )
    .await;
    expect_error(status, &reply, 422, "invalid_input");
    let (status, reply) = ban(
        &app,
        &bea,
        Some("maths"),
        json!({"person": "dev", "reason": "Rude", "expires_at": "2001-01-01T00:00:00Z"}),
    )
    .await;
    expect_error(status, &reply, 422, "invalid_input");
    assert!(reply["fields"]["expires_at"].is_string(), "{reply}");
    let (status, reply) = ban(
        &app,
        &bea,
        Some("maths"),
        json!({"person": "nobody", "reason": "x"}),
    )
    .await;
    expect_error(status, &reply, 422, "unknown_person");
    let (status, reply) = ban(&app, &bea, Some("history"), body.clone()).await;
    expect_error(status, &reply, 404, "not_found");
    assert!(banned_names(&app, &head, Some("maths")).await.is_empty());

    // An administrator bans in any forum, and a fellow moderator too.
    let (status, reply) = ban(
        &app,
        &head,
        Some("maths"),
        json!({"person": "cara", "reason": "x"}),
    )
    .await;
    assert_eq!(status, 201, "{reply}");
    let (status, reply) = ban(&app, &head, Some("science"), body).await;
    assert_eq!(status, 201, "{reply}");
}

async fn a_ban_ends_by_itself_when_its_time_is_up(backend: Backend) {
    let (app, [_head, bea, _cara, dev]) = school(backend).await;
    let thread = app
        .thread(&bea, "maths", "Fractions", "Halves first?")
        .await;
    // Ends three seconds from now: far more than a request takes, however loaded the machine.
    let ends = chrono::Utc::now() + chrono::TimeDelta::seconds(3);
    let (status, body) = ban(
        &app,
        &bea,
        Some("maths"),
        json!({"person": "dev", "reason": "Cool off", "expires_at": ends.to_rfc3339()}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["expires_at"].is_string(), "{body}");
    let (status, body) = try_reply(&app, &dev, thread, "Too soon").await;
    expect_error(status, &body, 403, "banned");
    assert!(
        body["message"].as_str().unwrap().contains(" until "),
        "{body}"
    );
    // The server drops it from the list of bans in force when its time is up.
    wait_until("the ban to end", || {
        let (app, bea) = (&app, &bea);
        async move { banned_names(app, bea, Some("maths")).await.is_empty() }
    })
    .await;
    let (status, body) = try_reply(&app, &dev, thread, "Back again").await;
    assert_eq!(status, 201, "{body}");
}

async fn an_instance_ban_can_take_everything_they_posted(backend: Backend) {
    let (app, [head, bea, _cara, dev]) = school(backend).await;
    let maths = app
        .thread(&dev, "maths", "Buy now", "Worksheets for sale")
        .await;
    let science = app.thread(&bea, "science", "Magnets", "Poles?").await;
    let reply = app.reply(&dev, science, "Buy magnets from me", None).await;
    let kept = app.reply(&bea, science, "Iron filings.", None).await;

    let (status, body) = ban(
        &app,
        &head,
        None,
        json!({"person": "dev", "reason": "Spam everywhere", "remove_content": true}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["forum"], Value::Null);
    assert_eq!(banned_names(&app, &head, None).await, ["dev"]);
    // Nowhere to post now.
    for forum in ["maths", "science"] {
        let (status, body) = try_thread(&app, &dev, forum, "Again").await;
        expect_error(status, &body, 403, "banned");
        assert!(body["message"].as_str().unwrap().contains("this instance"));
    }
    // Everything dev posted is removed (reversibly), the rest stays.
    let (_, page) = app.read(&format!("/api/v1/threads/{maths}")).await;
    assert_eq!(page["opening_post"]["removed"], true, "{page}");
    let (_, page) = app.read(&format!("/api/v1/threads/{science}")).await;
    let by_id = |id: i64| {
        page["posts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id(reply)["removed"], true, "{page}");
    assert_eq!(by_id(reply)["removal_reason"], "Spam everywhere");
    assert_eq!(by_id(kept)["removed"], false);
    // Removed, not destroyed: a moderator restores a post.
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/posts/{reply}/restore"),
            Some(&head),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["removed"], false);

    // Lifted by an administrator; dev posts again.
    let (status, body) = unban(&app, &head, None, "dev").await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = try_thread(&app, &dev, "maths", "Sorry").await;
    assert_eq!(status, 201, "{body}");

    // The instance's own log lists both, for anyone, on the page and through the API; no
    // forum's log does.
    let (status, log) = app.read("/api/v1/modlog").await;
    assert_eq!(status, 200, "{log}");
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["unban", "ban"], "{log}");
    assert_eq!(log["entries"][1]["person"]["name"], "dev");
    assert_eq!(log["entries"][1]["reason"], "Spam everywhere");
    assert!(log_of(&app, None, "maths")
        .await
        .iter()
        .all(|e| e["action"] != "ban"));
    let (status, page) = app.get(&TestApp::browser(), "/modlog").await;
    assert_eq!(status, 200);
    let main = main_of(&page);
    assert!(main.contains("Moderation log: this instance"), "{main}");
    assert!(main.contains("Spam everywhere"), "{main}");
}

async fn bans_are_made_and_lifted_on_the_pages(backend: Backend) {
    let (app, [_head, _bea, _cara, dev]) = school(backend).await;
    let thread = app
        .thread(&dev, "maths", "Fractions", "Halves first?")
        .await;
    let bea = app.logged_in("bea").await;

    // Only moderators see the page.
    let devs = app.logged_in("dev").await;
    let (status, _) = app.get(&devs, "/f/maths/bans").await;
    assert_eq!(status, 403);
    let (status, page) = app.get(&bea, "/f/maths/bans").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("No one is banned"), "{page}");

    // A mistake comes back with the message by its field and the words kept.
    let res = app
        .submit(
            &bea,
            "/f/maths/bans",
            "/f/maths/bans",
            &[("person", "dev"), ("reason", ""), ("expires_on", "")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"reason-error\""), "{page}");
    assert!(page.contains("value=\"dev\""), "{page}");

    let res = app
        .submit(
            &bea,
            "/f/maths/bans",
            "/f/maths/bans",
            &[
                ("person", "dev"),
                ("reason", "Off topic, again"),
                ("expires_on", "2099-01-31"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, page) = app.get(&bea, "/f/maths/bans").await;
    assert!(page.contains("Off topic, again"), "{page}");
    assert!(page.contains("31 January 2099"), "{page}");

    // dev, banned, is told so where the reply form would be, and a reply is refused.
    let (_, page) = app.get(&devs, &format!("/t/{thread}")).await;
    assert!(
        page.contains("You are banned from posting in this forum"),
        "{page}"
    );
    let res = app
        .submit(
            &devs,
            &format!("/t/{thread}"),
            &format!("/t/{thread}/reply"),
            &[("body", "Still here")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 403);
    let page = res.text().await.unwrap();
    assert!(page.contains("banned"), "{page}");

    // Lifted from the page.
    let res = app
        .submit(
            &bea,
            "/f/maths/bans",
            "/f/maths/bans/lift",
            &[("person", "dev")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, page) = app.get(&bea, "/f/maths/bans").await;
    assert!(page.contains("No one is banned"), "{page}");
    let (status, body) = try_reply(&app, &app.token("dev").await, thread, "Back").await;
    assert_eq!(status, 201, "{body}");

    // The instance's bans, for administrators only.
    let (status, _) = app.get(&bea, "/admin/bans").await;
    assert_eq!(status, 403);
    let head = app.logged_in("head").await;
    let res = app
        .submit(
            &head,
            "/admin/bans",
            "/admin/bans",
            &[
                ("person", "dev"),
                ("reason", "Spam"),
                ("expires_on", ""),
                ("remove_content", "on"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, page) = app.get(&head, "/admin/bans").await;
    assert!(page.contains("Spam"), "{page}");
    assert!(page.contains("until lifted"), "{page}");
    let (_, thread_page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(thread_page["opening_post"]["removed"], true);
    let res = app
        .submit(
            &head,
            "/admin/bans",
            "/admin/bans/lift",
            &[("person", "dev")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, page) = app.get(&head, "/admin/bans").await;
    assert!(page.contains("No one is banned"), "{page}");
}

async fn a_thread_moves_to_another_forum_with_its_counts(backend: Backend) {
    let (app, [head, bea, cara, dev]) = school(backend).await;
    let thread = app.thread(&dev, "maths", "Magnets", "Which pole?").await;
    app.reply(&cara, thread, "North.", None).await;
    let forum = |name: &'static str| {
        let app = &app;
        async move {
            let (_, f) = app.read(&format!("/api/v1/forums/{name}")).await;
            (
                f["thread_count"].as_i64().unwrap(),
                f["post_count"].as_i64().unwrap(),
            )
        }
    };
    assert_eq!(forum("maths").await, (1, 2));
    assert_eq!(forum("science").await, (0, 0));

    // bea moderates maths, not science; dev neither.
    let (status, body) = patch_thread(&app, Some(&bea), thread, json!({"forum": "science"})).await;
    expect_error(status, &body, 403, "moderators_only");
    let (status, body) = patch_thread(&app, Some(&dev), thread, json!({"forum": "science"})).await;
    expect_error(status, &body, 403, "moderators_only");
    let (status, body) = patch_thread(&app, Some(&head), thread, json!({"forum": "history"})).await;
    expect_error(status, &body, 422, "unknown_forum");
    // Both forums' moderator (here an administrator) moves it.
    let (status, body) = patch_thread(
        &app,
        Some(&head),
        thread,
        json!({"forum": "science", "reason": "It is physics"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["thread"]["forum"], "science", "{body}");
    assert_eq!(forum("maths").await, (0, 0));
    assert_eq!(forum("science").await, (1, 2));
    let (_, listed) = app.read("/api/v1/forums/science/threads").await;
    assert!(listed.to_string().contains("Magnets"), "{listed}");
    let (_, listed) = app.read("/api/v1/forums/maths/threads").await;
    assert!(!listed.to_string().contains("Magnets"), "{listed}");
    for forum in ["maths", "science"] {
        let entries = log_of(&app, None, forum).await;
        assert_eq!(entries[0]["action"], "move", "{forum}");
        assert_eq!(entries[0]["reason"], "It is physics");
        assert_eq!(entries[0]["thread"]["title"], "Magnets");
    }
    // cara moderates science now: she moves it back only if she moderates maths too.
    let (status, body) = patch_thread(&app, Some(&cara), thread, json!({"forum": "maths"})).await;
    expect_error(status, &body, 403, "moderators_only");

    // Moved on the page too, by choosing the forum.
    let head_web = app.logged_in("head").await;
    let (status, page) = app.get(&head_web, &format!("/t/{thread}/move")).await;
    assert_eq!(status, 200, "{page}");
    let res = app
        .submit(
            &head_web,
            &format!("/t/{thread}/move"),
            &format!("/t/{thread}/move"),
            &[("forum", "maths"), ("reason", "Back to maths")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(forum("maths").await, (1, 2));
}

/// alpha's maths is followed from beta, where bea lives; she started nothing yet.
async fn followed_from_beta(backend: Backend) -> (Vec<TestApp>, String, i64, String) {
    let (net, head, _alice, thread) = two_schools(backend).await;
    let (alpha, beta) = (&net[0], &net[1]);
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let handle = format!("maths@{}", alpha.domain());
    let (status, body) = beta.follow(&bea, &handle).await;
    assert_eq!(status, 202, "{body}");
    drain_all(&[alpha, beta]).await;
    let _ = head;
    (net, handle, thread, bea)
}

async fn bans_reach_the_servers_that_follow_the_forum(backend: Backend) {
    let (net, handle, thread, bea) = followed_from_beta(backend).await;
    let (alpha, beta) = (&net[0], &net[1]);
    let head = alpha.token("head").await;
    let alice = alpha.token("alice").await;
    let thread2 = alpha
        .thread(&alice, "maths", "Rounding", "To the nearest ten.")
        .await;
    drain_all(&[alpha, beta]).await;
    let copy = crate::conversation::thread_titled(beta, &handle, "Rounding").await;
    let copy_id = copy["thread"]["id"].as_i64().unwrap();
    let (status, body) = try_reply(beta, &bea, copy_id, "Up from five.").await;
    assert_eq!(status, 201, "{body}");
    drain_all(&[alpha, beta]).await;

    // head bans bea (of beta) from maths, taking what she posted there.
    let person = format!("bea@{}", beta.domain());
    let (status, body) = ban(
        alpha,
        &head,
        Some("maths"),
        json!({"person": person, "reason": "Trolling", "expires_at": "2099-01-01T00:00:00Z", "remove_content": true}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    drain_all(&[alpha, beta]).await;

    // beta knows: it refuses her reply itself, and its copy of her post is removed.
    let (status, body) = try_reply(beta, &bea, copy_id, "Why?").await;
    expect_error(status, &body, 403, "banned");
    assert!(
        body["message"].as_str().unwrap().contains("1 January 2099"),
        "{body}"
    );
    let copy = crate::conversation::thread_titled(beta, &handle, "Rounding").await;
    assert_eq!(copy["posts"][0]["removed"], true, "{copy}");
    // And alpha refuses what she sends, the long way too.
    use staffroom::forum::incoming::{IncomingPost, Placement};
    let her = alpha
        .site
        .person_by_handle(person.clone())
        .await
        .unwrap()
        .unwrap();
    let (_, page) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
    let opening = page["opening_post"]["id"].as_i64().unwrap();
    let refused = alpha
        .site
        .receive_post(
            her,
            Placement::Reply { parent_id: opening },
            IncomingPost {
                ap_id: beta.url("/p/refused"),
                title: None,
                markdown: None,
                html: "<p>Let me in.</p>".into(),
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

    // Lifted on alpha: beta hears, and her reply goes through.
    let (status, body) = unban(alpha, &head, Some("maths"), &person).await;
    assert_eq!(status, 204, "{body}");
    drain_all(&[alpha, beta]).await;
    let (status, body) = try_reply(beta, &bea, copy_id, "Thanks.").await;
    assert_eq!(status, 201, "{body}");
    drain_all(&[alpha, beta]).await;
    let (_, page) = alpha.read(&format!("/api/v1/threads/{thread2}")).await;
    assert!(page.to_string().contains("Thanks."), "{page}");
}

async fn a_banned_server_actor_is_refused_at_every_inbox(backend: Backend) {
    let (net, head, _alice, thread) = two_schools(backend).await;
    let (alpha, beta) = (&net[0], &net[1]);
    let reply = |text: &str| {
        mastodon_style_reply(
            beta,
            &alpha.url(&format!("/t/{thread}")),
            &alpha.url("/u/alice"),
            text,
        )
    };
    // Known here from a first reply, beta's actor is then banned from maths.
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &reply("<p>First.</p>")).await;
    assert!((200..300).contains(&status), "{status} {text}");
    let person = format!("{0}@{0}", beta.domain());
    let (status, body) = ban(
        alpha,
        &head,
        Some("maths"),
        json!({"person": person, "reason": "Flooding"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    // Sent to the author's inbox, or the shared one: refused, 403 banned, nothing stored.
    for inbox in ["/u/alice/inbox", "/inbox"] {
        let (status, text) = post_signed(beta, &alpha.url(inbox), &reply("<p>Again.</p>")).await;
        assert_eq!(status, 403, "{inbox}: {text}");
        assert!(text.contains("banned"), "{text}");
    }
    let (_, page) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(page["thread"]["reply_count"], 1, "{page}");
}

async fn a_moderator_elsewhere_bans_in_lemmys_words(backend: Backend) {
    let (net, head, _alice, thread) = two_schools(backend).await;
    let (alpha, beta) = (&net[0], &net[1]);
    let forum = alpha.url("/f/maths");
    // rita of beta is the one banned.
    beta.create_user("rita", false).await;
    let rita_url = beta.url("/u/rita");
    // Lemmy's Block, as its fixture has it, by beta's actor standing in for a moderator.
    let fixture: Value =
        serde_json::from_str(include_str!("../fixtures/lemmy/block_user.json")).unwrap();
    let block = |summary: &str| {
        let mut b = fixture.clone();
        b["id"] = json!(beta.url(&format!("/activities/block/{}", uuid::Uuid::new_v4())));
        b["actor"] = json!(beta.url("/actor"));
        b["object"] = json!(rita_url);
        b["target"] = json!(forum);
        b["cc"] = json!([forum]);
        b["audience"] = json!(forum);
        b["summary"] = json!(summary);
        b["removeData"] = json!(false);
        b["endTime"] = json!("2099-11-01T12:23:50.151874Z");
        b
    };
    let bans_here =
        || async { banned_names(alpha, &alpha.token("head").await, Some("maths")).await };
    // Not a moderator of maths: refused, nothing changes.
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &block("Not mine")).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("moderators_only"), "{text}");
    assert!(bans_here().await.is_empty());

    // Appointed, the same is taken, with Lemmy's end time.
    let moderator = format!("{0}@{0}", beta.domain());
    let (status, body) = appoint(alpha, &head, "maths", &moderator).await;
    assert_eq!(status, 200, "{body}");
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &block("spam post")).await;
    assert!((200..300).contains(&status), "{status} {text}");
    let (_, list) = alpha
        .api(Method::GET, "/api/v1/forums/maths/bans", Some(&head), None)
        .await;
    assert_eq!(
        list[0]["person"]["name"],
        format!("rita@{}", beta.domain()),
        "{list}"
    );
    assert_eq!(list[0]["reason"], "spam post");
    assert!(
        list[0]["expires_at"]
            .as_str()
            .unwrap()
            .starts_with("2099-11-01T12:23:50"),
        "{list}"
    );
    let entries = log_of(alpha, None, "maths").await;
    assert_eq!(entries[0]["action"], "ban");
    assert_eq!(entries[0]["moderator"]["name"], moderator);
    // Not even a moderator bans our administrator.
    let mut of_admin = block("Power grab");
    of_admin["object"] = json!(alpha.url("/u/head"));
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &of_admin).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("cannot_ban_admin"), "{text}");

    // rita's reply to the thread is refused, the long way.
    use staffroom::forum::incoming::{IncomingPost, Placement};
    let rita = alpha
        .site
        .person_by_handle(format!("rita@{}", beta.domain()))
        .await
        .unwrap()
        .unwrap();
    let (_, page) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
    let opening = page["opening_post"]["id"].as_i64().unwrap();
    let incoming = |n: u32| IncomingPost {
        ap_id: format!("https://remote.example/p/{n}"),
        title: None,
        markdown: None,
        html: "<p>Hello.</p>".into(),
        published: staffroom::forum::now(),
        updated: None,
        mentions: Vec::new(),
        ..Default::default()
    };
    let refused = alpha
        .site
        .receive_post(
            rita.clone(),
            Placement::Reply { parent_id: opening },
            incoming(1),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 403, "{refused}");
    assert!(refused.to_string().contains("banned"), "{refused}");

    // Lemmy's Undo(Block) lifts it.
    let mut inner = block("spam post");
    inner.as_object_mut().unwrap().remove("@context");
    let undo = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": beta.url(&format!("/activities/undo/{}", uuid::Uuid::new_v4())),
        "actor": beta.url("/actor"),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": inner,
        "cc": [forum],
        "type": "Undo",
        "audience": forum,
    });
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &undo).await;
    assert!((200..300).contains(&status), "{status} {text}");
    assert!(bans_here().await.is_empty());
    alpha
        .site
        .receive_post(
            rita,
            Placement::Reply { parent_id: opening },
            incoming(2),
            None,
        )
        .await
        .unwrap();
    assert_eq!(log_of(alpha, None, "maths").await[0]["action"], "unban");

    // Mbin says when a ban ends with `expires` alone: taken the same.
    let mut mbin = block("Off topic");
    mbin.as_object_mut().unwrap().remove("endTime");
    mbin["expires"] = json!("2098-05-01T00:00:00Z");
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &mbin).await;
    assert!((200..300).contains(&status), "{status} {text}");
    let (_, list) = alpha
        .api(Method::GET, "/api/v1/forums/maths/bans", Some(&head), None)
        .await;
    assert!(
        list[0]["expires_at"]
            .as_str()
            .unwrap()
            .starts_with("2098-05-01T00:00:00"),
        "{list}"
    );
}

async fn a_persons_own_server_bans_them_here_too(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("head", true).await;
    let head = alpha.token("head").await;
    alpha.forum_named(&head, "maths").await;
    beta.create_user("admin", true).await;
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let handle = format!("maths@{}", alpha.domain());
    let (status, body) = beta.follow(&bea, &handle).await;
    assert_eq!(status, 202, "{body}");
    drain_all(&[alpha, beta]).await;
    let thread = alpha
        .thread(&head, "maths", "Place value", "Base ten.")
        .await;
    drain_all(&[alpha, beta]).await;
    let copy = crate::conversation::thread_titled(beta, &handle, "Place value").await;
    let copy_id = copy["thread"]["id"].as_i64().unwrap();
    let (status, body) = try_reply(beta, &bea, copy_id, "Hundreds, tens, ones.").await;
    assert_eq!(status, 201, "{body}");
    drain_all(&[alpha, beta]).await;

    // beta's administrator bans bea from beta, taking her posts. beta tells the servers that
    // follow its own forums (none here); alpha is handed the same Block, signed by beta.
    let admin = beta.token("admin").await;
    let (status, body) = ban(
        beta,
        &admin,
        None,
        json!({"person": "bea", "reason": "Compromised account", "remove_content": true}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    beta.drained().await;
    let sent = beta_sent_block(beta).await;
    assert_eq!(sent["type"], "Block");
    assert_eq!(sent["actor"], beta.url("/u/admin"));
    assert_eq!(sent["object"], beta.url("/u/bea"));
    assert_eq!(sent["target"], beta.url("/actor"));
    assert_eq!(sent["removeData"], true);
    assert_eq!(sent["summary"], "Compromised account");
    let mut signed = sent.clone();
    signed["@context"] = json!("https://www.w3.org/ns/activitystreams");
    signed["id"] = json!(beta.url(&format!("/activities/block/{}", uuid::Uuid::new_v4())));
    signed["actor"] = json!(beta.url("/actor"));
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &signed).await;
    assert!((200..300).contains(&status), "{status} {text}");
    // On alpha bea is banned from the whole instance, and her reply is removed.
    let (_, page) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(page["posts"][0]["removed"], true, "{page}");
    assert_eq!(
        banned_names(alpha, &head, None).await,
        [format!("bea@{}", beta.domain())]
    );
    // A person of another server cannot be banned from the whole of alpha by beta.
    let mut foreign = signed.clone();
    foreign["id"] = json!(beta.url(&format!("/activities/block/{}", uuid::Uuid::new_v4())));
    foreign["object"] = json!(alpha.url("/u/head"));
    let (status, _) = post_signed(beta, &alpha.url("/inbox"), &foreign).await;
    assert!((200..300).contains(&status), "acknowledged and left aside");
    assert_eq!(banned_names(alpha, &head, None).await.len(), 1);
}

/// The last Block beta planned, as it would send it.
async fn beta_sent_block(beta: &TestApp) -> Value {
    let rows = crate::support::column(
        beta,
        "SELECT body AS v FROM activities WHERE kind = 'Block' ORDER BY id DESC LIMIT 1",
    );
    let body = rows.first().expect("a Block was planned");
    serde_json::from_str(body).unwrap()
}

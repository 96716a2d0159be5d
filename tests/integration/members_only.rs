//! Members-only forums: read and written only by their members, moderators and our
//! administrators; to everyone else (people not logged in, other people here, search engines,
//! feeds and other servers) they answer 404 everywhere, as if they did not exist; nothing of
//! them is sent to other servers, and a Follow from elsewhere gets a Reject.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::federation::fetch;
use crate::following::{mastodon_style_reply, post_signed};
use crate::moderation::{appoint, log_of, school_with, try_reply};
use crate::support::{drain_all, expect_error, federating, main_of, network, TestApp};

both_backends!(
    a_members_only_forum_is_hidden_from_everyone_else,
    members_are_let_in_and_taken_off_by_moderators,
    everyone_here_can_be_a_member,
    nothing_of_a_members_only_forum_leaves_the_instance,
);

const AP: &str = "application/activity+json";

async fn set_visibility(app: &TestApp, token: &str, forum: &str, body: Value) -> (u16, Value) {
    app.api(
        Method::PATCH,
        &format!("/api/v1/forums/{forum}"),
        Some(token),
        Some(body),
    )
    .await
}

async fn member(
    app: &TestApp,
    token: &str,
    method: Method,
    forum: &str,
    who: &str,
) -> (u16, Value) {
    app.api(
        method,
        &format!("/api/v1/forums/{forum}/members/{who}"),
        Some(token),
        None,
    )
    .await
}

/// The thread `id` as the person behind `token` reads it through the API.
async fn thread_as(app: &TestApp, token: &str, id: i64) -> (u16, Value) {
    app.api(
        Method::GET,
        &format!("/api/v1/threads/{id}"),
        Some(token),
        None,
    )
    .await
}

/// How many forums elsewhere the person behind `token` follows.
async fn follows(app: &TestApp, token: &str) -> usize {
    let (status, list) = app
        .api(Method::GET, "/api/v1/follows", Some(token), None)
        .await;
    assert_eq!(status, 200, "{list}");
    list.as_array().unwrap().len()
}

fn names(list: &Value) -> Vec<String> {
    list["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["person"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// A school whose forum `staff` is members-only (bea is a member; cara and dev are not) with
/// a thread by head that bea answered. Answers the app, the tokens of head, bea, cara and dev,
/// and the thread, its opening post and bea's reply.
async fn staff_room(backend: Backend) -> (TestApp, [String; 4], [i64; 3]) {
    let (app, tokens) = school_with(backend, federating).await;
    let head = &tokens[0];
    app.forum_named(head, "staff").await;
    let (status, forum) =
        set_visibility(&app, head, "staff", json!({"visibility": "members"})).await;
    assert_eq!(status, 200, "{forum}");
    assert_eq!(forum["visibility"], "members");
    assert_eq!(forum["all_accounts_are_members"], false);
    let (status, list) = member(&app, head, Method::PUT, "staff", "bea").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(names(&list), ["bea"]);
    let thread = app
        .thread(
            &tokens[0],
            "staff",
            "Report cards",
            "Due Friday, SECRET-WORDS.",
        )
        .await;
    let (_, page) = thread_as(&app, &tokens[0], thread).await;
    let opening = page["opening_post"]["id"].as_i64().unwrap();
    let reply = app.reply(&tokens[1], thread, "Noted, thanks.", None).await;
    // Something public to compare with.
    app.thread(&tokens[0], "maths", "Fractions", "Halves first?")
        .await;
    (app, tokens, [thread, opening, reply])
}

async fn a_members_only_forum_is_hidden_from_everyone_else(backend: Backend) {
    let (app, [head, bea, cara, _dev], [thread, opening, reply]) = staff_room(backend).await;

    // Through the API, to someone not logged in and to cara, staff does not exist.
    let api_paths = [
        "/api/v1/forums/staff".to_string(),
        "/api/v1/forums/staff/threads".into(),
        "/api/v1/forums/staff/modlog".into(),
        "/api/v1/forums/staff/moderators".into(),
        "/api/v1/forums/staff/members".into(),
        "/api/v1/forums/staff/reports".into(),
        "/api/v1/forums/staff/bans".into(),
        format!("/api/v1/threads/{thread}"),
        format!("/api/v1/posts/{opening}"),
        format!("/api/v1/posts/{reply}/revisions"),
    ];
    for token in [None, Some(cara.as_str())] {
        for path in &api_paths {
            let (status, body) = app.api(Method::GET, path, token, None).await;
            if status == 401 && token.is_none() {
                // Moderators' lists ask a visitor to log in first, whatever the forum.
                continue;
            }
            expect_error(status, &body, 404, "not_found");
            assert!(!body.to_string().contains("Report cards"), "{path}: {body}");
        }
        let (status, list) = app.api(Method::GET, "/api/v1/forums", token, None).await;
        assert_eq!(status, 200);
        let listed: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(listed, ["maths", "science"], "{token:?}");
        // head's profile leaves the thread out, and does not count it.
        let (_, profile) = app
            .api(Method::GET, "/api/v1/users/head", token, None)
            .await;
        assert_eq!(profile["threads_started"], 1, "{profile}");
        assert!(!profile.to_string().contains("Report cards"), "{profile}");
    }
    // Nor can cara write there: every attempt is told there is no such thing.
    let (status, body) = try_reply(&app, &cara, thread, "Let me in.").await;
    expect_error(status, &body, 404, "not_found");
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/forums/staff/threads",
            Some(&cara),
            Some(json!({"title": "Hello", "body": "Anyone?"})),
        )
        .await;
    expect_error(status, &body, 404, "not_found");
    for (path, body) in [
        (format!("/api/v1/posts/{reply}/helpful"), None),
        (
            format!("/api/v1/posts/{reply}/reports"),
            Some(json!({"reason": "Curious"})),
        ),
        (
            format!("/api/v1/posts/{reply}/remove"),
            Some(json!({"reason": "Curious"})),
        ),
    ] {
        let (status, answer) = app.api(Method::POST, &path, Some(&cara), body).await;
        expect_error(status, &answer, 404, "not_found");
    }
    let (status, body) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/threads/{thread}"),
            Some(&cara),
            Some(json!({"locked": true})),
        )
        .await;
    expect_error(status, &body, 404, "not_found");

    // On the pages too, for a visitor and for cara; feeds never, even for a member.
    let anonymous = TestApp::browser();
    let cara_web = app.logged_in("cara").await;
    let bea_web = app.logged_in("bea").await;
    let pages = [
        "/f/staff".to_string(),
        format!("/t/{thread}"),
        format!("/p/{reply}"),
        format!("/p/{reply}/revisions"),
        format!("/t/{thread}/reply?to={opening}&quote=1"),
        "/f/staff/modlog".into(),
        "/f/staff/members".into(),
        "/f/staff/new".into(),
    ];
    for browser in [&anonymous, &cara_web] {
        for path in &pages {
            let (status, page) = app.get(browser, path).await;
            // A visitor is sent to log in for the forms; nobody is shown anything of staff.
            assert!(status == 404 || status == 303, "{path}: {status}");
            assert!(!page.contains("Report cards"), "{path}");
        }
        let (_, index) = app.get(browser, "/").await;
        assert!(!index.contains("/f/staff"), "{index}");
        let (_, profile) = app.get(browser, "/u/head").await;
        assert!(!profile.contains("Report cards"), "{profile}");
    }
    for path in [
        "/f/staff/feed.atom".to_string(),
        format!("/t/{thread}/feed.atom"),
    ] {
        for browser in [&anonymous, &bea_web] {
            let (status, _) = app.get(browser, &path).await;
            assert_eq!(status, 404, "{path}");
        }
    }

    // Over ActivityPub: the Group, its collections, the thread, its posts, WebFinger.
    for path in [
        "/f/staff".to_string(),
        "/f/staff/outbox".into(),
        "/f/staff/followers".into(),
        "/f/staff/featured".into(),
        "/f/staff/moderators".into(),
        format!("/t/{thread}"),
        format!("/t/{thread}/context"),
        format!("/p/{opening}"),
        format!("/p/{reply}"),
        format!(
            "/.well-known/webfinger?resource=acct:staff@{}",
            app.domain()
        ),
    ] {
        let (status, _, body) = fetch(&app, &path, AP).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    let (status, _, group) = fetch(&app, "/f/maths", AP).await;
    assert_eq!((status, group["type"].as_str()), (200, Some("Group")));
    // NodeInfo counts only what the world may see: maths' thread.
    let (_, _, nodeinfo) = fetch(&app, "/nodeinfo/2.1", "application/json").await;
    assert_eq!(nodeinfo["usage"]["localPosts"], 1, "{nodeinfo}");

    // bea, a member, reads and writes, on pages kept out of search engines.
    let (status, page) = thread_as(&app, &bea, thread).await;
    assert_eq!(status, 200, "{page}");
    let (status, body) = try_reply(&app, &bea, thread, "Mine are done.").await;
    assert_eq!(status, 201, "{body}");
    let (status, page) = app.get(&bea_web, &format!("/t/{thread}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("SECRET-WORDS"), "{page}");
    assert!(page.contains(r#"<meta name="robots" content="noindex, nofollow">"#));
    assert!(!page.contains("feed.atom"), "no feed is offered");
    let (_, page) = app.get(&bea_web, "/f/staff").await;
    assert!(page.contains("noindex"));
    assert!(main_of(&page).contains("members</a> only"), "{page}");
    let (_, index) = app.get(&bea_web, "/").await;
    assert!(index.contains("Members only"), "{index}");
    let (_, page) = app.get(&bea_web, "/f/maths").await;
    assert!(!page.contains("noindex"), "public pages are indexed");
    let (_, profile) = app
        .api(Method::GET, "/api/v1/users/head", Some(&bea), None)
        .await;
    assert_eq!(profile["threads_started"], 2, "{profile}");
    // The administrator reads it without being a member.
    let (status, _) = app
        .api(
            Method::GET,
            "/api/v1/forums/staff/threads",
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 200);

    // Taken off the members, bea is out again.
    let (status, list) = member(&app, &head, Method::DELETE, "staff", "bea").await;
    assert_eq!(status, 200, "{list}");
    assert!(names(&list).is_empty());
    let (status, body) = try_reply(&app, &bea, thread, "Still here?").await;
    expect_error(status, &body, 404, "not_found");
    let (status, _) = app.get(&bea_web, &format!("/t/{thread}")).await;
    assert_eq!(status, 404);

    // The log says who closed the forum and who was let in and out.
    let actions: Vec<String> = log_of(&app, Some(&head), "staff")
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions, ["remove_member", "add_member", "members_only"]);

    // Opened again, it is everyone's.
    let (status, forum) =
        set_visibility(&app, &head, "staff", json!({"visibility": "public"})).await;
    assert_eq!(status, 200, "{forum}");
    let (status, _) = app.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(status, 200);
    let (status, body) =
        set_visibility(&app, &head, "staff", json!({"visibility": "secret"})).await;
    expect_error(status, &body, 422, "invalid_input");
    assert!(body["fields"]["visibility"].is_string(), "{body}");
}

async fn members_are_let_in_and_taken_off_by_moderators(backend: Backend) {
    let (app, [head, bea, cara, dev], [thread, _, _]) = staff_room(backend).await;
    // Only administrators say who may read a forum.
    let (status, body) = set_visibility(&app, &bea, "staff", json!({"visibility": "public"})).await;
    expect_error(status, &body, 403, "admin_only");

    // A member who does not moderate may see the list but not change it; someone outside is
    // not told the forum exists.
    let (status, list) = app
        .api(
            Method::GET,
            "/api/v1/forums/staff/members",
            Some(&bea),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(names(&list), ["bea"]);
    let (status, body) = member(&app, &bea, Method::PUT, "staff", "dev").await;
    expect_error(status, &body, 403, "moderators_only");
    let (status, body) = member(&app, &cara, Method::PUT, "staff", "cara").await;
    expect_error(status, &body, 404, "not_found");

    // A moderator of staff (cara, appointed) reads it and lets people in.
    let (status, body) = appoint(&app, &head, "staff", "cara").await;
    assert_eq!(status, 200, "{body}");
    let (status, list) = member(&app, &cara, Method::PUT, "staff", "dev").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(names(&list), ["bea", "dev"]);
    let (status, body) = try_reply(&app, &dev, thread, "Thanks for having me.").await;
    assert_eq!(status, 201, "{body}");
    // Twice is harmless; people elsewhere and unknown names are refused on the field.
    let (status, list) = member(&app, &cara, Method::PUT, "staff", "dev").await;
    assert_eq!(status, 200);
    assert_eq!(names(&list), ["bea", "dev"]);
    let remote = app
        .remember_remote_person("http://elsewhere.example", "zed")
        .await;
    let (status, body) = member(&app, &cara, Method::PUT, "staff", &remote.handle()).await;
    expect_error(status, &body, 422, "members_local_only");
    assert!(body["fields"]["person"].is_string(), "{body}");
    let (status, body) = member(&app, &cara, Method::PUT, "staff", "nobody").await;
    expect_error(status, &body, 422, "unknown_person");

    // On the page: the moderator adds with a mistake, keeps what they typed, then removes.
    let web = app.logged_in("cara").await;
    let (status, page) = app.get(&web, "/f/staff/members").await;
    assert_eq!(status, 200);
    assert!(page.contains("Add a member"), "{page}");
    let res = app
        .submit(
            &web,
            "/f/staff/members",
            "/f/staff/members",
            &[("person", "nob0dy")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains(r#"value="nob0dy""#), "{page}");
    assert!(page.contains("person-error"), "{page}");
    let res = app
        .submit(
            &web,
            "/f/staff/members",
            "/f/staff/members/remove",
            &[("person", "dev")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = app.get(&web, "/f/staff/members").await;
    assert!(!main_of(&page).contains("/u/dev"), "{page}");
    let (status, body) = try_reply(&app, &dev, thread, "Gone?").await;
    expect_error(status, &body, 404, "not_found");
    // bea, no moderator, sees the list without the forms.
    let bea_web = app.logged_in("bea").await;
    let (status, page) = app.get(&bea_web, "/f/staff/members").await;
    assert_eq!(status, 200);
    assert!(!page.contains("Add a member"), "{page}");

    // The administrator closes a forum on its settings page, and opens it again.
    let admin = app.logged_in("head").await;
    let res = app
        .submit(
            &admin,
            "/admin/forums/maths",
            "/admin/forums/maths",
            &[
                ("title", "Maths"),
                ("description", ""),
                ("visibility", "members"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (status, _) = app.read("/api/v1/forums/maths").await;
    assert_eq!(status, 404);
    let (_, page) = app.get(&admin, "/admin/forums/maths").await;
    assert!(
        page.contains(r#"value="members" checked"#),
        "the form shows the choice: {page}"
    );
    let res = app
        .submit(
            &admin,
            "/admin/forums/maths",
            "/admin/forums/maths",
            &[("title", "Maths"), ("visibility", "public")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (status, _) = app.read("/api/v1/forums/maths").await;
    assert_eq!(status, 200);
}

async fn everyone_here_can_be_a_member(backend: Backend) {
    let (app, [head, _bea, cara, _dev], [thread, _, _]) = staff_room(backend).await;
    let (status, forum) = set_visibility(
        &app,
        &head,
        "staff",
        json!({"all_accounts_are_members": true}),
    )
    .await;
    assert_eq!(status, 200, "{forum}");
    assert_eq!(forum["visibility"], "members");
    assert_eq!(forum["all_accounts_are_members"], true);
    // Every account here reads and posts; a visitor still finds nothing, nor do feeds.
    let (status, body) = try_reply(&app, &cara, thread, "Count me in.").await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = app.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(status, 404);
    let (status, _) = app.get(&TestApp::browser(), "/f/staff").await;
    assert_eq!(status, 404);
    let (status, list) = app
        .api(
            Method::GET,
            "/api/v1/forums/staff/members",
            Some(&cara),
            None,
        )
        .await;
    assert_eq!(status, 200, "{list}");
}

async fn nothing_of_a_members_only_forum_leaves_the_instance(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("head", true).await;
    let head = alpha.token("head").await;
    alpha.forum_named(&head, "maths").await;
    let before = alpha
        .thread(&head, "maths", "Place value", "Base ten.")
        .await;
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let handle = format!("maths@{}", alpha.domain());
    let (status, body) = beta.follow(&bea, &handle).await;
    assert_eq!(status, 202, "{body}");
    drain_all(&[alpha, beta]).await;
    assert_eq!(follows(beta, &bea).await, 1);

    // Closed: beta is told its follow is over (a Reject), and hears nothing more.
    let (status, body) =
        set_visibility(alpha, &head, "maths", json!({"visibility": "members"})).await;
    assert_eq!(status, 200, "{body}");
    drain_all(&[alpha, beta]).await;
    assert_eq!(follows(beta, &bea).await, 0, "the Reject ended it");
    assert_eq!(alpha.site.activities_sent("Reject").await.unwrap(), 1);
    let sent = alpha.site.activities_sent("Create").await.unwrap()
        + alpha.site.activities_sent("Announce").await.unwrap();
    let secret = alpha
        .thread(&head, "maths", "Inspection", "SECRET-WORDS")
        .await;
    let (status, body) = alpha
        .api(
            Method::PATCH,
            &format!("/api/v1/threads/{before}"),
            Some(&head),
            Some(json!({"locked": true, "reason": "Closed"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    drain_all(&[alpha, beta]).await;
    let now_sent = alpha.site.activities_sent("Create").await.unwrap()
        + alpha.site.activities_sent("Announce").await.unwrap();
    assert_eq!(now_sent, sent, "nothing about the forum went out");
    assert_eq!(alpha.site.activities_sent("Lock").await.unwrap(), 0);

    // A Follow that still reaches it (beta knows the forum) gets a Reject, and no follow.
    let (status, body) = beta.follow(&bea, &handle).await;
    assert_eq!(status, 202, "{body}");
    drain_all(&[alpha, beta]).await;
    assert_eq!(follows(beta, &bea).await, 0);
    assert_eq!(alpha.site.activities_sent("Reject").await.unwrap(), 2);

    // A reply from elsewhere to one of its threads is refused, and not stored.
    let (_, page) = thread_as(alpha, &head, secret).await;
    let opening = page["opening_post"]["url"].as_str().unwrap().to_string();
    let reply = mastodon_style_reply(beta, &opening, &alpha.url("/u/head"), "<p>Hi!</p>");
    let (status, answer) = post_signed(beta, &alpha.url("/inbox"), &reply).await;
    assert!((400..500).contains(&status), "{status}: {answer}");
    let (_, page) = thread_as(alpha, &head, secret).await;
    assert_eq!(page["thread"]["reply_count"], 0, "{page}");

    // Opened again, it can be followed as before.
    let (status, body) =
        set_visibility(alpha, &head, "maths", json!({"visibility": "public"})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = beta.follow(&bea, &handle).await;
    assert_eq!(status, 202, "{body}");
    drain_all(&[alpha, beta]).await;
    assert_eq!(follows(beta, &bea).await, 1);
    assert_eq!(alpha.site.activities_sent("Accept").await.unwrap(), 2);
}

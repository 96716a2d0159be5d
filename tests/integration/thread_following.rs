//! Following one thread from anywhere (FEDERATION.md, "Following a thread"): a server that
//! follows only a thread hears exactly that thread; the forms of `Follow` other software sends
//! are answered; a thread followed from here is filled in from its context collection.
//! Several instances run in this one process, each with its own database.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::following::post_signed;
use crate::support::{drain_all, network, wait_until, TestApp};

both_backends!(
    a_server_following_one_thread_hears_exactly_that_thread,
    every_form_of_thread_follow_is_answered,
);

/// The replies of thread `id` on `app`, as (Markdown or HTML, deleted) in order.
async fn replies(app: &TestApp, id: i64) -> Vec<(String, bool)> {
    let (status, page) = app.read(&format!("/api/v1/threads/{id}")).await;
    assert_eq!(status, 200, "{page}");
    page["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let text = p["body"]
                .as_str()
                .filter(|b| !b.is_empty())
                .or(p["html"].as_str())
                .unwrap_or_default()
                .to_string();
            (text, p["deleted"].as_bool().unwrap())
        })
        .collect()
}

/// Whether the replies of thread `id` on `app` include one saying `words`.
async fn has_reply(app: &TestApp, id: i64, words: &str) -> bool {
    replies(app, id)
        .await
        .iter()
        .any(|(t, _)| t.contains(words))
}

/// Looks up `address` on `app` as `token`'s person; returns the local thread id.
async fn resolve_thread(app: &TestApp, token: &str, address: &str) -> i64 {
    let (status, body) = app
        .api(
            Method::GET,
            &format!(
                "/api/v1/resolve?q={}",
                percent_encoding::utf8_percent_encode(address, percent_encoding::NON_ALPHANUMERIC)
            ),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["type"], "thread", "{body}");
    body["thread"]["id"].as_i64().unwrap()
}

async fn a_server_following_one_thread_hears_exactly_that_thread(backend: Backend) {
    let net = network(backend, 3).await;
    let all: Vec<&TestApp> = net.iter().collect();
    let (alpha, beta, gamma) = (&net[0], &net[1], &net[2]);
    alpha.create_user("admin", true).await;
    let admin = alpha.token("admin").await;
    alpha.forum_named(&admin, "maths").await;
    alpha.create_user("alice", false).await;
    let alice = alpha.token("alice").await;
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let gus_user = gamma.create_user("gus", false).await;
    let gus = gamma.token("gus").await;
    // beta follows the forum; gamma will follow one thread only.
    let (status, body) = beta.follow(&bea, format!("maths@{}", alpha.domain())).await;
    assert_eq!(status, 202, "{body}");
    drain_all(&all).await;
    let jars = alpha
        .thread(&alice, "maths", "Estimation jars", "How many beans?")
        .await;
    let tables = alpha
        .thread(&alice, "maths", "Times tables", "Chanting or games?")
        .await;
    drain_all(&all).await;
    // A reply written before gamma knew the thread (from beta, so it lives there).
    let (_, listed) = beta
        .read(&format!("/api/v1/forums/maths@{}/threads", alpha.domain()))
        .await;
    let jars_on_beta = listed["threads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == "Estimation jars")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    beta.reply(&bea, jars_on_beta, "EARLY: beans, then buttons.", None)
        .await;
    drain_all(&all).await;

    // gus looks the thread up: it arrives whole, the earlier reply read in from its context.
    let on_gamma = resolve_thread(gamma, &gus, &alpha.url(&format!("/t/{jars}"))).await;
    wait_until("the conversation read in from its context", || {
        has_reply(gamma, on_gamma, "EARLY")
    })
    .await;
    // The context says it can be followed.
    let context: Value = reqwest::Client::new()
        .get(alpha.url(&format!("/t/{jars}/context")))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let followers_url = alpha.url(&format!("/t/{jars}/context/followers"));
    assert_eq!(context["followers"], followers_url.as_str(), "{context}");

    // gamma's copy cannot be followed at gamma: the thread lives at alpha.
    let copy = gamma.url(&format!("/t/{on_gamma}"));
    let (status, text) = post_signed(beta, &gamma.url("/inbox"), &follow_of(beta, &copy)).await;
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("not_followable"), "{text}");

    // Watching it on gamma (nobody there follows the forum) follows it at alpha: accepted.
    let (status, body) = gamma
        .api(
            Method::PUT,
            &format!("/api/v1/threads/{on_gamma}/watch"),
            Some(&gus),
            None,
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    drain_all(&all).await;
    let follow = gamma
        .site
        .thread_follow_of(gus_user.id, on_gamma)
        .await
        .unwrap()
        .expect("a follow of the thread");
    assert!(!follow.pending, "the forum accepted it");
    assert_eq!(alpha.site.thread_follower_count(jars).await.unwrap(), 1);
    let (_, counted) = alpha.read(&format!("/t/{jars}/context/followers")).await;
    assert_eq!(counted["totalItems"], 1, "{counted}");
    let sent: Value = serde_json::from_str(
        &crate::support::column(
            gamma,
            "SELECT body AS v FROM activities WHERE kind = 'Follow'",
        )[0],
    )
    .unwrap();
    assert_eq!(sent["object"], alpha.url(&format!("/t/{jars}/context")));
    assert_eq!(sent["actor"], gamma.url("/u/gus"));

    // What happens in the thread reaches gamma: replies from alpha and from beta (relayed by
    // the forum), an edit and a deletion. The other thread does not.
    let first = alpha
        .reply(&alice, jars, "ALPHA: count in tens.", None)
        .await;
    beta.reply(&bea, jars_on_beta, "BETA: weigh them.", None)
        .await;
    let gone = alpha.reply(&alice, jars, "GONE: a mistake.", None).await;
    alpha
        .reply(&alice, tables, "OTHER: games, surely.", None)
        .await;
    drain_all(&all).await;
    let (status, body) = alpha
        .edit_post(Some(&alice), first, "ALPHA: count in tens, then fives.")
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = alpha.delete_post(Some(&alice), gone).await;
    assert!((200..300).contains(&status), "{status} {body}");
    drain_all(&all).await;
    let seen = replies(gamma, on_gamma).await;
    let texts: Vec<&str> = seen.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(texts[0].contains("EARLY"), "{seen:?}");
    assert!(texts[1].contains("count in tens, then fives"), "{seen:?}");
    assert!(texts[2].contains("BETA: weigh them"), "{seen:?}");
    assert!(seen[3].1, "the deleted reply is deleted: {seen:?}");
    assert!(!seen[0].1 && !seen[1].1 && !seen[2].1, "{seen:?}");
    assert!(
        gamma
            .site
            .thread_by_ap_id(alpha.url(&format!("/t/{tables}")))
            .await
            .unwrap()
            .is_none(),
        "the thread gamma does not follow never arrived"
    );
    let (_, told) = gamma
        .api(Method::GET, "/api/v1/notifications", Some(&gus), None)
        .await;
    let kinds: Vec<&str> = told["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["watched", "watched"], "two new replies: {told}");

    // Stopping watching undoes the follow: alpha forgets it and sends nothing more.
    let (status, body) = gamma
        .api(
            Method::DELETE,
            &format!("/api/v1/threads/{on_gamma}/watch"),
            Some(&gus),
            None,
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    drain_all(&all).await;
    assert_eq!(alpha.site.thread_follower_count(jars).await.unwrap(), 0);
    assert!(gamma
        .site
        .thread_follow_of(gus_user.id, on_gamma)
        .await
        .unwrap()
        .is_none());
    alpha
        .reply(&alice, jars, "LATE: after gamma left.", None)
        .await;
    drain_all(&all).await;
    assert!(has_reply(beta, jars_on_beta, "LATE").await);
    assert!(!has_reply(gamma, on_gamma, "LATE").await);
}

/// A Follow by `from`'s instance actor of `object` (an address on alpha).
fn follow_of(from: &TestApp, object: &str) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": from.url(&format!("/activities/follow/{}", uuid::Uuid::new_v4())),
        "type": "Follow",
        "actor": from.url("/actor"),
        "object": object,
    })
}

async fn every_form_of_thread_follow_is_answered(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("admin", true).await;
    let admin = alpha.token("admin").await;
    alpha.forum_named(&admin, "maths").await;
    alpha.forum_named(&admin, "staff").await;
    let thread = alpha
        .thread(&admin, "maths", "Place value", "Base ten.")
        .await;
    let reply = alpha.reply(&admin, thread, "And charts.", None).await;
    let inbox = alpha.url("/inbox");

    // The context, the thread, or one of its posts (Friendica's form), at the forum's inbox or
    // the shared one: one follow of the thread, each answered with an Accept from the forum.
    for (object, at) in [
        (
            alpha.url(&format!("/t/{thread}/context")),
            alpha.url("/f/maths/inbox"),
        ),
        (alpha.url(&format!("/t/{thread}")), inbox.clone()),
        (alpha.url(&format!("/p/{reply}")), inbox.clone()),
    ] {
        let (status, text) = post_signed(beta, &at, &follow_of(beta, &object)).await;
        assert!((200..300).contains(&status), "{object}: {status} {text}");
    }
    drain_all(&[alpha, beta]).await;
    assert_eq!(alpha.site.thread_follower_count(thread).await.unwrap(), 1);
    assert_eq!(alpha.site.activities_sent("Accept").await.unwrap(), 3);
    let accept: Value = serde_json::from_str(
        &crate::support::column(
            alpha,
            "SELECT body AS v FROM activities WHERE kind = 'Accept' ORDER BY id DESC",
        )[0],
    )
    .unwrap();
    assert_eq!(accept["actor"], alpha.url("/f/maths"));
    assert_eq!(
        accept["object"]["object"],
        alpha.url(&format!("/p/{reply}"))
    );
    assert_eq!(accept["object"]["actor"], beta.url("/actor"));

    // Nothing there, or not a thread: 404, and nothing stored.
    for object in [
        alpha.url("/t/999999/context"),
        alpha.url("/p/999999"),
        alpha.url("/u/admin/outbox"),
    ] {
        let (status, text) = post_signed(beta, &inbox, &follow_of(beta, &object)).await;
        assert_eq!(status, 404, "{object}: {text}");
    }

    // A thread of a members-only forum is not there for other servers: 404, and not followed.
    let closed = alpha
        .thread(&admin, "staff", "Inspection", "SECRET-WORDS")
        .await;
    let (status, body) = alpha
        .api(
            Method::PATCH,
            "/api/v1/forums/staff",
            Some(&admin),
            Some(json!({"visibility": "members"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let object = alpha.url(&format!("/t/{closed}/context"));
    let (status, text) = post_signed(beta, &inbox, &follow_of(beta, &object)).await;
    assert_eq!(status, 404, "{text}");
    drain_all(&[alpha, beta]).await;
    assert_eq!(alpha.site.thread_follower_count(closed).await.unwrap(), 0);
    assert_eq!(alpha.site.activities_sent("Accept").await.unwrap(), 3);

    // Undo: the follow ends.
    let follow = follow_of(beta, &alpha.url(&format!("/t/{thread}")));
    let undo = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": beta.url(&format!("/activities/undo/{}", uuid::Uuid::new_v4())),
        "type": "Undo",
        "actor": beta.url("/actor"),
        "object": follow,
    });
    let (status, text) = post_signed(beta, &inbox, &undo).await;
    assert!((200..300).contains(&status), "{status} {text}");
    assert_eq!(alpha.site.thread_follower_count(thread).await.unwrap(), 0);
}

//! Pins travel: a thread pinned or unpinned in one of our forums reaches the servers that
//! follow it as Lemmy's `Add` or `Remove` to the forum's `featured` collection, and the same
//! from a moderator elsewhere (in Lemmy's words) pins here, once they moderate the forum.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::conversation::thread_titled;
use crate::following::post_signed;
use crate::moderation::{appoint, followed_maths, log_of, patch_thread, two_schools};
use crate::support::drain_all;

both_backends!(
    pins_reach_every_server_that_follows_the_forum,
    a_moderator_elsewhere_pins_in_lemmys_words,
);

async fn pins_reach_every_server_that_follows_the_forum(backend: Backend) {
    let (net, head, _bea, handle) = followed_maths(backend).await;
    let (alpha, beta) = (&net[0], &net[1]);
    let thread = alpha
        .thread(&head, "maths", "Read this first", "How we work.")
        .await;
    drain_all(&[alpha, beta]).await;
    let copy = thread_titled(beta, &handle, "Read this first").await;
    assert_eq!(copy["thread"]["pinned"], false);

    let (status, body) = patch_thread(alpha, Some(&head), thread, json!({"pinned": true})).await;
    assert_eq!(status, 200, "{body}");
    drain_all(&[alpha, beta]).await;
    assert_eq!(alpha.site.activities_sent("Add").await.unwrap(), 1);
    let copy = thread_titled(beta, &handle, "Read this first").await;
    assert_eq!(copy["thread"]["pinned"], true, "{copy}");

    let (status, body) = patch_thread(alpha, Some(&head), thread, json!({"pinned": false})).await;
    assert_eq!(status, 200, "{body}");
    drain_all(&[alpha, beta]).await;
    assert_eq!(alpha.site.activities_sent("Remove").await.unwrap(), 1);
    let copy = thread_titled(beta, &handle, "Read this first").await;
    assert_eq!(copy["thread"]["pinned"], false, "{copy}");
}

async fn a_moderator_elsewhere_pins_in_lemmys_words(backend: Backend) {
    let (net, head, _alice, thread) = two_schools(backend).await;
    let (alpha, beta) = (&net[0], &net[1]);
    let forum = alpha.url("/f/maths");
    let pinned = || async {
        let (_, page) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
        page["thread"]["pinned"].as_bool().unwrap()
    };
    // Lemmy's Add and Remove of a featured post, as its fixtures have them, by beta's actor
    // standing in for a moderator there.
    let change = |path: &str| {
        let text = std::fs::read_to_string(format!(
            "{}/tests/fixtures/lemmy/{path}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let mut c: Value = serde_json::from_str(&text).unwrap();
        c["id"] = json!(beta.url(&format!("/activities/add/{}", uuid::Uuid::new_v4())));
        c["actor"] = json!(beta.url("/actor"));
        c["object"] = json!(alpha.url(&format!("/t/{thread}")));
        c["target"] = json!(format!("{forum}/featured"));
        c["cc"] = json!([forum]);
        c["audience"] = json!(forum);
        c
    };
    // Not a moderator of maths: refused, nothing changes.
    let (status, text) = post_signed(
        beta,
        &alpha.url("/inbox"),
        &change("add_featured_post.json"),
    )
    .await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("moderators_only"), "{text}");
    assert!(!pinned().await);
    // Another forum's collection is not this thread's: refused.
    let mut elsewhere = change("add_featured_post.json");
    elsewhere["target"] = json!(alpha.url("/f/science/featured"));
    let (status, _) = post_signed(beta, &alpha.url("/inbox"), &elsewhere).await;
    assert!((400..500).contains(&status), "{status}");

    // Appointed, the same pins, and the log names the moderator; Remove unpins.
    let moderator = format!("{0}@{0}", beta.domain());
    let (status, body) = appoint(alpha, &head, "maths", &moderator).await;
    assert_eq!(status, 200, "{body}");
    let (status, text) = post_signed(
        beta,
        &alpha.url("/inbox"),
        &change("add_featured_post.json"),
    )
    .await;
    assert!((200..300).contains(&status), "{status} {text}");
    assert!(pinned().await);
    let entries = log_of(alpha, None, "maths").await;
    assert_eq!(entries[0]["action"], "pin");
    assert_eq!(entries[0]["moderator"]["name"], moderator);
    let (status, text) = post_signed(
        beta,
        &alpha.url("/inbox"),
        &change("remove_featured_post.json"),
    )
    .await;
    assert!((200..300).contains(&status), "{status} {text}");
    assert!(!pinned().await);
    // Moderators of our forums are appointed here only.
    let mut appoint_elsewhere = change("add_featured_post.json");
    appoint_elsewhere["object"] = json!(beta.url("/actor"));
    appoint_elsewhere["target"] = json!(format!("{forum}/moderators"));
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &appoint_elsewhere).await;
    assert_eq!(status, 403, "{text}");
    let (_, list) = alpha
        .api(Method::GET, "/api/v1/forums/maths/moderators", None, None)
        .await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "only the one appointed: {list}"
    );
}

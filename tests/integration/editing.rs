//! Editing and deleting posts: earlier versions kept, only the author (or an administrator)
//! changes a post, deleted posts leave a placeholder, administrators pin threads.

use reqwest::Method;
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{expect_error, TestApp};
use crate::threads::setup;

both_backends!(
    authors_edit_their_posts_and_earlier_versions_are_kept,
    nobody_edits_or_deletes_someone_elses_post,
    deleted_posts_leave_a_placeholder_and_the_thread_still_reads,
    administrators_pin_threads_and_may_delete_any_post,
);

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

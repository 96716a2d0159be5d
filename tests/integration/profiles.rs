//! Profiles: what a person started and replied to, found by a post's key, and their counts.

use reqwest::Method;
use serde_json::json;
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{expect_error, TestApp};
use crate::threads::setup;

both_backends!(
    profiles_list_what_a_person_started_and_replied_to,
    profile_pages_follow_a_post_and_counts_follow_every_change,
);

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
pub(crate) async fn profile_counts(app: &TestApp, token: Option<&str>, name: &str) -> (i64, i64) {
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

//! Keeping up: watching threads and forums, and notifications of replies, quotes, mentions and
//! watched posts, through the API (the pages: `notification_pages`; from other instances:
//! `notifications_federated`).

use reqwest::Method;
use serde_json::json;
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::TestApp;

both_backends!(
    replies_quotes_and_mentions_notify_once,
    watching_threads_and_forums,
    notifications_follow_what_readers_may_see,
);

/// The caller's notifications as `(kind, post id)`, newest first, and the unread count.
pub(crate) async fn notices(
    app: &TestApp,
    token: &str,
    unread_only: bool,
) -> (Vec<(String, i64)>, i64) {
    let path = if unread_only {
        "/api/v1/notifications?unread=true"
    } else {
        "/api/v1/notifications"
    };
    let (status, body) = app.api(Method::GET, path, Some(token), None).await;
    assert_eq!(status, 200, "{body}");
    let items = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["kind"].as_str().unwrap().to_string(),
                n["post"]["id"].as_i64().unwrap(),
            )
        })
        .collect();
    (items, body["unread"].as_i64().unwrap())
}

/// The id of a thread's opening post.
async fn opening_of(app: &TestApp, thread: i64) -> i64 {
    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    page["opening_post"]["id"].as_i64().unwrap()
}

/// An instance with administrator head, people alice, bob and carol, and forum maths.
pub(crate) async fn staffroom(backend: Backend) -> (TestApp, [String; 4]) {
    let app = TestApp::spawn(backend).await;
    for (name, admin) in [
        ("head", true),
        ("alice", false),
        ("bob", false),
        ("carol", false),
    ] {
        app.create_user(name, admin).await;
    }
    let head = app.token("head").await;
    app.forum_named(&head, "maths").await;
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let carol = app.token("carol").await;
    (app, [head, alice, bob, carol])
}

async fn replies_quotes_and_mentions_notify_once(backend: Backend) {
    let (app, [_, alice, bob, carol]) = staffroom(backend).await;
    let thread = app
        .thread(&alice, "maths", "Times tables", "When do you start them?")
        .await;
    let opening = opening_of(&app, thread).await;
    // Nobody is told of their own post.
    assert_eq!(notices(&app, &alice, false).await, (vec![], 0));

    // A reply to the thread answers its opening post: alice is told, once, of a reply (she
    // also watches her own thread, but the stronger reason wins).
    let from_bob = app
        .reply(&bob, thread, "In year 2, with songs.", None)
        .await;
    assert_eq!(
        notices(&app, &alice, false).await,
        (vec![("reply".into(), from_bob)], 1)
    );

    // carol answers bob and names alice (and someone who does not exist, and alice again
    // inside code, which is not a mention): bob hears of a reply, alice of a mention.
    let from_carol = app
        .reply(
            &carol,
            thread,
            "Agreed. @alice, what about @nobody? Write `@alice` in code.",
            Some(from_bob),
        )
        .await;
    assert_eq!(
        notices(&app, &bob, false).await,
        (vec![("reply".into(), from_carol)], 1)
    );
    let (alice_told, unread) = notices(&app, &alice, false).await;
    assert_eq!(alice_told[0], ("mention".into(), from_carol));
    assert_eq!(unread, 2);
    // The mention is a link to her page; the unknown name and the code stay text.
    let (_, post) = app.read(&format!("/api/v1/posts/{from_carol}")).await;
    let html = post["html"].as_str().unwrap();
    assert!(
        html.contains(&format!("<a href=\"{}/u/alice\"", app.address)),
        "{html}"
    );
    assert!(html.contains("@nobody?"), "{html}");
    assert!(html.contains("<code>@alice</code>"), "{html}");

    // Quoting carol (as the Quote link writes it) tells her of a quote.
    let (status, page) = app
        .get(
            &app.logged_in("alice").await,
            &format!("/t/{thread}/reply?to={from_carol}&quote=1"),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("[Carol wrote]({}/p/{from_carol})", app.address)),
        "the quote names the post it quotes"
    );
    let quote = format!(
        "> [Carol wrote]({}/p/{from_carol}):\n>\n> Agreed.\n\nYes, and chanting.",
        app.address
    );
    let from_alice = app.reply(&alice, thread, &quote, Some(from_carol)).await;
    assert_eq!(
        notices(&app, &carol, false).await.0,
        vec![("quote".into(), from_alice)]
    );
    // alice answered her own thread: no notification of her own post.
    assert!(!notices(&app, &alice, false)
        .await
        .0
        .iter()
        .any(|(_, p)| *p == from_alice));

    // A flood of mentions tells twenty people, no more.
    let mut names = Vec::new();
    for n in 0..25 {
        let name = format!("teacher{n}");
        app.create_user(&name, false).await;
        names.push(format!("@{name}"));
    }
    let crowd = app
        .reply(&bob, thread, &format!("Hello {}", names.join(" ")), None)
        .await;
    let mut told = 0;
    for n in 0..25 {
        let token = app.token(&format!("teacher{n}")).await;
        if notices(&app, &token, false).await.0 == vec![("mention".into(), crowd)] {
            told += 1;
        }
    }
    assert_eq!(told, 20, "a post mentions at most twenty people");

    // Marking read: one (someone else's id alongside is ignored), then all.
    let newest = first_id(&app, &alice).await;
    let bobs = first_id(&app, &bob).await;
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/notifications/read",
            Some(&alice),
            Some(json!({"ids": [newest, bobs]})),
        )
        .await;
    assert_eq!((status, body["marked"].as_i64()), (200, Some(1)), "{body}");
    assert_eq!(body["unread"], notices(&app, &alice, true).await.1);
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/notifications/read",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["unread"], 0);
    assert_eq!(notices(&app, &alice, true).await, (vec![], 0));
    // A malformed body marks nothing.
    let bob_unread = notices(&app, &bob, true).await.1;
    assert!(bob_unread > 0);
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/notifications/read"))
        .bearer_auth(&bob)
        .header("Content-Type", "application/json")
        .body("{\"ids\": [1,")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(notices(&app, &bob, true).await.1, bob_unread);
    // Without a token: 401.
    let (status, _) = app
        .api(Method::GET, "/api/v1/notifications", None, None)
        .await;
    assert_eq!(status, 401);
    // The thread's opening post told nobody: it was alice's own.
    assert!(!notices(&app, &alice, false)
        .await
        .0
        .iter()
        .any(|(_, p)| *p == opening));
}

/// The id of the newest of the caller's notifications.
async fn first_id(app: &TestApp, token: &str) -> i64 {
    let (_, body) = app
        .api(Method::GET, "/api/v1/notifications", Some(token), None)
        .await;
    body["items"][0]["id"].as_i64().unwrap()
}

async fn watching_threads_and_forums(backend: Backend) {
    let (app, [head, alice, bob, carol]) = staffroom(backend).await;
    // head watches the forum: every new thread and reply in it tells him.
    let (status, body) = app
        .api(Method::PUT, "/api/v1/forums/maths/watch", Some(&head), None)
        .await;
    assert_eq!((status, &body["watching"]), (200, &json!(true)), "{body}");
    let thread = app
        .thread(&bob, "maths", "Place value", "Dienes blocks?")
        .await;
    let opening = opening_of(&app, thread).await;
    assert_eq!(
        notices(&app, &head, false).await.0,
        vec![("watched".into(), opening)]
    );
    // bob watches the thread he started; carol starts watching it from the API.
    let (_, page) = app
        .api(
            Method::GET,
            &format!("/api/v1/threads/{thread}"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(page["watching"], true);
    let (status, _) = app
        .api(
            Method::PUT,
            &format!("/api/v1/threads/{thread}/watch"),
            Some(&carol),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let reply = app.reply(&alice, thread, "Yes, and money.", None).await;
    assert_eq!(
        notices(&app, &carol, false).await.0,
        vec![("watched".into(), reply)]
    );
    assert_eq!(
        notices(&app, &bob, false).await.0,
        vec![("reply".into(), reply)]
    );
    assert_eq!(
        notices(&app, &head, false).await.0[0],
        ("watched".into(), reply)
    );
    // alice replied, so she watches the thread now (her setting's default).
    let (_, page) = app
        .api(
            Method::GET,
            &format!("/api/v1/threads/{thread}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(page["watching"], true);

    // carol stops watching; writing in the thread again does not start it again.
    let (status, body) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/threads/{thread}/watch"),
            Some(&carol),
            None,
        )
        .await;
    assert_eq!((status, &body["watching"]), (200, &json!(false)));
    app.reply(&carol, thread, "I use straws in bundles.", None)
        .await;
    let later = app.reply(&bob, thread, "Straws, good idea.", None).await;
    assert!(!notices(&app, &carol, false)
        .await
        .0
        .iter()
        .any(|(_, p)| *p == later));
    // alice watches: she hears of bob's reply.
    assert_eq!(
        notices(&app, &alice, false).await.0[0],
        ("watched".into(), later)
    );

    // A person who turned watching off does not watch the threads they write in.
    let (status, body) = app
        .api(
            Method::PATCH,
            "/api/v1/accounts/current",
            Some(&carol),
            Some(json!({"watch_on_post": false})),
        )
        .await;
    assert_eq!(
        (status, &body["watch_on_post"]),
        (200, &json!(false)),
        "{body}"
    );
    let (_, me) = app
        .api(Method::GET, "/api/v1/accounts/current", Some(&carol), None)
        .await;
    assert_eq!(me["watch_on_post"], false);
    assert!(me["email"]["email"].is_null(), "{me}");
    let other = app
        .thread(&carol, "maths", "Number lines", "Vertical?")
        .await;
    let (_, page) = app
        .api(
            Method::GET,
            &format!("/api/v1/threads/{other}"),
            Some(&carol),
            None,
        )
        .await;
    assert_eq!(page["watching"], false);
    let (status, body) = app
        .api(
            Method::PATCH,
            "/api/v1/accounts/current",
            Some(&carol),
            Some(json!({"watch_on_post": "yes"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    // head stops watching the forum.
    let (status, _) = app
        .api(
            Method::DELETE,
            "/api/v1/forums/maths/watch",
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let quiet = app.reply(&alice, other, "Horizontal first.", None).await;
    assert!(!notices(&app, &head, false)
        .await
        .0
        .iter()
        .any(|(_, p)| *p == quiet));
    // Unknown threads and forums: 404; without a token: 401.
    let (status, _) = app
        .api(
            Method::PUT,
            "/api/v1/threads/999999/watch",
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .api(
            Method::PUT,
            "/api/v1/forums/nowhere/watch",
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .api(Method::PUT, "/api/v1/forums/maths/watch", None, None)
        .await;
    assert_eq!(status, 401);
}

async fn notifications_follow_what_readers_may_see(backend: Backend) {
    let (app, [head, alice, bob, carol]) = staffroom(backend).await;
    let thread = app
        .thread(&alice, "maths", "Fractions", "Halves first?")
        .await;
    let reply = app
        .reply(&bob, thread, "Yes. @carol, you agree?", None)
        .await;
    assert_eq!(notices(&app, &carol, false).await.1, 1);
    assert_eq!(notices(&app, &alice, false).await.1, 1);
    // Deleted by its author: nobody is shown it any more.
    let (status, _) = app.delete_post(Some(&bob), reply).await;
    assert_eq!(status, 204);
    assert_eq!(notices(&app, &carol, false).await, (vec![], 0));
    assert_eq!(notices(&app, &alice, false).await, (vec![], 0));

    // In a members-only forum, only members are told; someone who is not is never told (the
    // mention stays a link, but leads nowhere for them).
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/forums",
            Some(&head),
            Some(json!({"name": "staff", "title": "Staff room", "description": "Staff only."})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .api(
            Method::PATCH,
            "/api/v1/forums/staff",
            Some(&head),
            Some(json!({"visibility": "members"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for name in ["alice", "bob"] {
        let (status, body) = app
            .api(
                Method::PUT,
                &format!("/api/v1/forums/staff/members/{name}"),
                Some(&head),
                None,
            )
            .await;
        assert!(status == 200 || status == 201, "{body}");
    }
    let closed = app
        .thread(&alice, "staff", "Rotas", "Who is on duty?")
        .await;
    let asked = app
        .reply(&bob, closed, "Me. @carol and @alice, see above.", None)
        .await;
    assert_eq!(notices(&app, &carol, false).await, (vec![], 0));
    // (It answers alice's thread: for her it is a reply.)
    assert_eq!(
        notices(&app, &alice, false).await.0,
        vec![("reply".into(), asked)]
    );
    // carol cannot watch what she cannot read.
    let (status, _) = app
        .api(
            Method::PUT,
            &format!("/api/v1/threads/{closed}/watch"),
            Some(&carol),
            None,
        )
        .await;
    assert_eq!(status, 404);
    // Once alice is no longer a member, the notification is not shown to her either.
    let (status, _) = app
        .api(
            Method::DELETE,
            "/api/v1/forums/staff/members/alice",
            Some(&head),
            None,
        )
        .await;
    assert!(status == 200 || status == 204);
    assert_eq!(notices(&app, &alice, false).await, (vec![], 0));
}

//! Keeping up: watching threads and forums, and notifications of replies, quotes, mentions and
//! watched posts, through the API and on the pages, from this instance and from others.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{drain_all, location, main_of, network, TestApp};

both_backends!(
    replies_quotes_and_mentions_notify_once,
    watching_threads_and_forums,
    notifications_follow_what_readers_may_see,
    notification_pages_list_open_and_clear,
    mentions_travel_between_instances,
    watching_a_forum_elsewhere,
);

/// The caller's notifications as `(kind, post id)`, newest first, and the unread count.
async fn notices(app: &TestApp, token: &str, unread_only: bool) -> (Vec<(String, i64)>, i64) {
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
async fn staffroom(backend: Backend) -> (TestApp, [String; 4]) {
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

async fn notification_pages_list_open_and_clear(backend: Backend) {
    let (app, [_, alice, bob, _]) = staffroom(backend).await;
    let thread = app
        .thread(&alice, "maths", "Counting <b>in</b> 5s", "Clocks?")
        .await;
    let reply = app
        .reply(
            &bob,
            thread,
            "Clocks, and <script>tally</script> marks.",
            None,
        )
        .await;
    let browser = app.logged_in("alice").await;
    // The header counts what is unread.
    let (_, home) = app.get(&browser, "/").await;
    assert!(
        home.contains("Notifications <span class=\"unread-count\">1<span class=\"visually-hidden\"> unread</span></span>"),
        "{home}"
    );
    // The list says who did what where, escaped.
    let (status, page) = app.get(&browser, "/notifications").await;
    assert_eq!(status, 200);
    let main = main_of(&page);
    assert!(main.contains("replied to your post in"), "{main}");
    assert!(
        main.contains("Counting &#60;b&#62;in&#60;/b&#62; 5s"),
        "{main}"
    );
    assert!(main.contains("tally"), "{main}");
    assert!(
        !main.contains("<script>") && !main.contains("<b>in"),
        "{main}"
    );
    assert!(main.contains("1 unread notification."), "{main}");
    // Opening it marks it read and goes to the post.
    let (_, body) = app
        .api(Method::GET, "/api/v1/notifications", Some(&alice), None)
        .await;
    let id = body["items"][0]["id"].as_i64().unwrap();
    let res = browser
        .get(app.url(&format!("/notifications/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("/p/{reply}"));
    assert_eq!(notices(&app, &alice, true).await.1, 0);
    let (_, home) = app.get(&browser, "/").await;
    assert!(!home.contains("unread-count"));
    // Someone else's notification: 404.
    let bob_browser = app.logged_in("bob").await;
    let (status, _) = app.get(&bob_browser, &format!("/notifications/{id}")).await;
    assert_eq!(status, 404);
    // Not logged in: to the login page.
    let res = TestApp::browser()
        .get(app.url("/notifications"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/login"));

    // Reading the thread's page marks what it shows read.
    let second = app.reply(&bob, thread, "Or hands.", None).await;
    assert_eq!(
        notices(&app, &alice, true).await.0,
        vec![("reply".into(), second)]
    );
    let (status, _) = app.get(&browser, &format!("/t/{thread}")).await;
    assert_eq!(status, 200);
    assert_eq!(notices(&app, &alice, true).await.1, 0);

    // "Mark all as read", and stopping watching from the list.
    app.reply(&bob, thread, "Or feet.", None).await;
    let res = app
        .submit(
            &browser,
            "/notifications",
            "/notifications/read",
            &[("back", "/notifications")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(notices(&app, &alice, true).await.1, 0);
    let (_, page) = app.get(&browser, "/notifications").await;
    assert!(
        page.contains(&format!("action=\"/t/{thread}/watch\"")),
        "{page}"
    );

    // The thread page's button starts and stops watching; so does the forum's.
    let bob_thread = app.thread(&bob, "maths", "Arrays", "Egg boxes.").await;
    let (_, page) = app.get(&browser, &format!("/t/{bob_thread}")).await;
    assert!(page.contains("Watch this thread"), "{page}");
    let res = app
        .submit(
            &browser,
            &format!("/t/{bob_thread}"),
            &format!("/t/{bob_thread}/watch"),
            &[("watch", "true")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("/t/{bob_thread}"));
    let (_, page) = app.get(&browser, &format!("/t/{bob_thread}")).await;
    assert!(page.contains("You are watching this thread"), "{page}");
    let arrays = app.reply(&bob, bob_thread, "Or muffin tins.", None).await;
    assert_eq!(
        notices(&app, &alice, true).await.0,
        vec![("watched".into(), arrays)]
    );
    let res = app
        .submit(&browser, "/f/maths", "/f/maths/watch", &[("watch", "true")])
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = app.get(&browser, "/f/maths").await;
    assert!(page.contains("You are watching this forum"), "{page}");
    // A form without its CSRF token is refused.
    let res = browser
        .post(app.url(&format!("/t/{bob_thread}/watch")))
        .form(&[("watch", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // The setting, on its page.
    let res = app
        .submit(
            &browser,
            "/settings/notifications",
            "/settings/notifications",
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, me) = app
        .api(Method::GET, "/api/v1/accounts/current", Some(&alice), None)
        .await;
    assert_eq!(me["watch_on_post"], false);
    let (_, page) = app.get(&browser, "/settings/notifications").await;
    assert!(!page.contains("value=\"on\" checked"), "{page}");
    let res = app
        .submit(
            &browser,
            "/settings/notifications",
            "/settings/notifications",
            &[("watch_on_post", "on")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = app.get(&browser, "/settings/notifications").await;
    assert!(page.contains("value=\"on\" checked"), "{page}");
}

async fn mentions_travel_between_instances(backend: Backend) {
    let net = network(backend, 3).await;
    let all: Vec<&TestApp> = net.iter().collect();
    let (alpha, beta, gamma) = (&net[0], &net[1], &net[2]);
    alpha.create_user("admin", true).await;
    let admin = alpha.token("admin").await;
    alpha.forum_named(&admin, "maths").await;
    alpha.create_user("alice", false).await;
    beta.create_user("bea", false).await;
    gamma.create_user("gus", false).await;
    let bea = beta.token("bea").await;
    let (status, body) = beta.follow(&bea, format!("maths@{}", alpha.domain())).await;
    assert_eq!(status, 202, "{body}");
    drain_all(&all).await;
    let alice = alpha.token("alice").await;
    let gus = gamma.token("gus").await;

    // alice names bea (whose server follows the forum) and gus (whose server does not, and
    // whom alpha has never seen): both are linked, tagged, and told.
    let body = format!(
        "Ideas welcome, @bea@{} and @gus@{}!",
        beta.domain(),
        gamma.domain()
    );
    let thread = alpha
        .thread(&alice, "maths", "Estimation jars", &body)
        .await;
    drain_all(&all).await;
    let page: Value = reqwest::Client::new()
        .get(alpha.url(&format!("/t/{thread}")))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tagged: Vec<&str> = page["tag"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["href"].as_str().unwrap())
        .collect();
    let bea_id = format!("{}/u/bea", beta.address);
    let gus_id = format!("{}/u/gus", gamma.address);
    assert_eq!(tagged, vec![bea_id.as_str(), gus_id.as_str()], "{page}");
    for id in [&bea_id, &gus_id] {
        assert!(
            page["cc"].as_array().unwrap().contains(&json!(id)),
            "{page}"
        );
    }
    let content = page["content"].as_str().unwrap();
    assert!(content.contains(&format!("href=\"{gus_id}\"")), "{content}");
    let (bea_told, _) = notices(beta, &bea, false).await;
    assert_eq!(bea_told.len(), 1, "{bea_told:?}");
    assert_eq!(bea_told[0].0, "mention");
    let (gus_told, _) = notices(gamma, &gus, false).await;
    assert_eq!(
        gus_told.len(),
        1,
        "gamma took the thread that names gus: {gus_told:?}"
    );
    assert_eq!(gus_told[0].0, "mention");

    // bea answers on beta: alice, on alpha, is told of the reply.
    let (_, threads) = beta
        .read(&format!("/api/v1/forums/maths@{}/threads", alpha.domain()))
        .await;
    let on_beta = threads["threads"][0]["id"].as_i64().unwrap();
    beta.reply(&bea, on_beta, "Beans, then buttons.", None)
        .await;
    drain_all(&all).await;
    let (alice_told, unread) = notices(alpha, &alice, false).await;
    assert_eq!(unread, 1);
    assert_eq!(alice_told[0].0, "reply");
    let _ = gus;
}

async fn watching_a_forum_elsewhere(backend: Backend) {
    let net = network(backend, 2).await;
    let all: Vec<&TestApp> = net.iter().collect();
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("admin", true).await;
    let admin = alpha.token("admin").await;
    alpha.forum_named(&admin, "maths").await;
    alpha.create_user("alice", false).await;
    let alice = alpha.token("alice").await;
    beta.create_user("bea", false).await;
    beta.create_user("ben", false).await;
    let bea = beta.token("bea").await;
    let ben = beta.token("ben").await;
    let handle = format!("maths@{}", alpha.domain());
    let (status, body) = beta.follow(&bea, &handle).await;
    assert_eq!(status, 202, "{body}");
    drain_all(&all).await;

    // bea watches the forum on beta; ben reads it but does not.
    let (status, body) = beta
        .api(
            Method::PUT,
            &format!("/api/v1/forums/{handle}/watch"),
            Some(&bea),
            None,
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    let thread = alpha
        .thread(&alice, "maths", "Fractions walls", "Paper or card?")
        .await;
    alpha
        .reply(&alice, thread, "Card lasts longer.", None)
        .await;
    drain_all(&all).await;
    let (told, unread) = notices(beta, &bea, false).await;
    assert_eq!(unread, 2, "{told:?}");
    assert!(told.iter().all(|(kind, _)| kind == "watched"), "{told:?}");
    let (told, _) = notices(beta, &ben, false).await;
    assert!(told.is_empty(), "{told:?}");

    // Stopping watching it stops the notifications; the forum is still followed.
    let (status, body) = beta
        .api(
            Method::DELETE,
            &format!("/api/v1/forums/{handle}/watch"),
            Some(&bea),
            None,
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    alpha.reply(&alice, thread, "Or laminated.", None).await;
    drain_all(&all).await;
    let (_, unread) = notices(beta, &bea, false).await;
    assert_eq!(unread, 2);
    let (_, threads) = beta.read(&format!("/api/v1/forums/{handle}/threads")).await;
    assert_eq!(threads["threads"][0]["reply_count"], 2, "{threads}");
}

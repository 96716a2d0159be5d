//! Keeping up on the pages: the notifications page lists, opens and clears them, and the
//! notification settings page.

use reqwest::Method;
use staffroom::db::Backend;

use crate::both_backends;
use crate::notifications::{notices, staffroom};
use crate::support::{location, main_of, TestApp};

both_backends!(notification_pages_list_open_and_clear);

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

//! E-mail through a real SMTP server process: addresses confirmed by a link before anything
//! else is sent, notifications e-mailed at once or in a daily digest with a one-click
//! unsubscribe, password reset by a single-use link, and mail that waits out a failing mail
//! server and a restart without being lost.

use reqwest::Method;
use serde_json::json;
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::smtp::SmtpSink;
use crate::support::{column, expect_error, location, wait_until, TestApp, PASSWORD};

both_backends!(
    addresses_are_confirmed_before_anything_is_sent,
    notifications_are_mailed_with_a_one_click_unsubscribe,
    the_daily_digest_lists_what_is_new,
    a_forgotten_password_is_reset_by_a_single_use_link,
    a_failing_mail_server_delays_mail_but_loses_none,
    without_a_mail_server_email_says_it_is_off,
);

/// An instance that mails through `sink` at once (no wait before notifications, quick polls
/// and retries), with administrator head, alice and bob, and forum maths.
async fn mailing(backend: Backend, sink: &SmtpSink) -> TestApp {
    let url = sink.url();
    let app = TestApp::spawn_with(backend, move |s| {
        s.email.smtp_url = url;
        s.email.from = "Staffroom <staffroom@school.example>".into();
        s.email.notify_after_minutes = 0.0;
        s.email.poll_seconds = 0.2;
        s.email.retry_seconds = 0.3;
    })
    .await;
    for (name, admin) in [("head", true), ("alice", false), ("bob", false)] {
        app.create_user(name, admin).await;
    }
    let head = app.token("head").await;
    app.forum_named(&head, "maths").await;
    app
}

/// Waits until the mailer has looked at every notification and sent everything waiting.
async fn settled(app: &TestApp) {
    wait_until(
        "the mailer to look at every notification and send what waits",
        || async {
            column(
                app,
                "SELECT 'x' AS v FROM notifications WHERE emailed_at IS NULL",
            )
            .is_empty()
                && app.site.mail_waiting().await.unwrap() == 0
        },
    )
    .await;
}

/// The first link in `text` that starts with `prefix`.
fn link(text: &str, prefix: &str) -> String {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} link in {text}"));
    text[start..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        .next()
        .unwrap()
        .to_string()
}

/// Gives `name` the confirmed address `NAME@school.example`, through the API and the link.
async fn confirmed(app: &TestApp, sink: &SmtpSink, name: &str) -> String {
    let token = app.token(name).await;
    let before = sink.messages().len();
    let (status, body) = app
        .api(
            Method::PATCH,
            "/api/v1/accounts/current",
            Some(&token),
            Some(json!({"email": format!("{name}@School.example")})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let sent = sink.wait_for(before + 1).await;
    let text = sent[before]["text"].as_str().unwrap().to_string();
    let res = reqwest::get(link(&text, &app.url("/email/verify?token=")))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    token
}

async fn addresses_are_confirmed_before_anything_is_sent(backend: Backend) {
    let sink = SmtpSink::start(0);
    let app = mailing(backend, &sink).await;
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    // A bad address comes back on its field.
    let (status, body) = app
        .api(
            Method::PATCH,
            "/api/v1/accounts/current",
            Some(&alice),
            Some(json!({"email": "not an address"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["email"].is_string(), "{body}");
    let (status, body) = app
        .api(
            Method::PATCH,
            "/api/v1/accounts/current",
            Some(&alice),
            Some(json!({"email": "Alice@School.example", "email_mode": "immediate"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["email"],
        json!({"email": "alice@school.example", "verified": false, "mode": "immediate", "enabled": true})
    );
    // The link goes to the new address, in a plain-text and an HTML part.
    let sent = sink.wait_for(1).await;
    let message = &sent[0];
    assert_eq!(message["rcpt_tos"], json!(["alice@school.example"]));
    assert_eq!(message["mail_from"], "staffroom@school.example");
    assert_eq!(
        message["subject"],
        "Confirm your e-mail address for Staffroom"
    );
    assert_eq!(message["content_type"], "multipart/alternative");
    let text = message["text"].as_str().unwrap();
    let confirm = link(text, &app.url("/email/verify?token="));
    assert!(message["html"].as_str().unwrap().contains(&confirm));
    assert!(message["headers"].get("List-Unsubscribe").is_none());

    // Before she confirms, a reply to her tells her on the site only.
    let thread = app
        .thread(&alice, "maths", "Tens frames", "Who uses them?")
        .await;
    app.reply(&bob, thread, "We do.", None).await;
    settled(&app).await;
    assert_eq!(sink.messages().len(), 1);

    // The link confirms it once; again, it has expired.
    let res = reqwest::get(&confirm).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("alice@school.example is confirmed"));
    let res = reqwest::get(&confirm).await.unwrap();
    assert_eq!(res.status(), 410);
    let res = reqwest::get(app.url("/email/verify?token=made-up"))
        .await
        .unwrap();
    assert_eq!(res.status(), 410);
    let (_, me) = app
        .api(Method::GET, "/api/v1/accounts/current", Some(&alice), None)
        .await;
    assert_eq!(me["email"]["verified"], true);
    // Asking for the link again once confirmed: 409.
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/accounts/current/email-verification",
            Some(&alice),
            None,
        )
        .await;
    expect_error(status, &body, 409, "email_verified");

    // The address is hers alone: not on her profile, in the API, or to other servers.
    let (_, profile) = app.read("/api/v1/users/alice").await;
    assert!(!profile.to_string().contains("school.example"), "{profile}");
    let (_, page) = app.get(&TestApp::browser(), "/u/alice").await;
    assert!(!page.contains("alice@school.example"));

    // A new address must be confirmed again.
    let (_, body) = app
        .api(
            Method::PATCH,
            "/api/v1/accounts/current",
            Some(&alice),
            Some(json!({"email": "alice@home.example"})),
        )
        .await;
    assert_eq!(body["email"]["verified"], false);
    let sent = sink.wait_for(2).await;
    assert_eq!(sent[1]["rcpt_tos"], json!(["alice@home.example"]));
    // The link for the old address no longer confirms anything.
    let res = reqwest::get(&confirm).await.unwrap();
    assert_eq!(res.status(), 410);
}

async fn notifications_are_mailed_with_a_one_click_unsubscribe(backend: Backend) {
    let sink = SmtpSink::start(0);
    let app = mailing(backend, &sink).await;
    let alice = confirmed(&app, &sink, "alice").await;
    let bob = app.token("bob").await;
    let thread = app.thread(&alice, "maths", "Times <tables>", "When?").await;
    let reply = app
        .reply(
            &bob,
            thread,
            "Year 2. <script>alert(1)</script> **Songs** help.",
            None,
        )
        .await;
    let sent = sink.wait_for(2).await;
    let message = &sent[1];
    assert_eq!(message["rcpt_tos"], json!(["alice@school.example"]));
    assert_eq!(
        message["subject"],
        "Bob replied to your post in “Times <tables>”"
    );
    let text = message["text"].as_str().unwrap();
    assert!(text.contains("Year 2."), "{text}");
    assert!(text.contains(&app.url(&format!("/p/{reply}"))), "{text}");
    let html = message["html"].as_str().unwrap();
    assert!(
        html.contains("Times &#60;tables&#62;") || html.contains("Times &lt;tables&gt;"),
        "{html}"
    );
    assert!(
        !html.contains("<script>") && !html.contains("<tables>"),
        "{html}"
    );
    // RFC 8058: an https (here http) link to post to, and the one-click marker.
    let headers = &message["headers"];
    let unsubscribe = headers["List-Unsubscribe"].as_str().unwrap();
    assert!(
        unsubscribe.starts_with(&format!("<{}", app.url("/unsubscribe?token="))),
        "{headers}"
    );
    assert_eq!(
        headers["List-Unsubscribe-Post"],
        "List-Unsubscribe=One-Click"
    );
    let unsubscribe = unsubscribe.trim_matches(['<', '>']).to_string();
    assert!(text.contains(&unsubscribe) && html.contains(&unsubscribe));

    // The stop-watching link: alice watches her thread; the link asks, the button stops it.
    let stop = link(text, &app.url("/unwatch?token="));
    let res = reqwest::get(&stop).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Stop watching"));
    let token = stop.split("token=").nth(1).unwrap().to_string();
    let res = TestApp::browser()
        .post(app.url("/unwatch"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("/t/{thread}"));
    let (_, page) = app
        .api(
            Method::GET,
            &format!("/api/v1/threads/{thread}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(page["watching"], false);

    // A tampered link does nothing.
    let res = TestApp::browser()
        .post(format!("{unsubscribe}x"))
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 410);
    // Opening the unsubscribe link only asks; the mail program's one-click POST unsubscribes.
    let res = reqwest::get(&unsubscribe).await.unwrap();
    assert_eq!(res.status(), 200);
    let (_, me) = app
        .api(Method::GET, "/api/v1/accounts/current", Some(&alice), None)
        .await;
    assert_eq!(me["email"]["mode"], "immediate");
    let res = reqwest::Client::new()
        .post(&unsubscribe)
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, me) = app
        .api(Method::GET, "/api/v1/accounts/current", Some(&alice), None)
        .await;
    assert_eq!(me["email"]["mode"], "off");
    // Nothing more is mailed; the site still tells her.
    app.reply(&bob, thread, "Also chanting, @alice.", None)
        .await;
    settled(&app).await;
    assert_eq!(sink.messages().len(), 2);
    let (_, list) = app
        .api(Method::GET, "/api/v1/notifications", Some(&alice), None)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    // A choice that is not one: 422 on its field.
    let (status, body) = app
        .api(
            Method::PATCH,
            "/api/v1/accounts/current",
            Some(&alice),
            Some(json!({"email_mode": "hourly"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["email_mode"].is_string());
}

async fn the_daily_digest_lists_what_is_new(backend: Backend) {
    let sink = SmtpSink::start(0);
    let url = sink.url();
    // Digests go out from midnight: the first look at what is due after setting the last
    // digest back a day finds alice's due.
    let app = TestApp::spawn_with(backend, move |s| {
        s.email.smtp_url = url;
        s.email.notify_after_minutes = 0.0;
        s.email.poll_seconds = 0.2;
        s.email.digest_hour = 0;
    })
    .await;
    for name in ["head", "alice", "bob"] {
        app.create_user(name, name == "head").await;
    }
    let head = app.token("head").await;
    app.forum_named(&head, "maths").await;
    let alice = confirmed(&app, &sink, "alice").await;
    let (status, _) = app
        .api(
            Method::PATCH,
            "/api/v1/accounts/current",
            Some(&alice),
            Some(json!({"email_mode": "digest"})),
        )
        .await;
    assert_eq!(status, 200);
    let bob = app.token("bob").await;
    let thread = app.thread(&alice, "maths", "Fractions", "Halves?").await;
    app.reply(&bob, thread, "Pizza first.", None).await;
    let (status, _) = app
        .api(
            Method::PUT,
            "/api/v1/forums/maths/watch",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 200);
    app.thread(&bob, "maths", "Angles", "Right angles with paper corners.")
        .await;
    settled(&app).await;
    // Nothing at once: she takes the digest.
    assert_eq!(sink.messages().len(), 1);
    column(
        &app,
        &format!(
            "UPDATE users SET last_digest_at = '{}' WHERE name = 'alice' RETURNING 'x' AS v",
            (chrono::Utc::now() - chrono::Duration::hours(25))
                .naive_utc()
                .format("%Y-%m-%d %H:%M:%S")
        ),
    );
    let sent = sink.wait_for(2).await;
    let digest = &sent[1];
    assert_eq!(digest["subject"], "2 new posts for you on Staffroom");
    let text = digest["text"].as_str().unwrap();
    assert!(text.contains("Bob started \"Angles\" in Maths"), "{text}");
    assert!(text.contains("Right angles with paper corners."), "{text}");
    assert!(
        text.contains("Bob replied to your post in \"Fractions\""),
        "{text}"
    );
    assert!(
        text.find("Angles").unwrap() < text.find("Fractions\"").unwrap(),
        "newest first"
    );
    assert!(digest["headers"]["List-Unsubscribe"].is_string());
    assert!(digest["html"].as_str().unwrap().contains("Pizza first."));
    // Once a day: nothing more until tomorrow, even with something new. The mailer's passes
    // run one after another, so once it has looked at a second new notification, the pass
    // that saw the first (and would have made a digest of it) is over.
    app.reply(&bob, thread, "Then quarters.", None).await;
    settled(&app).await;
    app.reply(&bob, thread, "Then eighths.", None).await;
    settled(&app).await;
    assert_eq!(sink.messages().len(), 2);
}

async fn a_forgotten_password_is_reset_by_a_single_use_link(backend: Backend) {
    let sink = SmtpSink::start(0);
    let app = mailing(backend, &sink).await;
    let alice = confirmed(&app, &sink, "alice").await;
    // Whoever is asked for, the answer is the same; only a confirmed address gets a link.
    for who in [
        "nobody",
        "nobody@school.example",
        "bob",
        "",
        "ALICE@school.example",
    ] {
        let (status, _) = app
            .api(
                Method::POST,
                "/api/v1/password-resets",
                None,
                Some(json!({"username_or_email": who})),
            )
            .await;
        assert_eq!(status, 202, "{who}");
    }
    let sent = sink.wait_for(2).await;
    assert_eq!(sent.len(), 2, "one link, for alice: {sent:#?}");
    assert_eq!(sent[1]["rcpt_tos"], json!(["alice@school.example"]));
    assert_eq!(sent[1]["subject"], "Reset your password on Staffroom");
    // Asking again at once sends nothing more.
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/password-resets",
            None,
            Some(json!({"username_or_email": "alice"})),
        )
        .await;
    assert_eq!(status, 202);
    settled(&app).await;
    assert_eq!(sink.messages().len(), 2);
    let reset = link(
        sent[1]["text"].as_str().unwrap(),
        &app.url("/password-reset/"),
    );

    // On the page: two passwords that differ come back on their field; a short one too.
    let browser = TestApp::browser();
    let path = reset.trim_start_matches(&app.address).to_string();
    let (status, page) = app.get(&browser, &path).await;
    assert_eq!(status, 200);
    assert!(page.contains("Choose a new password"));
    let res = app
        .submit(
            &browser,
            &path,
            &path,
            &[
                ("new_password", "a new long password"),
                ("confirm_password", "another"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("not the same"));
    let res = app
        .submit(
            &browser,
            &path,
            &path,
            &[("new_password", "short"), ("confirm_password", "short")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .submit(
            &browser,
            &path,
            &path,
            &[
                ("new_password", "a new long password"),
                ("confirm_password", "a new long password"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login");
    // Every session ended; the new password works, the old one does not; the link is spent.
    let (status, _) = app
        .api(Method::GET, "/api/v1/accounts/current", Some(&alice), None)
        .await;
    assert_eq!(status, 401);
    let login = |password: &'static str| {
        let app = &app;
        async move {
            app.api(
                Method::POST,
                "/api/v1/sessions",
                None,
                Some(json!({"username": "alice", "password": password})),
            )
            .await
            .0
        }
    };
    assert_eq!(login("a new long password").await, 201);
    assert_eq!(login(PASSWORD).await, 401);
    let (status, _) = app.get(&browser, &path).await;
    assert_eq!(status, 410);
    let token = path.trim_start_matches("/password-reset/");
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/password-resets/{token}"),
            None,
            Some(json!({"password": "yet another password"})),
        )
        .await;
    expect_error(status, &body, 410, "link_expired");
    // The login page offers the way in.
    let (_, page) = app.get(&browser, "/login").await;
    assert!(page.contains("href=\"/password-reset\""));
}

async fn a_failing_mail_server_delays_mail_but_loses_none(backend: Backend) {
    // The mail server is down when the first messages are written, then refuses twice for
    // now, then takes them: each arrives once.
    let mut sink = SmtpSink::down();
    let app = mailing(backend, &sink).await;
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    for (token, name) in [(&alice, "alice"), (&bob, "bob")] {
        let (status, _) = app
            .api(
                Method::PATCH,
                "/api/v1/accounts/current",
                Some(token),
                Some(json!({"email": format!("{name}@school.example")})),
            )
            .await;
        assert_eq!(status, 200);
    }
    // Tried and failed: still waiting, with the failure noted.
    wait_until("a failed try", || async {
        !column(&app, "SELECT 'x' AS v FROM mail_outbox WHERE attempts > 0").is_empty()
    })
    .await;
    assert_eq!(app.site.mail_waiting().await.unwrap(), 2);
    // A restart keeps what is waiting.
    let stopped = app.stop().await;
    let app = stopped.restart().await;
    sink.listen(2, 0);
    let sent = sink.wait_for(2).await;
    let mut to: Vec<String> = sent
        .iter()
        .map(|m| m["rcpt_tos"][0].as_str().unwrap().to_string())
        .collect();
    to.sort();
    assert_eq!(to, ["alice@school.example", "bob@school.example"]);
    settled(&app).await;
    assert_eq!(sink.messages().len(), 2, "none twice");
    // The mail server goes away while a message waits, and comes back only to hang up in the
    // middle of it; the message is sent again, whole, once.
    sink.stop();
    app.create_user("carol", false).await;
    let carol = app.token("carol").await;
    let (status, _) = app
        .api(
            Method::PATCH,
            "/api/v1/accounts/current",
            Some(&carol),
            Some(json!({"email": "carol@school.example"})),
        )
        .await;
    assert_eq!(status, 200);
    wait_until("a failed try for carol", || async {
        !column(
            &app,
            "SELECT 'x' AS v FROM mail_outbox WHERE to_address = 'carol@school.example' \
             AND attempts > 0",
        )
        .is_empty()
    })
    .await;
    sink.listen(0, 1);
    let sent = sink.wait_for(3).await;
    assert_eq!(sent[2]["rcpt_tos"], json!(["carol@school.example"]));
    settled(&app).await;
    assert_eq!(sink.messages().len(), 3);
    let tries = column(
        &app,
        "SELECT CAST(attempts AS TEXT) AS v FROM mail_outbox WHERE to_address = 'carol@school.example'",
    );
    let tries: i32 = tries[0].parse().unwrap();
    assert!(tries >= 2, "down, then cut off: {tries} failed tries");
}

async fn without_a_mail_server_email_says_it_is_off(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("alice", false).await;
    let alice = app.token("alice").await;
    let (status, body) = app
        .api(
            Method::PATCH,
            "/api/v1/accounts/current",
            Some(&alice),
            Some(json!({"email": "alice@school.example", "email_mode": "digest"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["email"]["enabled"], false);
    assert_eq!(body["email"]["mode"], "digest");
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/accounts/current/email-verification",
            Some(&alice),
            None,
        )
        .await;
    expect_error(status, &body, 409, "email_disabled");
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/password-resets",
            None,
            Some(json!({"username_or_email": "alice"})),
        )
        .await;
    assert_eq!(status, 202);
    assert_eq!(app.site.mail_waiting().await.unwrap(), 0);
    let browser = app.logged_in("alice").await;
    let (_, page) = app.get(&browser, "/settings/notifications").await;
    assert!(page.contains("does not send e-mail"), "{page}");
    let (_, page) = app.get(&TestApp::browser(), "/password-reset").await;
    assert!(page.contains("does not send e-mail"));
}

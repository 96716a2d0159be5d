//! Registering, logging in and out, sessions, passwords, throttling and CSRF.

use std::time::Instant;

use reqwest::Method;
use staffroom::config::RegistrationMode;
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{csrf_in, expect_error, location, TestApp, PASSWORD};

both_backends!(
    registering_on_the_web_logs_in_and_logging_out_ends_the_session,
    registration_mistakes_come_back_with_messages_and_the_text_kept,
    usernames_are_unique_whatever_their_case,
    a_wrong_username_or_password_gets_one_answer_in_the_same_time,
    too_many_failed_logins_for_one_account_are_refused,
    too_many_failed_logins_from_one_address_are_refused,
    forms_without_a_valid_csrf_token_are_refused_and_change_nothing,
    changing_the_password_logs_out_other_sessions,
    closed_registration_leaves_account_creation_to_administrators,
    api_tokens_are_created_used_and_revoked,
    cookies_are_secure_when_served_over_https,
    sessions_expire,
);

async fn registering_on_the_web_logs_in_and_logging_out_ends_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let browser = TestApp::browser();
    let res = app
        .register_on_web(&browser, "Rivera", "Ms Rivera", PASSWORD)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/");
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("staffroom_session="))
        .expect("a session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(
        !session.contains("Secure"),
        "plain http must not set Secure: {session}"
    );
    let token = session
        .trim_start_matches("staffroom_session=")
        .split(';')
        .next()
        .unwrap()
        .to_string();

    let (status, home) = app.get(&browser, "/").await;
    assert_eq!(status, 200);
    assert!(
        home.contains("Welcome, Ms Rivera!"),
        "notice shown after registering"
    );
    assert!(
        home.contains("<a href=\"/u/rivera\"><bdi>Ms Rivera</bdi></a>"),
        "the header names the educator"
    );
    let (_, again) = app.get(&browser, "/").await;
    assert!(
        !again.contains("Welcome, Ms Rivera!"),
        "a notice shows once"
    );
    let (status, _) = app.get(&browser, "/settings/password").await;
    assert_eq!(status, 200);

    let res = app.submit(&browser, "/", "/logout", &[]).await;
    assert_eq!(res.status(), 303);
    let res = browser
        .get(app.url("/settings/password"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/login?next=%2Fsettings%2Fpassword");

    // The old cookie is dead on the server, not just forgotten by the browser.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = replay
        .get(app.url("/settings/password"))
        .header("cookie", format!("staffroom_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "a logged-out session cannot be replayed");

    app.web_login(&browser, "RIVERA").await;
    let (status, _) = app.get(&browser, "/settings/password").await;
    assert_eq!(
        status, 200,
        "logging in again works, with any case of the username"
    );
}

async fn registration_mistakes_come_back_with_messages_and_the_text_kept(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let browser = TestApp::browser();
    let res = app
        .register_on_web(&browser, "no spaces allowed", "Mr Okafor", "short")
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("value=\"no spaces allowed\""),
        "the username typed is kept"
    );
    assert!(
        page.contains("value=\"Mr Okafor\""),
        "the display name typed is kept"
    );
    assert!(page.contains("id=\"username-error\""));
    assert!(page.contains("aria-describedby=\"username-error username-help\""));
    assert!(page.contains("may use only letters a-z, digits 0-9 and underscores"));
    assert!(page.contains("id=\"password-error\""));
    assert!(page.contains("at least 10 characters long"));
    assert!(page.contains("role=\"alert\""));

    let (status, json) = app
        .api(
            Method::POST,
            "/api/v1/accounts",
            None,
            Some(serde_json::json!({"username": "ab", "password": "short"})),
        )
        .await;
    expect_error(status, &json, 422, "invalid_input");
    assert!(json["fields"]["username"]
        .as_str()
        .unwrap()
        .contains("3 to 30"));
    assert!(json["fields"]["password"]
        .as_str()
        .unwrap()
        .contains("10 characters"));
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(serde_json::json!({"username": "ab", "password": "short"})),
        )
        .await;
    assert_eq!(status, 401, "nothing was created");
}

async fn usernames_are_unique_whatever_their_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("alice", false).await;
    let browser = TestApp::browser();
    let res = app
        .register_on_web(&browser, "ALICE", "Another Alice", PASSWORD)
        .await;
    assert_eq!(res.status(), 409);
    let page = res.text().await.unwrap();
    assert!(page.contains("That username is taken"));
    assert!(page.contains("value=\"Another Alice\""));

    let (status, json) = app
        .api(
            Method::POST,
            "/api/v1/accounts",
            None,
            Some(serde_json::json!({"username": "Alice", "password": PASSWORD})),
        )
        .await;
    expect_error(status, &json, 409, "username_taken");
    assert!(json["fields"]["username"].is_string());
}

async fn a_wrong_username_or_password_gets_one_answer_in_the_same_time(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.accounts.max_failures_per_account = 100;
        s.accounts.max_failures_per_address = 100;
    })
    .await;
    app.create_user("alice", false).await;
    let attempt = |name: &'static str| {
        let app = &app;
        async move {
            let started = Instant::now();
            let (status, json) = app
                .api(
                    Method::POST,
                    "/api/v1/sessions",
                    None,
                    Some(serde_json::json!({"username": name, "password": "wrong password!"})),
                )
                .await;
            (started.elapsed(), status, json)
        }
    };
    let mut wrong_password = Vec::new();
    let mut no_such_user = Vec::new();
    for _ in 0..5 {
        let (t, status, json) = attempt("alice").await;
        expect_error(status, &json, 401, "invalid_credentials");
        wrong_password.push((t, json["message"].clone()));
        let (t, status, json) = attempt("nobody_here").await;
        expect_error(status, &json, 401, "invalid_credentials");
        no_such_user.push((t, json["message"].clone()));
    }
    assert_eq!(
        wrong_password[0].1, no_such_user[0].1,
        "one message for both"
    );
    let median = |v: &mut Vec<(std::time::Duration, serde_json::Value)>| {
        v.sort_by_key(|(t, _)| *t);
        v[v.len() / 2].0
    };
    let (known, unknown) = (median(&mut wrong_password), median(&mut no_such_user));
    // Without the dummy hash an unknown user answers in a fraction of the argon2 time.
    assert!(
        unknown.as_secs_f64() > known.as_secs_f64() * 0.4,
        "unknown user {unknown:?} vs wrong password {known:?}"
    );

    let browser = TestApp::browser();
    let res = app
        .submit(
            &browser,
            "/login",
            "/login",
            &[("username", "alice"), ("password", "nope nope nope")],
        )
        .await;
    assert_eq!(res.status(), 401);
    let page = res.text().await.unwrap();
    assert!(page.contains("Wrong username or password."));
    assert!(page.contains("value=\"alice\""), "the username is kept");
}

async fn too_many_failed_logins_for_one_account_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await; // 5 failures per account, 20 per address
    app.create_user("alice", false).await;
    app.create_user("bob", false).await;
    let login = |name: &'static str, password: &'static str| {
        let app = &app;
        async move {
            app.api(
                Method::POST,
                "/api/v1/sessions",
                None,
                Some(serde_json::json!({"username": name, "password": password})),
            )
            .await
        }
    };
    for _ in 0..5 {
        assert_eq!(login("alice", "guess guess guess").await.0, 401);
    }
    let (status, json) = login("alice", PASSWORD).await;
    assert_eq!(status, 429, "even the right password waits: {json}");
    assert_eq!(json["error"], "rate_limited");
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/sessions"))
        .json(&serde_json::json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    assert_eq!(
        login("bob", PASSWORD).await.0,
        201,
        "other accounts are not locked"
    );

    let browser = TestApp::browser();
    let res = app
        .submit(
            &browser,
            "/login",
            "/login",
            &[("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), 429);
    assert!(res.text().await.unwrap().contains("Too many failed logins"));
}

async fn too_many_failed_logins_from_one_address_are_refused(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.accounts.max_failures_per_address = 3;
        s.accounts.max_failures_per_account = 100;
    })
    .await;
    app.create_user("alice", false).await;
    for name in ["x1_user", "x2_user", "x3_user"] {
        let (status, _) = app
            .api(
                Method::POST,
                "/api/v1/sessions",
                None,
                Some(serde_json::json!({"username": name, "password": "whatever123"})),
            )
            .await;
        assert_eq!(status, 401);
    }
    let (status, json) = app
        .api(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(serde_json::json!({"username": "alice", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 429, "{json}");
}

async fn forms_without_a_valid_csrf_token_are_refused_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let browser = TestApp::browser();
    app.get(&browser, "/register").await; // the browser now holds a CSRF cookie
    for token in [None, Some("forged-token-forged-token-forged-token-xx")] {
        let mut fields = vec![("username", "mallory"), ("password", PASSWORD)];
        if let Some(t) = token {
            fields.push(("csrf_token", t));
        }
        let res = browser
            .post(app.url("/register"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        assert!(res.text().await.unwrap().contains("Form expired"));
    }
    // A real token, but from another browser's page.
    let other = app.csrf(&TestApp::browser(), "/register").await;
    let res = browser
        .post(app.url("/register"))
        .form(&[
            ("csrf_token", other.as_str()),
            ("username", "mallory"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(serde_json::json!({"username": "mallory", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 401, "no account was created");

    // Each page shows the token masked differently (so compression cannot leak it), and any
    // of them is accepted.
    let first = app.csrf(&browser, "/register").await;
    let second = app.csrf(&browser, "/register").await;
    assert_ne!(first, second);
    let res = browser
        .post(app.url("/register"))
        .form(&[
            ("csrf_token", first.as_str()),
            ("username", "honest"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);

    // A logged-in educator's thread sent without the token is refused, and the text is shown
    // back so it is not lost.
    let admin = app.create_user("admin", true).await;
    let token = app.token(&admin.name).await;
    app.forum_named(&token, "maths").await;
    app.create_user("alice", false).await;
    let alice = app.logged_in("alice").await;
    let res = alice
        .post(app.url("/f/maths/new"))
        .form(&[
            ("csrf_token", "wrong"),
            ("title", "Hello"),
            ("body", "My long careful post"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("My long careful post"));
    let (_, json) = app.read("/api/v1/forums/maths").await;
    assert_eq!(json["thread_count"], 0);
}

async fn changing_the_password_logs_out_other_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("alice", false).await;
    let laptop = app.logged_in("alice").await;
    let phone = app.logged_in("alice").await;
    let new_password = "a brand new passphrase";

    let res = app
        .change_password_on_web(&laptop, "not my password", new_password, new_password)
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("That is not your current password."));
    let res = app
        .change_password_on_web(&laptop, PASSWORD, new_password, "different passphrase")
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("The two new passwords are not the same."));
    let res = app
        .change_password_on_web(&laptop, PASSWORD, "short", "short")
        .await;
    assert_eq!(res.status(), 422);

    let res = app
        .change_password_on_web(&laptop, PASSWORD, new_password, new_password)
        .await;
    assert_eq!(res.status(), 303);
    let (status, _) = app.get(&laptop, "/settings/password").await;
    assert_eq!(status, 200, "the session that changed it stays");
    let (status, _) = app.get(&phone, "/settings/password").await;
    assert_eq!(status, 303, "every other session is logged out");
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(serde_json::json!({"username": "alice", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(serde_json::json!({"username": "alice", "password": new_password})),
        )
        .await;
    assert_eq!(status, 201);
}

async fn closed_registration_leaves_account_creation_to_administrators(backend: Backend) {
    let app =
        TestApp::spawn_with(backend, |s| s.registration.mode = RegistrationMode::Closed).await;
    let browser = TestApp::browser();
    let (_, page) = app.get(&browser, "/register").await;
    assert!(page.contains("Registration is closed"));
    assert!(
        !page.contains("href=\"/register\""),
        "the header offers no Register link"
    );
    let token = app.csrf(&browser, "/login").await;
    let res = browser
        .post(app.url("/register"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "visitor"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let body = serde_json::json!({"username": "visitor", "password": PASSWORD});
    let (status, json) = app
        .api(Method::POST, "/api/v1/accounts", None, Some(body.clone()))
        .await;
    expect_error(status, &json, 403, "registration_closed");

    app.create_user("head", true).await;
    let admin = app.token("head").await;
    let (status, json) = app
        .api(Method::POST, "/api/v1/accounts", Some(&admin), Some(body))
        .await;
    assert_eq!(status, 201, "{json}");
    assert_eq!(json["name"], "visitor");
    assert_eq!(json["is_admin"], false);

    app.create_user("member", false).await;
    let member = app.token("member").await;
    let (status, json) = app
        .api(
            Method::POST,
            "/api/v1/accounts",
            Some(&member),
            Some(serde_json::json!({"username": "sneaky", "password": PASSWORD, "admin": true})),
        )
        .await;
    expect_error(status, &json, 403, "admin_only");
}

async fn api_tokens_are_created_used_and_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, json) = app
        .api(
            Method::POST,
            "/api/v1/accounts",
            None,
            Some(serde_json::json!({"username": "Okafor", "display_name": "Mr Okafor", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(json["name"], "okafor");
    assert_eq!(json["url"], app.url("/u/okafor"));
    let token = app.token("okafor").await;
    let (status, _) = app
        .api(
            Method::DELETE,
            "/api/v1/sessions/current",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, json) = app
        .api(
            Method::DELETE,
            "/api/v1/sessions/current",
            Some(&token),
            None,
        )
        .await;
    expect_error(status, &json, 401, "invalid_token");
    let (status, json) = app
        .api(Method::DELETE, "/api/v1/sessions/current", None, None)
        .await;
    expect_error(status, &json, 401, "unauthenticated");

    // A browser session cookie is not an API token.
    let session = web_session_cookie(&app, "okafor").await;
    let (status, json) = app
        .api(
            Method::DELETE,
            "/api/v1/sessions/current",
            Some(&session),
            None,
        )
        .await;
    expect_error(status, &json, 401, "invalid_token");
}

/// `name=VALUE; attributes` -> `VALUE`.
fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_string()
}

/// Logs in through the form without a cookie jar and returns the session cookie's value.
async fn web_session_cookie(app: &TestApp, name: &str) -> String {
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = plain.get(app.url("/login")).send().await.unwrap();
    let raw = cookie_value(page.headers()["set-cookie"].to_str().unwrap());
    let token = csrf_in(&page.text().await.unwrap()).unwrap();
    let res = plain
        .post(app.url("/login"))
        .header("cookie", format!("staffroom_csrf={raw}"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", name),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find_map(|c| {
            c.strip_prefix("staffroom_session=")
                .map(|rest| rest.split(';').next().unwrap().to_string())
        })
        .expect("a session cookie")
}

async fn cookies_are_secure_when_served_over_https(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.server.public_url = url::Url::parse("https://school.example").unwrap();
    })
    .await;
    app.create_user("alice", false).await;
    let browser = TestApp::browser();
    let res = browser.get(app.url("/login")).send().await.unwrap();
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let csrf_cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        csrf_cookie.contains("Secure") && csrf_cookie.contains("HttpOnly"),
        "{csrf_cookie}"
    );
    let raw = cookie_value(&csrf_cookie);
    let token = csrf_in(&res.text().await.unwrap()).unwrap();
    // reqwest keeps Secure cookies for https only, so send the CSRF cookie by hand.
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/login"))
        .header("cookie", format!("staffroom_csrf={raw}"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("staffroom_session="))
        .unwrap();
    assert!(
        session.contains("Secure")
            && session.contains("HttpOnly")
            && session.contains("SameSite=Lax"),
        "{session}"
    );
}

async fn sessions_expire(backend: Backend) {
    use diesel::{ExpressionMethods, RunQueryDsl};
    use staffroom::db::schema::sessions;

    let app = TestApp::spawn(backend).await;
    app.create_user("alice", false).await;
    let browser = app.logged_in("alice").await;
    let token = app.token("alice").await;
    let (status, _) = app.get(&browser, "/settings/password").await;
    assert_eq!(status, 200);

    let db = app.site.db().clone();
    tokio::task::spawn_blocking(move || {
        db.with_conn(|conn| -> Result<usize, staffroom::db::DbError> {
            let past = staffroom::db::now() - chrono::TimeDelta::minutes(1);
            Ok(staffroom::dispatch!(conn, |c| diesel::update(
                sessions::table
            )
            .set(sessions::expires_at.eq(past))
            .execute(c))?)
        })
        .unwrap()
    })
    .await
    .unwrap();

    let (status, _) = app.get(&browser, "/settings/password").await;
    assert_eq!(status, 303, "an expired web session no longer logs in");
    let (status, json) = app
        .api(
            Method::DELETE,
            "/api/v1/sessions/current",
            Some(&token),
            None,
        )
        .await;
    expect_error(status, &json, 401, "invalid_token");
}

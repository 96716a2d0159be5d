//! Registration control: applications approved by an administrator, single-use invitations,
//! and e-mail domains allowed to register; through the API and the pages.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::config::RegistrationMode;
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{expect_error, wait_until, TestApp, PASSWORD};

both_backends!(
    applicants_wait_for_an_administrator,
    invitations_register_one_account_each,
    only_allowed_e_mail_domains_register,
    applying_and_inviting_on_the_pages,
);

async fn register(app: &TestApp, body: Value) -> (u16, Value) {
    app.api(Method::POST, "/api/v1/accounts", None, Some(body))
        .await
}

async fn login(app: &TestApp, name: &str) -> (u16, Value) {
    app.api(
        Method::POST,
        "/api/v1/sessions",
        None,
        Some(json!({"username": name, "password": PASSWORD})),
    )
    .await
}

async fn instance(mode: RegistrationMode, backend: Backend) -> (TestApp, String) {
    let app = TestApp::spawn_with(backend, |s| s.registration.mode = mode).await;
    app.create_user("head", true).await;
    app.create_user("dev", false).await;
    let head = app.token("head").await;
    (app, head)
}

async fn applicants_wait_for_an_administrator(backend: Backend) {
    let (app, head) = instance(RegistrationMode::Approval, backend).await;
    // The question must be answered.
    let (status, body) = register(&app, json!({"username": "rivera", "password": PASSWORD})).await;
    expect_error(status, &body, 422, "invalid_input");
    assert!(body["fields"]["answer"].is_string(), "{body}");
    let (status, body) = register(
        &app,
        json!({"username": "rivera", "password": PASSWORD, "answer": "I teach year 4 at Hill School"}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["awaiting_approval"], true);
    assert_eq!(body["name"], "rivera");
    // Waiting: the right password says so, the wrong one says only that it is wrong.
    let (status, body) = login(&app, "rivera").await;
    expect_error(status, &body, 403, "awaiting_approval");
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({"username": "rivera", "password": "not the password"})),
        )
        .await;
    expect_error(status, &body, 401, "invalid_credentials");
    // Nobody but the administrators sees a profile of someone not yet let in.
    let (status, body) = app.read("/api/v1/users/rivera").await;
    expect_error(status, &body, 404, "not_found");
    let (status, _) = app.get(&TestApp::browser(), "/u/rivera").await;
    assert_eq!(status, 404);
    let (status, body) = app
        .api(Method::GET, "/api/v1/users/rivera", Some(&head), None)
        .await;
    assert_eq!(status, 200, "{body}");

    // Only administrators see and decide.
    let dev = app.token("dev").await;
    let (status, body) = app
        .api(Method::GET, "/api/v1/admin/applications", Some(&dev), None)
        .await;
    expect_error(status, &body, 403, "admin_only");
    let (status, list) = app
        .api(Method::GET, "/api/v1/admin/applications", Some(&head), None)
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["answer"], "I teach year 4 at Hill School");
    let id = list[0]["id"].as_i64().unwrap();
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/applications/{id}/approve"),
            Some(&dev),
            None,
        )
        .await;
    expect_error(status, &body, 403, "admin_only");
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/applications/{id}/approve"),
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = login(&app, "rivera").await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = app.read("/api/v1/users/rivera").await;
    assert_eq!(status, 200, "approved, the profile is there");
    // Approved twice: there is no application any more.
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/applications/{id}/approve"),
            Some(&head),
            None,
        )
        .await;
    expect_error(status, &body, 404, "not_found");

    // Turned down: the account is gone and its name free.
    let (status, body) = register(
        &app,
        json!({"username": "spam", "password": PASSWORD, "answer": "Buy now"}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let (_, list) = app
        .api(Method::GET, "/api/v1/admin/applications", Some(&head), None)
        .await;
    let id = list[0]["id"].as_i64().unwrap();
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/applications/{id}/reject"),
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = login(&app, "spam").await;
    expect_error(status, &body, 401, "invalid_credentials");
    let (status, body) = register(
        &app,
        json!({"username": "spam", "password": PASSWORD, "answer": "Second go"}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    // An administrator's account needs no approval.
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/accounts",
            Some(&head),
            Some(json!({"username": "newstaff", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["awaiting_approval"], false);
}

async fn invitations_register_one_account_each(backend: Backend) {
    let (app, head) = instance(RegistrationMode::Invite, backend).await;
    let (status, body) = register(&app, json!({"username": "rivera", "password": PASSWORD})).await;
    expect_error(status, &body, 422, "invalid_input");
    assert!(body["fields"]["invite"].is_string(), "{body}");
    let (status, body) = register(
        &app,
        json!({"username": "rivera", "password": PASSWORD, "invite": "made-up"}),
    )
    .await;
    expect_error(status, &body, 422, "invalid_invite");

    let dev = app.token("dev").await;
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/admin/invites",
            Some(&dev),
            Some(json!({})),
        )
        .await;
    expect_error(status, &body, 403, "admin_only");
    let (status, made) = app
        .api(
            Method::POST,
            "/api/v1/admin/invites",
            Some(&head),
            Some(json!({"note": "New science teacher"})),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let code = made["code"].as_str().unwrap().to_string();
    assert!(made["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/register?invite={code}")));

    let (status, body) = register(
        &app,
        json!({"username": "rivera", "password": PASSWORD, "invite": code}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = login(&app, "rivera").await;
    assert_eq!(status, 201, "{body}");
    // Single use.
    let (status, body) = register(
        &app,
        json!({"username": "another", "password": PASSWORD, "invite": code}),
    )
    .await;
    expect_error(status, &body, 422, "invalid_invite");
    let (_, list) = app
        .api(Method::GET, "/api/v1/admin/invites", Some(&head), None)
        .await;
    assert_eq!(list[0]["note"], "New science teacher");
    assert_eq!(list[0]["used_by"]["name"], "rivera");
    assert!(
        list[0].get("code").is_none(),
        "the code is shown once: {list}"
    );

    // Withdrawn, and ended, invitations do not work; a past end is refused.
    let (_, made) = app
        .api(
            Method::POST,
            "/api/v1/admin/invites",
            Some(&head),
            Some(json!({})),
        )
        .await;
    let (id, code) = (
        made["id"].as_i64().unwrap(),
        made["code"].as_str().unwrap().to_string(),
    );
    let (status, _) = app
        .api(
            Method::DELETE,
            &format!("/api/v1/admin/invites/{id}"),
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = register(
        &app,
        json!({"username": "another", "password": PASSWORD, "invite": code}),
    )
    .await;
    expect_error(status, &body, 422, "invalid_invite");
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/admin/invites",
            Some(&head),
            Some(json!({"expires_at": "2001-01-01T00:00:00Z"})),
        )
        .await;
    expect_error(status, &body, 422, "invalid_input");
    assert!(body["fields"]["expires_at"].is_string());
    let ends = chrono::Utc::now() + chrono::TimeDelta::seconds(2);
    let (_, made) = app
        .api(
            Method::POST,
            "/api/v1/admin/invites",
            Some(&head),
            Some(json!({"expires_at": ends.to_rfc3339()})),
        )
        .await;
    let code = made["code"].as_str().unwrap().to_string();
    // Nothing reads an invitation without using it: wait for the clock the server shares.
    wait_until("the invitation's end", || async {
        chrono::Utc::now() > ends
    })
    .await;
    let (status, body) = register(
        &app,
        json!({"username": "another", "password": PASSWORD, "invite": code}),
    )
    .await;
    expect_error(status, &body, 422, "invalid_invite");
}

async fn only_allowed_e_mail_domains_register(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.registration.allowed_email_domains = vec!["hill.example".into(), "dale.example".into()];
    })
    .await;
    let (status, body) = register(&app, json!({"username": "rivera", "password": PASSWORD})).await;
    expect_error(status, &body, 422, "invalid_input");
    assert!(body["fields"]["email"].is_string(), "{body}");
    let (status, body) = register(
        &app,
        json!({"username": "rivera", "password": PASSWORD, "email": "rivera@gmail.example"}),
    )
    .await;
    expect_error(status, &body, 422, "invalid_input");
    let message = body["fields"]["email"].as_str().unwrap();
    assert!(
        message.contains("hill.example or dale.example"),
        "{message}"
    );
    let (status, body) = register(
        &app,
        json!({"username": "rivera", "password": PASSWORD, "email": "not an address"}),
    )
    .await;
    expect_error(status, &body, 422, "invalid_input");
    let (status, body) = register(
        &app,
        json!({"username": "rivera", "password": PASSWORD, "email": "M.Rivera@Dale.Example"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = login(&app, "rivera").await;
    assert_eq!(status, 201);
}

async fn applying_and_inviting_on_the_pages(backend: Backend) {
    let (app, _head) = instance(RegistrationMode::Approval, backend).await;
    let visitor = TestApp::browser();
    let (status, page) = app.get(&visitor, "/register").await;
    assert_eq!(status, 200);
    assert!(page.contains("Why would you like to join"), "{page}");
    // A missing answer comes back beside its field, the rest kept.
    let res = app
        .submit(
            &visitor,
            "/register",
            "/register",
            &[
                ("username", "rivera"),
                ("display_name", "Ms Rivera"),
                ("password", PASSWORD),
                ("answer", ""),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"answer-error\""), "{page}");
    assert!(page.contains("value=\"Ms Rivera\""), "{page}");
    let res = app
        .submit(
            &visitor,
            "/register",
            "/register",
            &[
                ("username", "rivera"),
                ("display_name", "Ms Rivera"),
                ("password", PASSWORD),
                ("answer", "Year 4 at Hill"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 202);
    let page = res.text().await.unwrap();
    assert!(page.contains("waiting for an administrator"), "{page}");
    // Logging in says it waits.
    let res = app
        .submit(
            &visitor,
            "/login",
            "/login",
            &[("username", "rivera"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status().as_u16(), 403);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("waiting for an administrator"));

    // The administrator approves on the page.
    let head = app.logged_in("head").await;
    let (status, page) = app.get(&head, "/admin/applications").await;
    assert_eq!(status, 200);
    assert!(page.contains("Year 4 at Hill"), "{page}");
    let dev = app.logged_in("dev").await;
    let (status, _) = app.get(&dev, "/admin/applications").await;
    assert_eq!(status, 403);
    let (_, list) = app
        .api(
            Method::GET,
            "/api/v1/admin/applications",
            Some(&app.token("head").await),
            None,
        )
        .await;
    let id = list[0]["id"].as_i64().unwrap();
    let res = app
        .submit(
            &head,
            "/admin/applications",
            &format!("/admin/applications/{id}/approve"),
            &[],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, page) = app.get(&head, "/admin/applications").await;
    assert!(page.contains("No applications are waiting"), "{page}");
    let (status, _) = login(&app, "rivera").await;
    assert_eq!(status, 201);

    // An invitation made on the page, its link shown once, registers one account.
    let res = app
        .submit(
            &head,
            "/admin/invites",
            "/admin/invites",
            &[("note", "Supply teacher"), ("expires_on", "")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);
    let page = res.text().await.unwrap();
    let start = page.find("/register?invite=").expect("the link is shown");
    let code: String = page[start + "/register?invite=".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let (_, page) = app.get(&head, "/admin/invites").await;
    assert!(page.contains("Supply teacher"), "{page}");
    assert!(!page.contains(&code), "shown only once");
    let (status, page) = app.get(&visitor, &format!("/register?invite={code}")).await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("value=\"{code}\"")), "{page}");
    assert!(
        !page.contains("id=\"answer\""),
        "an invitation stands for approval: {page}"
    );
    let res = app
        .submit(
            &visitor,
            &format!("/register?invite={code}"),
            "/register",
            &[
                ("username", "supply"),
                ("password", PASSWORD),
                ("invite", &code),
            ],
        )
        .await;
    assert_eq!(
        res.status().as_u16(),
        303,
        "registered and logged in at once"
    );
    let (status, _) = login(&app, "supply").await;
    assert_eq!(status, 201);
}

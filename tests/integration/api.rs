//! The JSON API's answers to malformed requests: stable codes, the right statuses.

use reqwest::Method;
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{expect_error, logged_lines, TestApp};

both_backends!(
    malformed_requests_get_stable_json_errors,
    a_whole_discussion_through_the_api,
    internal_failures_show_a_reference_and_log_the_cause
);

async fn malformed_requests_get_stable_json_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    let token = app.token("head").await;
    let client = reqwest::Client::new();

    let res = client
        .post(app.url("/api/v1/forums"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let json: serde_json::Value = res.json().await.unwrap();
    assert_eq!(json["error"], "invalid_json");
    assert!(json["message"].as_str().unwrap().contains("not valid"));

    let res = client
        .post(app.url("/api/v1/forums"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["error"],
        "unsupported_media_type"
    );

    let res = client
        .post(app.url("/api/v1/forums"))
        .header("authorization", "Basic abc")
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_token"
    );

    let (status, json) = app.read("/api/v1/no/such/endpoint").await;
    expect_error(status, &json, 404, "not_found");
    let (status, json) = app
        .api(
            Method::PATCH,
            "/api/v1/threads/1",
            Some(&token),
            Some(serde_json::json!({})),
        )
        .await;
    assert!(status == 422 || status == 404, "{status} {json}");
    assert!(json["error"].is_string());
}

async fn a_whole_discussion_through_the_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    let head = app.token("head").await;
    app.forum_named(&head, "science").await;
    let (status, _) = app
        .api(Method::POST, "/api/v1/accounts", None, Some(serde_json::json!({"username": "kim", "display_name": "Dr Kim", "password": "kim's long password"})))
        .await;
    assert_eq!(status, 201);
    let (status, json) = app
        .api(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(serde_json::json!({"username": "kim", "password": "kim's long password"})),
        )
        .await;
    assert_eq!(status, 201);
    let kim = json["token"].as_str().unwrap().to_string();
    assert_eq!(json["user"]["display_name"], "Dr Kim");

    let (status, json) = app
        .api(
            Method::POST,
            "/api/v1/forums/science/threads",
            Some(&kim),
            Some(serde_json::json!({"title": "Inquiry labs", "body": "How do you run them?"})),
        )
        .await;
    assert_eq!(status, 201);
    let thread = json["thread"]["id"].as_i64().unwrap();
    let opening = json["opening_post"]["id"].as_i64().unwrap();
    assert_eq!(json["thread"]["author"]["name"], "kim");
    assert_eq!(
        json["opening_post"]["url"],
        app.url(&format!("/t/{thread}"))
    );
    assert_eq!(
        json["opening_post"]["html"],
        "<p>How do you run them?</p>\n"
    );

    let reply = app
        .reply(
            &head,
            thread,
            "With a *predict-observe-explain* cycle.",
            Some(opening),
        )
        .await;
    let (_, json) = app.read(&format!("/api/v1/posts/{reply}")).await;
    assert_eq!(json["in_reply_to"], opening);
    assert_eq!(json["url"], app.url(&format!("/p/{reply}")));
    assert!(json["html"]
        .as_str()
        .unwrap()
        .contains("<em>predict-observe-explain</em>"));

    let (_, json) = app.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(json["thread"]["reply_count"], 1);
    assert_eq!(json["posts"][0]["author"]["name"], "head");
    let (_, json) = app.read("/api/v1/forums/science/threads").await;
    assert_eq!(json["threads"][0]["title"], "Inquiry labs");
    assert_eq!(json["forum"]["post_count"], 2);
}

/// Our own failure (here the database, with a table gone) answers 500 with nothing but a generic
/// message and a request id; the log line for it has the same id and the cause.
async fn internal_failures_show_a_reference_and_log_the_cause(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    app.forum_named(&app.token("head").await, "maths").await;
    app.site
        .db()
        .with_conn(|conn| -> Result<usize, staffroom::error::ForumError> {
            Ok(staffroom::dispatch!(conn, |c| {
                diesel::RunQueryDsl::execute(
                    diesel::sql_query("ALTER TABLE forums RENAME TO forums_gone"),
                    c,
                )
            })?)
        })
        .unwrap();

    let (status, json) = app.read("/api/v1/forums").await;
    expect_error(status, &json, 500, "internal_error");
    let body = json.to_string();
    assert!(
        !body.contains("forums") && !body.contains("relation") && !body.contains("table"),
        "the cause stays in the log: {body}"
    );
    let id = json["request_id"]
        .as_str()
        .expect("a request id")
        .to_string();
    assert!(id.len() >= 8, "{id}");
    let lines = logged_lines(&id);
    assert_eq!(lines.len(), 1, "the failure is logged once: {lines:?}");
    assert!(
        lines[0].contains("forums"),
        "the log has the cause: {}",
        lines[0]
    );

    let (status, page) = app.get(&TestApp::browser(), "/").await;
    assert_eq!(status, 500);
    assert!(!page.contains("forums_gone") && !page.contains("no such table"));
    let reference = page
        .split("<code>")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .expect("the page shows a reference");
    assert_ne!(reference, id, "each request has its own id");
    assert_eq!(logged_lines(reference).len(), 1);
}

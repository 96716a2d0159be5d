//! The JSON API's answers to malformed requests: stable codes, the right statuses.

use reqwest::Method;
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::TestApp;

both_backends!(
    malformed_requests_get_stable_json_errors,
    a_whole_discussion_through_the_api
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

    let (status, json) = app
        .api(Method::GET, "/api/v1/no/such/endpoint", None, None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(json["error"], "not_found");
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
    let (_, json) = app
        .api(Method::GET, &format!("/api/v1/posts/{reply}"), None, None)
        .await;
    assert_eq!(json["in_reply_to"], opening);
    assert_eq!(json["url"], app.url(&format!("/p/{reply}")));
    assert!(json["html"]
        .as_str()
        .unwrap()
        .contains("<em>predict-observe-explain</em>"));

    let (_, json) = app
        .api(
            Method::GET,
            &format!("/api/v1/threads/{thread}"),
            None,
            None,
        )
        .await;
    assert_eq!(json["thread"]["reply_count"], 1);
    assert_eq!(json["posts"][0]["author"]["name"], "head");
    let (_, json) = app
        .api(Method::GET, "/api/v1/forums/science/threads", None, None)
        .await;
    assert_eq!(json["threads"][0]["title"], "Inquiry labs");
    assert_eq!(json["forum"]["post_count"], 2);
}

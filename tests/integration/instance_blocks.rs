//! Servers blocked by administrators from the admin pages and the API: refused at once, and
//! unblocked at once; the configuration file's blocks listed and kept.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::following::post_signed;
use crate::support::{expect_error, network, TestApp};

both_backends!(
    a_server_blocked_by_an_administrator_is_refused_at_once,
    servers_are_blocked_and_unblocked_on_the_page,
);

/// A Follow of `to`'s maths by `from`'s instance actor.
fn follow(from: &TestApp, to: &TestApp) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": from.url(&format!("/activities/follow/{}", uuid::Uuid::new_v4())),
        "type": "Follow",
        "actor": from.url("/actor"),
        "object": to.url("/f/maths"),
    })
}

async fn a_server_blocked_by_an_administrator_is_refused_at_once(backend: Backend) {
    let net = network(backend, 3).await;
    let (alpha, beta, gamma) = (&net[0], &net[1], &net[2]);
    alpha.create_user("head", true).await;
    alpha.create_user("dev", false).await;
    let head = alpha.token("head").await;
    alpha.forum_named(&head, "maths").await;

    // Only administrators block.
    let dev = alpha.token("dev").await;
    let (status, body) = alpha
        .api(
            Method::POST,
            "/api/v1/admin/instance-blocks",
            Some(&dev),
            Some(json!({"domain": beta.domain()})),
        )
        .await;
    expect_error(status, &body, 403, "admin_only");
    for bad in ["", "not a domain", alpha.domain().as_str()] {
        let (status, body) = alpha
            .api(
                Method::POST,
                "/api/v1/admin/instance-blocks",
                Some(&head),
                Some(json!({"domain": bad})),
            )
            .await;
        expect_error(status, &body, 422, "invalid_input");
        assert!(body["fields"]["domain"].is_string(), "{bad:?}: {body}");
    }

    // Blocked (given as an address on it): beta's Follow is refused at once; gamma's is not.
    let (status, list) = alpha
        .api(
            Method::POST,
            "/api/v1/admin/instance-blocks",
            Some(&head),
            Some(json!({"domain": beta.url("/u/someone"), "reason": "Harassment"})),
        )
        .await;
    assert_eq!(status, 201, "{list}");
    assert_eq!(list[0]["domain"], beta.domain());
    assert_eq!(list[0]["reason"], "Harassment");
    assert_eq!(list[0]["source"], "administrator");
    assert_eq!(list[0]["created_by"]["name"], "head");
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &follow(beta, alpha)).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("instance_refused"), "{text}");
    let (status, text) = post_signed(gamma, &alpha.url("/inbox"), &follow(gamma, alpha)).await;
    assert!((200..300).contains(&status), "{status} {text}");
    // Nothing is fetched from there either.
    let (status, body) = alpha
        .api(
            Method::GET,
            &format!("/api/v1/resolve?q=maths@{}", beta.domain()),
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 403, "{body}");

    // Unblocked: taken again at once; unblocking again finds nothing.
    let (status, _) = alpha
        .api(
            Method::DELETE,
            &format!("/api/v1/admin/instance-blocks/{}", beta.domain()),
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &follow(beta, alpha)).await;
    assert!((200..300).contains(&status), "{status} {text}");
    let (status, body) = alpha
        .api(
            Method::DELETE,
            &format!("/api/v1/admin/instance-blocks/{}", beta.domain()),
            Some(&head),
            None,
        )
        .await;
    expect_error(status, &body, 404, "not_found");
}

async fn servers_are_blocked_and_unblocked_on_the_page(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.federation.blocked_instances = vec!["spam.example".into()];
    })
    .await;
    app.create_user("head", true).await;
    app.create_user("dev", false).await;
    let dev = app.logged_in("dev").await;
    let (status, _) = app.get(&dev, "/admin/instances").await;
    assert_eq!(status, 403);
    let head = app.logged_in("head").await;
    let (status, page) = app.get(&head, "/admin/instances").await;
    assert_eq!(status, 200);
    assert!(page.contains("spam.example"), "{page}");
    assert!(page.contains("configuration file"), "{page}");

    // A mistake comes back beside the field, the words kept.
    let res = app
        .submit(
            &head,
            "/admin/instances",
            "/admin/instances",
            &[("domain", "bad domain!"), ("reason", "Spam")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"domain-error\""), "{page}");
    assert!(page.contains("value=\"Spam\""), "{page}");
    let res = app
        .submit(
            &head,
            "/admin/instances",
            "/admin/instances",
            &[
                ("domain", "https://Trolls.Example/"),
                ("reason", "Trolling"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let token = app.token("head").await;
    let (_, list) = app
        .api(
            Method::GET,
            "/api/v1/admin/instance-blocks",
            Some(&token),
            None,
        )
        .await;
    let domains: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["domain"].as_str().unwrap())
        .collect();
    assert_eq!(domains, ["spam.example", "trolls.example"]);
    assert_eq!(list[0]["source"], "configuration");
    // The configuration file's block stays; it is removed there.
    let (status, body) = app
        .api(
            Method::DELETE,
            "/api/v1/admin/instance-blocks/spam.example",
            Some(&token),
            None,
        )
        .await;
    expect_error(status, &body, 403, "configured_block");
    let res = app
        .submit(
            &head,
            "/admin/instances",
            "/admin/instances/unblock",
            &[("domain", "trolls.example")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, page) = app.get(&head, "/admin/instances").await;
    assert!(!page.contains("<bdi>trolls.example</bdi>"), "{page}");
}

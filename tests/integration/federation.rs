//! Discovery and reading over ActivityPub: WebFinger, NodeInfo, actors with keys, and the
//! ActivityPub form of threads, replies and thread contexts, by content negotiation.

use reqwest::Method;
use serde_json::Value;
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{expect_error, TestApp};

both_backends!(
    federation_is_off_unless_enabled,
    webfinger_finds_people_and_forums,
    people_forums_and_the_instance_are_actors_with_stable_keys,
    threads_replies_and_contexts_read_as_activitypub,
    deleted_posts_read_as_tombstones,
    nodeinfo_describes_the_instance,
);

const AP: &str = "application/activity+json";
const LD: &str = "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

async fn federated(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |s| {
        s.federation.enabled = true;
        s.federation.debug = true;
    })
    .await
}

/// GETs `path` with `accept`; returns (status, content type, JSON).
pub(crate) async fn fetch(app: &TestApp, path: &str, accept: &str) -> (u16, String, Value) {
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(path))
        .header("accept", accept)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = res.text().await.unwrap();
    (
        status,
        kind,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

fn domain(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_string()
}

async fn federation_is_off_unless_enabled(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("alice", false).await;
    let (status, _, _) = fetch(
        &app,
        &format!(
            "/.well-known/webfinger?resource=acct:alice@{}",
            domain(&app)
        ),
        "application/jrd+json",
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = fetch(&app, "/nodeinfo/2.1", "application/json").await;
    assert_eq!(status, 404);
    let (status, kind, _) = fetch(&app, "/u/alice", AP).await;
    assert_eq!(status, 200);
    assert!(
        kind.starts_with("text/html"),
        "the page, not ActivityPub: {kind}"
    );
}

async fn webfinger_finds_people_and_forums(backend: Backend) {
    let app = federated(backend).await;
    app.create_user("alice", false).await;
    app.create_user("maths", true).await; // a person and a forum share the name "maths"
    let token = app.token("maths").await;
    app.forum_named(&token, "maths").await;
    app.forum_named(&token, "science").await;
    let host = domain(&app);

    let (status, kind, json) = fetch(
        &app,
        &format!("/.well-known/webfinger?resource=acct:Alice@{host}"),
        "application/jrd+json",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(kind, "application/jrd+json");
    assert_eq!(json["subject"], format!("acct:alice@{host}"));
    let links = json["links"].as_array().unwrap();
    let me = links.iter().find(|l| l["rel"] == "self").unwrap();
    assert_eq!(me["type"], AP);
    assert_eq!(me["href"], app.url("/u/alice"));
    assert_eq!(
        me["properties"]["https://www.w3.org/ns/activitystreams#type"],
        "Person"
    );

    let (_, _, json) = fetch(
        &app,
        &format!("/.well-known/webfinger?resource=acct:science@{host}"),
        "application/jrd+json",
    )
    .await;
    let me = json["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap()
        .clone();
    assert_eq!(me["href"], app.url("/f/science"));
    assert_eq!(
        me["properties"]["https://www.w3.org/ns/activitystreams#type"],
        "Group"
    );

    let (_, _, json) = fetch(
        &app,
        &format!("/.well-known/webfinger?resource=acct:maths@{host}"),
        "application/jrd+json",
    )
    .await;
    let selves: Vec<(String, String)> = json["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["rel"] == "self")
        .map(|l| {
            (
                l["href"].as_str().unwrap().to_string(),
                l["properties"]["https://www.w3.org/ns/activitystreams#type"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        selves,
        [
            (app.url("/u/maths"), "Person".into()),
            (app.url("/f/maths"), "Group".into())
        ]
    );

    for resource in [
        format!("acct:nobody@{host}"),
        "acct:alice@elsewhere.example".to_string(),
        "alice".to_string(),
    ] {
        let (status, _, json) = fetch(
            &app,
            &format!("/.well-known/webfinger?resource={resource}"),
            "application/jrd+json",
        )
        .await;
        assert_eq!(status, 404, "{resource}");
        assert_eq!(json["error"], "not_found");
    }
    let (status, _, _) = fetch(&app, "/.well-known/webfinger", "application/jrd+json").await;
    assert_eq!(status, 400);
}

async fn people_forums_and_the_instance_are_actors_with_stable_keys(backend: Backend) {
    let app = federated(backend).await;
    app.create_user("alice", true).await;
    let token = app.token("alice").await;
    app.forum_named(&token, "maths").await;

    let (status, kind, person) = fetch(&app, "/u/alice", AP).await;
    assert_eq!(status, 200);
    assert_eq!(kind, AP);
    let context = person["@context"].as_array().unwrap();
    assert_eq!(context[0], "https://www.w3.org/ns/activitystreams");
    assert_eq!(
        context[1], "https://w3id.org/security/v1",
        "the key is visible to JSON-LD"
    );
    assert_eq!(person["type"], "Person");
    assert_eq!(person["id"], app.url("/u/alice"));
    assert_eq!(person["preferredUsername"], "alice");
    assert_eq!(person["name"], "Alice");
    assert_eq!(person["inbox"], app.url("/u/alice/inbox"));
    assert_eq!(person["outbox"], app.url("/u/alice/outbox"));
    assert_eq!(person["followers"], app.url("/u/alice/followers"));
    assert_eq!(person["endpoints"]["sharedInbox"], app.url("/inbox"));
    assert_eq!(person["publicKey"]["id"], app.url("/u/alice#main-key"));
    assert_eq!(person["publicKey"]["owner"], app.url("/u/alice"));
    let pem = person["publicKey"]["publicKeyPem"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    assert!(
        !person.to_string().contains("PRIVATE"),
        "the private key never leaves"
    );
    let (_, _, again) = fetch(&app, "/u/alice", LD).await;
    assert_eq!(
        again["publicKey"]["publicKeyPem"], pem,
        "the key is made once and kept"
    );
    // Every collection an actor names answers.
    for (path, total) in [
        ("/u/alice/outbox", 0),
        ("/u/alice/followers", 0),
        ("/actor/outbox", 0),
        ("/f/maths/followers", 0),
        ("/f/maths/outbox", 0),
        ("/f/maths/featured", 0),
        ("/f/maths/moderators", 1),
    ] {
        let (status, kind, collection) = fetch(&app, path, AP).await;
        assert_eq!((status, kind.as_str()), (200, AP), "{path}");
        assert_eq!(collection["type"], "OrderedCollection", "{path}");
        assert_eq!(collection["id"], app.url(path), "{path}");
        assert_eq!(collection["totalItems"], total, "{path}");
    }
    let (_, _, moderators) = fetch(&app, "/f/maths/moderators", AP).await;
    assert_eq!(
        moderators["orderedItems"],
        serde_json::json!([app.url("/u/alice")])
    );
    // A pinned thread is featured; the outbox has every thread.
    let thread = app
        .thread(&token, "maths", "Read me first", "Welcome.")
        .await;
    app.thread(&token, "maths", "Not pinned", "Chat.").await;
    let (status, _) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/threads/{thread}"),
            Some(&token),
            Some(serde_json::json!({"pinned": true})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, _, featured) = fetch(&app, "/f/maths/featured", AP).await;
    assert_eq!(featured["totalItems"], 1, "{featured}");
    assert_eq!(featured["orderedItems"][0]["type"], "Page");
    assert_eq!(featured["orderedItems"][0]["name"], "Read me first");
    let (_, _, outbox) = fetch(&app, "/f/maths/outbox", AP).await;
    assert_eq!(outbox["totalItems"], 2, "{outbox}");
    assert_eq!(outbox["orderedItems"][0]["type"], "Create");
    assert_eq!(outbox["orderedItems"][0]["object"]["name"], "Not pinned");

    let (status, _, group) = fetch(&app, "/f/maths", LD).await;
    assert_eq!(status, 200);
    assert_eq!(group["type"], "Group");
    assert_eq!(group["id"], app.url("/f/maths"));
    assert_eq!(group["preferredUsername"], "maths");
    assert_eq!(group["name"], "Maths");
    assert_eq!(group["summary"], "<p>About maths.</p>");
    assert_eq!(group["inbox"], app.url("/f/maths/inbox"));
    assert_eq!(group["followers"], app.url("/f/maths/followers"));
    assert_eq!(group["outbox"], app.url("/f/maths/outbox"));
    assert_eq!(group["featured"], app.url("/f/maths/featured"));
    assert_eq!(group["attributedTo"], app.url("/f/maths/moderators"));
    assert_eq!(group["endpoints"]["sharedInbox"], app.url("/inbox"));
    assert_ne!(
        group["publicKey"]["publicKeyPem"], pem,
        "each actor has its own key"
    );

    let (status, _, actor) = fetch(&app, "/actor", AP).await;
    assert_eq!(status, 200);
    assert_eq!(actor["type"], "Application");
    assert_eq!(actor["id"], app.url("/actor"));
    assert!(actor["publicKey"]["publicKeyPem"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----"));

    let (status, _, json) = fetch(&app, "/u/nobody", AP).await;
    expect_error(status, &json, 404, "not_found");
    // Browsers still get the pages at the same addresses, marked so caches keep them apart.
    let res = TestApp::browser()
        .get(app.url("/u/alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let vary: Vec<String> = res
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
        .collect();
    assert!(
        vary.iter()
            .any(|v| v.split(',').any(|p| p.trim() == "accept")),
        "{vary:?}"
    );
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("<h1><bdi>Alice</bdi></h1>"));
}

async fn threads_replies_and_contexts_read_as_activitypub(backend: Backend) {
    let app = federated(backend).await;
    app.create_user("head", true).await;
    app.create_user("alice", false).await;
    let head = app.token("head").await;
    let alice = app.token("alice").await;
    app.forum_named(&head, "maths").await;
    let thread = app
        .thread(&head, "maths", "Fractions", "Number **lines**")
        .await;
    let first = app
        .reply(&alice, thread, "A reply to the thread", None)
        .await;
    let second = app
        .reply(&head, thread, "An answer to Alice", Some(first))
        .await;
    app.edit_post(Some(&alice), first, "An edited reply").await;

    let (status, kind, page) = fetch(&app, &format!("/t/{thread}"), AP).await;
    assert_eq!(status, 200);
    assert_eq!(kind, AP);
    assert_eq!(page["type"], "Page");
    assert_eq!(page["id"], app.url(&format!("/t/{thread}")));
    assert_eq!(page["name"], "Fractions");
    assert_eq!(page["content"], "<p>Number <strong>lines</strong></p>\n");
    assert_eq!(page["mediaType"], "text/html");
    assert_eq!(page["source"]["content"], "Number **lines**");
    assert_eq!(page["source"]["mediaType"], "text/markdown");
    assert_eq!(page["attributedTo"], app.url("/u/head"));
    assert_eq!(
        page["to"],
        serde_json::json!([
            app.url("/f/maths"),
            "https://www.w3.org/ns/activitystreams#Public"
        ])
    );
    assert_eq!(
        page["cc"],
        serde_json::json!([app.url("/u/head/followers")]),
        "Lemmy needs a cc"
    );
    assert_eq!(page["audience"], app.url("/f/maths"));
    assert_eq!(page["context"], app.url(&format!("/t/{thread}/context")));
    assert!(page["published"].is_string());
    assert!(page.get("updated").is_none(), "never edited");

    let (status, _, note) = fetch(&app, &format!("/p/{first}"), AP).await;
    assert_eq!(status, 200);
    assert_eq!(note["type"], "Note");
    assert_eq!(
        note["inReplyTo"],
        app.url(&format!("/t/{thread}")),
        "answers the thread"
    );
    assert_eq!(note["content"], "<p>An edited reply</p>\n");
    assert!(note["updated"].is_string(), "edits show");
    assert_eq!(note["cc"], serde_json::json!([app.url("/u/head")]));
    assert_eq!(note["context"], app.url(&format!("/t/{thread}/context")));
    assert_eq!(note["audience"], app.url("/f/maths"));

    let (_, _, note) = fetch(&app, &format!("/p/{second}"), AP).await;
    assert_eq!(note["inReplyTo"], app.url(&format!("/p/{first}")));
    assert_eq!(note["cc"], serde_json::json!([app.url("/u/alice")]));
    assert_eq!(note["tag"][0]["type"], "Mention");
    assert_eq!(note["tag"][0]["href"], app.url("/u/alice"));
    assert_eq!(note["tag"][0]["name"], format!("@alice@{}", domain(&app)));

    let (status, _, context) = fetch(&app, &format!("/t/{thread}/context"), AP).await;
    assert_eq!(status, 200);
    assert_eq!(context["type"], "OrderedCollection");
    assert_eq!(context["attributedTo"], app.url("/f/maths"));
    assert_eq!(context["audience"], app.url("/f/maths"));
    assert_eq!(context["totalItems"], 3);
    assert_eq!(
        context["orderedItems"],
        serde_json::json!([
            app.url(&format!("/t/{thread}")),
            app.url(&format!("/p/{first}")),
            app.url(&format!("/p/{second}"))
        ])
    );

    // The opening post's /p/ address leads to its Page.
    let (_, _, json) = fetch(
        &app,
        &format!("/api/v1/threads/{thread}"),
        "application/json",
    )
    .await;
    let opening = json["opening_post"]["id"].as_i64().unwrap();
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(&format!("/p/{opening}")))
        .header("accept", AP)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 308);
    assert_eq!(
        res.headers()["location"],
        app.url(&format!("/t/{thread}")).as_str()
    );

    for path in ["/t/999999", "/p/999999", "/t/999999/context", "/f/nowhere"] {
        let (status, _, _) = fetch(&app, path, AP).await;
        assert_eq!(status, 404, "{path}");
    }
}

async fn deleted_posts_read_as_tombstones(backend: Backend) {
    let app = federated(backend).await;
    app.create_user("head", true).await;
    let head = app.token("head").await;
    app.forum_named(&head, "maths").await;
    let thread = app.thread(&head, "maths", "Gone soon", "Opening").await;
    let reply = app.reply(&head, thread, "Reply", None).await;
    app.delete_post(Some(&head), reply).await;
    let (status, _, json) = fetch(&app, &format!("/p/{reply}"), AP).await;
    assert_eq!(status, 410);
    assert_eq!(json["type"], "Tombstone");
    assert_eq!(json["formerType"], "Note");
    assert_eq!(json["id"], app.url(&format!("/p/{reply}")));
    assert!(!json.to_string().contains("Reply\""), "the words are gone");
    let (_, _, api) = fetch(
        &app,
        &format!("/api/v1/threads/{thread}"),
        "application/json",
    )
    .await;
    let opening = api["opening_post"]["id"].as_i64().unwrap();
    app.delete_post(Some(&head), opening).await;
    let (status, _, json) = fetch(&app, &format!("/t/{thread}"), AP).await;
    assert_eq!(status, 410);
    assert_eq!(json["formerType"], "Page");
}

async fn nodeinfo_describes_the_instance(backend: Backend) {
    let app = federated(backend).await;
    app.create_user("head", true).await;
    app.create_user("alice", false).await;
    let head = app.token("head").await;
    app.forum_named(&head, "maths").await;
    let thread = app.thread(&head, "maths", "T", "B").await;
    app.reply(&head, thread, "R", None).await;

    let (status, _, links) = fetch(&app, "/.well-known/nodeinfo", "application/json").await;
    assert_eq!(status, 200);
    assert_eq!(
        links["links"][0]["rel"],
        "http://nodeinfo.diaspora.software/ns/schema/2.1"
    );
    assert_eq!(links["links"][0]["href"], app.url("/nodeinfo/2.1"));
    let (status, kind, info) = fetch(&app, "/nodeinfo/2.1", "application/json").await;
    assert_eq!(status, 200);
    assert!(
        kind.contains("nodeinfo.diaspora.software/ns/schema/2.1"),
        "{kind}"
    );
    assert_eq!(info["version"], "2.1");
    assert_eq!(info["software"]["name"], "staffroom");
    assert_eq!(info["protocols"], serde_json::json!(["activitypub"]));
    assert_eq!(info["openRegistrations"], true);
    assert_eq!(info["usage"]["users"]["total"], 2);
    assert_eq!(info["usage"]["localPosts"], 2);
    assert_eq!(info["metadata"]["nodeName"], "Staffroom");
}

//! Reading a conversation in from its context collection (FEP-7888, FEP-f228) against a
//! stand-in NodeBB: a small server that serves a category, its people and a topic's posts made
//! from the NodeBB documents in `tests/fixtures/nodebb/` (moved to its own address), and the
//! topic's context as NodeBB pages it: an `OrderedCollection` whose `first` page leads on by
//! `next` to the rest, each listing posts by address. It records what arrives at its inboxes and
//! never answers a follow of the topic, as a server that does not take such follows.

use std::sync::{Arc, Mutex};

use actix_web::{web, HttpResponse};
use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{federating, wait_until, TestApp};

both_backends!(a_nodebb_topic_is_read_in_whole_and_kept_up_with,);

const AP: &str = "application/activity+json";
/// Posts per page of the stand-in's context (small, so that pages are walked).
const PAGE: usize = 2;

/// The stand-in NodeBB: its address, its actors' public key, the topic's posts (1 opens it;
/// each other answers the one named), and what its inboxes received.
struct NodeBb {
    base: String,
    public_key: String,
    private_key: String,
    posts: Mutex<Vec<(u32, Option<u32>, String)>>,
    /// When a post was written, where not at minute `n` past ten.
    written: Mutex<std::collections::HashMap<u32, String>>,
    received: Mutex<Vec<Value>>,
}

impl NodeBb {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A NodeBB fixture at the stand-in's address, with its key.
    fn fixture(&self, name: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/nodebb/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path)
            .unwrap()
            .replace("https://bb.devnull.land", &self.base);
        let mut value: Value = serde_json::from_str(&text).unwrap();
        if let Some(id) = value["id"].as_str().map(String::from) {
            if value.get("publicKey").is_some() {
                value["publicKey"] = json!({
                    "id": format!("{id}#key"),
                    "owner": id,
                    "publicKeyPem": self.public_key,
                });
            }
        }
        value
    }
}

async fn category(state: web::Data<Arc<NodeBb>>) -> HttpResponse {
    let mut group = state.fixture("group.json");
    group.as_object_mut().unwrap().remove("outbox");
    HttpResponse::Ok().content_type(AP).json(group)
}

async fn person(state: web::Data<Arc<NodeBb>>, path: web::Path<u32>) -> HttpResponse {
    let mut person = state.fixture("person.json");
    let n = path.into_inner();
    let id = state.url(&format!("/uid/{n}"));
    person["id"] = json!(id);
    person["preferredUsername"] = json!(format!("teacher{n}"));
    person["inbox"] = json!(format!("{id}/inbox"));
    person["publicKey"]["id"] = json!(format!("{id}#key"));
    person["publicKey"]["owner"] = json!(id);
    HttpResponse::Ok().content_type(AP).json(person)
}

/// `/post/{n}`: the fixture's topic for 1; a reply for the others, as NodeBB writes them.
async fn post(state: web::Data<Arc<NodeBb>>, path: web::Path<u32>) -> HttpResponse {
    let n = path.into_inner();
    let posts = state.posts.lock().unwrap().clone();
    let Some((_, parent, words)) = posts.into_iter().find(|(id, _, _)| *id == n) else {
        return HttpResponse::NotFound().finish();
    };
    let mut object = state.fixture("page.json");
    if let Some(parent) = parent {
        let author = state.url(&format!("/uid/{}", 1 + n % 2));
        object["type"] = json!("Note");
        object["id"] = json!(state.url(&format!("/post/{n}")));
        object["url"] = object["id"].clone();
        object["inReplyTo"] = json!(state.url(&format!("/post/{parent}")));
        object["attributedTo"] = json!(author);
        object["content"] = json!(format!("<p>{words}</p>"));
        object["source"] = json!({"content": words, "mediaType": "text/markdown"});
        let written = state.written.lock().unwrap().get(&n).cloned();
        object["published"] =
            json!(written.unwrap_or_else(|| format!("2025-10-08T10:{n:02}:00.000Z")));
        let map = object.as_object_mut().unwrap();
        for key in ["name", "summary", "preview"] {
            map.remove(key);
        }
    }
    HttpResponse::Ok().content_type(AP).json(object)
}

#[derive(serde::Deserialize)]
struct PageQuery {
    page: Option<usize>,
}

/// `/topic/1`: the context, NodeBB's way: the collection names its first page; each page lists
/// its posts by address and names the next. The last page's `next` leads back to the first,
/// which a reader must notice rather than go round for ever.
async fn topic(state: web::Data<Arc<NodeBb>>, q: web::Query<PageQuery>) -> HttpResponse {
    let ids: Vec<String> = state
        .posts
        .lock()
        .unwrap()
        .iter()
        .map(|(n, _, _)| state.url(&format!("/post/{n}")))
        .collect();
    let id = state.url("/topic/1");
    let pages = ids.len().div_ceil(PAGE);
    let body = match q.page {
        None => json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": id,
            "type": "OrderedCollection",
            "totalItems": ids.len(),
            "first": format!("{id}?page=1"),
            "last": format!("{id}?page={pages}"),
            "attributedTo": state.url("/category/2"),
            "audience": state.url("/category/2"),
        }),
        Some(page) => json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{id}?page={page}"),
            "type": "OrderedCollectionPage",
            "partOf": id,
            "totalItems": ids.len(),
            "orderedItems": ids.iter().skip((page - 1) * PAGE).take(PAGE).collect::<Vec<_>>(),
            "next": format!("{id}?page={}", if page >= pages { 1 } else { page + 1 }),
        }),
    };
    HttpResponse::Ok().content_type(AP).json(body)
}

async fn inbox(state: web::Data<Arc<NodeBb>>, body: web::Bytes) -> HttpResponse {
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.received.lock().unwrap().push(value);
    HttpResponse::Accepted().finish()
}

async fn nodeinfo_links(state: web::Data<Arc<NodeBb>>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"links": [{
        "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
        "href": state.url("/nodeinfo/2.0"),
    }]}))
}

async fn nodeinfo() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "version": "2.0",
        "software": {"name": "nodebb", "version": "4.6.1"},
        "protocols": ["activitypub"],
    }))
}

/// Starts the stand-in; returns it, a handle that stops it, and the protocol crate's request
/// data for signing as its actors.
async fn stand_in() -> (
    Arc<NodeBb>,
    actix_web::dev::ServerHandle,
    activitypub_federation::config::Data<()>,
) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let keys = activitypub_federation::http_signatures::generate_actor_keypair().unwrap();
    let words = [
        "Beans first, then buttons.",
        "Buttons roll, though.",
        "Weigh a handful and multiply.",
        "Ten at a time is quicker.",
    ];
    let parents = [1, 2, 1, 3];
    let mut posts = vec![(1, None, String::new())];
    for (i, (w, p)) in words.iter().zip(parents).enumerate() {
        posts.push((i as u32 + 2, Some(p), w.to_string()));
    }
    let nodebb = Arc::new(NodeBb {
        base: format!("http://localhost:{port}"),
        public_key: keys.public_key,
        private_key: keys.private_key,
        posts: Mutex::new(posts),
        written: Mutex::new(std::collections::HashMap::new()),
        received: Mutex::new(Vec::new()),
    });
    let state = web::Data::new(nodebb.clone());
    let (handle, data) = crate::support::serve_stand_in(listener, move |app| {
        app.app_data(state.clone())
            .route("/.well-known/nodeinfo", web::get().to(nodeinfo_links))
            .route("/nodeinfo/2.0", web::get().to(nodeinfo))
            .route("/category/2", web::get().to(category))
            .route("/uid/{n}", web::get().to(person))
            .route("/post/{n}", web::get().to(post))
            .route("/topic/1", web::get().to(topic))
            .route("/inbox", web::post().to(inbox))
            .route("/category/2/inbox", web::post().to(inbox));
    })
    .await;
    (nodebb, handle, data)
}

/// The replies of thread `id` on `app`: (words, the post answered: 0 for the opening post).
async fn replies(app: &TestApp, id: i64) -> Vec<(String, i64)> {
    let (status, page) = app.read(&format!("/api/v1/threads/{id}")).await;
    assert_eq!(status, 200, "{page}");
    let opening = page["opening_post"]["id"].as_i64().unwrap();
    let posts = page["posts"].as_array().unwrap();
    let index = |id: i64| {
        posts
            .iter()
            .position(|p| p["id"].as_i64() == Some(id))
            .map_or(0, |i| i as i64 + 2)
    };
    posts
        .iter()
        .map(|p| {
            let answers = p["in_reply_to"].as_i64().unwrap_or(opening);
            let words = p["body"].as_str().unwrap_or_default().to_string();
            (
                words,
                if answers == opening {
                    1
                } else {
                    index(answers)
                },
            )
        })
        .collect()
}

async fn a_nodebb_topic_is_read_in_whole_and_kept_up_with(backend: Backend) {
    let (nodebb, handle, signing) = stand_in().await;
    let app = TestApp::spawn_with(backend, |s| {
        federating(s);
        s.federation.context_refresh_seconds = 1.0;
    })
    .await;
    let gus_user = app.create_user("gus", false).await;
    let gus = app.token("gus").await;

    // gus looks the topic up: the thread, then every reply on every page of its context, in
    // order and each under the post it answers.
    let address = nodebb.url("/post/1");
    let (status, body) = app
        .api(
            Method::GET,
            &format!(
                "/api/v1/resolve?q={}",
                percent_encoding::utf8_percent_encode(&address, percent_encoding::NON_ALPHANUMERIC)
            ),
            Some(&gus),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let thread = body["thread"]["id"].as_i64().unwrap();
    assert_eq!(body["thread"]["title"], "Welcome to your NodeBB!");
    wait_until("the whole topic", || async {
        replies(&app, thread).await.len() == 4
    })
    .await;
    let expected = [
        ("Beans first, then buttons.", 1),
        ("Buttons roll, though.", 2),
        ("Weigh a handful and multiply.", 1),
        ("Ten at a time is quicker.", 3),
    ];
    let got = replies(&app, thread).await;
    let got: Vec<(&str, i64)> = got.iter().map(|(w, p)| (w.as_str(), *p)).collect();
    assert_eq!(got, expected);

    // Watching it (nobody here follows the category) sends a Follow of the topic to the
    // category's inbox. NodeBB does not answer it: the topic is read again now and then.
    let (status, body) = app
        .api(
            Method::PUT,
            &format!("/api/v1/threads/{thread}/watch"),
            Some(&gus),
            None,
        )
        .await;
    assert!((200..300).contains(&status), "{status} {body}");
    app.drained().await;
    let follow = nodebb
        .received
        .lock()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "Follow")
        .cloned()
        .expect("a Follow of the topic");
    assert_eq!(follow["object"], nodebb.url("/topic/1"));
    assert_eq!(follow["actor"], app.url("/u/gus"));
    let pending = app
        .site
        .thread_follow_of(gus_user.id, thread)
        .await
        .unwrap()
        .unwrap();
    assert!(pending.pending);
    let (_, told) = app
        .api(Method::GET, "/api/v1/notifications", Some(&gus), None)
        .await;
    assert_eq!(told["items"], json!([]), "old posts are not news");
    // A refusal leaves the follow unanswered: the topic is still read again now and then.
    let reject = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": nodebb.url("/reject/1"),
        "type": "Reject",
        "actor": nodebb.url("/category/2"),
        "object": follow,
    });
    let keys = (nodebb.public_key.as_str(), nodebb.private_key.as_str());
    crate::support::send_signed(keys, &signing, reject, &app.url("/u/gus/inbox")).await;
    let still = app
        .site
        .thread_follow_of(gus_user.id, thread)
        .await
        .unwrap()
        .expect("the follow stays, unanswered");
    assert!(still.pending);

    nodebb
        .posts
        .lock()
        .unwrap()
        .push((6, Some(1), "Jars of different shapes!".into()));
    wait_until("the new reply, read again from the context", || async {
        replies(&app, thread).await.len() == 5
    })
    .await;
    let got = replies(&app, thread).await;
    assert_eq!(got[4], ("Jars of different shapes!".to_string(), 1));
    let (_, told) = app
        .api(Method::GET, "/api/v1/notifications", Some(&gus), None)
        .await;
    let items = told["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{told}");
    assert_eq!(items[0]["kind"], "watched");

    // A reply that arrives late (written between the second and third) takes its place by
    // date, and those after it move on: the sixth reply is now the first of page 2 (five
    // to a page here).
    nodebb
        .written
        .lock()
        .unwrap()
        .insert(7, "2025-10-08T10:03:30.000Z".into());
    nodebb
        .posts
        .lock()
        .unwrap()
        .push((7, Some(3), "Late, but buttons do roll.".into()));
    let words = |replies: Vec<(String, i64)>| -> Vec<String> {
        replies.into_iter().map(|(w, _)| w).collect()
    };
    wait_until("the late reply, in its place", || async {
        words(replies(&app, thread).await)[2] == "Late, but buttons do roll."
    })
    .await;
    assert_eq!(
        words(replies(&app, thread).await),
        [
            "Beans first, then buttons.",
            "Buttons roll, though.",
            "Late, but buttons do roll.",
            "Weigh a handful and multiply.",
            "Ten at a time is quicker.",
        ]
    );
    let (_, page2) = app.read(&format!("/api/v1/threads/{thread}?page=2")).await;
    let jars = &page2["posts"][0];
    assert_eq!(jars["body"], "Jars of different shapes!", "{page2}");
    assert_eq!(page2["posts"].as_array().unwrap().len(), 1);
    // Its link finds it on its new page.
    let res = TestApp::browser()
        .get(app.url(&format!("/p/{}", jars["id"])))
        .send()
        .await
        .unwrap();
    let at = crate::support::location(&res);
    assert!(at.contains("page=2"), "{} {at}", res.status());
    handle.stop(false).await;
}

//! Staffroom with other software, against stand-ins: a small server in each test that serves
//! people, communities and WebFinger in that software's formats (the documents in
//! `tests/fixtures/<software>/`, moved to its own address), signs what it sends, and records
//! what arrives at its inboxes. Lemmy: following a community and answering in it. Mastodon:
//! following a Staffroom forum, seeing its threads, and replying to their authors.

use std::sync::{Arc, Mutex};

use activitypub_federation::config::Data;
use activitypub_federation::http_signatures::{generate_actor_keypair, Keypair};
use actix_web::{web, HttpResponse};
use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{drain_all, wait_until, TestApp};

both_backends!(
    educators_follow_a_lemmy_community_and_answer_there,
    mastodon_people_follow_a_forum_see_its_threads_and_reply,
);

/// The stand-in: its address, the key all its actors sign with, which software's documents it
/// serves, and what its inboxes received.
struct StandIn {
    base: String,
    keys: Keypair,
    software: &'static str,
    received: Mutex<Vec<Value>>,
}

impl StandIn {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A fixture of the stand-in's software with its servers' addresses replaced by the
    /// stand-in's.
    fn fixture(&self, name: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/{}/{name}",
            env!("CARGO_MANIFEST_DIR"),
            self.software
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text
            .replace("https://masto.qa.urbanwildlife.biz", &self.base)
            .replace("https://mastodon.madrid", &self.base)
            .replace("https://masto.asonix.dog", &self.base)
            .replace("https://enterprise.lemmy.ml", &self.base)
            .replace("http://enterprise.lemmy.ml", &self.base)
            .replace("https://ds9.lemmy.ml", &self.base)
            .replace("http://ds9.lemmy.ml", &self.base)
            .replace("/c/main", "/c/tenforward")
            .replace("/u/main", "/c/tenforward");
        serde_json::from_str(&text).unwrap()
    }

    fn with_key(&self, mut actor: Value) -> Value {
        let id = actor["id"].as_str().unwrap().to_string();
        actor["publicKey"] = json!({
            "id": format!("{id}#main-key"),
            "owner": id,
            "publicKeyPem": self.keys.public_key,
        });
        actor
    }
}

const AP: &str = "application/activity+json";

async fn group(state: web::Data<Arc<StandIn>>) -> HttpResponse {
    let mut group = state.fixture("group.json");
    // Lemmy's fixture says where its outbox is; this stand-in has nothing to backfill.
    group.as_object_mut().unwrap().remove("outbox");
    HttpResponse::Ok()
        .content_type(AP)
        .json(state.with_key(group))
}

async fn person(state: web::Data<Arc<StandIn>>, req: actix_web::HttpRequest) -> HttpResponse {
    let mut person = state.fixture("person.json");
    let name = req.match_info().get("name").unwrap_or_default().to_string();
    let id = state.url(req.path());
    person["id"] = json!(id);
    person["preferredUsername"] = json!(name.as_str());
    person["inbox"] = json!(format!("{id}/inbox"));
    HttpResponse::Ok()
        .content_type(AP)
        .json(state.with_key(person))
}

async fn webfinger(state: web::Data<Arc<StandIn>>) -> HttpResponse {
    let host = state.base.trim_start_matches("http://");
    HttpResponse::Ok()
        .content_type("application/jrd+json")
        .json(json!({
            "subject": format!("acct:tenforward@{host}"),
            "links": [{"rel": "self", "type": AP, "href": state.url("/c/tenforward")}],
        }))
}

/// NodeInfo (<https://nodeinfo.diaspora.software/protocol>): where it is, and what it says the
/// software is.
async fn nodeinfo_links(state: web::Data<Arc<StandIn>>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"links": [{
        "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
        "href": state.url("/nodeinfo/2.0"),
    }]}))
}

async fn nodeinfo(state: web::Data<Arc<StandIn>>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "version": "2.0",
        "software": {"name": state.software, "version": "0.19.3"},
        "protocols": ["activitypub"],
    }))
}

async fn inbox(state: web::Data<Arc<StandIn>>, body: web::Bytes) -> HttpResponse {
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.received.lock().unwrap().push(value);
    HttpResponse::Ok().finish()
}

/// Sends `activity`, signed by its actor (one of the stand-in's), to `inbox`.
async fn send(stand_in: &StandIn, data: &Data<()>, activity: Value, inbox: &str) {
    let keys = (
        stand_in.keys.public_key.as_str(),
        stand_in.keys.private_key.as_str(),
    );
    crate::support::send_signed(keys, data, activity, inbox).await;
}

/// Starts a stand-in for `software`; returns it, a handle that stops it, and the crate's
/// request data for signing as its actors.
async fn stand_in(
    software: &'static str,
) -> (Arc<StandIn>, actix_web::dev::ServerHandle, Data<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stand_in = Arc::new(StandIn {
        base: format!("http://localhost:{port}"),
        keys: generate_actor_keypair().unwrap(),
        software,
        received: Mutex::new(Vec::new()),
    });
    let state = web::Data::new(stand_in.clone());
    let (handle, data) = crate::support::serve_stand_in(listener, move |app| {
        app.app_data(state.clone())
            .route("/.well-known/webfinger", web::get().to(webfinger))
            .route("/.well-known/nodeinfo", web::get().to(nodeinfo_links))
            .route("/nodeinfo/2.0", web::get().to(nodeinfo))
            .route("/c/tenforward", web::get().to(group))
            .route("/u/{name}", web::get().to(person))
            .route("/users/{name}", web::get().to(person))
            .route("/inbox", web::post().to(inbox))
            .route("/c/tenforward/inbox", web::post().to(inbox))
            .route("/u/{name}/inbox", web::post().to(inbox))
            .route("/users/{name}/inbox", web::post().to(inbox));
    })
    .await;
    (stand_in, handle, data)
}

async fn educators_follow_a_lemmy_community_and_answer_there(backend: Backend) {
    let (stand_in, handle, data) = stand_in("lemmy").await;
    let port = stand_in.base.rsplit(':').next().unwrap().to_string();
    let beta = TestApp::spawn_with(backend, crate::support::federating).await;
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let handle_name = format!("tenforward@localhost:{port}");

    // bea follows the community by its handle: a Follow reaches the community's inbox.
    let (status, body) = beta.follow(&bea, &handle_name).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["forum"]["title"], "Ten Forward");
    wait_until("the Follow at the community", || async {
        !stand_in.received.lock().unwrap().is_empty()
    })
    .await;
    let follow = stand_in.received.lock().unwrap()[0].clone();
    assert_eq!(follow["type"], "Follow");
    assert_eq!(follow["actor"], beta.url("/u/bea"));
    assert_eq!(follow["object"], stand_in.url("/c/tenforward"));

    // The community accepts, in Lemmy's words.
    let mut accept = stand_in.fixture("accept.json");
    accept["object"] = follow.clone();
    accept["to"] = json!([beta.url("/u/bea")]);
    send(&stand_in, &data, accept, &beta.url("/u/bea/inbox")).await;
    let (_, follows) = beta
        .api(Method::GET, "/api/v1/follows", Some(&bea), None)
        .await;
    assert_eq!(follows[0]["state"], "accepted", "{follows}");

    // A post and a comment arrive as Lemmy announces them.
    let mut post = stand_in.fixture("announce_create_page.json");
    post["object"]["object"]["content"] =
        json!("<p>Which probes for the <em>science</em> kit?</p>");
    send(&stand_in, &data, post, &beta.url("/inbox")).await;
    // Lemmy gives the comment a context of its own: the thread is found through inReplyTo.
    let mut create = stand_in.fixture("create_comment.json");
    create["object"]["inReplyTo"] = json!(stand_in.url("/post/7"));
    create["object"]["context"] = json!(stand_in.url("/comment/1/context"));
    let comment = json!({
        "type": "Announce",
        "id": stand_in.url("/activities/announce/comment-1"),
        "actor": stand_in.url("/c/tenforward"),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [stand_in.url("/c/tenforward/followers")],
        "object": create,
    });
    send(&stand_in, &data, comment, &beta.url("/inbox")).await;
    let (_, threads) = beta
        .read(&format!("/api/v1/forums/{handle_name}/threads"))
        .await;
    assert_eq!(threads["threads"][0]["title"], "post 4", "{threads}");
    let thread = threads["threads"][0]["id"].as_i64().unwrap();
    let (_, page) = beta.read(&format!("/api/v1/threads/{thread}")).await;
    assert!(page["opening_post"]["html"]
        .as_str()
        .unwrap()
        .contains("<em>science</em>"));
    let comment_here = &page["posts"][0];
    assert_eq!(comment_here["html"], "<p>hello</p>\n", "{page}");
    assert_eq!(
        comment_here["author"]["name"],
        format!("lemmy_alpha@localhost:{port}")
    );

    // bea answers the comment: a Create of a Note goes to the community, shaped as Lemmy needs.
    let comment_id = comment_here["id"].as_i64().unwrap();
    beta.reply(&bea, thread, "We use the *Vernier* ones.", Some(comment_id))
        .await;
    drain_all(&[&beta]).await;
    let received = stand_in.received.lock().unwrap().clone();
    let create = received
        .iter()
        .find(|a| a["type"] == "Create")
        .unwrap_or_else(|| panic!("no Create among {received:?}"));
    let community = stand_in.url("/c/tenforward");
    assert_eq!(create["actor"], beta.url("/u/bea"));
    assert!(create["to"].as_array().unwrap().contains(&json!(community)));
    assert!(
        !create["cc"].as_array().unwrap().is_empty(),
        "Lemmy refuses a Create without cc"
    );
    assert_eq!(create["audience"], community);
    let note = &create["object"];
    assert_eq!(note["type"], "Note");
    assert_eq!(note["inReplyTo"], stand_in.url("/comment/1"));
    assert_eq!(note["attributedTo"], beta.url("/u/bea"));
    assert_eq!(note["source"]["mediaType"], "text/markdown");
    assert!(note["content"]
        .as_str()
        .unwrap()
        .contains("<em>Vernier</em>"));
    assert_eq!(note["tag"][0]["href"], stand_in.url("/u/lemmy_alpha"));
    handle.stop(false).await;
}

async fn mastodon_people_follow_a_forum_see_its_threads_and_reply(backend: Backend) {
    let (stand_in, handle, data) = stand_in("mastodon").await;
    let alpha = TestApp::spawn_with(backend, crate::support::federating).await;
    alpha.create_user("admin", true).await;
    let admin = alpha.token("admin").await;
    alpha.forum_named(&admin, "maths").await;
    alpha.create_user("alice", false).await;
    let alice = alpha.token("alice").await;

    // A Mastodon person follows the forum (Mastodon's Follow, aimed at our forum).
    let mut follow = stand_in.fixture("follow.json");
    follow["object"] = json!(alpha.url("/f/maths"));
    send(
        &stand_in,
        &data,
        follow.clone(),
        &alpha.url("/f/maths/inbox"),
    )
    .await;
    let forum = alpha.site.forum("maths".into()).await.unwrap();
    assert_eq!(alpha.site.follower_count(forum.id).await.unwrap(), 1);
    drain_all(&[&alpha]).await;
    let accept = stand_in
        .received
        .lock()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "Accept")
        .cloned()
        .expect("an Accept reached the follower");
    assert_eq!(accept["actor"], alpha.url("/f/maths"));
    assert_eq!(accept["object"]["id"], follow["id"]);

    // Once alpha knows the follower's server runs Mastodon (from its NodeInfo), a new thread
    // reaches it as Announce(Page), the one form Mastodon shows, at its shared inbox.
    let domain = stand_in.base.trim_start_matches("http://").to_string();
    wait_until("alpha to know the follower runs Mastodon", || async {
        let state = alpha.site.instance_state(domain.clone()).await.unwrap();
        state.and_then(|i| i.software).as_deref() == Some("mastodon")
    })
    .await;
    let thread = alpha
        .thread(&alice, "maths", "Bar models", "Who uses them for ratio?")
        .await;
    drain_all(&[&alpha]).await;
    let received = stand_in.received.lock().unwrap().clone();
    let announced: Vec<&Value> = received
        .iter()
        .filter(|a| a["type"] == "Announce")
        .collect();
    assert_eq!(announced.len(), 1, "{received:?}");
    assert_eq!(announced[0]["object"]["type"], "Page");
    assert_eq!(announced[0]["object"]["name"], "Bar models");
    assert_eq!(
        announced[0]["object"]["id"],
        alpha.url(&format!("/t/{thread}"))
    );

    // A Mastodon reply, addressed to alice only, lands in the thread.
    let mut reply = stand_in.fixture("create_note.json");
    reply["object"]["inReplyTo"] = json!(alpha.url(&format!("/t/{thread}")));
    reply["object"]["to"] = json!([alpha.url("/u/alice")]);
    reply["to"] = json!([alpha.url("/u/alice")]);
    send(&stand_in, &data, reply.clone(), &alpha.url("/inbox")).await;
    let (_, page) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
    let posts = page["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 1, "{page}");
    assert_eq!(posts[0]["url"], reply["object"]["id"]);
    assert!(posts[0]["html"].as_str().unwrap().contains("thinkpad"));
    handle.stop(false).await;
}

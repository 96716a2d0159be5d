//! What a hostile person or a hostile server can send, and what it must never do: crash the
//! server with one post, get past the limits our own forms enforce, be believed on a signature
//! that does not say what it should, spoof a name, or race the login throttle.
//!
//! The hostile server is a stand-in in each test ([`Hostile`]): it serves whatever documents
//! the test gives it at whatever paths, counts every request it gets (so a test can prove
//! nothing was fetched), and signs requests as any of its actors.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use activitypub_federation::config::FederationConfig;
use activitypub_federation::http_signatures::{generate_actor_keypair, Keypair};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;
use staffroom::forum::markdown::{nesting_shapes, MAX_HTML_DEPTH};

use crate::both_backends;
use crate::support::{network, Signer, TestApp};

both_backends!(
    every_nesting_shape_posted_every_way_leaves_the_server_up,
    signatures_are_checked_before_anything_is_fetched,
);

const AP: &str = "application/activity+json";

/// A server played by the test.
struct Hostile {
    base: String,
    keys: Keypair,
    docs: Mutex<HashMap<String, Value>>,
    requests: AtomicUsize,
    _server: actix_web::dev::ServerHandle,
}

async fn serve_doc(
    state: web::Data<Arc<Mutex<Option<Arc<Hostile>>>>>,
    req: HttpRequest,
) -> HttpResponse {
    let Some(hostile) = state.lock().unwrap().clone() else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    hostile.requests.fetch_add(1, Ordering::SeqCst);
    let doc = hostile.docs.lock().unwrap().get(req.path()).cloned();
    match doc {
        Some(doc) => HttpResponse::Ok().content_type(AP).json(doc),
        None if req.method() == actix_web::http::Method::POST => HttpResponse::Accepted().finish(),
        None => HttpResponse::NotFound().finish(),
    }
}

impl Hostile {
    async fn start() -> Arc<Hostile> {
        staffroom::federation::install_tls_provider();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let slot: Arc<Mutex<Option<Arc<Hostile>>>> = Arc::new(Mutex::new(None));
        let state = web::Data::new(slot.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .default_service(web::to(serve_doc))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        let hostile = Arc::new(Hostile {
            base: format!("http://localhost:{port}"),
            keys: generate_actor_keypair().unwrap(),
            docs: Mutex::new(HashMap::new()),
            requests: AtomicUsize::new(0),
            _server: handle,
        });
        *slot.lock().unwrap() = Some(hostile.clone());
        hostile
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Serves `doc` at `path`.
    fn serve(&self, path: &str, doc: Value) {
        self.docs.lock().unwrap().insert(path.to_string(), doc);
    }

    /// Serves a Person at `path`, with `changes` applied over a plausible one (its key is the
    /// stand-in's unless changed); returns its id.
    fn person(&self, path: &str, changes: Value) -> String {
        let id = self.url(path);
        let mut person = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id,
            "type": "Person",
            "preferredUsername": path.rsplit('/').next().unwrap(),
            "name": "A person",
            "inbox": format!("{id}/inbox"),
            "publicKey": {"id": format!("{id}#main-key"), "owner": id, "publicKeyPem": self.keys.public_key},
        });
        for (k, v) in changes.as_object().unwrap() {
            person[k] = v.clone();
        }
        self.serve(path, person);
        id
    }

    /// `body` POSTed to `inbox` as `actor` signs it (with the stand-in's key), dated `date`;
    /// `edit` may change the signed request before it is sent.
    async fn post(
        &self,
        actor: &str,
        inbox: &str,
        body: &Value,
        date: chrono::DateTime<chrono::Utc>,
        edit: impl FnOnce(&mut reqwest::Request),
    ) -> (u16, String) {
        self.post_as(AP, actor, inbox, body, date, edit).await
    }

    /// [`Hostile::post`] with another media type.
    async fn post_as(
        &self,
        media: &str,
        actor: &str,
        inbox: &str,
        body: &Value,
        date: chrono::DateTime<chrono::Utc>,
        edit: impl FnOnce(&mut reqwest::Request),
    ) -> (u16, String) {
        let signer = Signer {
            id: url::Url::parse(actor).unwrap(),
            keys: (self.keys.public_key.clone(), self.keys.private_key.clone()),
        };
        let config = FederationConfig::builder()
            .domain(self.base.trim_start_matches("http://"))
            .app_data(())
            .debug(true)
            .http_signature_compat(true)
            .signed_fetch_actor(&signer)
            .build()
            .await
            .unwrap();
        let target = url::Url::parse(inbox).unwrap();
        let builder = reqwest_middleware::ClientWithMiddleware::from(reqwest::Client::new())
            .post(inbox)
            .header("content-type", media)
            .header(
                "host",
                format!("{}:{}", target.host_str().unwrap(), target.port().unwrap()),
            )
            .header("date", date.format("%a, %d %b %Y %H:%M:%S GMT").to_string());
        let mut request = config
            .to_request_data()
            .sign_request(
                builder,
                bytes::Bytes::from(serde_json::to_vec(body).unwrap()),
            )
            .await
            .unwrap();
        edit(&mut request);
        let res = reqwest::Client::new().execute(request).await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }
}

/// A Follow of `forum` by `actor`, with a fresh id beside the actor.
fn follow(actor: &str, forum: &str) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{actor}/follows/{}", uuid::Uuid::new_v4()),
        "type": "Follow",
        "actor": actor,
        "object": forum,
    })
}

fn signature_of(request: &reqwest::Request) -> String {
    request
        .headers()
        .get("signature")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

fn set_signature(request: &mut reqwest::Request, value: &str) {
    request
        .headers_mut()
        .insert("signature", value.parse().unwrap());
}

/// The value of `param="..."` in a Signature header.
fn param(header: &str, name: &str) -> String {
    let start = header.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    let end = header[start..].find('"').unwrap() + start;
    header[start..end].to_string()
}

async fn signatures_are_checked_before_anything_is_fetched(backend: Backend) {
    let alpha = TestApp::spawn_with(backend, crate::support::federating).await;
    alpha.create_user("admin", true).await;
    let admin = alpha.token("admin").await;
    alpha.forum_named(&admin, "maths").await;
    let hostile = Hostile::start().await;
    let mallory = hostile.person("/u/mallory", json!({}));
    let inbox = alpha.url("/f/maths/inbox");
    let forum = alpha.url("/f/maths");
    let now = chrono::Utc::now();
    let expect = |what: &str, (status, text): (u16, String), want: u16, code: &str| {
        assert_eq!(status, want, "{what}: {text}");
        assert!(
            text.contains(&format!("\"error\":\"{code}\"")),
            "{what}: {text}"
        );
    };

    // Refused before the claimed actor is asked for anything.
    let unsigned = hostile
        .post(&mallory, &inbox, &follow(&mallory, &forum), now, |r| {
            r.headers_mut().remove("signature");
        })
        .await;
    expect("unsigned", unsigned, 401, "signature_missing");
    let garbled = hostile
        .post(&mallory, &inbox, &follow(&mallory, &forum), now, |r| {
            set_signature(r, "this is not a signature header")
        })
        .await;
    expect("unparseable", garbled, 401, "signature_malformed");
    let bad_base64 = hostile
        .post(&mallory, &inbox, &follow(&mallory, &forum), now, |r| {
            let header = signature_of(r);
            let sig = param(&header, "signature");
            set_signature(r, &header.replace(&sig, "%%%not*base64%%%"));
        })
        .await;
    expect("bad base64", bad_base64, 401, "signature_malformed");
    let too_short = hostile
        .post(&mallory, &inbox, &follow(&mallory, &forum), now, |r| {
            let header = signature_of(r);
            let sig = param(&header, "signature");
            set_signature(r, &header.replace(&sig, &sig[..40]));
        })
        .await;
    expect(
        "truncated to 30 bytes",
        too_short,
        401,
        "signature_malformed",
    );
    let too_few = hostile
        .post(&mallory, &inbox, &follow(&mallory, &forum), now, |r| {
            let header = signature_of(r);
            let headers = param(&header, "headers");
            set_signature(r, &header.replace(&headers, "(request-target) host date"));
        })
        .await;
    expect("digest not signed", too_few, 401, "signature_headers");
    let only_date = hostile
        .post(&mallory, &inbox, &follow(&mallory, &forum), now, |r| {
            let header = signature_of(r);
            let headers = param(&header, "headers");
            set_signature(r, &header.replace(&headers, "date"));
        })
        .await;
    expect("only the date signed", only_date, 401, "signature_headers");
    let old = hostile
        .post(
            &mallory,
            &inbox,
            &follow(&mallory, &forum),
            now - chrono::TimeDelta::days(2),
            |_| {},
        )
        .await;
    expect("dated two days ago", old, 401, "signature_date");
    let ahead = hostile
        .post(
            &mallory,
            &inbox,
            &follow(&mallory, &forum),
            now + chrono::TimeDelta::days(365),
            |_| {},
        )
        .await;
    expect("dated a year ahead", ahead, 401, "signature_date");
    let text = hostile
        .post_as(
            "text/plain",
            &mallory,
            &inbox,
            &follow(&mallory, &forum),
            now,
            |_| {},
        )
        .await;
    expect("text/plain", text, 415, "unsupported_media_type");
    assert_eq!(hostile.requests(), 0, "nothing was fetched for any of them");

    // Well formed but not verifying: a signature cut short, and an actor whose key is not a
    // key. Both are 401, never 500.
    let truncated = hostile
        .post(&mallory, &inbox, &follow(&mallory, &forum), now, |r| {
            let header = signature_of(r);
            let sig = param(&header, "signature");
            set_signature(r, &header.replace(&sig, &sig[..200]));
        })
        .await;
    expect(
        "truncated to 150 bytes",
        truncated,
        401,
        "invalid_signature",
    );
    let broken = hostile.person(
        "/u/broken",
        json!({"publicKey": {"id": hostile.url("/u/broken#main-key"), "owner": hostile.url("/u/broken"), "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n"}}),
    );
    let bad_pem = hostile
        .post(&broken, &inbox, &follow(&broken, &forum), now, |_| {})
        .await;
    expect("key not valid PEM", bad_pem, 401, "invalid_signature");
    let (followers, _) = alpha
        .api(Method::GET, "/api/v1/forums/maths", None, None)
        .await;
    assert_eq!(followers, 200);
    let forum_row = alpha.forum.forum("maths".into()).await.unwrap();
    assert_eq!(alpha.forum.follower_count(forum_row.id).await.unwrap(), 0);
    assert_eq!(alpha.forum.outbox_backlog().await.unwrap(), (0, 0));

    // The same Follow, honestly signed, is taken (so the checks refuse only what they should),
    // with each of the three JSON media types.
    for (i, media) in [
        AP,
        "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
        "application/json",
    ]
    .into_iter()
    .enumerate()
    {
        let person = hostile.person(&format!("/u/honest{i}"), json!({}));
        let (status, text) = hostile
            .post_as(
                media,
                &person,
                &inbox,
                &follow(&person, &forum),
                now,
                |_| {},
            )
            .await;
        assert!((200..300).contains(&status), "{media}: {status} {text}");
    }
    assert_eq!(alpha.forum.follower_count(forum_row.id).await.unwrap(), 3);
}

/// Deepest element nesting in `html`, counting only what the page's posts contain.
fn depth_of(html: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        let void = ["br", "img", "hr", "input", "meta", "link"]
            .iter()
            .any(|v| tag.starts_with(v));
        if tag.starts_with('/') {
            depth = depth.saturating_sub(1);
        } else if !void && !tag.starts_with('!') && !tag.ends_with('/') {
            depth += 1;
            deepest = deepest.max(depth);
        }
        rest = &rest[end.min(rest.len())..];
    }
    deepest
}

async fn every_nesting_shape_posted_every_way_leaves_the_server_up(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("admin", true).await;
    let admin = alpha.token("admin").await;
    alpha.forum_named(&admin, "maths").await;
    alpha.create_user("alice", false).await;
    let alice = alpha.token("alice").await;
    let limit = alpha.settings.limits.body_max_bytes;
    let thread = alpha.thread(&alice, "maths", "Deep", "A start.").await;
    let browser = alpha.logged_in("alice").await;
    let shapes = nesting_shapes(limit);
    // The shapes that took the server down before (one post each), and every other shape.
    let crashers = ["block quotes", "emphasis", "strong", "images", "footnotes"];

    let check_post = |what: String, status: u16, body: String| {
        assert!(
            (200..400).contains(&status),
            "{what}: the post was not taken: {status} {body}"
        );
    };
    for (shape, input) in &shapes {
        // The API reply, every shape.
        let (status, body) = alpha
            .api(
                Method::POST,
                &format!("/api/v1/threads/{thread}/posts"),
                Some(&alice),
                Some(json!({"body": input})),
            )
            .await;
        check_post(format!("API reply, {shape}"), status, body.to_string());
        let html = body["html"].as_str().unwrap_or_default();
        assert!(
            depth_of(html) <= MAX_HTML_DEPTH,
            "{shape}: {}",
            depth_of(html)
        );
        // From another server, as Markdown source and as HTML, every shape.
        let note = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": beta.url(&format!("/notes/{}/activity", uuid::Uuid::new_v4())),
            "type": "Create",
            "actor": beta.url("/actor"),
            "to": [alpha.url("/f/maths"), "https://www.w3.org/ns/activitystreams#Public"],
            "object": {
                "id": beta.url(&format!("/notes/{}", uuid::Uuid::new_v4())),
                "type": "Note",
                "attributedTo": beta.url("/actor"),
                "inReplyTo": alpha.url(&format!("/t/{thread}")),
                "to": [alpha.url("/f/maths"), "https://www.w3.org/ns/activitystreams#Public"],
                "content": "<p>see source</p>",
                "source": {"content": input, "mediaType": "text/markdown"},
                "published": "2026-11-22T10:00:00Z",
            },
        });
        let (status, text) = crate::following::post_signed(beta, &alpha.url("/inbox"), &note).await;
        check_post(format!("inbox Markdown, {shape}"), status, text);
    }
    for (shape, html) in [
        ("div", "<div>".repeat(limit / 5 - 2)),
        ("blockquote", "<blockquote>".repeat(limit / 12 - 2)),
        ("lists", "<ul><li>".repeat(limit / 8 - 2)),
        (
            "reopened formatting",
            "<div><b class=x>a</div>".repeat(limit / 23 - 2),
        ),
    ] {
        let mut note = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": beta.url(&format!("/notes/{}/activity", uuid::Uuid::new_v4())),
            "type": "Create",
            "actor": beta.url("/actor"),
            "to": [alpha.url("/f/maths")],
            "object": {
                "id": beta.url(&format!("/notes/{}", uuid::Uuid::new_v4())),
                "type": "Note",
                "attributedTo": beta.url("/actor"),
                "inReplyTo": alpha.url(&format!("/t/{thread}")),
                "to": [alpha.url("/f/maths")],
                "published": "2026-11-22T10:00:00Z",
            },
        });
        note["object"]["content"] = json!(html + "deep words");
        let (status, text) = crate::following::post_signed(beta, &alpha.url("/inbox"), &note).await;
        check_post(format!("inbox HTML, {shape}"), status, text);
    }

    for (shape, input) in shapes.iter().filter(|(s, _)| crashers.contains(s)) {
        // Starting a thread through the API and on the web, replying and editing on the web,
        // editing through the API.
        let (status, started) = alpha
            .api(
                Method::POST,
                "/api/v1/forums/maths/threads",
                Some(&alice),
                Some(json!({"title": format!("API {shape}"), "body": input})),
            )
            .await;
        check_post(format!("API thread, {shape}"), status, started.to_string());
        let opening = started["opening_post"]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{started}"));
        let (status, body) = alpha
            .api(
                Method::PATCH,
                &format!("/api/v1/posts/{opening}"),
                Some(&alice),
                Some(json!({"body": format!("{input} ")})),
            )
            .await;
        check_post(format!("API edit, {shape}"), status, body.to_string());
        let res = alpha
            .submit(
                &browser,
                "/f/maths/new",
                "/f/maths/new",
                &[("title", &format!("Web {shape}")), ("body", input)],
            )
            .await;
        check_post(
            format!("web thread, {shape}"),
            res.status().as_u16(),
            String::new(),
        );
        let res = alpha
            .submit(
                &browser,
                &format!("/t/{thread}/reply"),
                &format!("/t/{thread}/reply"),
                &[("body", input)],
            )
            .await;
        check_post(
            format!("web reply, {shape}"),
            res.status().as_u16(),
            String::new(),
        );
        let res = alpha
            .submit(
                &browser,
                &format!("/p/{opening}/edit"),
                &format!("/p/{opening}/edit"),
                &[("title", &format!("Edited {shape}")), ("body", input)],
            )
            .await;
        check_post(
            format!("web edit, {shape}"),
            res.status().as_u16(),
            String::new(),
        );
    }

    // Still up, and every page of the thread reads, shallow.
    let (status, json) = alpha
        .api(
            Method::GET,
            &format!("/api/v1/threads/{thread}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "{json}");
    let pages = json["paging"]["pages"].as_u64().unwrap_or(1);
    assert!(pages >= 5, "{json}");
    let mut deep_words = 0;
    for page in 1..=pages {
        let (status, html) = alpha
            .get(&TestApp::browser(), &format!("/t/{thread}?page={page}"))
            .await;
        assert_eq!(status, 200);
        // The page's own structure (html, body, main, article, ...) around the posts' depth.
        assert!(
            depth_of(&html) <= MAX_HTML_DEPTH + 12,
            "page {page}: {}",
            depth_of(&html)
        );
        deep_words += html.matches("deep words").count();
    }
    assert_eq!(deep_words, 4, "each remote HTML post kept its text");
}

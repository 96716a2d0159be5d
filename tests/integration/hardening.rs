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
use staffroom::forum::markdown::{depth_of, nesting_shapes, MAX_HTML_DEPTH};

use crate::both_backends;
use crate::support::{network, Signer, TestApp};

both_backends!(
    every_nesting_shape_posted_every_way_leaves_the_server_up,
    signatures_are_checked_before_anything_is_fetched,
    parallel_guesses_cannot_pass_the_throttle,
    failed_logins_in_parallel_stay_within_bounded_memory,
    nul_bytes_get_the_same_answer_on_both_databases,
    head_answers_like_get_and_slow_servers_cannot_hold_an_inbox,
    what_other_servers_send_is_held_to_our_limits,
    names_cannot_hide_what_they_say,
    readers_browsers_never_load_images_from_elsewhere,
    a_database_that_cannot_work_is_refused_at_start,
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
    if req.path().starts_with("/slow/") {
        // A server that never answers.
        std::future::pending::<()>().await;
    }
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

/// A Create of a Note by `from`'s instance actor (standing in for a person there) answering
/// thread `thread` on `to`, addressed to its forum maths, with `content` as its HTML.
fn forum_reply(from: &TestApp, to: &TestApp, thread: i64, content: &str) -> Value {
    let id = from.url(&format!("/notes/{}", uuid::Uuid::new_v4()));
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{id}/activity"),
        "type": "Create",
        "actor": from.url("/actor"),
        "to": [to.url("/f/maths")],
        "object": {
            "id": id,
            "type": "Note",
            "attributedTo": from.url("/actor"),
            "inReplyTo": to.url(&format!("/t/{thread}")),
            "to": [to.url("/f/maths")],
            "content": content,
            "published": "2026-11-22T10:00:00Z",
        },
    })
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

/// Changes parameter `name` of the request's Signature header to what `change` makes of it.
fn with_param(request: &mut reqwest::Request, name: &str, change: impl FnOnce(&str) -> String) {
    let header = signature_of(request);
    let old = param(&header, name);
    set_signature(request, &header.replace(&old, &change(&old)));
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
            with_param(r, "signature", |_| "%%%not*base64%%%".to_string())
        })
        .await;
    expect("bad base64", bad_base64, 401, "signature_malformed");
    let too_short = hostile
        .post(&mallory, &inbox, &follow(&mallory, &forum), now, |r| {
            with_param(r, "signature", |old| old[..40].to_string())
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
            with_param(r, "headers", |_| "(request-target) host date".to_string())
        })
        .await;
    expect("digest not signed", too_few, 401, "signature_headers");
    let only_date = hostile
        .post(&mallory, &inbox, &follow(&mallory, &forum), now, |r| {
            with_param(r, "headers", |_| "date".to_string())
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
            with_param(r, "signature", |old| old[..200].to_string())
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
    let forum_row = alpha.site.forum("maths".into()).await.unwrap();
    assert_eq!(alpha.site.follower_count(forum_row.id).await.unwrap(), 0);
    assert_eq!(alpha.site.outbox_backlog().await.unwrap(), (0, 0));

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
    assert_eq!(alpha.site.follower_count(forum_row.id).await.unwrap(), 3);
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
        let mut note = forum_reply(beta, alpha, thread, "<p>see source</p>");
        note["object"]["source"] = json!({"content": input, "mediaType": "text/markdown"});
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
        let note = forum_reply(beta, alpha, thread, &(html + "deep words"));
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
        let (new_title, edited_title) = (format!("Web {shape}"), format!("Edited {shape}"));
        for (way, page, fields) in [
            (
                "web thread",
                "/f/maths/new".to_string(),
                vec![("title", new_title.as_str()), ("body", input)],
            ),
            (
                "web reply",
                format!("/t/{thread}/reply"),
                vec![("body", input)],
            ),
            (
                "web edit",
                format!("/p/{opening}/edit"),
                vec![("title", edited_title.as_str()), ("body", input)],
            ),
        ] {
            let res = alpha.submit(&browser, &page, &page, &fields).await;
            check_post(
                format!("{way}, {shape}"),
                res.status().as_u16(),
                String::new(),
            );
        }
    }

    // Still up, and every page of the thread reads, shallow.
    let (status, json) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
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

async fn parallel_guesses_cannot_pass_the_throttle(backend: Backend) {
    // 5 failures per account (the default); the address limit out of the way.
    let app = TestApp::spawn_with(backend, |s| s.accounts.max_failures_per_address = 1000).await;
    app.create_user("alice", false).await;
    let guesses: Vec<_> = (0..40)
        .map(|i| {
            let url = app.url("/api/v1/sessions");
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(url)
                    .json(&json!({"username": "alice", "password": format!("guess number {i}")}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for guess in guesses {
        statuses.push(guess.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        (checked, refused),
        (5, 35),
        "exactly the limit was checked: {statuses:?}"
    );
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({"username": "alice", "password": crate::support::PASSWORD})),
        )
        .await;
    assert_eq!(status, 429, "the account waits, whoever asks");

    // Wrong current passwords on the password page are throttled too, beside the field, and
    // do not lock the owner out of logging in elsewhere.
    app.create_user("bob", false).await;
    let browser = app.logged_in("bob").await;
    let change = |current: &'static str| {
        let (app, browser) = (&app, &browser);
        async move {
            let res = app
                .submit(
                    browser,
                    "/settings/password",
                    "/settings/password",
                    &[
                        ("current_password", current),
                        ("new_password", "a brand new password"),
                        ("confirm_password", "a brand new password"),
                    ],
                )
                .await;
            let status = res.status().as_u16();
            (status, res.text().await.unwrap())
        }
    };
    for _ in 0..5 {
        let (status, page) = change("not my password").await;
        assert_eq!(status, 422, "{page}");
        assert!(page.contains("That is not your current password."));
    }
    let (status, page) = change("not my password").await;
    assert_eq!(status, 429, "{page}");
    assert!(page.contains("Too many wrong passwords"), "{page}");
    assert!(
        page.contains("current_password-error"),
        "beside the field: {page}"
    );
    let (status, page) = change(crate::support::PASSWORD).await;
    assert_eq!(status, 429, "even the right one waits: {page}");
    assert_eq!(
        app.api(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({"username": "bob", "password": crate::support::PASSWORD})),
        )
        .await
        .0,
        201,
        "logging in is not locked by the password page"
    );
}

/// Kills a child process when dropped, so a failing test leaves no server running.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .arg(self.0.to_string())
            .status();
    }
}

/// Resident memory of process `pid` now and at its peak, in MiB (Linux's /proc).
fn memory_of(pid: u32) -> (u64, u64) {
    (status_mib(pid, "VmRSS:"), status_mib(pid, "VmHWM:"))
}

/// The anonymous part of process `pid`'s resident memory (what it allocated, not the pages of
/// its program), in MiB.
fn anonymous_memory_of(pid: u32) -> u64 {
    status_mib(pid, "RssAnon:")
}

/// One `kB` line of `/proc/PID/status`, in MiB.
fn status_mib(pid: u32, key: &str) -> u64 {
    status_number(pid, key) / 1024
}

/// The number on one line of `/proc/PID/status`.
fn status_number(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The staffroom binary serving `db_url` on a free port: the child and its address.
fn serve_binary(db_url: &str) -> (std::process::Child, String) {
    use std::io::BufRead;
    let create = std::process::Command::new(env!("CARGO_BIN_EXE_staffroom"))
        .args(["admin", "create-user", "alice"])
        .env("STAFFROOM__DATABASE__URL", db_url)
        .env("STAFFROOM_PASSWORD", crate::support::PASSWORD)
        .output()
        .unwrap();
    assert!(create.status.success(), "{create:?}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_staffroom"))
        .env("STAFFROOM__DATABASE__URL", db_url)
        .env("STAFFROOM__SERVER__PORT", "0")
        .env("STAFFROOM__LOG__FILTER", "info")
        .env("STAFFROOM__ACCOUNTS__MAX_FAILURES_PER_ACCOUNT", "1000")
        .env("STAFFROOM__ACCOUNTS__MAX_FAILURES_PER_ADDRESS", "1000")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("the server says where it listens")
            .unwrap();
        if let Some(rest) = line.split("listening on 127.0.0.1:").nth(1) {
            break rest.split(',').next().unwrap().trim().to_string();
        }
    };
    // Keep reading its log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, format!("http://127.0.0.1:{port}"))
}

async fn failed_logins_in_parallel_stay_within_bounded_memory(backend: Backend) {
    staffroom::federation::install_tls_provider();
    let database = crate::support::TestDatabase::new(backend);
    let url = database.url.clone();
    let (mut child, address) = tokio::task::spawn_blocking(move || serve_binary(&url))
        .await
        .unwrap();
    let pid = child.id();
    let _stop = KillOnDrop(pid);
    let client = reqwest::Client::new();
    let login = |password: String| {
        let (address, client) = (address.clone(), client.clone());
        async move {
            client
                .post(format!("{address}/api/v1/sessions"))
                .json(&json!({"username": "alice", "password": password}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let fresh = anonymous_memory_of(pid);
    assert_eq!(login("warming up the server".into()).await, 401);
    let (before, _) = memory_of(pid);
    let quiet = anonymous_memory_of(pid);
    // 200 at once: each argon2id hash needs 19 MiB while it runs.
    let all: Vec<_> = (0..200)
        .map(|i| tokio::spawn(login(format!("wrong password {i}"))))
        .collect();
    for one in all {
        assert_eq!(one.await.unwrap(), 401);
    }
    let (after, peak) = memory_of(pid);
    let quiet_again = anonymous_memory_of(pid);
    let threads = status_number(pid, "Threads:");
    // Then 40 one after another: what stays resident must not grow with each.
    for i in 0..40 {
        assert_eq!(login(format!("another wrong one {i}")).await, 401);
    }
    let (settled, _) = memory_of(pid);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        peak < 100,
        "resident memory peaked at {peak} MiB (from {before} MiB) for 200 parallel logins"
    );
    assert!(
        settled <= after + 5,
        "40 sequential logins grew resident memory from {after} to {settled} MiB"
    );
    // A hash's 19 MiB area is given back once no login waits: not kept for the next one.
    assert!(
        quiet < fresh + 10,
        "one login left {fresh} -> {quiet} MiB of anonymous memory behind"
    );
    // Each HTTP worker runs a connection's worth of database threads and one per core for
    // hashing (8 + cores by default), however many requests wait: not one thread per request.
    let cores = staffroom::config::cores() as u64;
    let bound = cores * (8 + cores) + 16;
    assert!(
        threads <= bound,
        "{threads} threads after 200 parallel logins (at most {bound})"
    );
    assert!(
        quiet_again < quiet + 10,
        "200 parallel logins left {quiet} -> {quiet_again} MiB of anonymous memory behind"
    );
}

async fn nul_bytes_get_the_same_answer_on_both_databases(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("admin", true).await;
    let admin = alpha.token("admin").await;
    alpha.forum_named(&admin, "maths").await;
    alpha.create_user("alice", false).await;
    let alice = alpha.token("alice").await;
    let thread = alpha
        .thread(&alice, "maths", "Place value", "Blocks.")
        .await;
    let client = reqwest::Client::new();

    // Logging in with a NUL in the name: a wrong login, on the API and the form.
    let (status, body) = alpha
        .api(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({"username": "ali\u{0}ce", "password": "whatever it is"})),
        )
        .await;
    assert_eq!(status, 401, "{body}");
    let browser = TestApp::browser();
    let res = alpha
        .submit(
            &browser,
            "/login",
            "/login",
            &[("username", "ali\u{0}ce"), ("password", "whatever it is")],
        )
        .await;
    assert_eq!(res.status(), 401);
    // Registering with one: the field says why.
    let (status, body) = alpha
        .api(
            Method::POST,
            "/api/v1/accounts",
            None,
            Some(json!({"username": "bo\u{0}b", "display_name": "B\u{0}ob", "password": "long enough password"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["username"].is_string(), "{body}");
    // In addresses: people, forums, threads, feeds, follows, WebFinger, resolve.
    for path in [
        "/u/ali%00ce",
        "/f/ma%00ths",
        "/f/ma%00ths/feed.atom",
        "/api/v1/users/ali%00ce",
        "/api/v1/forums/ma%00ths",
        "/api/v1/forums/ma%00ths/threads",
        "/.well-known/webfinger?resource=acct:ali%00ce@localhost",
        "/t/1%00",
        "/?page=1%00",
    ] {
        let res = client.get(alpha.url(path)).send().await.unwrap();
        let status = res.status().as_u16();
        assert!(
            (400..500).contains(&status),
            "{path}: {status} {}",
            res.text().await.unwrap()
        );
    }
    for (method, path, body) in [
        (
            Method::GET,
            "/api/v1/resolve?q=maths%00@elsewhere.example",
            None,
        ),
        (
            Method::POST,
            "/api/v1/follows",
            Some(json!({"target": "ma\u{0}ths@localhost:1"})),
        ),
        (Method::DELETE, "/api/v1/follows/ma%00ths@localhost:1", None),
        (
            Method::POST,
            &format!("/api/v1/threads/{thread}/posts"),
            Some(json!({"body": "nul \u{0} here"})),
        ),
        (
            Method::POST,
            "/api/v1/forums/maths/threads",
            Some(json!({"title": "T\u{0}itle", "body": "ok"})),
        ),
    ] {
        let (status, body) = alpha.api(method.clone(), path, Some(&alice), body).await;
        assert!(
            (400..500).contains(&status),
            "{method} {path}: {status} {body}"
        );
    }

    // From another server: a reply whose content, source and author's name carry NUL bytes is
    // taken with them removed.
    let mut reply = forum_reply(beta, alpha, thread, "<p>nul\u{0} in html</p>");
    reply["object"]["source"] =
        json!({"content": "nul\u{0} in *markdown*", "mediaType": "text/markdown"});
    let (status, text) = crate::following::post_signed(beta, &alpha.url("/inbox"), &reply).await;
    assert!((200..300).contains(&status), "{status} {text}");
    let (_, json) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
    let post = &json["posts"][0];
    assert_eq!(post["body"], "nul in *markdown*", "{post}");
    assert!(
        post["html"].as_str().unwrap().contains("<em>markdown</em>"),
        "{post}"
    );
}

async fn head_answers_like_get_and_slow_servers_cannot_hold_an_inbox(backend: Backend) {
    let alpha = TestApp::spawn_with(backend, |s| {
        crate::support::federating(s);
        s.federation.inbox_timeout_seconds = 1.0;
    })
    .await;
    alpha.create_user("admin", true).await;
    let admin = alpha.token("admin").await;
    alpha.forum_named(&admin, "maths").await;
    let thread = alpha
        .thread(&admin, "maths", "Place value", "Blocks.")
        .await;
    // No compression, so lengths compare.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for path in [
        "/".to_string(),
        "/f/maths".into(),
        format!("/t/{thread}"),
        "/u/admin".into(),
        "/login".into(),
        "/register".into(),
        "/static/style.css".into(),
        "/f/maths/feed.atom".into(),
        format!("/t/{thread}/feed.atom"),
        "/api/v1/forums".into(),
        format!("/api/v1/threads/{thread}"),
        "/nowhere".into(),
    ] {
        let get = client.get(alpha.url(&path)).send().await.unwrap();
        let head = client.head(alpha.url(&path)).send().await.unwrap();
        assert_eq!(head.status(), get.status(), "{path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "{path}"
        );
        let length = head.headers().get("content-length").cloned();
        let body = get.bytes().await.unwrap();
        if let Some(length) = length {
            assert_eq!(length.to_str().unwrap(), body.len().to_string(), "{path}");
        }
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "{path}: HEAD has no body"
        );
    }

    // An activity whose author lives on a server that never answers: 503 with Retry-After
    // after federation.inbox_timeout_seconds, not a connection held for as long as it hangs.
    let hostile = Hostile::start().await;
    let slow = hostile.url("/slow/u/sloth");
    let started = std::time::Instant::now();
    let (status, text) = hostile
        .post(
            &slow,
            &alpha.url("/f/maths/inbox"),
            &follow(&slow, &alpha.url("/f/maths")),
            chrono::Utc::now(),
            |_| {},
        )
        .await;
    let waited = started.elapsed();
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("remote_timeout"), "{text}");
    assert!(
        waited < std::time::Duration::from_secs(5),
        "held for {waited:?}"
    );
    let forum = alpha.site.forum("maths".into()).await.unwrap();
    assert_eq!(alpha.site.follower_count(forum.id).await.unwrap(), 0);
}

async fn what_other_servers_send_is_held_to_our_limits(backend: Backend) {
    let net = network(backend, 2).await;
    let (beta, gamma) = (&net[0], &net[1]);
    // alpha keeps posts short, so that cutting shows.
    let alpha = TestApp::spawn_with(backend, |s| {
        crate::support::federating(s);
        s.limits.body_max_bytes = 4096;
    })
    .await;
    let alpha = &alpha;
    alpha.create_user("admin", true).await;
    let admin = alpha.token("admin").await;
    alpha.forum_named(&admin, "maths").await;
    let thread = alpha
        .thread(&admin, "maths", "Place value", "Blocks.")
        .await;
    let hostile = Hostile::start().await;
    let inbox = alpha.url("/inbox");
    let now = chrono::Utc::now();

    // A name that is no handle is refused, and nothing of it is kept.
    let spoof = hostile.person(
        "/u/spoof",
        json!({"preferredUsername": "admin\u{202e}moc.elpmaxe"}),
    );
    let (status, text) = hostile
        .post(
            &spoof,
            &inbox,
            &follow(&spoof, &alpha.url("/f/maths")),
            now,
            |_| {},
        )
        .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("invalid_remote_object"), "{text}");
    assert!(alpha.site.user_by_ap_id(spoof).await.unwrap().is_none());

    // A person with a long name full of controls and invisible characters, a link that is
    // script, and a shared inbox on somebody else's server.
    let mallory = hostile.person(
        "/u/mallory",
        json!({
            "name": format!("Ms\u{202e} Rivera\u{7}\u{200b}{}", "x".repeat(300)),
            "url": "javascript:alert(1)",
            "endpoints": {"sharedInbox": "http://localhost:9/inbox"},
        }),
    );
    // It opens a thread with a long, spoofing title dated far ahead, and a long body.
    let page_id = hostile.url("/pages/1");
    let create = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": hostile.url("/pages/1/create"),
        "type": "Create",
        "actor": mallory,
        "to": [alpha.url("/f/maths")],
        "object": {
            "id": page_id,
            "type": "Page",
            "attributedTo": mallory,
            "to": [alpha.url("/f/maths")],
            "name": format!("\u{202e}Pinned{}", " forever".repeat(100)),
            "content": format!("<p>{}</p>", "Long words. ".repeat(2000)),
            "published": "2999-01-01T00:00:00Z",
        },
    });
    let (status, text) = hostile.post(&mallory, &inbox, &create, now, |_| {}).await;
    assert!((200..300).contains(&status), "{status} {text}");
    let person = alpha
        .site
        .user_by_ap_id(mallory.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(person.name, "mallory");
    assert!(
        person.display_name.starts_with("Ms Rivera"),
        "{}",
        person.display_name
    );
    assert!(
        person.display_name.chars().count() <= 50,
        "{}",
        person.display_name
    );
    assert!(!person
        .display_name
        .contains(['\u{202e}', '\u{200b}', '\u{7}']));
    assert_eq!(person.profile_url, None, "a javascript: URL is no link");
    assert_eq!(
        person.shared_inbox_url, None,
        "a shared inbox elsewhere is not used"
    );

    let (_, threads) = alpha.read("/api/v1/forums/maths/threads").await;
    let theirs = threads["threads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["author"]["name"] != "admin")
        .unwrap_or_else(|| panic!("{threads}"))
        .clone();
    let title = theirs["title"].as_str().unwrap();
    assert!(title.starts_with("Pinned forever"), "{title}");
    assert!(title.chars().count() <= 200, "{}", title.chars().count());
    let started =
        chrono::DateTime::parse_from_rfc3339(theirs["created_at"].as_str().unwrap()).unwrap();
    assert!(
        started <= chrono::Utc::now(),
        "dated {started}, in the future"
    );
    assert_eq!(
        threads["threads"][0]["id"], theirs["id"],
        "newest, not pinned by its date"
    );
    let (_, thread_json) = alpha
        .api(
            Method::GET,
            &format!("/api/v1/threads/{}", theirs["id"]),
            None,
            None,
        )
        .await;
    let html = thread_json["opening_post"]["html"].as_str().unwrap();
    assert!(html.len() < 3 * 4096, "{} bytes kept", html.len());
    assert!(html.contains("the original"), "the cut is said: {html}");
    assert!(html.contains(&page_id), "and the original linked");
    // The page shows the name isolated and links nowhere dangerous.
    let (_, page) = alpha
        .get(&TestApp::browser(), &format!("/t/{}", theirs["id"]))
        .await;
    assert!(!page.contains("javascript:"), "{page}");
    assert!(page.contains("<bdi>Ms Rivera"), "{page}");

    // A post whose id is no web address (it would become the "original" link under it).
    let mut scripted = create.clone();
    let port = hostile.base.rsplit(':').next().unwrap().to_string();
    scripted["id"] = json!(hostile.url("/pages/2/create"));
    scripted["object"]["id"] = json!(format!("javascript://localhost:{port}/%0aalert(1)"));
    let (status, text) = hostile.post(&mallory, &inbox, &scripted, now, |_| {}).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("invalid_url"), "{text}");

    // A reply to a parent of 900 KB: fetched on the way, and held to the same limit.
    hostile.serve(
        "/notes/big",
        json!({
            "id": hostile.url("/notes/big"),
            "type": "Note",
            "attributedTo": mallory,
            "inReplyTo": alpha.url(&format!("/t/{thread}")),
            "to": [alpha.url("/f/maths")],
            "content": "x".repeat(900 * 1024),
            "published": "2026-11-22T10:00:00Z",
        }),
    );
    let reply = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": hostile.url("/notes/small/create"),
        "type": "Create",
        "actor": mallory,
        "to": [alpha.url("/f/maths")],
        "object": {
            "id": hostile.url("/notes/small"),
            "type": "Note",
            "attributedTo": mallory,
            "inReplyTo": hostile.url("/notes/big"),
            "to": [alpha.url("/f/maths")],
            "content": "<p>Small.</p>",
            "published": "2026-11-22T10:01:00Z",
        },
    });
    let (status, text) = hostile.post(&mallory, &inbox, &reply, now, |_| {}).await;
    assert!((200..300).contains(&status), "{status} {text}");
    let (_, thread_json) = alpha.read(&format!("/api/v1/threads/{thread}")).await;
    let posts = thread_json["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 2, "{thread_json}");
    for post in posts {
        let html = post["html"].as_str().unwrap();
        assert!(html.len() < 3 * 4096, "{} bytes kept", html.len());
    }

    // A forum from elsewhere, looked up on purpose, is held to the limits of our own forums.
    let club = hostile.url("/c/club");
    hostile.serve(
        "/c/club",
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": club,
            "type": "Group",
            "preferredUsername": "club",
            "name": format!("\u{202e}The club\u{0}{}", " and more".repeat(50)),
            "summary": format!("<p>{}</p>", "About us. ".repeat(400)),
            "url": "javascript:alert(1)",
            "inbox": format!("{club}/inbox"),
            "endpoints": {"sharedInbox": "http://localhost:9/inbox"},
            "publicKey": {"id": format!("{club}#main-key"), "owner": club, "publicKeyPem": hostile.keys.public_key},
        }),
    );
    let (status, found) = alpha
        .api(
            Method::GET,
            &format!("/api/v1/resolve?q={club}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let title = found["forum"]["title"].as_str().unwrap();
    assert!(title.starts_with("The club and more"), "{title}");
    assert!(title.chars().count() <= 100, "{title}");
    assert!(
        found["forum"]["description"]
            .as_str()
            .unwrap()
            .chars()
            .count()
            <= 1000,
        "{found}"
    );
    assert!(!found.to_string().contains("javascript:"), "{found}");

    // A third server posting "into" a forum that lives elsewhere, straight to an instance that
    // follows it: refused, and nothing stored. Only the forum's own server may say what is in it.
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    gamma.create_user("gus", false).await;
    let (status, body) = beta.follow(&bea, format!("maths@{}", alpha.domain())).await;
    assert_eq!(status, 202, "{body}");
    crate::support::drain_all(&[alpha, beta]).await;
    let forum_on_beta = format!("maths@{}", alpha.domain());
    let threads_before = beta
        .read(&format!("/api/v1/forums/{forum_on_beta}/threads"))
        .await
        .1["threads"]
        .as_array()
        .map_or(0, Vec::len);
    let id = gamma.url(&format!("/pages/{}", uuid::Uuid::new_v4()));
    let intruder = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{id}/create"),
        "type": "Create",
        "actor": gamma.url("/actor"),
        "to": [alpha.url("/f/maths")],
        "object": {
            "id": id,
            "type": "Page",
            "attributedTo": gamma.url("/actor"),
            "to": [alpha.url("/f/maths")],
            "name": "Not announced by maths",
            "content": "<p>Slipped in.</p>",
            "published": "2026-11-22T10:00:00Z",
        },
    });
    let (status, text) = crate::following::post_signed(gamma, &beta.url("/inbox"), &intruder).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("not_from_forum"), "{text}");
    let threads_after = beta
        .read(&format!("/api/v1/forums/{forum_on_beta}/threads"))
        .await
        .1["threads"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(threads_after, threads_before);
}

async fn names_cannot_hide_what_they_say(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("admin", true).await;
    let admin = app.token("admin").await;
    // A display name that would read "Principal" backwards-overridden, with zero-width spaces.
    let browser = TestApp::browser();
    let res = app
        .register_on_web(
            &browser,
            "eve",
            "\u{202e}lapicnirP\u{200b}\u{2066}\u{feff}",
            crate::support::PASSWORD,
        )
        .await;
    assert_eq!(res.status(), 303);
    let (status, eve) = app.read("/api/v1/users/eve").await;
    assert_eq!(status, 200, "{eve}");
    assert_eq!(eve["user"]["display_name"], "lapicnirP", "{eve}");
    // Forum titles and thread titles too.
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/forums",
            Some(&admin),
            Some(json!({"name": "maths", "title": "Ma\u{202d}ths\u{200f}", "description": "x"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["title"], "Maths");
    let eve_token = app.token("eve").await;
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/forums/maths/threads",
            Some(&eve_token),
            Some(json!({"title": "\u{2067}Fractions\u{2069}\u{061c}", "body": "Body keeps \u{200f} its marks."})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["thread"]["title"], "Fractions");
    assert_eq!(
        body["opening_post"]["body"],
        "Body keeps \u{200f} its marks."
    );
    // Every name in the page is isolated from the text around it.
    let id = body["thread"]["id"].as_i64().unwrap();
    let (_, page) = app.get(&TestApp::browser(), &format!("/t/{id}")).await;
    assert!(page.contains("<h1><bdi>Fractions</bdi>"), "{page}");
    assert!(page.contains("<bdi>lapicnirP</bdi>"), "{page}");
    assert!(page.contains("<bdi>Maths</bdi>"), "{page}");
}

async fn readers_browsers_never_load_images_from_elsewhere(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.create_user("admin", true).await;
    let admin = alpha.token("admin").await;
    alpha.forum_named(&admin, "maths").await;
    // Written here in Markdown, and sent from elsewhere as HTML.
    let thread = alpha
        .thread(
            &admin,
            "maths",
            "Pictures",
            "![A number line](https://pics.example/line.png)",
        )
        .await;
    let reply = forum_reply(
        beta,
        alpha,
        thread,
        "<p>Look: <img src=\"https://tracker.example/pixel.gif\" alt=\"a chart\"></p>",
    );
    let (status, text) = crate::following::post_signed(beta, &alpha.url("/inbox"), &reply).await;
    assert!((200..300).contains(&status), "{status} {text}");
    let res = reqwest::Client::new()
        .get(alpha.url(&format!("/t/{thread}")))
        .send()
        .await
        .unwrap();
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let page = res.text().await.unwrap();
    assert!(csp.contains("img-src 'self';"), "{csp}");
    assert!(!page.contains("<img"), "{page}");
    assert!(
        page.contains("href=\"https://pics.example/line.png\" rel=\"nofollow ugc noopener\">[image: A number line]</a>"),
        "{page}"
    );
    assert!(
        page.contains("href=\"https://tracker.example/pixel.gif\" rel=\"nofollow ugc noopener\">[image: a chart]</a>"),
        "{page}"
    );
}

/// Starts the server binary on `db_url` and returns how long it took to give up, its exit code
/// and what it said (it must not start).
async fn start_refused(db_url: &str, as_root: bool) -> (std::time::Duration, Option<i32>, String) {
    let binary = env!("CARGO_BIN_EXE_staffroom");
    let mut command = if as_root {
        tokio::process::Command::new(binary)
    } else {
        // Someone who may read the file but not write it, as a server account would be.
        let mut c = tokio::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", binary]);
        c
    };
    let started = std::time::Instant::now();
    let child = command
        .env("STAFFROOM__DATABASE__URL", db_url)
        .env("STAFFROOM__SERVER__PORT", "0")
        .env("RUST_BACKTRACE", "0")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Ten seconds at most: a server that starts never exits by itself (it is killed when the
    // wait is given up and the child dropped).
    match tokio::time::timeout(std::time::Duration::from_secs(10), child.wait_with_output()).await {
        Ok(out) => {
            let out = out.unwrap();
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (started.elapsed(), out.status.code(), said)
        }
        Err(_) => (
            started.elapsed(),
            None,
            "it started and kept running".into(),
        ),
    }
}

async fn a_database_that_cannot_work_is_refused_at_start(backend: Backend) {
    let check = |what: &str,
                 (took, code, said): (std::time::Duration, Option<i32>, String),
                 words: &str| {
        assert_eq!(code, Some(1), "{what}: it must refuse to start: {said}");
        assert!(said.contains(words), "{what}: {said}");
        assert!(
            said.matches("Error").count() + said.matches("ERROR").count() <= 1,
            "{what}: one message, not a stream: {said}"
        );
        // Under a second on this machine; the bound leaves room for a loaded CI run.
        assert!(
            took < std::time::Duration::from_secs(3),
            "{what}: took {took:?}"
        );
    };
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let garbage = dir.path().join("garbage.db");
            std::fs::write(&garbage, vec![0x5a_u8; 8192]).unwrap();
            let url = format!("sqlite://{}", garbage.display());
            let result = start_refused(&url, true).await;
            check("not a database", result, "not a usable SQLite database");

            // A real database that cannot be written: immutable for root (chattr), or
            // read-only for an ordinary account.
            let good = dir.path().join("staffroom.db");
            let url = format!("sqlite://{}", good.display());
            let made = std::process::Command::new(env!("CARGO_BIN_EXE_staffroom"))
                .arg("migrate")
                .env("STAFFROOM__DATABASE__URL", &url)
                .output()
                .unwrap();
            assert!(made.status.success(), "{made:?}");
            let immutable = std::process::Command::new("chattr")
                .arg("+i")
                .arg(&good)
                .status()
                .is_ok_and(|s| s.success());
            if !immutable {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                    .unwrap();
                std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o444)).unwrap();
            }
            let as_root = immutable;
            let result = start_refused(&url, as_root).await;
            if immutable {
                let _ = std::process::Command::new("chattr")
                    .arg("-i")
                    .arg(&good)
                    .status();
            }
            check("read-only", result, "cannot be written");
        }
        Backend::Postgres => {
            let mut url = url::Url::parse(&crate::support::postgres_url().unwrap()).unwrap();
            url.set_path("/staffroom_no_such_database");
            let url = url.to_string();
            let result = start_refused(&url, true).await;
            check("no such database", result, "cannot connect to PostgreSQL");
        }
    }
}

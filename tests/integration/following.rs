//! Following forums across instances, and what every inbox refuses. Several instances run in
//! this one process (alpha, beta, ...), each with its own database, talking over HTTP on
//! `localhost` ports exactly as separate servers would.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{drain_all, network, wait_until, TestApp};

both_backends!(
    following_a_remote_forum_by_handle,
    resolve_finds_forums_and_people_anywhere,
    following_needs_federation_and_a_forum,
    inboxes_refuse_what_they_cannot_trust,
    a_repeated_activity_is_acknowledged_and_ignored,
    a_reply_from_where_it_lives_is_stored_once_in_one_step,
    replies_arriving_together_are_stored_together_and_fail_alone,
    deliveries_wait_for_an_instance_that_is_down,
    deliveries_survive_a_restart_of_the_sender,
    a_reply_addressed_only_to_the_author_lands_in_the_thread,
    remote_html_is_sanitized,
    objects_claiming_another_origin_are_fetched_from_it,
    an_instance_failing_too_long_is_skipped_until_heard_from,
    resolve_finds_threads_and_replies_by_address,
    a_changed_key_is_fetched_again,
    a_post_its_edit_and_its_deletion_arrive_in_that_order,
    blocked_and_unlisted_instances_are_refused,
);

const AP: &str = "application/activity+json";

/// Sets up `app` with an administrator "admin" and a forum "maths"; returns the admin's token.
async fn with_maths(app: &TestApp) -> String {
    app.create_user("admin", true).await;
    let token = app.token("admin").await;
    app.forum_named(&token, "maths").await;
    token
}

/// How many accepted followers forum `name` on `app` has.
async fn followers(app: &TestApp, name: &str) -> i64 {
    let forum = app.site.forum(name.into()).await.unwrap();
    app.site.follower_count(forum.id).await.unwrap()
}

async fn follows(app: &TestApp, token: &str) -> Value {
    let (status, body) = app
        .api(Method::GET, "/api/v1/follows", Some(token), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn following_a_remote_forum_by_handle(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    with_maths(alpha).await;
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let handle = format!("maths@{}", alpha.domain());

    let (status, body) = beta.follow(&bea, &handle).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["state"], "pending");
    assert_eq!(body["forum"]["name"], handle);
    assert_eq!(body["forum"]["local"], false);
    assert_eq!(body["forum"]["title"], "Maths");
    assert_eq!(body["forum"]["url"], alpha.url("/f/maths"));

    drain_all(&[alpha, beta]).await;
    assert_eq!(
        followers(alpha, "maths").await,
        1,
        "alpha recorded the follower"
    );
    let list = follows(beta, &bea).await;
    assert_eq!(list[0]["state"], "accepted", "{list}");

    // Accepted: the remote forum is in beta's forum list, marked as remote, by its handle.
    let (_, forums) = beta.read("/api/v1/forums").await;
    let listed: Vec<&Value> = forums.as_array().unwrap().iter().collect();
    assert_eq!(listed.len(), 1, "{forums}");
    assert_eq!(listed[0]["name"], handle);
    assert_eq!(listed[0]["local"], false);
    let (status, one) = beta.read(&format!("/api/v1/forums/{handle}")).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["url"], alpha.url("/f/maths"));

    // Following again changes nothing.
    let (status, body) = beta.follow(&bea, &alpha.url("/f/maths")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "accepted");
    drain_all(&[alpha, beta]).await;
    assert_eq!(followers(alpha, "maths").await, 1);

    // Unfollowing tells alpha and takes the forum off beta's list.
    let (status, body) = beta
        .api(
            Method::DELETE,
            &format!("/api/v1/follows/{handle}"),
            Some(&bea),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    drain_all(&[alpha, beta]).await;
    assert_eq!(
        followers(alpha, "maths").await,
        0,
        "alpha forgot the follower"
    );
    assert_eq!(follows(beta, &bea).await, json!([]));
    let (_, forums) = beta.read("/api/v1/forums").await;
    assert_eq!(forums, json!([]));
    let (status, _) = beta
        .api(
            Method::DELETE,
            &format!("/api/v1/follows/{handle}"),
            Some(&bea),
            None,
        )
        .await;
    assert_eq!(status, 404, "nothing left to unfollow");
}

async fn resolve_finds_forums_and_people_anywhere(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    with_maths(alpha).await;
    alpha.create_user("alice", false).await;
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let resolve = |q: String| {
        let bea = bea.clone();
        async move {
            beta.api(
                Method::GET,
                &format!(
                    "/api/v1/resolve?q={}",
                    percent_encoding::utf8_percent_encode(&q, percent_encoding::NON_ALPHANUMERIC)
                ),
                Some(&bea),
                None,
            )
            .await
        }
    };

    let (status, body) = resolve(format!("maths@{}", alpha.domain())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["type"], "forum");
    assert_eq!(body["forum"]["name"], format!("maths@{}", alpha.domain()));
    assert_eq!(body["forum"]["description"], "About maths.");

    let (status, body) = resolve(format!("@alice@{}", alpha.domain())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["type"], "user");
    assert_eq!(body["user"]["name"], format!("alice@{}", alpha.domain()));
    assert_eq!(body["user"]["display_name"], "Alice");
    assert_eq!(body["user"]["local"], false);
    assert_eq!(body["user"]["url"], alpha.url("/u/alice"));

    let (status, body) = resolve(alpha.url("/u/admin")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["name"], format!("admin@{}", alpha.domain()));

    // Local handles resolve without leaving the instance.
    let (status, body) = resolve(format!("bea@{}", beta.domain())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["local"], true);

    let (status, body) = resolve(format!("nobody@{}", alpha.domain())).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "not_found");
    let (status, body) = resolve("not a handle".into()).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "invalid_target");

    // Resolving makes this server fetch from others: only for people logged in.
    let (status, body) = beta
        .api(
            Method::GET,
            &format!("/api/v1/resolve?q=maths@{}", alpha.domain()),
            None,
            None,
        )
        .await;
    assert_eq!(status, 401, "{body}");
}

async fn following_needs_federation_and_a_forum(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    with_maths(alpha).await;
    let admin = with_maths(beta).await;

    // A person is not a forum.
    alpha.create_user("alice", false).await;
    let (status, body) = beta
        .follow(&admin, &format!("alice@{}", alpha.domain()))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "not_a_forum");
    assert!(body["fields"]["target"].is_string(), "{body}");
    // A local forum needs no following.
    let (status, body) = beta
        .follow(&admin, &format!("maths@{}", beta.domain()))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "local_forum");
    let (status, body) = beta.follow(&admin, "").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "invalid_target");
    assert_eq!(follows(beta, &admin).await, json!([]));

    // A server that does not answer: 502 from the API; the page says so beside the field and
    // keeps the handle. (Port 1 on this machine has no listener.)
    let unreachable = "maths@localhost:1";
    let (status, body) = beta.follow(&admin, unreachable).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "remote_fetch_failed");
    let browser = beta.logged_in("admin").await;
    let res = beta
        .submit(&browser, "/", "/follows", &[("target", unreachable)])
        .await;
    assert_eq!(res.status(), 502);
    let page = res.text().await.unwrap();
    assert!(page.contains("could not be reached"), "{page}");
    assert!(page.contains(&format!("value=\"{unreachable}\"")), "{page}");
    assert_eq!(follows(beta, &admin).await, json!([]));

    // Without federation there is nothing to follow.
    let lone = TestApp::spawn(backend).await;
    let lone_admin = with_maths(&lone).await;
    let (status, body) = lone
        .follow(&lone_admin, &format!("maths@{}", alpha.domain()))
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"], "federation_disabled");
}

/// POSTs `body` to `inbox`, signed by `signer`'s instance actor (`/actor`), as another server
/// would. Returns (status, body).
pub(crate) async fn post_signed(signer: &TestApp, inbox: &str, body: &Value) -> (u16, String) {
    post_signed_raw(signer, inbox, serde_json::to_vec(body).unwrap()).await
}

/// [`post_signed`] with any body, JSON or not.
async fn post_signed_raw(signer: &TestApp, inbox: &str, body: Vec<u8>) -> (u16, String) {
    let config = staffroom::federation::config(signer.site.clone())
        .await
        .unwrap();
    let data = config.to_request_data();
    let url = url::Url::parse(inbox).unwrap();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let client = reqwest_middleware::ClientWithMiddleware::from(reqwest::Client::new());
    let builder = client
        .post(inbox)
        .header("content-type", AP)
        .header("host", host)
        .header(
            "date",
            chrono::Utc::now()
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string(),
        );
    let request = data
        .sign_request(builder, bytes::Bytes::from(body))
        .await
        .unwrap();
    let res = reqwest::Client::new().execute(request).await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// A Follow of alpha's maths by `from`'s instance actor, with a fresh id on `from`.
fn follow_from(from: &TestApp, alpha: &TestApp) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": from.url(&format!("/activities/follow/{}", uuid::Uuid::new_v4())),
        "type": "Follow",
        "actor": from.url("/actor"),
        "object": alpha.url("/f/maths"),
    })
}

async fn inboxes_refuse_what_they_cannot_trust(backend: Backend) {
    let net = network(backend, 3).await;
    let (alpha, beta, gamma) = (&net[0], &net[1], &net[2]);
    with_maths(alpha).await;
    let inbox = alpha.url("/f/maths/inbox");
    let client = reqwest::Client::new();

    // Unsigned.
    let res = client
        .post(&inbox)
        .header("content-type", AP)
        .body(follow_from(beta, alpha).to_string())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert!(status == 400 || status == 401, "unsigned: {status} {text}");
    // Signed by gamma's key while claiming to come from beta's actor (same domain as the id, so
    // only the signature can tell).
    let mut forged = follow_from(beta, alpha);
    forged["actor"] = json!(beta.url("/actor"));
    let (status, text) = post_signed(gamma, &inbox, &forged).await;
    assert_eq!(status, 401, "forged signature: {text}");
    assert!(text.contains("invalid_signature"), "{text}");
    // Activity id on one domain, actor on another.
    let mut crossed = follow_from(gamma, alpha);
    crossed["actor"] = json!(beta.url("/actor"));
    let (status, text) = post_signed(beta, &inbox, &crossed).await;
    assert_eq!(status, 400, "id and actor on different domains: {text}");
    assert!(text.contains("origin_mismatch"), "{text}");
    // An activity claiming to come from this very instance (its own actor, its own domain).
    let (status, text) = post_signed(alpha, &inbox, &follow_from(alpha, alpha)).await;
    assert_eq!(status, 400, "sent from here: {text}");
    assert!(text.contains("invalid_url"), "{text}");
    // Malformed JSON, a type not taken here, a known type in a shape we cannot read.
    let (status, text) = post_signed_raw(beta, &inbox, b"{\"id\": ".to_vec()).await;
    assert_eq!(status, 400, "malformed JSON: {text}");
    assert!(text.contains("invalid_activity"), "{text}");
    let mut unknown = follow_from(beta, alpha);
    unknown["type"] = json!("Move");
    let (status, text) = post_signed(beta, &inbox, &unknown).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("unsupported_activity"), "{text}");
    assert!(
        text.contains("Move activities are not taken here"),
        "{text}"
    );
    let mut misshapen = follow_from(beta, alpha);
    misshapen["object"] = json!({"no": "id"});
    let (status, text) = post_signed(beta, &inbox, &misshapen).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("Follow activity not understood"), "{text}");
    // A Follow of a forum that is not here.
    let mut elsewhere = follow_from(beta, alpha);
    elsewhere["object"] = json!(gamma.url("/f/maths"));
    let (status, text) = post_signed(beta, &inbox, &elsewhere).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("not_our_forum"), "{text}");
    // Over the size limit.
    let big = json!({"id": beta.url("/x"), "type": "Follow", "padding": "x".repeat(300 * 1024)});
    let res = client
        .post(&inbox)
        .header("content-type", AP)
        .body(big.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413, "body over the limit");

    // None of it was stored: no follower, nothing queued to send back.
    assert_eq!(followers(alpha, "maths").await, 0);
    assert_eq!(alpha.site.outbox_backlog().await.unwrap(), (0, 0));

    // The same Follow, honestly signed, is taken.
    let (status, text) = post_signed(beta, &inbox, &follow_from(beta, alpha)).await;
    assert!((200..300).contains(&status), "{status} {text}");
    assert_eq!(followers(alpha, "maths").await, 1);
}

async fn a_repeated_activity_is_acknowledged_and_ignored(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    with_maths(alpha).await;
    let inbox = alpha.url("/inbox");
    let follow = follow_from(beta, alpha);
    let (status, text) = post_signed(beta, &inbox, &follow).await;
    assert!((200..300).contains(&status), "{status} {text}");
    drain_all(&[alpha, beta]).await;
    assert_eq!(alpha.site.activities_sent("Accept").await.unwrap(), 1);
    // The same Follow again is acknowledged, but makes no second Accept.
    let (status, text) = post_signed(beta, &inbox, &follow).await;
    assert!((200..300).contains(&status), "{status} {text}");
    drain_all(&[alpha, beta]).await;
    assert_eq!(alpha.site.activities_sent("Accept").await.unwrap(), 1);
    assert_eq!(followers(alpha, "maths").await, 1);
}

async fn a_reply_from_where_it_lives_is_stored_once_in_one_step(backend: Backend) {
    use staffroom::forum::incoming::{Answered, DirectOutcome, DirectReply, IncomingPost, Relay};
    let app = TestApp::spawn_with(backend, crate::support::federating).await;
    let admin = with_maths(&app).await;
    let thread = app
        .thread(&admin, "maths", "Number lines", "Where does 3/4 go?")
        .await;
    let now = staffroom::forum::now();
    let rita = "https://remote.example/u/rita";
    app.remember_remote_person("https://remote.example", "rita")
        .await;
    let reply = |activity: &str, post: &str, author: &str, answers: Answered| {
        DirectReply {
        activity_id: format!("https://remote.example/activities/{activity}"),
        author: author.to_string(),
        signer: None,
        answers,
        incoming: IncomingPost {
            ap_id: format!("https://remote.example/p/{post}"),
            title: None,
            markdown: Some("Between the halves[^1]. <script>alert(1)</script>\n\n[^1]: Count on.".into()),
            html: String::new(),
            published: now,
            updated: None,
            mentions: Vec::new(),
            ..Default::default()
        },
        relay: Relay {
            activity: json!({"type": "Create", "id": format!("https://remote.example/activities/{activity}")})
                .to_string(),
            origin: "remote.example".into(),
        },
    }
    };
    let receive = |r: DirectReply| {
        let site = app.site.clone();
        async move { site.receive_direct_reply(r).await.unwrap() }
    };
    let ours = Answered::OurThread(thread);
    assert_eq!(
        receive(reply("1", "1", rita, ours.clone())).await,
        DirectOutcome::Stored
    );
    // The same activity again, and the same post in another activity: acknowledged, not stored.
    assert_eq!(
        receive(reply("1", "1", rita, ours.clone())).await,
        DirectOutcome::Repeat
    );
    assert_eq!(
        receive(reply("2", "1", rita, ours.clone())).await,
        DirectOutcome::Repeat
    );
    // What needs another server is left to the long way, and nothing of it is recorded.
    let unknown_parent = Answered::Elsewhere("https://remote.example/p/404".into());
    assert_eq!(
        receive(reply("3", "3", rita, unknown_parent)).await,
        DirectOutcome::LongWay
    );
    let stranger = "https://remote.example/u/stranger";
    assert_eq!(
        receive(reply("4", "4", stranger, ours.clone())).await,
        DirectOutcome::LongWay
    );
    for (id, seen) in [("1", true), ("2", true), ("3", false), ("4", false)] {
        let id = format!("https://remote.example/activities/{id}");
        assert_eq!(app.site.seen_activity(id).await.unwrap(), seen);
    }
    // A reply to the stored reply, by its address, finds it.
    let first = Answered::Elsewhere("https://remote.example/p/1".into());
    assert_eq!(
        receive(reply("5", "5", rita, first)).await,
        DirectOutcome::Stored
    );

    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    let posts = page["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 2, "{page}");
    assert_eq!(posts[1]["in_reply_to"], posts[0]["id"], "{page}");
    let id = posts[0]["id"].as_i64().unwrap();
    let html = posts[0]["html"].as_str().unwrap();
    // Sanitized, with the footnote's anchors named after the post.
    assert!(!html.contains("<script"), "{html}");
    assert!(html.contains(&format!("id=\"p{id}-fn-1\"")), "{html}");
    assert!(html.contains(&format!("href=\"#p{id}-fn-1\"")), "{html}");
    assert!(!html.contains("id=\"a"), "{html}");
}

async fn replies_arriving_together_are_stored_together_and_fail_alone(backend: Backend) {
    use staffroom::forum::incoming::{Answered, DirectOutcome, DirectReply, IncomingPost, Relay};
    let app = TestApp::spawn_with(backend, crate::support::federating).await;
    let admin = with_maths(&app).await;
    app.forum_named(&admin, "history").await;
    let maths = app
        .thread(&admin, "maths", "Number lines", "Where does 3/4 go?")
        .await;
    let history = app
        .thread(&admin, "history", "Timelines", "How long is a century?")
        .await;
    let (status, body) = app
        .api(
            Method::PATCH,
            "/api/v1/forums/history",
            Some(&admin),
            Some(json!({"archived": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let rita = app
        .remember_remote_person("https://remote.example", "rita")
        .await;
    let tom = app
        .remember_remote_person("https://remote.example", "tom")
        .await;
    // wendy watches the forum: each stored reply tells her, and tells the admin, whose thread
    // it answers, that it is a reply.
    app.create_user("wendy", false).await;
    let wendy = app.token("wendy").await;
    let (status, body) = app
        .api(
            Method::PUT,
            "/api/v1/forums/maths/watch",
            Some(&wendy),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // A third come with their author as read when the signature was checked, a third without,
    // and a third with someone else, who is not taken for the author.
    let reply = |n: usize, thread: i64| DirectReply {
        activity_id: format!("https://remote.example/activities/{n}"),
        author: "https://remote.example/u/rita".into(),
        signer: [Some(rita.clone()), None, Some(tom.clone())][n % 3].clone(),
        answers: Answered::OurThread(thread),
        incoming: IncomingPost {
            ap_id: format!("https://remote.example/p/{n}"),
            title: None,
            markdown: Some(format!("Reply {n} about quarters{n}")),
            html: String::new(),
            published: staffroom::forum::now(),
            updated: None,
            mentions: Vec::new(),
            ..Default::default()
        },
        relay: Relay {
            activity: json!({"type": "Create", "id": n}).to_string(),
            origin: "remote.example".into(),
        },
    };
    // Sixty replies at once to maths, every fifth one to the archived history forum, and each
    // of the first ten maths replies sent twice: they share transactions, and each is judged
    // alone.
    let mut arriving = tokio::task::JoinSet::new();
    for n in 0..60 {
        let thread = if n % 5 == 4 { history } else { maths };
        let copies = if n < 10 && thread == maths { 2 } else { 1 };
        for _ in 0..copies {
            let (site, reply) = (app.site.clone(), reply(n, thread));
            arriving.spawn(async move {
                let outcome = site.receive_direct_reply(reply).await;
                (n, thread, outcome.map_err(|e| e.to_string()))
            });
        }
    }
    let mut stored = std::collections::BTreeMap::<usize, usize>::new();
    while let Some(done) = arriving.join_next().await {
        let (n, thread, outcome) = done.unwrap();
        if thread == history {
            let error = outcome.expect_err("an archived forum takes no replies");
            assert!(error.contains("archived"), "{error}");
        } else {
            match outcome {
                Ok(DirectOutcome::Stored) => *stored.entry(n).or_default() += 1,
                Ok(DirectOutcome::Repeat) => assert!(n < 10, "reply {n} was not sent twice"),
                other => panic!("reply {n}: {other:?}"),
            }
        }
    }
    assert_eq!(stored.len(), 48, "{stored:?}");
    assert!(stored.values().all(|&times| times == 1), "{stored:?}");

    // Counted once each, in the thread and its forum; nothing of the refused ones kept.
    let (_, page) = app.read(&format!("/api/v1/threads/{maths}")).await;
    assert_eq!(page["thread"]["reply_count"], 48, "{page}");
    assert_eq!(page["paging"]["total"], 48, "{page}");
    let (_, forums) = app.read("/api/v1/forums").await;
    let count = |name: &str| {
        forums
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .map(|f| f["post_count"].clone())
    };
    assert_eq!(count("maths"), Some(json!(49)), "{forums}");
    assert_eq!(count("history"), Some(json!(1)), "{forums}");
    let (_, page) = app.read(&format!("/api/v1/threads/{history}")).await;
    assert_eq!(page["thread"]["reply_count"], 0, "{page}");
    for n in [4, 9, 59] {
        let id = format!("https://remote.example/activities/{n}");
        assert!(!app.site.seen_activity(id).await.unwrap(), "{n}");
    }
    // What each stored reply leaves for its batch to write is written: its activity recorded
    // as received, its words indexed, the people it concerns told once, by the strongest
    // reason.
    for &n in stored.keys() {
        let id = format!("https://remote.example/activities/{n}");
        assert!(app.site.seen_activity(id).await.unwrap(), "{n}");
    }
    for n in [0, 17, 58] {
        let path = format!("/api/v1/search?q=quarters{n}");
        let (status, found) = app.api(Method::GET, &path, Some(&wendy), None).await;
        assert_eq!(status, 200, "{found}");
        let items = found["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{n}: {found}");
        assert!(
            items[0].to_string().contains(&format!("quarters{n}")),
            "{found}"
        );
    }
    for (token, kind) in [(&admin, "reply"), (&wendy, "watched")] {
        let (status, told) = app
            .api(
                Method::GET,
                "/api/v1/notifications?unread=true",
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, 200, "{told}");
        assert_eq!(told["unread"], 48, "{kind}: {told}");
        let items = told["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{told}");
        assert!(items.iter().all(|n| n["kind"] == kind), "{kind}: {told}");
    }
    // tom is banned from maths: of replies arriving together from him and from rita, his are
    // refused and hers stored, however the batches fall.
    let (status, body) = crate::bans::ban(
        &app,
        &admin,
        Some("maths"),
        json!({"person": "tom@remote.example", "reason": "Spam"}),
    )
    .await;
    assert!((200..300).contains(&status), "{body}");
    let mut arriving = tokio::task::JoinSet::new();
    for n in 200..212 {
        let reply = if n % 2 == 0 {
            reply(n, maths)
        } else {
            DirectReply {
                author: "https://remote.example/u/tom".into(),
                signer: Some(tom.clone()),
                ..reply(n, maths)
            }
        };
        let site = app.site.clone();
        arriving.spawn(async move { (n, site.receive_direct_reply(reply).await) });
    }
    while let Some(done) = arriving.join_next().await {
        match done.unwrap() {
            (n, Ok(DirectOutcome::Stored)) if n % 2 == 0 => {}
            (n, Err(e)) if n % 2 == 1 => assert!(e.to_string().contains("banned"), "{e}"),
            (n, other) => panic!("reply {n}: {other:?}"),
        }
    }
    let (_, page) = app.read(&format!("/api/v1/threads/{maths}")).await;
    assert_eq!(page["thread"]["reply_count"], 54, "{page}");

    // Once maths is archived, a new reply is refused, but a repeat of one stored is still
    // acknowledged as such (its sender may be retrying).
    let (status, body) = app
        .api(
            Method::PATCH,
            "/api/v1/forums/maths",
            Some(&admin),
            Some(json!({"archived": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.site
            .receive_direct_reply(reply(0, maths))
            .await
            .unwrap(),
        DirectOutcome::Repeat
    );
    let refused = app.site.receive_direct_reply(reply(100, maths)).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("archived")),
        "{refused:?}"
    );
    for page in 1..=10 {
        let (_, posts) = app
            .read(&format!("/api/v1/threads/{maths}?page={page}"))
            .await;
        for post in posts["posts"].as_array().unwrap() {
            assert_eq!(post["author"]["name"], "rita@remote.example", "{post}");
        }
    }
}

/// alpha with forum maths; beta with "bea", whose instance has looked maths@alpha up (so it
/// can be followed while alpha is down). Returns bea's token and the forum's handle.
async fn bea_knows_maths(alpha: &TestApp, beta: &TestApp) -> (String, String) {
    with_maths(alpha).await;
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let handle = format!("maths@{}", alpha.domain());
    let (status, body) = beta
        .api(
            Method::GET,
            &format!("/api/v1/resolve?q={handle}"),
            Some(&bea),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (bea, handle)
}

async fn deliveries_wait_for_an_instance_that_is_down(backend: Backend) {
    let mut net = network(backend, 2).await;
    let beta = net.pop().unwrap();
    let alpha = net.pop().unwrap();
    let (bea, handle) = bea_knows_maths(&alpha, &beta).await;

    let alpha_domain = alpha.domain();
    let stopped = alpha.stop().await;
    // Follow, unfollow, follow again while alpha is down: three activities wait, in order.
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/follows".to_string(),
            Some(json!({"target": handle})),
        ),
        (Method::DELETE, format!("/api/v1/follows/{handle}"), None),
        (
            Method::POST,
            "/api/v1/follows".to_string(),
            Some(json!({"target": handle})),
        ),
    ] {
        let (status, body) = beta.api(method, &path, Some(&bea), body).await;
        assert!((200..300).contains(&status), "{status} {body}");
    }
    // beta tries, fails, and backs off.
    let domain = alpha_domain.clone();
    wait_until("beta to retry", || async {
        beta.site
            .instance_state(domain.clone())
            .await
            .unwrap()
            .is_some_and(|s| s.failures >= 2)
    })
    .await;
    let state = beta
        .site
        .instance_state(domain.clone())
        .await
        .unwrap()
        .unwrap();
    assert!(state.next_attempt_at.is_some());
    assert!(state.last_error.is_some());
    assert_eq!(follows(&beta, &bea).await[0]["state"], "pending");

    // alpha comes back: everything arrives, once and in order (the final Follow wins).
    let alpha = stopped.restart().await;
    drain_all(&[&alpha, &beta]).await;
    assert_eq!(followers(&alpha, "maths").await, 1);
    assert_eq!(follows(&beta, &bea).await[0]["state"], "accepted");
    let state = beta.site.instance_state(domain).await.unwrap().unwrap();
    assert_eq!(state.failures, 0, "a success resets the count");
}

async fn deliveries_survive_a_restart_of_the_sender(backend: Backend) {
    let mut net = network(backend, 2).await;
    let beta = net.pop().unwrap();
    let alpha = net.pop().unwrap();
    let (bea, handle) = bea_knows_maths(&alpha, &beta).await;

    // alpha is down, so beta's Follow waits; then beta itself stops with it pending.
    let alpha_stopped = alpha.stop().await;
    let (status, body) = beta.follow(&bea, &handle).await;
    assert_eq!(status, 202, "{body}");
    let beta_stopped = beta.stop().await;

    let alpha = alpha_stopped.restart().await;
    assert_eq!(followers(&alpha, "maths").await, 0, "nothing arrived yet");
    let beta = beta_stopped.restart().await;
    drain_all(&[&alpha, &beta]).await;
    assert_eq!(
        followers(&alpha, "maths").await,
        1,
        "the Follow survived the restart"
    );
    assert_eq!(follows(&beta, &bea).await[0]["state"], "accepted");
}

/// alpha with forum maths and a thread by alice in it; returns the thread id.
async fn maths_with_a_thread(alpha: &TestApp) -> i64 {
    with_maths(alpha).await;
    alpha.create_user("alice", false).await;
    let alice = alpha.token("alice").await;
    alpha
        .thread(
            &alice,
            "maths",
            "Place value",
            "Start with base ten blocks.",
        )
        .await
}

/// A Create of a Note by `from`'s instance actor (it can sign, so it stands in for a person on
/// another server), answering `in_reply_to`, addressed as Mastodon addresses replies: to the
/// author answered, and the public, never the forum.
pub(crate) fn mastodon_style_reply(
    from: &TestApp,
    in_reply_to: &str,
    to: &str,
    content: &str,
) -> Value {
    let id = from.url(&format!("/notes/{}", uuid::Uuid::new_v4()));
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{id}/activity"),
        "type": "Create",
        "actor": from.url("/actor"),
        "to": [to],
        "cc": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": id,
            "type": "Note",
            "attributedTo": from.url("/actor"),
            "inReplyTo": in_reply_to,
            "to": [to],
            "cc": ["https://www.w3.org/ns/activitystreams#Public"],
            "content": content,
            "published": "2026-11-22T10:00:00Z",
            "tag": [{"type": "Mention", "href": to, "name": "@alice"}],
        },
    })
}

async fn replies(app: &TestApp, thread: i64) -> Vec<Value> {
    let (status, body) = app.read(&format!("/api/v1/threads/{thread}")).await;
    assert_eq!(status, 200, "{body}");
    body["posts"].as_array().unwrap().clone()
}

async fn a_reply_addressed_only_to_the_author_lands_in_the_thread(backend: Backend) {
    let net = network(backend, 3).await;
    let (alpha, beta, gamma) = (&net[0], &net[1], &net[2]);
    let thread = maths_with_a_thread(alpha).await;
    // gamma follows the forum, so there is someone to relay to.
    gamma.create_user("gus", false).await;
    let gus = gamma.token("gus").await;
    let (status, body) = gamma
        .follow(&gus, &format!("maths@{}", alpha.domain()))
        .await;
    assert_eq!(status, 202, "{body}");
    drain_all(&[alpha, gamma]).await;

    let reply = mastodon_style_reply(
        beta,
        &alpha.url(&format!("/t/{thread}")),
        &alpha.url("/u/alice"),
        "<p>Dienes blocks, and <b>lots</b> of talk.</p>",
    );
    // Delivered to alice's personal inbox, as Mastodon would.
    let (status, text) = post_signed(beta, &alpha.url("/u/alice/inbox"), &reply).await;
    assert!((200..300).contains(&status), "{status} {text}");
    let posts = replies(alpha, thread).await;
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(
        posts[0]["author"]["name"],
        format!("{0}@{0}", beta.domain())
    );
    assert!(posts[0]["html"].as_str().unwrap().contains("<b>lots</b>"));
    assert_eq!(posts[0]["url"], reply["object"]["id"]);

    // The forum relays it to its followers: an Announce for gamma. (gamma then fetches the
    // note from its origin, which this stand-in server cannot serve; the relay of a real reply
    // is followed end to end in the conversation tests.)
    wait_until("alpha to relay the reply", || async {
        alpha.site.activities_sent("Announce").await.unwrap() > 0
    })
    .await;
    // Sent again, the same activity is acknowledged and changes nothing.
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &reply).await;
    assert!((200..300).contains(&status), "{status} {text}");
    assert_eq!(replies(alpha, thread).await.len(), 1);
}

async fn remote_html_is_sanitized(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    let thread = maths_with_a_thread(alpha).await;
    let reply = mastodon_style_reply(
        beta,
        &alpha.url(&format!("/t/{thread}")),
        &alpha.url("/u/alice"),
        "<p onclick=\"steal()\">Hello<script>steal()</script> \
         <a href=\"javascript:steal()\">click</a> <a href=\"https://example.org/\">ok</a></p>",
    );
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &reply).await;
    assert!((200..300).contains(&status), "{status} {text}");
    let html = replies(alpha, thread).await[0]["html"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!html.contains("script"), "{html}");
    assert!(!html.contains("onclick"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    assert!(html.contains("href=\"https://example.org/\""), "{html}");
    assert!(html.contains("Hello"), "{html}");
    // And the thread page shows it as such.
    let (_, page) = alpha
        .get(&TestApp::browser(), &format!("/t/{thread}"))
        .await;
    assert!(!page.contains("steal()"), "{page}");
}

async fn objects_claiming_another_origin_are_fetched_from_it(backend: Backend) {
    let net = network(backend, 3).await;
    let (alpha, beta, gamma) = (&net[0], &net[1], &net[2]);
    let thread = maths_with_a_thread(alpha).await;
    // beta's actor sends a Note it says lives on gamma and was written by itself: gamma has no
    // such note, so nothing is stored.
    let mut reply = mastodon_style_reply(
        beta,
        &alpha.url(&format!("/t/{thread}")),
        &alpha.url("/u/alice"),
        "<p>Forged.</p>",
    );
    reply["object"]["id"] = json!(gamma.url("/notes/forged"));
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &reply).await;
    assert!((400..500).contains(&status), "{status} {text}");
    assert!(replies(alpha, thread).await.is_empty());

    // A Create whose author is someone else is refused outright.
    let mut reply = mastodon_style_reply(
        beta,
        &alpha.url(&format!("/t/{thread}")),
        &alpha.url("/u/alice"),
        "<p>Not mine.</p>",
    );
    reply["object"]["attributedTo"] = json!(beta.url("/u/someone"));
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &reply).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("not_author"), "{text}");
    // A reply to nothing known and no title is not a thread.
    let mut orphan = mastodon_style_reply(beta, &alpha.url("/t/1"), &alpha.url("/u/alice"), "x");
    orphan["object"]
        .as_object_mut()
        .unwrap()
        .remove("inReplyTo");
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &orphan).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("not_a_thread"), "{text}");
    assert!(replies(alpha, thread).await.is_empty());
    assert_eq!(alpha.site.outbox_backlog().await.unwrap(), (0, 0));
}

async fn an_instance_failing_too_long_is_skipped_until_heard_from(backend: Backend) {
    let alpha = TestApp::spawn_with(backend, crate::support::federating).await;
    // On beta, an instance is dead after its first failure (0 hours of failing).
    let beta = TestApp::spawn_with(backend, |s| {
        crate::support::federating(s);
        s.federation.dead_after_hours = 0;
    })
    .await;
    with_maths(&beta).await;
    let (beta_admin, handle) = bea_knows_maths(&alpha, &beta).await;
    let domain = alpha.domain();
    let stopped = alpha.stop().await;
    let (status, body) = beta.follow(&beta_admin, &handle).await;
    assert_eq!(status, 202, "{body}");
    wait_until("alpha to be marked dead", || async {
        beta.site
            .instance_state(domain.clone())
            .await
            .unwrap()
            .is_some_and(|s| s.dead)
    })
    .await;

    // alpha is back, but beta does not try a dead instance: its delivery is not in the backlog
    // and nothing is due, so the worker has nothing to send (it would otherwise retry within
    // half a second).
    let alpha = stopped.restart().await;
    assert_eq!(beta.site.outbox_backlog().await.unwrap(), (0, 0));
    assert_eq!(beta.site.next_delivery_due().await.unwrap(), None);
    assert_eq!(followers(&alpha, "maths").await, 0);
    assert!(
        beta.site
            .instance_state(domain.clone())
            .await
            .unwrap()
            .unwrap()
            .dead
    );

    // Then alpha sends beta something: beta hears from it, and delivers what waited.
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": alpha.url(&format!("/activities/follow/{}", uuid::Uuid::new_v4())),
        "type": "Follow",
        "actor": alpha.url("/actor"),
        "object": beta.url("/f/maths"),
    });
    let (status, text) = post_signed(&alpha, &beta.url("/inbox"), &follow).await;
    assert!((200..300).contains(&status), "{status} {text}");
    drain_all(&[&alpha, &beta]).await;
    assert_eq!(followers(&alpha, "maths").await, 1);
    assert!(
        !beta
            .site
            .instance_state(domain)
            .await
            .unwrap()
            .unwrap()
            .dead
    );
}

async fn resolve_finds_threads_and_replies_by_address(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    let thread = maths_with_a_thread(alpha).await;
    let alice = alpha.token("alice").await;
    let reply = alpha
        .reply(&alice, thread, "And place value charts.", None)
        .await;
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let resolve = |q: String| {
        let bea = bea.clone();
        async move {
            beta.api(
                Method::GET,
                &format!(
                    "/api/v1/resolve?q={}",
                    percent_encoding::utf8_percent_encode(&q, percent_encoding::NON_ALPHANUMERIC)
                ),
                Some(&bea),
                None,
            )
            .await
        }
    };

    // A reply's address brings its thread and forum along (nobody here follows the forum).
    let (status, body) = resolve(alpha.url(&format!("/p/{reply}"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["type"], "post");
    assert_eq!(body["post"]["url"], alpha.url(&format!("/p/{reply}")));
    assert_eq!(
        body["post"]["author"]["name"],
        format!("alice@{}", alpha.domain())
    );
    let (status, body) = resolve(alpha.url(&format!("/t/{thread}"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["type"], "thread");
    assert_eq!(body["thread"]["title"], "Place value");
    assert_eq!(body["thread"]["forum"], format!("maths@{}", alpha.domain()));
    let local_thread = body["thread"]["id"].as_i64().unwrap();
    let (_, page) = beta.read(&format!("/api/v1/threads/{local_thread}")).await;
    assert_eq!(page["posts"].as_array().unwrap().len(), 1, "{page}");
    // Resolving it again finds the same copy; and beta's own addresses resolve locally.
    let (_, again) = resolve(alpha.url(&format!("/t/{thread}"))).await;
    assert_eq!(again["thread"]["id"], local_thread);
    let (status, mine) = resolve(beta.url(&format!("/t/{local_thread}"))).await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["type"], "thread");
    // The forum was stored to hold the thread, but nobody follows it: it is not listed.
    let (_, forums) = beta.read("/api/v1/forums").await;
    assert_eq!(forums, json!([]));
}

async fn a_changed_key_is_fetched_again(backend: Backend) {
    let net = network(backend, 2).await;
    let (alpha, beta) = (&net[0], &net[1]);
    with_maths(alpha).await;
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &follow_from(beta, alpha)).await;
    assert!((200..300).contains(&status), "{status} {text}");
    // beta's instance actor gets a new key; alpha still holds the old one.
    beta.site
        .db()
        .with_conn(|conn| -> Result<usize, staffroom::error::ForumError> {
            Ok(staffroom::dispatch!(conn, |c| {
                diesel::RunQueryDsl::execute(diesel::sql_query("DELETE FROM instance_actor"), c)
            })?)
        })
        .unwrap();
    let mut undo = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": beta.url(&format!("/activities/undo/{}", uuid::Uuid::new_v4())),
        "type": "Undo",
        "actor": beta.url("/actor"),
    });
    let mut follow = follow_from(beta, alpha);
    follow["id"] = json!(beta.url("/activities/follow/again"));
    undo["object"] = follow;
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &undo).await;
    assert!(
        (200..300).contains(&status),
        "signed with the new key: {status} {text}"
    );
    assert_eq!(followers(alpha, "maths").await, 0, "the Undo was taken");
}

async fn a_post_its_edit_and_its_deletion_arrive_in_that_order(backend: Backend) {
    let mut net = network(backend, 2).await;
    let beta = net.pop().unwrap();
    let alpha = net.pop().unwrap();
    let thread = maths_with_a_thread(&alpha).await;
    let alice = alpha.token("alice").await;
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let handle = format!("maths@{}", alpha.domain());
    let (status, _) = beta.follow(&bea, &handle).await;
    assert_eq!(status, 202);
    drain_all(&[&alpha, &beta]).await;

    // beta is down while alice replies, edits the reply and deletes it.
    let stopped = beta.stop().await;
    let reply = alpha.reply(&alice, thread, "First words.", None).await;
    let (status, _) = alpha
        .api(
            Method::PATCH,
            &format!("/api/v1/posts/{reply}"),
            Some(&alice),
            Some(json!({"body": "Second thoughts."})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = alpha.delete_post(Some(&alice), reply).await;
    assert_eq!(status, 204);

    // beta comes back and takes them in order: the reply exists, and is deleted. (Out of order,
    // the Delete would find nothing and the Update would bring the words back.)
    let beta = stopped.restart().await;
    drain_all(&[&alpha, &beta]).await;
    let (_, threads) = beta.read(&format!("/api/v1/forums/{handle}/threads")).await;
    let on_beta = threads["threads"][0]["id"].as_i64().unwrap();
    let posts = replies(&beta, on_beta).await;
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0]["deleted"], true, "{posts:?}");
    assert!(posts[0]["html"].is_null());
}

async fn blocked_and_unlisted_instances_are_refused(backend: Backend) {
    let net = network(backend, 2).await;
    let (beta, gamma) = (&net[0], &net[1]);
    let gamma_domain = gamma.domain();
    let beta_domain = beta.domain();
    // alpha blocks gamma; delta only talks to beta.
    let alpha = TestApp::spawn_with(backend, |s| {
        crate::support::federating(s);
        s.federation.blocked_instances = vec![gamma_domain.clone()];
    })
    .await;
    let delta = TestApp::spawn_with(backend, |s| {
        crate::support::federating(s);
        s.federation.allowed_instances = vec![beta_domain.clone()];
    })
    .await;
    with_maths(gamma).await;
    for app in [&alpha, &delta] {
        let admin = with_maths(app).await;
        let (status, text) = post_signed(gamma, &app.url("/inbox"), &follow_from(gamma, app)).await;
        assert_eq!(status, 403, "{}: {text}", app.address);
        assert!(text.contains("instance_refused"), "{text}");
        assert_eq!(followers(app, "maths").await, 0);
        // Nothing is fetched from there either.
        let (status, body) = app
            .api(
                Method::GET,
                &format!("/api/v1/resolve?q=maths@{gamma_domain}"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(status, 403, "{body}");
        // beta is welcome at both.
        let (status, text) = post_signed(beta, &app.url("/inbox"), &follow_from(beta, app)).await;
        assert!((200..300).contains(&status), "{status} {text}");
        assert_eq!(followers(app, "maths").await, 1);
    }
}

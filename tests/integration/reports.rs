//! Reports: anyone logged in reports a post, saying why; the forum's moderators work through
//! the queue, resolving or dismissing; reports travel as `Flag` in Lemmy's and Mastodon's
//! shapes, both ways.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::following::post_signed;
use crate::moderation::{appoint, followed_maths, log_of, school, two_schools};
use crate::support::{column, drain_all, expect_error, TestApp};

both_backends!(
    anyone_logged_in_reports_a_post_once_with_a_reason,
    moderators_resolve_and_dismiss_from_their_queue,
    reports_are_made_and_worked_on_the_pages,
    a_report_of_a_post_elsewhere_reaches_its_forums_server,
    reports_arrive_in_lemmys_and_mastodons_words,
    reports_are_resolved_in_lemmys_words,
    closing_a_report_tells_the_servers_that_know_of_it,
    the_queue_costs_the_same_queries_however_many_reports,
);

pub(crate) async fn report(
    app: &TestApp,
    token: Option<&str>,
    post: i64,
    reason: Option<&str>,
) -> (u16, Value) {
    let body = reason.map_or(json!({}), |r| json!({ "reason": r }));
    app.api(
        Method::POST,
        &format!("/api/v1/posts/{post}/reports"),
        token,
        Some(body),
    )
    .await
}

async fn queue(app: &TestApp, token: &str, forum: &str, state: &str) -> (u16, Value) {
    app.api(
        Method::GET,
        &format!("/api/v1/forums/{forum}/reports?state={state}"),
        Some(token),
        None,
    )
    .await
}

async fn close(app: &TestApp, token: &str, id: i64, how: &str) -> (u16, Value) {
    app.api(
        Method::POST,
        &format!("/api/v1/reports/{id}/{how}"),
        Some(token),
        None,
    )
    .await
}

async fn opening_of(app: &TestApp, thread: i64) -> i64 {
    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    page["opening_post"]["id"].as_i64().unwrap()
}

async fn anyone_logged_in_reports_a_post_once_with_a_reason(backend: Backend) {
    let (app, [head, bea, _cara, dev]) = school(backend).await;
    let thread = app
        .thread(&head, "maths", "Fractions", "Halves first?")
        .await;
    let post = opening_of(&app, thread).await;
    let own = app.reply(&dev, thread, "Quarters.", None).await;

    let (status, body) = report(&app, None, post, Some("Spam")).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = report(&app, Some(&dev), post, None).await;
    expect_error(status, &body, 422, "invalid_input");
    assert!(body["fields"]["reason"].is_string(), "{body}");
    let (status, body) = report(&app, Some(&dev), post, Some(&"x".repeat(1001))).await;
    expect_error(status, &body, 422, "invalid_input");
    let (status, body) = report(&app, Some(&dev), own, Some("Mine")).await;
    expect_error(status, &body, 403, "own_post");
    let (status, body) = report(&app, Some(&dev), 9999, Some("Nothing")).await;
    expect_error(status, &body, 404, "not_found");

    let (status, body) = report(&app, Some(&dev), post, Some("Names a pupil <b>in full</b>")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["reason"], "Names a pupil <b>in full</b>");
    assert_eq!(body["reporter"]["name"], "dev");
    assert_eq!(body["forum"], "maths");
    assert_eq!(body["outcome"], Value::Null);
    // Twice while open: one report.
    let (status, body) = report(&app, Some(&dev), post, Some("Again")).await;
    expect_error(status, &body, 409, "already_reported");
    // Someone else may report it too; a moderator may.
    let (status, body) = report(&app, Some(&bea), post, Some("Agreed")).await;
    assert_eq!(status, 201, "{body}");

    // A post its author deleted cannot be reported.
    let (status, _) = app.delete_post(Some(&dev), own).await;
    assert_eq!(status, 204);
    let (status, body) = report(&app, Some(&head), own, Some("Gone")).await;
    expect_error(status, &body, 410, "post_deleted");
}

async fn moderators_resolve_and_dismiss_from_their_queue(backend: Backend) {
    let (app, [head, bea, cara, dev]) = school(backend).await;
    let thread = app
        .thread(&head, "maths", "Fractions", "Halves first?")
        .await;
    let first = app.reply(&cara, thread, "Buy my worksheets!", None).await;
    let second = app.reply(&cara, thread, "Thirds next.", None).await;
    let (_, one) = report(&app, Some(&dev), first, Some("Advertising")).await;
    let (_, two) = report(&app, Some(&dev), second, Some("Not sure")).await;
    let (one, two) = (one["id"].as_i64().unwrap(), two["id"].as_i64().unwrap());

    // The queue is maths's moderators' and administrators', nobody else's.
    for token in [&cara, &dev] {
        let (status, body) = queue(&app, token, "maths", "open").await;
        expect_error(status, &body, 403, "moderators_only");
        let (status, body) = close(&app, token, one, "resolve").await;
        expect_error(status, &body, 403, "moderators_only");
    }
    let (status, body) = queue(&app, &bea, "maths", "open").await;
    assert_eq!(status, 200, "{body}");
    let listed: Vec<i64> = body["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, [two, one], "newest first");
    let entry = &body["reports"][1];
    assert_eq!(entry["post"]["body"], "Buy my worksheets!");
    assert_eq!(entry["thread"]["title"], "Fractions");
    assert_eq!(entry["reporter"]["name"], "dev");
    assert_eq!(entry["reason"], "Advertising");
    let (status, body) = queue(&app, &head, "maths", "everything").await;
    expect_error(status, &body, 422, "invalid_input");

    // bea removes the post and resolves the report; moderators still read it in the queue.
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/posts/{first}/remove"),
            Some(&bea),
            Some(json!({"reason": "Advertising"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = close(&app, &bea, one, "resolve").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "resolved");
    assert_eq!(body["closed_by"]["name"], "bea");
    let (status, body) = close(&app, &bea, one, "dismiss").await;
    expect_error(status, &body, 409, "report_closed");
    let (status, body) = close(&app, &head, two, "dismiss").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "dismissed");
    let (status, body) = close(&app, &head, 9999, "dismiss").await;
    expect_error(status, &body, 404, "not_found");

    let (_, open) = queue(&app, &bea, "maths", "open").await;
    assert_eq!(open["reports"], json!([]));
    let (_, closed) = queue(&app, &bea, "maths", "closed").await;
    assert_eq!(closed["reports"].as_array().unwrap().len(), 2);
    assert_eq!(
        closed["reports"][1]["post"]["body"], "Buy my worksheets!",
        "moderators read removed posts"
    );

    // Both are in the log, naming the post and the reporter.
    let entries = log_of(&app, None, "maths").await;
    assert_eq!(entries[0]["action"], "dismiss_report");
    assert_eq!(entries[1]["action"], "resolve");
    assert_eq!(entries[1]["post_id"], first);
    assert_eq!(entries[1]["person"]["name"], "dev");
}

async fn reports_are_made_and_worked_on_the_pages(backend: Backend) {
    let (app, [head, _bea, _cara, _dev]) = school(backend).await;
    let thread = app
        .thread(&head, "maths", "Fractions", "Halves first?")
        .await;
    let post = opening_of(&app, thread).await;
    let dev = app.logged_in("dev").await;
    let (_, page) = app.get(&dev, &format!("/t/{thread}")).await;
    assert!(
        page.contains(&format!("href=\"/p/{post}/report\"")),
        "{page}"
    );
    // Not under one's own posts, nor for anonymous readers.
    let (_, page) = app.get(&TestApp::browser(), &format!("/t/{thread}")).await;
    assert!(!page.contains("/report\""), "{page}");

    let res = app
        .submit(
            &dev,
            &format!("/p/{post}/report"),
            &format!("/p/{post}/report"),
            &[("reason", "")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("id=\"reason-error\""));
    let res = app
        .submit(
            &dev,
            &format!("/p/{post}/report"),
            &format!("/p/{post}/report"),
            &[("reason", "A pupil's full name")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    // Reporting again says so beside the field, the words kept.
    let res = app
        .submit(
            &dev,
            &format!("/p/{post}/report"),
            &format!("/p/{post}/report"),
            &[("reason", "Still there")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 409);
    let page = res.text().await.unwrap();
    assert!(page.contains("reported this post already"), "{page}");
    assert!(page.contains("value=\"Still there\""), "{page}");

    // bea's queue.
    let bea = app.logged_in("bea").await;
    let (status, _) = app.get(&dev, "/f/maths/reports").await;
    assert_eq!(status, 403);
    let (status, page) = app.get(&bea, "/f/maths/reports").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("A pupil&#39;s full name") || page.contains("A pupil&#x27;s full name"),
        "{page}"
    );
    let (_, queued) = queue(&app, &app.token("bea").await, "maths", "open").await;
    let id = queued["reports"][0]["id"].as_i64().unwrap();
    let res = app
        .submit(
            &bea,
            "/f/maths/reports",
            &format!("/reports/{id}/resolve"),
            &[],
        )
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let (_, page) = app.get(&bea, "/f/maths/reports").await;
    assert!(page.contains("No open reports"), "{page}");
    let (_, page) = app.get(&bea, "/f/maths/reports?state=closed").await;
    assert!(page.contains("Resolved by"), "{page}");
}

async fn a_report_of_a_post_elsewhere_reaches_its_forums_server(backend: Backend) {
    let (net, head, _alice, thread) = two_schools(backend).await;
    let (alpha, beta) = (&net[0], &net[1]);
    beta.create_user("bea", false).await;
    let bea = beta.token("bea").await;
    let handle = format!("maths@{}", alpha.domain());
    let (status, body) = beta.follow(&bea, &handle).await;
    assert_eq!(status, 202, "{body}");
    drain_all(&[alpha, beta]).await;
    let alice = alpha.token("alice").await;
    alpha
        .thread(&alice, "maths", "Rounding", "To the nearest ten.")
        .await;
    drain_all(&[alpha, beta]).await;
    let copy = crate::conversation::thread_titled(beta, &handle, "Rounding").await;
    let copy_post = copy["opening_post"]["id"].as_i64().unwrap();

    // Reported on beta: it is in beta's queue for the forum, and alpha gets the Flag.
    let (status, body) = report(beta, Some(&bea), copy_post, Some("Wrong, and rude")).await;
    assert_eq!(status, 201, "{body}");
    drain_all(&[alpha, beta]).await;
    let (status, body) = queue(alpha, &head, "maths", "open").await;
    assert_eq!(status, 200, "{body}");
    let reports = body["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1, "{body}");
    assert_eq!(
        reports[0]["reporter"]["name"],
        format!("bea@{}", beta.domain())
    );
    assert_eq!(reports[0]["reason"], "Wrong, and rude");
    assert_eq!(reports[0]["thread"]["title"], "Rounding");
    let _ = thread;

    // A report on alpha of a post in alpha's own forum stays on alpha.
    alpha.create_user("dev", false).await;
    let dev = alpha.token("dev").await;
    let opening = reports[0]["post"]["id"].as_i64().unwrap();
    let (status, _) = report(alpha, Some(&dev), opening, Some("Rude")).await;
    assert_eq!(status, 201);
    alpha.drained().await;
    let sent = crate::support::column(
        alpha,
        "SELECT kind AS v FROM activities WHERE kind = 'Flag'",
    );
    assert!(sent.is_empty(), "{sent:?}");
}

async fn reports_arrive_in_lemmys_and_mastodons_words(backend: Backend) {
    let (net, head, _alice, thread) = two_schools(backend).await;
    let (alpha, beta) = (&net[0], &net[1]);
    let forum = alpha.url("/f/maths");
    let post_url = alpha.url(&format!("/t/{thread}"));
    let fixture: Value =
        serde_json::from_str(include_str!("../fixtures/lemmy/report_page.json")).unwrap();
    let fresh = || beta.url(&format!("/activities/flag/{}", uuid::Uuid::new_v4()));

    // Lemmy: one post, the reason in summary, to the forum.
    let mut lemmy = fixture.clone();
    lemmy["@context"] = json!("https://www.w3.org/ns/activitystreams");
    lemmy["id"] = json!(fresh());
    lemmy["actor"] = json!(beta.url("/actor"));
    lemmy["to"] = json!([forum]);
    lemmy["audience"] = json!(forum);
    lemmy["object"] = json!(post_url);
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &lemmy).await;
    assert!((200..300).contains(&status), "{status} {text}");
    // The same Flag again is the same report.
    let (status, _) = post_signed(beta, &alpha.url("/inbox"), &lemmy).await;
    assert!((200..300).contains(&status));
    let (_, body) = queue(alpha, &head, "maths", "open").await;
    let reports = body["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1, "{body}");
    assert_eq!(reports[0]["reason"], "report this post");
    assert_eq!(
        reports[0]["reporter"]["name"],
        format!("{0}@{0}", beta.domain())
    );

    // Mastodon: the person and posts in an array, the reason in content; a reason over our
    // limit is cut to it.
    let mastodon: Value =
        serde_json::from_str(include_str!("../fixtures/mastodon/flag.json")).unwrap();
    alpha.create_user("dev", false).await;
    let dev = alpha.token("dev").await;
    let reply = alpha.reply(&dev, thread, "Something unkind.", None).await;
    let other = alpha
        .reply(&dev, thread, "Something else unkind.", None)
        .await;
    let mut flag = mastodon.clone();
    flag["id"] = json!(fresh());
    flag["actor"] = json!(beta.url("/actor"));
    // The person and two of their posts: a report of each post.
    flag["object"] = json!([
        alpha.url("/u/dev"),
        alpha.url(&format!("/p/{other}")),
        alpha.url(&format!("/p/{reply}"))
    ]);
    flag["to"] = json!(alpha.url("/u/dev"));
    flag["content"] = json!("y".repeat(3000));
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &flag).await;
    assert!((200..300).contains(&status), "{status} {text}");
    let (_, body) = queue(alpha, &head, "maths", "open").await;
    let newest = &body["reports"][0];
    assert_eq!(newest["post"]["id"], reply, "{body}");
    assert_eq!(body["reports"][1]["post"]["id"], other, "{body}");
    assert!(newest["reason"].as_str().unwrap().chars().count() <= 1000);

    // A Flag about a person only is acknowledged and left aside.
    let mut person_only = mastodon;
    person_only["id"] = json!(fresh());
    person_only["actor"] = json!(beta.url("/actor"));
    person_only["object"] = json!([alpha.url("/u/dev")]);
    let (status, _) = post_signed(beta, &alpha.url("/inbox"), &person_only).await;
    assert!((200..300).contains(&status));
    let (_, body) = queue(alpha, &head, "maths", "open").await;
    assert_eq!(body["reports"].as_array().unwrap().len(), 3, "{body}");
}

async fn reports_are_resolved_in_lemmys_words(backend: Backend) {
    let (net, head, _alice, thread) = two_schools(backend).await;
    let (alpha, beta) = (&net[0], &net[1]);
    let forum = alpha.url("/f/maths");
    let fixture: Value =
        serde_json::from_str(include_str!("../fixtures/lemmy/report_page.json")).unwrap();
    let flag_id = beta.url(&format!("/activities/flag/{}", uuid::Uuid::new_v4()));
    let mut flag = fixture;
    flag["@context"] = json!("https://www.w3.org/ns/activitystreams");
    flag["id"] = json!(flag_id);
    flag["actor"] = json!(beta.url("/actor"));
    flag["to"] = json!([forum]);
    flag["audience"] = json!(forum);
    flag["object"] = json!(alpha.url(&format!("/t/{thread}")));
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &flag).await;
    assert!((200..300).contains(&status), "{status} {text}");
    // Lemmy's Resolve, as its fixture has it, by beta's actor standing in for a moderator.
    let resolve = |flag_id: &str| {
        let mut r: Value =
            serde_json::from_str(include_str!("../fixtures/lemmy/resolve_report_page.json"))
                .unwrap();
        let mut inner = flag.clone();
        inner.as_object_mut().unwrap().remove("@context");
        inner["id"] = json!(flag_id);
        r["@context"] = json!("https://www.w3.org/ns/activitystreams");
        r["id"] = json!(beta.url(&format!("/activities/resolve/{}", uuid::Uuid::new_v4())));
        r["actor"] = json!(beta.url("/actor"));
        r["to"] = json!([forum]);
        r["audience"] = json!(forum);
        r["object"] = inner;
        r
    };
    // Not a moderator of maths: refused, the report stays open.
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &resolve(&flag_id)).await;
    assert_eq!(status, 403, "{text}");
    let (_, open) = queue(alpha, &head, "maths", "open").await;
    assert_eq!(open["reports"].as_array().unwrap().len(), 1, "{open}");

    // Appointed, the same closes it, and the log says who.
    let moderator = format!("{0}@{0}", beta.domain());
    let (status, body) = appoint(alpha, &head, "maths", &moderator).await;
    assert_eq!(status, 200, "{body}");
    let (status, text) = post_signed(beta, &alpha.url("/inbox"), &resolve(&flag_id)).await;
    assert!((200..300).contains(&status), "{status} {text}");
    let (_, open) = queue(alpha, &head, "maths", "open").await;
    assert!(open["reports"].as_array().unwrap().is_empty(), "{open}");
    let (_, closed) = queue(alpha, &head, "maths", "closed").await;
    assert_eq!(closed["reports"][0]["outcome"], "resolved", "{closed}");
    let entries = log_of(alpha, None, "maths").await;
    assert_eq!(entries[0]["action"], "resolve");
    assert_eq!(entries[0]["moderator"]["name"], moderator);
    // A Resolve of a report not known here is acknowledged and changes nothing.
    let unknown = beta.url("/activities/flag/unknown");
    let (status, _) = post_signed(beta, &alpha.url("/inbox"), &resolve(&unknown)).await;
    assert!((200..300).contains(&status));
}

async fn closing_a_report_tells_the_servers_that_know_of_it(backend: Backend) {
    let (net, head, bea, handle) = followed_maths(backend).await;
    let (alpha, beta) = (&net[0], &net[1]);
    alpha.thread(&head, "maths", "Rounding", "To ten.").await;
    drain_all(&[alpha, beta]).await;
    let copy = crate::conversation::thread_titled(beta, &handle, "Rounding").await;
    let copy_post = copy["opening_post"]["id"].as_i64().unwrap();
    let (status, body) = report(beta, Some(&bea), copy_post, Some("Wrong answer")).await;
    assert_eq!(status, 201, "{body}");
    drain_all(&[alpha, beta]).await;
    let (_, open) = queue(alpha, &head, "maths", "open").await;
    let report_id = open["reports"][0]["id"].as_i64().unwrap();
    assert_eq!(
        open["reports"][0]["reporter"]["name"],
        format!("bea@{}", beta.domain())
    );

    // alpha's administrator resolves it: beta, where bea reported it, closes its copy too.
    let (status, body) = alpha
        .api(
            Method::POST,
            &format!("/api/v1/reports/{report_id}/resolve"),
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    drain_all(&[alpha, beta]).await;
    assert_eq!(alpha.site.activities_sent("Resolve").await.unwrap(), 1);
    assert_eq!(
        column(beta, "SELECT outcome AS v FROM reports"),
        ["resolved"]
    );
}

async fn the_queue_costs_the_same_queries_however_many_reports(backend: Backend) {
    let (app, [head, _bea, _cara, dev]) = school(backend).await;
    let thread = app.thread(&head, "maths", "Fractions", "Halves?").await;
    let mut replies = Vec::new();
    for n in 0..6 {
        replies.push(app.reply(&head, thread, &format!("Reply {n}"), None).await);
    }
    let bea_web = app.logged_in("bea").await;
    let cost = |path: &'static str| {
        let (app, web) = (&app, &bea_web);
        async move {
            let before = app.site.db().query_count();
            let (status, _) = app.get(web, path).await;
            assert_eq!(status, 200);
            app.site.db().query_count() - before
        }
    };
    let (status, _) = report(&app, Some(&dev), replies[0], Some("One")).await;
    assert_eq!(status, 201);
    let one = cost("/f/maths/reports").await;
    for (n, post) in replies.iter().enumerate().skip(1) {
        let (status, _) = report(&app, Some(&dev), *post, Some(&format!("Report {n}"))).await;
        assert_eq!(status, 201);
    }
    let six = cost("/f/maths/reports").await;
    assert_eq!(one, six, "one report vs six");
}

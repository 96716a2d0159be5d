//! Search: posts and thread titles found by their words, phrases and exclusions, on both
//! databases' own engines, filtered by forum, author and date, with what readers may not see
//! left out, on the page and through the API; input of any shape gets results or a clear 400.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{expect_error, main_of, TestApp};

both_backends!(
    posts_are_found_by_their_words,
    search_leaves_out_what_readers_may_not_see,
    any_query_gets_results_or_a_clear_error,
    a_word_in_very_many_posts_ranks_the_newest_and_says_there_are_more,
    words_and_phrases_of_any_shape_are_found_alike,
);

async fn find(app: &TestApp, token: Option<&str>, query: &str) -> Value {
    let path = format!(
        "/api/v1/search?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", query)
            .finish()
    );
    let (status, body) = app.api(Method::GET, &path, token, None).await;
    assert_eq!(status, 200, "{query}: {body}");
    body
}

fn found(results: &Value) -> Vec<i64> {
    results["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["post"]["id"].as_i64().unwrap())
        .collect()
}

/// head (administrator) and alice; maths with "Number bonds" (by head) and alice's reply,
/// science with "Magnets". Answers the app, head's token, and the posts: bonds' opening post,
/// alice's reply, magnets' opening post.
async fn library(backend: Backend) -> (TestApp, String, [i64; 3]) {
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    app.create_user("alice", false).await;
    let head = app.token("head").await;
    app.forum_named(&head, "maths").await;
    app.forum_named(&head, "science").await;
    let bonds = app
        .thread(
            &head,
            "maths",
            "Number bonds",
            "Teach bonds to **ten** with a rekenrek. Use <b> tags?",
        )
        .await;
    let (_, page) = app.read(&format!("/api/v1/threads/{bonds}")).await;
    let opening = page["opening_post"]["id"].as_i64().unwrap();
    let alice = app.token("alice").await;
    let reply = app
        .reply(&alice, bonds, "Ten frames help too, at the café.", None)
        .await;
    let magnets = app
        .thread(
            &head,
            "science",
            "Magnets",
            "North and south poles attract.",
        )
        .await;
    let (_, page) = app.read(&format!("/api/v1/threads/{magnets}")).await;
    let magnets_opening = page["opening_post"]["id"].as_i64().unwrap();
    (app, head, [opening, reply, magnets_opening])
}

async fn posts_are_found_by_their_words(backend: Backend) {
    let (app, head, [opening, reply, magnets]) = library(backend).await;
    // Words, in the body or the thread's title; the match is marked in the snippet, and what
    // the post says is escaped.
    let results = find(&app, None, "Rekenrek").await;
    assert_eq!(found(&results), [opening]);
    assert_eq!(results["total"], 1);
    let snippet = results["items"][0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>rekenrek</mark>"), "{snippet}");
    // (PostgreSQL's headline leaves out what looks like a tag; SQLite's keeps it, escaped.)
    assert!(!snippet.contains("<b>"), "escaped: {snippet}");
    assert_eq!(results["items"][0]["thread"]["title"], "Number bonds");
    assert_eq!(found(&find(&app, None, "magnets").await), [magnets]);
    assert_eq!(found(&find(&app, None, "café").await), [reply]);
    // Every word must be there; phrases in order; exclusions left out.
    let both: Vec<i64> = {
        let mut f = found(&find(&app, None, "ten").await);
        f.sort_unstable();
        f
    };
    assert_eq!(both, [opening, reply]);
    assert_eq!(
        found(&find(&app, None, "ten poles").await),
        Vec::<i64>::new()
    );
    assert_eq!(found(&find(&app, None, "\"ten frames\"").await), [reply]);
    assert!(found(&find(&app, None, "\"frames ten\"").await).is_empty());
    assert_eq!(found(&find(&app, None, "ten -rekenrek").await), [reply]);
    assert_eq!(
        found(&find(&app, None, "ten -\"with a rekenrek\"").await),
        [reply]
    );

    // Filters: forum, author, dates.
    let filtered = |extra: &str| {
        let app = &app;
        let extra = extra.to_string();
        async move {
            let (status, body) = app
                .api(
                    Method::GET,
                    &format!("/api/v1/search?q=ten&{extra}"),
                    None,
                    None,
                )
                .await;
            assert_eq!(status, 200, "{body}");
            found(&body)
        }
    };
    assert!(filtered("forum=science").await.is_empty());
    assert_eq!(filtered("author=alice").await, [reply]);
    let today = chrono::Utc::now().date_naive();
    let yesterday = today.pred_opt().unwrap();
    let tomorrow = today.succ_opt().unwrap();
    assert_eq!(filtered(&format!("from={today}&to={today}")).await.len(), 2);
    assert!(filtered(&format!("from={tomorrow}")).await.is_empty());
    assert!(filtered(&format!("to={yesterday}")).await.is_empty());

    // Edits are found by their new words only; a new title too.
    let (status, body) = app
        .edit_post(Some(&head), magnets, "Opposite poles attract; lodestones.")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(found(&find(&app, None, "lodestones").await), [magnets]);
    assert!(found(&find(&app, None, "north").await).is_empty());
    let (status, body) = app
        .api(
            Method::PATCH,
            &format!("/api/v1/posts/{magnets}"),
            Some(&head),
            Some(json!({"body": "Opposite poles attract; lodestones.", "title": "Compasses"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(found(&find(&app, None, "compasses").await), [magnets]);
    assert!(found(&find(&app, None, "magnets").await).is_empty());

    // Posts from other servers are found by their words, not their markup.
    use staffroom::forum::incoming::{IncomingPost, Placement};
    let zed = app
        .remember_remote_person("http://elsewhere.example", "zed")
        .await;
    app.site
        .receive_post(
            zed,
            Placement::Reply { parent_id: opening },
            IncomingPost {
                ap_id: "http://elsewhere.example/notes/1".into(),
                title: None,
                markdown: None,
                html:
                    "<p>Wombats <strong>dig</strong> <a href=\"http://x.example\">burrows</a></p>"
                        .into(),
                published: staffroom::forum::now(),
                updated: None,
                mentions: Vec::new(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(found(&find(&app, None, "wombats burrows").await).len(), 1);
    assert!(found(&find(&app, None, "strong").await).is_empty());
    assert!(found(&find(&app, None, "href").await).is_empty());

    // Pages of results keep the query.
    for n in 0..6 {
        app.thread(&head, "science", &format!("Volcano {n}"), "Lava flows.")
            .await;
    }
    let results = find(&app, None, "lava").await;
    assert_eq!(results["total"], 6);
    assert_eq!(found(&results).len(), 5);
    let (_, page2) = app
        .api(Method::GET, "/api/v1/search?q=lava&page=2", None, None)
        .await;
    assert_eq!(found(&page2).len(), 1);

    // The page: a search box in the header, results with marks, a pager keeping the query.
    let browser = TestApp::browser();
    let (status, page) = app.get(&browser, "/").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"href="/search""#));
    let (status, page) = app.get(&browser, "/search?q=lava").await;
    assert_eq!(status, 200);
    let main = main_of(&page);
    assert!(main.contains("6 posts found"), "{main}");
    assert!(main.contains("<mark>Lava</mark>"), "{main}");
    assert!(
        main.contains("/search?q=lava&#38;forum=&#38;author=&#38;from=&#38;to=&#38;page=2"),
        "{main}"
    );
    let (status, page) = app.get(&browser, "/search?q=rekenrek").await;
    assert_eq!(status, 200);
    assert!(!main_of(&page).contains("<b>"), "escaped on the page");
}

async fn search_leaves_out_what_readers_may_not_see(backend: Backend) {
    let (app, head, [opening, reply, _]) = library(backend).await;
    app.create_user("bea", false).await;
    // A deleted post and a removed one are not found.
    let (status, _) = app.delete_post(Some(&head), reply).await;
    assert_eq!(status, 204);
    assert!(found(&find(&app, None, "café").await).is_empty());
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/posts/{opening}/remove"),
            Some(&head),
            Some(json!({"reason": "Off topic"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(found(&find(&app, None, "rekenrek").await).is_empty());

    // A members-only forum is searched by its members only.
    app.forum_named(&head, "staff").await;
    let (status, body) = app
        .api(
            Method::PATCH,
            "/api/v1/forums/staff",
            Some(&head),
            Some(json!({"visibility": "members"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    app.thread(&head, "staff", "Inspection", "Zebracrossing drills.")
        .await;
    let bea = app.token("bea").await;
    assert!(found(&find(&app, None, "zebracrossing").await).is_empty());
    assert!(found(&find(&app, Some(&bea), "zebracrossing").await).is_empty());
    let (status, body) = app
        .api(
            Method::GET,
            "/api/v1/search?q=zebracrossing&forum=staff",
            Some(&bea),
            None,
        )
        .await;
    expect_error(status, &body, 422, "invalid_input");
    let (status, _) = app
        .api(
            Method::PUT,
            "/api/v1/forums/staff/members/bea",
            Some(&head),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        found(&find(&app, Some(&bea), "zebracrossing").await).len(),
        1
    );
    assert_eq!(
        found(&find(&app, Some(&head), "zebracrossing").await).len(),
        1
    );
}

async fn any_query_gets_results_or_a_clear_error(backend: Backend) {
    let (app, _head, _) = library(backend).await;
    // Syntax of either engine is only words here.
    for query in [
        "\"unclosed",
        "ten AND OR NOT",
        "NEAR(ten rekenrek)",
        "te*",
        "title:ten",
        "ten & | ! ( ) : *",
        "ünïcödé 数学 تعليم",
        "'; DROP TABLE posts; --",
    ] {
        let (status, body) = app
            .api(
                Method::GET,
                &format!(
                    "/api/v1/search?{}",
                    url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("q", query)
                        .finish()
                ),
                None,
                None,
            )
            .await;
        assert_eq!(status, 200, "{query}: {body}");
    }
    assert_eq!(
        found(&find(&app, None, "ten OR nothing").await).len(),
        0,
        "or is a word"
    );
    // Nothing to look for, too long, a bad date, an unknown forum or person: 4xx on the field.
    for (query, field) in [
        ("q=".to_string(), "q"),
        ("q=-only".to_string(), "q"),
        (format!("q={}", "word ".repeat(2000)), "q"),
        ("q=ten&from=yesterday".to_string(), "from"),
        ("q=ten&forum=nowhere".to_string(), "forum"),
        ("q=ten&author=nobody".to_string(), "author"),
    ] {
        let (status, body) = app
            .api(Method::GET, &format!("/api/v1/search?{query}"), None, None)
            .await;
        expect_error(status, &body, 422, "invalid_input");
        assert!(body["fields"][field].is_string(), "{query}: {body}");
    }
    // On the page, the form comes back with the mistake beside the field and the words kept.
    let browser = TestApp::browser();
    let (status, page) = app.get(&browser, "/search?q=ten&from=soon").await;
    assert_eq!(status, 422);
    assert!(page.contains("from-error"), "{page}");
    assert!(page.contains(r#"value="ten""#), "{page}");
    let (status, page) = app.get(&browser, "/search").await;
    assert_eq!(status, 200);
    assert!(!page.contains("found"), "no search yet: {page}");
}

async fn a_word_in_very_many_posts_ranks_the_newest_and_says_there_are_more(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let head = app.create_user("head", true).await;
    let alice = app.create_user("alice", false).await;
    let token = app.token("head").await;
    app.forum_named(&token, "maths").await;
    let thread = app
        .thread(&token, "maths", "Apples", "Counting apples.")
        .await;
    let candidates = staffroom::db::search::CANDIDATES;
    // More posts with the word than a search ranks; alice wrote the first three.
    let mut first = Vec::new();
    for n in 0..candidates + 5 {
        let by = if n < 3 { alice.clone() } else { head.clone() };
        let post = app
            .site
            .reply(by, thread, format!("Apple number {n}."), None)
            .await
            .unwrap();
        if n < 3 {
            first.push(post.id);
        }
    }
    let results = find(&app, None, "apple").await;
    assert_eq!(results["total"], candidates, "{}", results["paging"]);
    assert_eq!(results["more"], true);
    let per_page = results["paging"]["per_page"].as_i64().unwrap();
    let pages = (candidates + per_page - 1) / per_page;
    assert_eq!(results["paging"]["pages"], pages);
    let (_, page) = app.get(&TestApp::browser(), "/search?q=apple").await;
    assert!(main_of(&page).contains(&format!("More than {candidates} posts found")));
    // The oldest are beyond the ranked newest; narrowing finds them, counted exactly.
    let (status, last) = app
        .api(
            Method::GET,
            &format!("/api/v1/search?q=apple&page={pages}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(!found(&last).is_empty());
    assert!(found(&last).iter().all(|id| !first.contains(id)));
    let (status, narrowed) = app
        .api(
            Method::GET,
            "/api/v1/search?q=apple&author=alice",
            None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(narrowed["total"], 3);
    assert_eq!(narrowed["more"], false);
    let mut ids = found(&narrowed);
    ids.sort();
    assert_eq!(ids, first);
}

/// Hyphens, apostrophes, decimals, addresses and repeated words: a query finds them the same
/// on both databases (PostgreSQL's parser would keep `1.5` or `example.org` whole), and a
/// phrase only with its words next to each other and in order.
async fn words_and_phrases_of_any_shape_are_found_alike(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    let head = app.token("head").await;
    app.forum_named(&head, "maths").await;
    let thread = app
        .thread(
            &head,
            "maths",
            "Cubes",
            "Write to the school's e-mail address (O'Brien said): poles, poles and more poles. \
             Use 1.5 cm cubes; see example.org/cubes or ask kim@example.org.",
        )
        .await;
    app.thread(
        &head,
        "maths",
        "Other",
        "Poles and more. Address the school.",
    )
    .await;
    let (_, page) = app.read(&format!("/api/v1/threads/{thread}")).await;
    let post = page["opening_post"]["id"].as_i64().unwrap();
    for query in [
        "\"e-mail address\"",
        "\"e mail address\"",
        "e-mail",
        "\"o'brien said\"",
        "\"school's e-mail\"",
        "\"poles and more poles\"",
        "\"poles poles\"",
        "\"1.5 cm\"",
        "1.5",
        "example.org",
        "\"example.org cubes\"",
        "kim@example.org",
        "\"e-mail address\" \"poles and\"",
        "\"poles and\" -\"more address\"",
    ] {
        assert_eq!(found(&find(&app, None, query).await), [post], "{query}");
    }
    for query in [
        "\"more and poles\"",
        "\"address e-mail\"",
        "\"e-mail address\" \"poles more\"",
        "\"cm 1.5\"",
        "\"poles and more\" -\"poles poles\" -\"address the\"",
    ] {
        assert!(found(&find(&app, None, query).await).is_empty(), "{query}");
    }
}

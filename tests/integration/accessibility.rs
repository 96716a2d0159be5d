//! Every page is accessible by construction: `lang`, one `<h1>`, a `<main>` the skip link
//! reaches, a labelled navigation, and a `<label for>` for every field a person fills in.
//! (Contrast is fixed in the stylesheet; its ratios are listed at its top.)

use staffroom::db::Backend;

use crate::both_backends;
use crate::support::{main_of, TestApp};

both_backends!(every_page_has_landmarks_one_heading_and_labelled_fields);

/// The `id`s of the `<label for=...>` elements on a page.
fn label_targets(html: &str) -> Vec<String> {
    html.match_indices("<label for=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

/// The fields a person fills in: `(tag, id)` of every `<input>` that is not hidden and every
/// `<textarea>`.
fn fields(html: &str) -> Vec<(String, Option<String>)> {
    let mut found = Vec::new();
    for tag in ["<input", "<textarea"] {
        for (i, _) in html.match_indices(tag) {
            let element = &html[i..i + html[i..].find('>').unwrap()];
            if element.contains("type=\"hidden\"") {
                continue;
            }
            let id = element.find(" id=\"").map(|j| {
                let rest = &element[j + 5..];
                rest[..rest.find('"').unwrap()].to_string()
            });
            found.push((tag.trim_start_matches('<').to_string(), id));
        }
    }
    found
}

async fn every_page_has_landmarks_one_heading_and_labelled_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user("head", true).await;
    app.create_user("alice", false).await;
    let head = app.token("head").await;
    app.forum_named(&head, "maths").await;
    let thread = app
        .thread(
            &head,
            "maths",
            "Accessible thread",
            "# A heading in a post\n\nBody",
        )
        .await;
    let reply = app.reply(&head, thread, "A reply", None).await;
    app.forum_named(&head, "staff").await;
    let (status, body) = app
        .api(
            reqwest::Method::PATCH,
            "/api/v1/forums/staff",
            Some(&head),
            Some(serde_json::json!({"visibility": "members"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let admin = app.logged_in("head").await;
    let visitor = TestApp::browser();

    let pages: Vec<(&reqwest::Client, String)> = vec![
        (&visitor, "/".into()),
        (&visitor, "/register".into()),
        (&visitor, "/login".into()),
        (&visitor, "/f/maths".into()),
        (&visitor, format!("/t/{thread}")),
        (&visitor, "/u/head".into()),
        (&visitor, "/no/such/page".into()),
        (&admin, "/".into()),
        (&admin, format!("/t/{thread}")),
        (&admin, format!("/t/{thread}/reply?to={reply}&quote=1")),
        (&admin, "/f/maths/new".into()),
        (&admin, format!("/p/{reply}/edit")),
        (&admin, format!("/p/{reply}/delete")),
        (&admin, format!("/p/{reply}/revisions")),
        (&admin, "/settings/password".into()),
        (&admin, "/admin".into()),
        (&admin, "/admin/forums/maths".into()),
        (&admin, "/f/staff".into()),
        (&admin, "/f/staff/members".into()),
        (&admin, "/settings/delete".into()),
        (&visitor, "/modlog".into()),
        (&visitor, "/search?q=thread".into()),
    ];
    for (browser, path) in pages {
        let res = browser.get(app.url(&path)).send().await.unwrap();
        let html = res.text().await.unwrap();
        assert!(
            html.starts_with("<!doctype html>\n<html lang=\"en\">"),
            "{path}: lang"
        );
        assert_eq!(html.matches("<h1").count(), 1, "{path}: exactly one h1");
        assert!(
            html.contains("<a class=\"skip-link\" href=\"#main\">"),
            "{path}: skip link"
        );
        assert!(html.contains("<main id=\"main\""), "{path}: main landmark");
        assert!(
            html.contains("<nav class=\"site-nav\" aria-label=\"Site\">"),
            "{path}: nav"
        );
        assert!(
            html.contains("<meta name=\"viewport\""),
            "{path}: responsive"
        );
        let labels = label_targets(&html);
        for (tag, id) in fields(main_of(&html)) {
            let id = id.unwrap_or_else(|| panic!("{path}: a {tag} without an id"));
            assert!(labels.contains(&id), "{path}: {tag} #{id} has no label");
        }
        // Headings inside posts start at h3, below the page's h1 and h2.
        assert!(!main_of(&html).contains("<h1>A heading"), "{path}");
    }
}

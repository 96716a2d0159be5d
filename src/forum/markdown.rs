//! Markdown to safe HTML.
//!
//! CommonMark with the GitHub extensions educators need for references: tables, autolinks (bare
//! URLs become links), strikethrough and footnotes. Raw HTML is escaped, so it shows as text and
//! never runs. The output then passes an allowlist sanitizer (ammonia): only known tags and
//! attributes survive, `javascript:` URLs are dropped, and every link gets
//! `rel="nofollow ugc noopener"`. Headings move down two levels (`#` becomes `<h3>`) so a post
//! never competes with the page's own `<h1>` and `<h2>`. Anchors (`id`s and `#` links, as
//! footnotes use) get a per-post prefix so two posts on one page never clash.

use std::borrow::Cow;

use comrak::nodes::NodeValue;
use comrak::{format_html, parse_document, Arena, Options};

/// The anchor prefix for a post's footnotes and other ids.
pub fn anchor_prefix(post_id: i64) -> String {
    format!("p{post_id}-")
}

fn options() -> Options<'static> {
    let mut options = Options::default();
    options.extension.table = true;
    options.extension.autolink = true;
    options.extension.strikethrough = true;
    options.extension.footnotes = true;
    options.render.escape = true;
    options
}

/// Renders Markdown to sanitized HTML, prefixing anchors with `anchor_prefix`.
pub fn render(markdown: &str, anchor_prefix: &str) -> String {
    let options = options();
    let arena = Arena::new();
    let root = parse_document(&arena, markdown, &options);
    for node in root.descendants() {
        if let NodeValue::Heading(ref mut heading) = node.data.borrow_mut().value {
            heading.level = (heading.level + 2).min(6);
        }
    }
    let mut html = Vec::new();
    if format_html(root, &options, &mut html).is_err() {
        // Writing into a Vec cannot fail; if it somehow did, show the source escaped.
        return sanitize(&escape_text(markdown), anchor_prefix);
    }
    sanitize(&String::from_utf8_lossy(&html), anchor_prefix)
}

/// Cleans HTML with the allowlist (used on rendered Markdown, and later on remote HTML).
pub fn sanitize(html: &str, anchor_prefix: &str) -> String {
    let prefix = anchor_prefix.to_string();
    ammonia::Builder::default()
        .link_rel(Some("nofollow ugc noopener"))
        .add_tags(["section"])
        .add_tag_attributes("th", ["align"])
        .add_tag_attributes("td", ["align"])
        .add_tag_attributes("a", ["id"])
        .add_tag_attributes("li", ["id"])
        .add_tag_attributes("sup", ["id"])
        .add_allowed_classes("section", ["footnotes"])
        .add_allowed_classes("sup", ["footnote-ref"])
        .add_allowed_classes("a", ["footnote-backref"])
        .attribute_filter(move |_element, attribute, value| match attribute {
            "id" => Some(Cow::Owned(format!("{prefix}{value}"))),
            "href" if value.starts_with('#') => {
                Some(Cow::Owned(format!("#{prefix}{}", &value[1..])))
            }
            _ => Some(Cow::Borrowed(value)),
        })
        .clean(html)
        .to_string()
}

/// Escapes text for an HTML text node (`&`, `<`, `>`).
pub fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The text of an HTML fragment from another server (a forum's description): tags removed,
/// paragraphs and line breaks kept as line breaks, entities decoded.
pub fn plain_text(html: &str) -> String {
    let spaced = html
        .replace("</p>", "</p>\n\n")
        .replace("<br>", "\n")
        .replace("<br/>", "\n")
        .replace("<br />", "\n");
    let text = ammonia::Builder::empty().clean(&spaced).to_string();
    // ammonia escapes what it keeps; the result is shown through an escaping template, so the
    // five entities it writes are decoded back (`&amp;` last, so `&amp;lt;` stays `&lt;`).
    let decoded = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    // Blank lines between paragraphs, however many the markup made.
    let mut paragraphs: Vec<Vec<&str>> = vec![Vec::new()];
    for line in decoded.lines().map(str::trim) {
        match (line.is_empty(), paragraphs.last_mut()) {
            (true, Some(last)) if !last.is_empty() => paragraphs.push(Vec::new()),
            (false, Some(last)) => last.push(line),
            _ => {}
        }
    }
    paragraphs
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| p.join("\n"))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The Markdown that quotes `body` by `author`: a `>` block headed with the author's name.
pub fn quote(author: &str, body: &str) -> String {
    let mut out = format!("> {author} wrote:\n>\n");
    for line in body.lines() {
        if line.is_empty() {
            out.push_str(">\n");
        } else {
            out.push_str("> ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod plain_text_tests {
    use super::plain_text;

    #[test]
    fn remote_html_becomes_text() {
        assert_eq!(
            plain_text("<p>Lounge &amp; recreation</p>\n<hr />\n<p>Welcome <script>x()</script><b>all</b> &lt;3</p>"),
            "Lounge & recreation\n\nWelcome all <3"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_autolinks_and_footnotes_render() {
        let html = render(
            "| a | b |\n|---|--:|\n| 1 | 2 |\n\nSee https://example.org/paper and note[^1].\n\n[^1]: Smith (2020).\n",
            "p7-",
        );
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<td align=\"right\">2</td>"), "{html}");
        assert!(
            html.contains("<a href=\"https://example.org/paper\" rel=\"nofollow ugc noopener\">"),
            "{html}"
        );
        assert!(html.contains("href=\"#p7-fn-1\""), "{html}");
        assert!(html.contains("id=\"p7-fn-1\""), "{html}");
        assert!(html.contains("<section class=\"footnotes\">"), "{html}");
    }

    #[test]
    fn raw_html_and_scripts_never_run() {
        let html = render(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) <b onclick=\"x()\">b</b>",
            "p1-",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        // Handlers survive only as escaped text, never inside a tag.
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;b onclick"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<b"), "{html}");
        // Escaped, so the reader still sees what was typed.
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn sanitize_cleans_hostile_html() {
        let html = sanitize(
            "<p onclick=\"x()\">hi <a href=\"javascript:alert(1)\">l</a><iframe src=\"https://e\"></iframe></p>",
            "p2-",
        );
        assert_eq!(html, "<p>hi <a rel=\"nofollow ugc noopener\">l</a></p>");
    }

    #[test]
    fn headings_move_below_the_page_headings() {
        let html = render("# Big\n\n#### Small\n\n###### Tiny", "p1-");
        assert!(html.contains("<h3>Big</h3>"), "{html}");
        assert!(html.contains("<h6>Small</h6>"), "{html}");
        assert!(html.contains("<h6>Tiny</h6>"), "{html}");
    }

    #[test]
    fn quotes_name_the_author_and_prefix_every_line() {
        assert_eq!(
            quote("Ms Rivera", "First line\n\nSecond"),
            "> Ms Rivera wrote:\n>\n> First line\n>\n> Second\n\n"
        );
    }
}

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

use comrak::nodes::{Ast, AstNode, LineColumn, NodeValue};
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

/// How deep blocks and inlines nest before deeper content is rendered flat, as text. Real
/// posts rarely go past four or five levels (a quote in a quote in a list); 32 leaves room and
/// keeps every later step (the HTML writer, the sanitizer, the reader's browser) shallow.
pub const MAX_DEPTH: usize = 32;

/// Renders Markdown to sanitized HTML, prefixing anchors with `anchor_prefix`.
///
/// Whatever the input, this finishes in bounded time and memory and cannot overflow a stack:
/// - a line opening more than [`MAX_DEPTH`] block quotes or list items has the rest of its
///   markers escaped, so they show as text (which also keeps the parser's work per line small);
/// - the parser (comrak) recurses once per level of nesting in places, and emphasis, links and
///   images can still nest about once per two bytes of input, so parsing runs on a thread of
///   its own whose stack is sized for the input's length ([`stack_for`]);
/// - after parsing, anything nested deeper than [`MAX_DEPTH`] is replaced by its text.
pub fn render(markdown: &str, anchor_prefix: &str) -> String {
    let source = limit_block_markers(markdown);
    on_stack_for(source.len(), || render_bounded(&source, anchor_prefix)).unwrap_or_else(|| {
        // The render thread could not be started (out of threads or memory): show the
        // source as text rather than fail the post.
        format!("<p>{}</p>", escape_text(markdown))
    })
}

fn render_bounded(markdown: &str, anchor_prefix: &str) -> String {
    let options = options();
    let arena = Arena::new();
    let root = parse_document(&arena, markdown, &options);
    flatten_below(&arena, root, MAX_DEPTH);
    limit_footnote_references(root);
    for node in root.descendants() {
        if let NodeValue::Heading(ref mut heading) = node.data.borrow_mut().value {
            heading.level = (heading.level + 2).min(6);
        }
    }
    let mut html = Vec::new();
    if format_html(root, &options, &mut html).is_err() {
        // Writing into a Vec cannot fail; if it somehow did, show the source escaped.
        return sanitize_shallow(&escape_text(markdown), anchor_prefix);
    }
    sanitize_shallow(&String::from_utf8_lossy(&html), anchor_prefix)
}

/// Stack for parsing `len` bytes: comrak's recursive passes take at most a few hundred bytes
/// per level (measured in debug builds, where frames are largest) and a level costs at least
/// one byte of input, so 1 KiB a byte, plus 2 MiB for everything else, is ample. Only the pages
/// a render actually touches become resident, and they are returned when the thread ends.
pub fn stack_for(len: usize) -> usize {
    (2 << 20) + len.saturating_mul(1024)
}

/// Runs `f` on a thread with a stack of [`stack_for`]`(len)` and waits for it; `None` if the
/// thread could not be started or `f` panicked.
fn on_stack_for<T: Send>(len: usize, f: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("render".into())
            .stack_size(stack_for(len))
            .spawn_scoped(scope, f)
            .ok()?
            .join()
            .ok()
    })
}

/// Escapes every block quote or list marker past the first [`MAX_DEPTH`] at the start of a
/// line (`> > > ...`, `- - - ...`, `1. 1. ...`), so that one line cannot open thousands of
/// blocks; the escaped markers show as text.
pub fn limit_block_markers(markdown: &str) -> Cow<'_, str> {
    let mut out: Option<String> = None;
    let mut offset = 0;
    for line in markdown.split_inclusive('\n') {
        let bytes = line.as_bytes();
        let mut i = 0;
        let mut depth = 0;
        let mut cut = None;
        loop {
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                i += 1;
            }
            let start = i;
            let marker_end = match bytes.get(i) {
                Some(b'>') => Some(i + 1),
                Some(b'-' | b'*' | b'+') => Some(i + 1),
                Some(b'0'..=b'9') => {
                    let mut j = i;
                    while j < bytes.len() && j - i < 9 && bytes[j].is_ascii_digit() {
                        j += 1;
                    }
                    matches!(bytes.get(j), Some(b'.' | b')')).then_some(j + 1)
                }
                _ => None,
            };
            let Some(end) = marker_end else { break };
            // A list marker must be followed by a space, a tab or the end of the line; `>`
            // need not be.
            if bytes[start] != b'>'
                && !matches!(bytes.get(end), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
            {
                break;
            }
            depth += 1;
            if depth > MAX_DEPTH {
                cut = Some(start);
                break;
            }
            i = end;
        }
        if let Some(at) = cut {
            let text = out.get_or_insert_with(|| markdown[..offset].to_string());
            text.push_str(&line[..at]);
            text.push('\\');
            text.push_str(&line[at..]);
        } else if let Some(text) = out.as_mut() {
            text.push_str(line);
        }
        offset += line.len();
    }
    match out {
        Some(text) => Cow::Owned(text),
        None => Cow::Borrowed(markdown),
    }
}

/// Replaces whatever is nested deeper than `max` levels below `root` by its text, without
/// recursion: a node at the limit that holds inlines gets one text node, one that holds blocks
/// gets one paragraph of text, and a list or table goes one level further to its items or
/// cells.
fn flatten_below<'a>(arena: &'a Arena<AstNode<'a>>, root: &'a AstNode<'a>, max: usize) {
    let mut stack = vec![(root, 0usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth >= max && node.first_child().is_some() {
            let (inlines, paragraphs) = {
                let value = &node.data.borrow().value;
                (
                    value.contains_inlines() || !value.block(),
                    comrak::nodes::can_contain_type(node, &NodeValue::Paragraph),
                )
            };
            if inlines || paragraphs {
                let text = text_of(node);
                let children: Vec<_> = node.children().collect();
                for child in children {
                    child.detach();
                }
                let text_node = new_node(arena, NodeValue::Text(text));
                if inlines {
                    node.append(text_node);
                } else {
                    let paragraph = new_node(arena, NodeValue::Paragraph);
                    paragraph.append(text_node);
                    node.append(paragraph);
                }
                continue;
            }
        }
        for child in node.children() {
            stack.push((child, depth + 1));
        }
    }
}

/// How many times one footnote is linked to; further references to it show as text. Each link
/// and its way back cost about 150 bytes of HTML for 4 bytes of Markdown (`[^a]`), so without
/// a bound one post of 64 KiB became 3.7 MB of HTML.
pub const MAX_FOOTNOTE_REFERENCES: u32 = 16;

/// Turns references past [`MAX_FOOTNOTE_REFERENCES`] to one footnote into text, and makes the
/// footnote link back to the ones kept only.
fn limit_footnote_references<'a>(root: &'a AstNode<'a>) {
    for node in root.descendants() {
        let mut data = node.data.borrow_mut();
        let replacement = match &mut data.value {
            NodeValue::FootnoteReference(r) if r.ref_num > MAX_FOOTNOTE_REFERENCES => {
                Some(NodeValue::Text(format!("[^{}]", r.name)))
            }
            NodeValue::FootnoteDefinition(d) => {
                d.total_references = d.total_references.min(MAX_FOOTNOTE_REFERENCES);
                None
            }
            _ => None,
        };
        if let Some(value) = replacement {
            data.value = value;
        }
    }
}

fn new_node<'a>(arena: &'a Arena<AstNode<'a>>, value: NodeValue) -> &'a AstNode<'a> {
    arena.alloc(AstNode::new(std::cell::RefCell::new(Ast::new(
        value,
        LineColumn { line: 0, column: 0 },
    ))))
}

/// The text under `node`, in order, with blocks and line breaks as spaces.
fn text_of<'a>(node: &'a AstNode<'a>) -> String {
    let mut text = String::new();
    for descendant in node.descendants().skip(1) {
        match &descendant.data.borrow().value {
            NodeValue::Text(t) => text.push_str(t),
            NodeValue::Code(code) => text.push_str(&code.literal),
            NodeValue::CodeBlock(block) => text.push_str(&block.literal),
            NodeValue::HtmlInline(html) => text.push_str(html),
            NodeValue::HtmlBlock(html) => text.push_str(&html.literal),
            NodeValue::SoftBreak | NodeValue::LineBreak => text.push(' '),
            value if value.block() && !text.is_empty() && !text.ends_with(' ') => text.push(' '),
            _ => {}
        }
    }
    text
}

/// Cleans HTML from another server with the allowlist. Elements nested deeper than
/// [`MAX_DEPTH`] are dropped first, keeping their text ([`limit_html_nesting`]): the HTML
/// parser's work per tag grows with the depth of open elements, so 13,000 nested `<div>`s took
/// seconds. The parser and sanitizer then run on a thread with a stack sized for the input, as
/// Markdown does.
pub fn sanitize(html: &str, anchor_prefix: &str) -> String {
    let shallow = limit_html_nesting(html, MAX_DEPTH);
    on_stack_for(shallow.len(), || sanitize_shallow(&shallow, anchor_prefix))
        .unwrap_or_else(|| escape_text(html))
}

/// Elements that never have content (HTML's void elements), so they never open a level.
const VOID: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Drops the start tags that would open more than `max` elements at once, and their end tags,
/// keeping all text. A light scan, not a parser: an end tag closes the innermost open element
/// of its name (and those inside it); one that names no open element is dropped. Comments,
/// declarations and quoted attribute values are skipped whole.
///
/// On well-formed HTML (what the sanitizer writes) the count is exact. On other HTML it is
/// close to what HTML's parser builds, but the parser can build deeper trees (it reopens
/// formatting elements that an end tag closed early), so sanitizing applies this twice:
/// before parsing, to spare the parser deep input, and on its well-formed output, to bound it.
pub fn limit_html_nesting(html: &str, max: usize) -> Cow<'_, str> {
    let bytes = html.as_bytes();
    let mut open: Vec<String> = Vec::new();
    let mut excess = 0usize;
    let mut out: Option<String> = None;
    let mut copied = 0; // bytes of `html` already accounted for in `out`
    let mut i = 0;
    while let Some(found) = html[i..].find('<') {
        let start = i + found;
        let end = tag_end(bytes, start);
        let tag = &html[start..end];
        i = end;
        let Some((name, closing)) = tag_name(tag) else {
            continue;
        };
        let keep = if closing {
            if excess > 0 {
                // In well-formed HTML this closes the innermost element dropped; in other HTML
                // keeping more open only overcounts.
                excess -= 1;
                false
            } else {
                match open.iter().rposition(|n| *n == name) {
                    Some(at) => {
                        open.truncate(at);
                        true
                    }
                    None => false,
                }
            }
        } else if VOID.contains(&name.as_str()) || tag.ends_with("/>") {
            true
        } else if open.len() < max {
            // A table's rows sit in an implied `tbody` and its cells in an implied `tr`: count
            // them, so the parser's tree is never deeper than this count.
            if name == "table" {
                open.push(name.clone());
                open.push(name.clone());
            }
            open.push(name);
            true
        } else {
            excess += 1;
            false
        };
        if !keep {
            let text = out.get_or_insert_with(String::new);
            text.push_str(&html[copied..start]);
            copied = end;
        }
    }
    match out {
        Some(mut text) => {
            text.push_str(&html[copied..]);
            Cow::Owned(text)
        }
        None => Cow::Borrowed(html),
    }
}

/// Where the markup starting with `<` at `start` ends: after `-->` for a comment, after the
/// first `>` outside quotes for anything else (or at the end of the input).
fn tag_end(bytes: &[u8], start: usize) -> usize {
    if bytes[start..].starts_with(b"<!--") {
        return find_from(bytes, start + 4, b"-->").map_or(bytes.len(), |at| at + 3);
    }
    let mut quote = None;
    for (offset, b) in bytes[start + 1..].iter().enumerate() {
        match (quote, *b) {
            (None, b'"' | b'\'') => quote = Some(*b),
            (Some(q), b) if b == q => quote = None,
            (None, b'>') => return start + 1 + offset + 1,
            _ => {}
        }
    }
    bytes.len()
}

fn find_from(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| from + at)
}

/// The lowercase name of a start or end tag, and whether it is an end tag; `None` for text
/// that only starts with `<`, comments and declarations.
fn tag_name(tag: &str) -> Option<(String, bool)> {
    let rest = tag.strip_prefix('<')?;
    let (rest, closing) = match rest.strip_prefix('/') {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if name.is_empty() || !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    Some((name.to_ascii_lowercase(), closing))
}

/// How deep the HTML of a post may nest: [`MAX_DEPTH`], plus the few elements that one level of
/// Markdown writes (a list and its item, a table's body, row and cell).
pub const MAX_HTML_DEPTH: usize = MAX_DEPTH + 4;

/// Cleans HTML with the allowlist on the current thread, then bounds its nesting to
/// [`MAX_HTML_DEPTH`].
fn sanitize_shallow(html: &str, anchor_prefix: &str) -> String {
    let clean = sanitize_unbounded(html, anchor_prefix);
    let clean = match limit_html_nesting(&clean, MAX_HTML_DEPTH) {
        Cow::Borrowed(_) => clean,
        Cow::Owned(limited) => limited,
    };
    images_as_links(&clean)
}

/// Replaces every image with a link to it, so that reading a post never makes the reader's
/// browser ask another server for anything (which would tell that server who reads what, and
/// when). The link says what the image is: its description, or "image". An image whose address
/// is not `http` or `https` becomes its description alone. Works on the sanitizer's output,
/// where every attribute value is double-quoted and escaped.
pub fn images_as_links(html: &str) -> String {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len());
    let mut copied = 0;
    let mut i = 0;
    // How many links are open where the image stands (a link inside a link is not HTML: an
    // image inside one shows as its description).
    let mut links = 0usize;
    while let Some(found) = html[i..].find("<img") {
        let start = i + found;
        let between = &html[i..start];
        links = (links + between.matches("<a ").count())
            .saturating_sub(between.matches("</a>").count());
        let end = tag_end(bytes, start);
        i = end;
        let tag = &html[start..end];
        if !matches!(tag_name(tag), Some((name, false)) if name == "img") {
            continue;
        }
        let src = attribute(tag, "src").filter(|s| {
            let lower = s.to_ascii_lowercase();
            lower.starts_with("http://") || lower.starts_with("https://")
        });
        let alt = attribute(tag, "alt").filter(|a| !a.trim().is_empty());
        out.push_str(&html[copied..start]);
        match src {
            Some(src) if links == 0 => {
                out.push_str("<a href=\"");
                out.push_str(src);
                out.push_str("\" rel=\"nofollow ugc noopener\">");
                out.push_str("[image: ");
                out.push_str(alt.unwrap_or(src));
                out.push_str("]</a>");
            }
            _ => {
                if let Some(alt) = alt {
                    out.push_str(alt);
                }
            }
        }
        copied = end;
    }
    out.push_str(&html[copied..]);
    out
}

/// The (still escaped) value of `name="..."` in a start tag written by the sanitizer.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

/// Cleans HTML with the allowlist.
fn sanitize_unbounded(html: &str, anchor_prefix: &str) -> String {
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
    fn images_become_links_that_load_nothing() {
        let html = render(
            "![A number line](https://pics.example/line.png) and ![](http://pics.example/x.png?a=1&b=2) and ![t](data:image/png;base64,AAAA)",
            "p1-",
        );
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("<a href=\"https://pics.example/line.png\" rel=\"nofollow ugc noopener\">[image: A number line]</a>"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"http://pics.example/x.png?a=1&amp;b=2\" rel=\"nofollow ugc noopener\">[image: http://pics.example/x.png?a=1&amp;b=2]</a>"),
            "{html}"
        );
        assert!(html.contains(" and t</p>"), "{html}");
        let linked = render(
            "[![Chart](https://pics.example/c.png)](https://data.example/)",
            "p1-",
        );
        assert_eq!(
            linked,
            "<p><a href=\"https://data.example/\" rel=\"nofollow ugc noopener\">Chart</a></p>\n"
        );
        let remote = sanitize(
            "<p><img src=\"https://tracker.example/pixel.gif\" alt=\"\\\" onerror=x\" width=1></p>",
            "p1-",
        );
        assert!(!remote.contains("<img"), "{remote}");
        assert!(
            remote.contains("href=\"https://tracker.example/pixel.gif\""),
            "{remote}"
        );
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

/// Every way Markdown nests, each as deep as `limit` bytes allow: block quotes, lists, emphasis,
/// strong, strikethrough, links, images, footnotes, tables and raw HTML. Hostile input for the
/// tests (the renderer's own, and the integration tests that post each shape every way a post
/// comes in); not used by the server.
pub fn nesting_shapes(limit: usize) -> Vec<(&'static str, String)> {
    let rep = |s: &str, n: usize| s.repeat(n);
    let n = |unit: usize| limit / unit - 2;
    vec![
        ("block quotes", format!("{} x", rep(">", n(1)))),
        ("spaced block quotes", format!("{}x", rep("> ", n(2)))),
        (
            "block quotes then lazy lines",
            format!("{}x\n{}", rep(">", n(2)), rep("x\n", n(4))),
        ),
        ("bullet lists", format!("{}x", rep("- ", n(2)))),
        ("ordered lists", format!("{}x", rep("1. ", n(3)))),
        (
            "indented lists",
            (0..250)
                .map(|i| format!("{}- x\n", " ".repeat(2 * i)))
                .collect(),
        ),
        ("quoted lists", format!("{}x", rep("> - ", n(4)))),
        ("emphasis", format!("{}x{}", rep("*", n(2)), rep("*", n(2)))),
        (
            "underscores",
            format!("{}x{}", rep("_", n(2)), rep("_", n(2))),
        ),
        ("strong", format!("{}x{}", rep("**", n(4)), rep("**", n(4)))),
        (
            "spaced emphasis",
            format!("{}x{}", rep("*a ", n(6)), rep(" a*", n(6))),
        ),
        (
            "strikethrough",
            format!("{}x{}", rep("~~", n(4)), rep("~~", n(4))),
        ),
        ("links", format!("{}x{}", rep("[", n(5)), rep("](u)", n(5)))),
        (
            "images",
            format!("{}x{}", rep("![", n(6)), rep("](u)", n(6))),
        ),
        (
            "images in links",
            format!("{}x{}", rep("[![", n(11)), rep("](u)](v)", n(11))),
        ),
        ("open brackets", rep("[", n(1))),
        ("open images", rep("![", n(2))),
        ("footnotes", format!("a[^a]\n\n{}x", rep("[^a]: ", n(6)))),
        (
            "footnote references",
            format!("{}\n\n[^a]: x", rep("[^a]", n(4) - 3)),
        ),
        (
            "tables",
            format!("| a |\n|---|\n| {}x{} |\n", rep("*", n(3)), rep("*", n(3))),
        ),
        ("html", rep("<div>", n(5))),
        ("backticks", format!("{}x", rep("`", n(1)))),
    ]
}

#[cfg(test)]
mod nesting_tests {
    use super::*;

    /// The body limit's default (`limits.body_max_bytes`).
    const LIMIT: usize = 65536;

    /// How deeply the elements of `html` nest.
    pub(crate) fn depth_of(html: &str) -> usize {
        let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
        while let Some(found) = html[i..].find('<') {
            let start = i + found;
            let end = tag_end(html.as_bytes(), start);
            if let Some((name, closing)) = tag_name(&html[start..end]) {
                if closing {
                    depth = depth.saturating_sub(1);
                } else if !VOID.contains(&name.as_str()) {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
            }
            i = end;
        }
        deepest
    }

    #[test]
    fn every_nesting_shape_at_the_body_limit_renders_shallow_on_a_small_stack() {
        // The caller's stack does not matter: render on a thread with far less than tokio's
        // 2 MiB, which one level of comrak's recursion per byte would overflow at once.
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(|| {
                for (shape, input) in nesting_shapes(LIMIT) {
                    assert!(input.len() <= LIMIT, "{shape}: {}", input.len());
                    let html = render(&input, "p1-");
                    let depth = depth_of(&html);
                    assert!(depth <= MAX_HTML_DEPTH, "{shape}: nested {depth} deep");
                    assert!(!html.is_empty(), "{shape}: nothing rendered");
                }
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn deep_content_is_flattened_to_text_not_dropped() {
        let html = render(&format!("{}deepest words", "> ".repeat(200)), "p1-");
        assert!(html.contains("deepest words"), "{html}");
        assert_eq!(html.matches("<blockquote>").count(), MAX_DEPTH, "{html}");
        // The markers past the limit show as text.
        assert!(html.contains("&gt; &gt;"), "{html}");
        let html = render(
            &format!("{}deep{}", "*a ".repeat(100), " a*".repeat(100)),
            "p1-",
        );
        assert!(html.contains("deep"), "{html}");
        assert!(depth_of(&html) <= MAX_DEPTH + 2, "{html}");
        // Ordinary nesting is left alone.
        let html = render("> - a\n>   - b\n>\n> > *c **d***", "p1-");
        assert_eq!(
            html,
            "<blockquote>\n<ul>\n<li>a\n<ul>\n<li>b</li>\n</ul>\n</li>\n</ul>\n<blockquote>\n<p><em>c <strong>d</strong></em></p>\n</blockquote>\n</blockquote>\n"
        );
    }

    #[test]
    fn one_footnote_is_linked_a_bounded_number_of_times() {
        let input = format!("{}\n\n[^a]: The note.", "See[^a] ".repeat(40));
        let html = render(&input, "p1-");
        assert_eq!(
            html.matches("id=\"p1-fnref-a").count(),
            MAX_FOOTNOTE_REFERENCES as usize,
            "{html}"
        );
        assert_eq!(
            html.matches("[^a]").count(),
            40 - MAX_FOOTNOTE_REFERENCES as usize
        );
        assert!(html.contains("The note."), "{html}");
        // At the body limit, the HTML stays within a small multiple of the Markdown.
        for (shape, input) in nesting_shapes(LIMIT) {
            let html = render(&input, "p1-");
            assert!(html.len() <= 8 * LIMIT, "{shape}: {} bytes", html.len());
        }
    }

    #[test]
    fn block_markers_past_the_limit_are_escaped() {
        assert_eq!(limit_block_markers("> > a\n- b"), "> > a\n- b");
        let deep = format!("{}x\n", "> ".repeat(MAX_DEPTH + 3));
        let limited = limit_block_markers(&deep);
        assert_eq!(limited, format!("{}\\> > > x\n", "> ".repeat(MAX_DEPTH)));
        let lists = format!("{}x", "1. ".repeat(MAX_DEPTH + 1));
        assert_eq!(
            limit_block_markers(&lists),
            format!("{}\\1. x", "1. ".repeat(MAX_DEPTH))
        );
        // Not markers: `-x`, `1.x`, text.
        let plain = format!("{}x", "-x ".repeat(100));
        assert_eq!(limit_block_markers(&plain), plain);
    }

    #[test]
    fn remote_html_nesting_is_bounded_and_text_kept() {
        for (shape, input) in [
            ("div", "<div>".repeat(13000) + "words"),
            ("b", "<b>".repeat(20000) + "words"),
            ("blockquote", "<blockquote>".repeat(5000) + "words"),
            ("lists", "<ul><li>".repeat(8000) + "words"),
            ("tables", "<table><tr><td>".repeat(4000) + "words"),
            ("links", "<a href=x>".repeat(6000) + "words"),
            (
                "reopened formatting",
                "<div><b class=x>a</div>".repeat(2500) + "words",
            ),
            ("unmatched end tags", "<div></x>".repeat(7000) + "words"),
            (
                "closed as it goes",
                "<div><p>x</div>".repeat(4000) + "words",
            ),
        ] {
            assert!(input.len() <= LIMIT + 10, "{shape}");
            let html = sanitize(&input, "p1-");
            assert!(
                depth_of(&html) <= MAX_HTML_DEPTH,
                "{shape}: {}",
                depth_of(&html)
            );
            assert!(html.contains("words"), "{shape}");
        }
        // Comments, quoted `>` and void elements do not confuse the count.
        assert_eq!(
            limit_html_nesting("<p title=\"a>b\"><!-- <div> --><br><img src=x>t</p>", 1),
            "<p title=\"a>b\"><!-- <div> --><br><img src=x>t</p>"
        );
        assert_eq!(
            limit_html_nesting("<b><i><u>t</u></i></b>", 2),
            "<b><i>t</i></b>"
        );
        // Found by the property test: tables in tables, with stray end tags between.
        let found = "<div><table><tr><td><div><div><div><div></script>--><table><tr><td><table><tr><td></script><div>--><p><div><p><div></p><b><p><table><tr><td><script><div></script></script><ul><li>--><ul><li><table><tr><td><table><tr><td>";
        let html = sanitize(&found.repeat(20), "p1-");
        assert!(depth_of(&html) <= MAX_HTML_DEPTH, "{}", depth_of(&html));
    }
}

#[cfg(test)]
mod properties {
    use super::nesting_tests::depth_of;
    use super::*;
    use proptest::prelude::*;

    /// Markdown made of the characters that build structure, and some words.
    fn markdown() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just(">"),
                Just("> "),
                Just("- "),
                Just("1. "),
                Just("*"),
                Just("**"),
                Just("_"),
                Just("~~"),
                Just("["),
                Just("]"),
                Just("(u)"),
                Just("!["),
                Just("[^a]"),
                Just("[^a]: "),
                Just("|"),
                Just("---"),
                Just("`"),
                Just("```"),
                Just("\n"),
                Just("    "),
                Just("<div>"),
                Just("</div>"),
                Just("&amp;"),
                Just("\\"),
                Just("word "),
                Just("https://e.example/x "),
                Just("\u{202e}"),
                Just("\0"),
            ],
            0..400,
        )
        .prop_map(|parts| parts.concat())
    }

    /// HTML made of tags that nest, close, mismatch and carry attributes.
    fn html() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("<div>"),
                Just("</div>"),
                Just("<p>"),
                Just("</p>"),
                Just("<b>"),
                Just("</b>"),
                Just("<ul><li>"),
                Just("</li>"),
                Just("<table><tr><td>"),
                Just("<a href=\"javascript:alert(1)\">"),
                Just("</a>"),
                Just("<img src=x onerror=y>"),
                Just("<script>"),
                Just("</script>"),
                Just("<!--"),
                Just("-->"),
                Just("<"),
                Just(">"),
                Just("\""),
                Just("text "),
                Just("<br/>"),
                Just("</x>"),
            ],
            0..400,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        // Failures are not written to a file in the tree: a case found is made a unit test.
        #![proptest_config(ProptestConfig {
            // PROPTEST_CASES sets a longer run (the README says how).
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(200),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn markdown_always_renders_safe_and_shallow(input in markdown()) {
            let html = render(&input, "p1-");
            prop_assert!(depth_of(&html) <= MAX_HTML_DEPTH);
            prop_assert!(!html.contains("<script"));
            prop_assert!(!html.contains("<div"));
        }

        #[test]
        fn remote_html_always_sanitizes_safe_and_shallow(input in html()) {
            let html = sanitize(&input, "p1-");
            prop_assert!(depth_of(&html) <= MAX_HTML_DEPTH);
            prop_assert!(!html.contains("<script"));
            prop_assert!(!html.contains("javascript:"));
            prop_assert!(!html.contains("onerror"));
        }
    }
}

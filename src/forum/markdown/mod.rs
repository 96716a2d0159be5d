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
    render_linked(markdown, anchor_prefix, &MentionLinks::new())
}

/// [`render`], with each mention in `links` made a link to its person's page (the rest stay
/// text).
pub fn render_linked(markdown: &str, anchor_prefix: &str, links: &MentionLinks) -> String {
    let source = limit_block_markers(markdown);
    on_stack_for(source.len(), || {
        render_bounded(&source, anchor_prefix, links)
    })
    .unwrap_or_else(|| {
        // The render thread could not be started (out of threads or memory): show the
        // source as text rather than fail the post.
        format!("<p>{}</p>", escape_text(markdown))
    })
}

/// The different people a post's Markdown mentions (`@name`, `@name@domain`; at most
/// [`mentions::MAX_HANDLES`]), in order; none inside code or links.
pub fn mentions(markdown: &str) -> Vec<Handle> {
    let source = limit_block_markers(markdown);
    on_stack_for(source.len(), || {
        let options = options();
        let arena = Arena::new();
        let root = parse_document(&arena, &source, &options);
        flatten_below(&arena, root, MAX_DEPTH);
        mentions::unlink_handles(root);
        mentions::collect(root)
    })
    .unwrap_or_default()
}

fn render_bounded(markdown: &str, anchor_prefix: &str, links: &MentionLinks) -> String {
    let options = options();
    let arena = Arena::new();
    let root = parse_document(&arena, markdown, &options);
    flatten_below(&arena, root, MAX_DEPTH);
    mentions::unlink_handles(root);
    mentions::link(&arena, root, links);
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
/// a render actually touches become resident, and they are returned when the render ends.
pub fn stack_for(len: usize) -> usize {
    (2 << 20) + len.saturating_mul(1024)
}

/// Runs `f` with at least [`stack_for`]`(len)` of stack: on the caller's own stack when that
/// much is left, else on a stack of that size mapped for it on the same thread (`stacker`) and
/// unmapped after. `None` if `f` panicked.
///
/// A thread of its own for each render did the same, but starting and joining one (its stack
/// mapped, touched and unmapped, two scheduler round trips) sat inside every post's write: 32
/// writers on SQLite 1,520-1,610 -> 1,880-1,960 replies a second without it, side by side.
fn on_stack_for<T>(len: usize, f: impl FnOnce() -> T) -> Option<T> {
    let needed = stack_for(len);
    stacker::maybe_grow(needed, needed, || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
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
        // Code and tables too wide for the screen scroll in their own box: in the Tab order,
        // so that a keyboard can scroll them too (WCAG 2.1.1).
        .set_tag_attribute_value("pre", "tabindex", "0")
        .set_tag_attribute_value("table", "tabindex", "0")
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

/// The Markdown that quotes `body` by `author`: a `>` block headed with the author's name,
/// linked to the post quoted (`url`), which is how the quoted person is told of it.
pub fn quote(author: &str, url: &str, body: &str) -> String {
    let name = author.replace(['[', ']'], "");
    let mut out = format!("> [{name} wrote]({url}):\n>\n");
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

mod html;
pub mod mentions;
mod shapes;
#[cfg(test)]
mod tests;

pub use html::{depth_of, images_as_links, limit_html_nesting, quoted_links};
pub use mentions::{Handle, MentionLinks};
pub use shapes::nesting_shapes;

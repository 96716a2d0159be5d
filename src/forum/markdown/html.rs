//! A light scan of HTML tags, for what the sanitizer cannot do: bound how deep elements nest,
//! measure it, and turn images into links. Not a parser: it reads start and end tags, skipping
//! comments and quoted attribute values, which is exact on the sanitizer's well-formed output.

use std::borrow::Cow;

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

/// How deeply the elements of `html` nest (void elements open no level).
pub fn depth_of(html: &str) -> usize {
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

/// The addresses linked from inside block quotes, in order (at most `max`): what a post quotes
/// names where the words came from. Works on the sanitizer's output.
pub fn quoted_links(html: &str, max: usize) -> Vec<String> {
    let (mut quotes, mut i) = (0usize, 0usize);
    let mut links = Vec::new();
    while let Some(found) = html[i..].find('<') {
        let start = i + found;
        let end = tag_end(html.as_bytes(), start);
        let tag = &html[start..end];
        match tag_name(tag) {
            Some((name, closing)) if name == "blockquote" => {
                quotes = if closing {
                    quotes.saturating_sub(1)
                } else {
                    quotes + 1
                };
            }
            Some((name, false)) if name == "a" && quotes > 0 => {
                if let Some(href) = attribute(tag, "href") {
                    if links.len() == max {
                        break;
                    }
                    links.push(href.replace("&amp;", "&"));
                }
            }
            _ => {}
        }
        i = end;
    }
    links
}

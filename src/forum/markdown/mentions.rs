//! Mentions in Markdown: `@name` (someone here) and `@name@domain` (anyone, here or elsewhere),
//! found in the text of a post (never inside code, links or images), and turned into links to
//! the people they name once the caller has found them.
//!
//! A name is letters, digits, `_`, `.` and `-` (Mastodon's and Lemmy's are a subset; Pleroma
//! allows dots and dashes), not ending in `.` or `-`, so a mention at the end of a sentence
//! keeps its full stop. A domain may carry a port. The `@` must not follow a letter, digit or
//! `_`, so e-mail addresses are not mentions.

use std::collections::HashMap;

use comrak::nodes::{AstNode, NodeLink, NodeValue};
use comrak::Arena;

use super::new_node;

/// How many different handles one post is searched for: the rest stay text. Far more than a
/// conversation names; it bounds the lookups a post can cause.
pub const MAX_HANDLES: usize = 50;

/// A handle as written in a post.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Handle {
    /// The name, as written.
    pub name: String,
    /// The domain, lowercased; `None` for `@name`.
    pub domain: Option<String>,
}

impl Handle {
    /// `@name` or `@name@domain`.
    pub fn written(&self) -> String {
        match &self.domain {
            Some(domain) => format!("@{}@{domain}", self.name),
            None => format!("@{}", self.name),
        }
    }
}

/// Where each found handle links to (the person's page).
pub type MentionLinks = HashMap<Handle, String>;

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

fn domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':')
}

/// Shortens `s` (made of ASCII) past any trailing character in `trailing`.
fn trim_end<'s>(s: &'s str, trailing: &[char]) -> &'s str {
    s.trim_end_matches(trailing)
}

/// The handles in one run of text, with their byte ranges, in order.
pub(super) fn handles_in(text: &str) -> Vec<(std::ops::Range<usize>, Handle)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find('@') {
        let at = from + offset;
        from = at + 1;
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '@') {
            continue;
        }
        let rest = &text[at + 1..];
        let name_len = rest.find(|c: char| !name_char(c)).unwrap_or(rest.len());
        let name = trim_end(&rest[..name_len], &['.', '-']);
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let mut end = at + 1 + name.len();
        let mut domain = None;
        if name.len() == name_len && text[end..].starts_with('@') {
            let after = &text[end + 1..];
            let domain_len = after.find(|c: char| !domain_char(c)).unwrap_or(after.len());
            let written = trim_end(&after[..domain_len], &['.', '-', ':']);
            let valid = !written.is_empty()
                && written.starts_with(|c: char| c.is_ascii_alphanumeric())
                && !written.contains("..");
            if valid {
                domain = Some(written.to_ascii_lowercase());
                end += 1 + written.len();
            }
        }
        found.push((
            at..end,
            Handle {
                name: name.to_string(),
                domain,
            },
        ));
        from = end;
    }
    found
}

/// Whether text under `node` is plain prose: not in a link, image or code.
fn in_prose<'a>(node: &'a AstNode<'a>) -> bool {
    node.ancestors().skip(1).all(|a| {
        !matches!(
            a.data.borrow().value,
            NodeValue::Link(_) | NodeValue::Image(_) | NodeValue::WikiLink(_)
        )
    })
}

/// The text nodes of prose under `root`.
fn prose_texts<'a>(root: &'a AstNode<'a>) -> Vec<&'a AstNode<'a>> {
    root.descendants()
        .filter(|n| matches!(n.data.borrow().value, NodeValue::Text(_)))
        .filter(|n| in_prose(n))
        .collect()
}

/// Undoes e-mail autolinking where it took a handle: `@name@domain` reads to the autolinker
/// as `@` and a link to `mailto:name@domain`. When the text before such a link ends in an `@`
/// that starts a word, the link becomes text again, joined with the text around it (which
/// may carry the domain's port), so that the handle can be found.
pub(super) fn unlink_handles<'a>(root: &'a AstNode<'a>) {
    let links: Vec<_> = root
        .descendants()
        .filter(|n| matches!(&n.data.borrow().value, NodeValue::Link(l) if l.url.starts_with("mailto:")))
        .collect();
    for link in links {
        let Some(before) = link.previous_sibling() else {
            continue;
        };
        let address = match &link.data.borrow().value {
            NodeValue::Link(l) => l.url["mailto:".len()..].to_string(),
            _ => continue,
        };
        // The link must show its address as it is (an autolink), nothing else.
        let shown = link
            .first_child()
            .filter(|c| c.next_sibling().is_none())
            .and_then(|c| match &c.data.borrow().value {
                NodeValue::Text(t) => Some(t.clone()),
                _ => None,
            });
        if shown.as_deref() != Some(address.as_str()) {
            continue;
        }
        let mut joined = match &before.data.borrow().value {
            NodeValue::Text(t) if t.ends_with('@') => t.clone(),
            _ => continue,
        };
        let at = joined.len() - 1;
        if joined[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '@')
        {
            continue;
        }
        joined.push_str(&address);
        if let Some(after) = link.next_sibling() {
            if let NodeValue::Text(t) = &after.data.borrow().value {
                joined.push_str(t);
            }
            if matches!(after.data.borrow().value, NodeValue::Text(_)) {
                after.detach();
            }
        }
        link.detach();
        before.data.borrow_mut().value = NodeValue::Text(joined);
    }
}

/// The different handles in a parsed document, first [`MAX_HANDLES`], in order of appearance.
pub(super) fn collect<'a>(root: &'a AstNode<'a>) -> Vec<Handle> {
    let mut handles: Vec<Handle> = Vec::new();
    for node in prose_texts(root) {
        let NodeValue::Text(ref text) = node.data.borrow().value else {
            continue;
        };
        for (_, handle) in handles_in(text) {
            if handles.len() == MAX_HANDLES {
                return handles;
            }
            if !handles.contains(&handle) {
                handles.push(handle);
            }
        }
    }
    handles
}

/// Turns each handle found in `links` into a link to its person's page, in place.
pub(super) fn link<'a>(arena: &'a Arena<AstNode<'a>>, root: &'a AstNode<'a>, links: &MentionLinks) {
    if links.is_empty() {
        return;
    }
    for node in prose_texts(root) {
        let text = match node.data.borrow().value {
            NodeValue::Text(ref text) => text.clone(),
            _ => continue,
        };
        let found: Vec<_> = handles_in(&text)
            .into_iter()
            .filter_map(|(range, handle)| links.get(&handle).map(|url| (range, url)))
            .collect();
        if found.is_empty() {
            continue;
        }
        // The text before the first mention stays in this node; each mention and the text
        // after it follow it in order.
        let mut last = node;
        let mut copied = found[0].0.start;
        node.data.borrow_mut().value = NodeValue::Text(text[..copied].to_string());
        for (range, url) in found {
            if range.start > copied {
                let between = new_node(arena, NodeValue::Text(text[copied..range.start].into()));
                last.insert_after(between);
                last = between;
            }
            let anchor = new_node(
                arena,
                NodeValue::Link(NodeLink {
                    url: url.clone(),
                    title: String::new(),
                }),
            );
            anchor.append(new_node(arena, NodeValue::Text(text[range.clone()].into())));
            last.insert_after(anchor);
            last = anchor;
            copied = range.end;
        }
        if copied < text.len() {
            last.insert_after(new_node(arena, NodeValue::Text(text[copied..].into())));
        }
    }
}

//! Mentions: the people a post names, `@name` or `@name@domain` in our Markdown, or the
//! `Mention` tags of a post from elsewhere, at most [`MAX_MENTIONED`] of them (further
//! handles stay text, so a post cannot notify a crowd). Who is then told is
//! [`super::notifications`]'s to decide.

use super::markdown::{self, MentionLinks};
use super::notifications::MAX_MENTIONED;
use super::{Inner, User};
use crate::db::{mentions, users, Conn};
use crate::error::ForumError;

/// The people `markdown` mentions that we know, at most [`MAX_MENTIONED`], and where each
/// handle links: someone here by `@name` or `@name@our-domain`, someone elsewhere by
/// `@name@domain` once this server has seen them. The rest stay text.
pub(super) fn mentioned_in(
    conn: &mut Conn<'_>,
    inner: &Inner,
    markdown_text: &str,
) -> Result<(MentionLinks, Vec<User>), ForumError> {
    let own = inner.settings.federation_domain().to_ascii_lowercase();
    let mut links = MentionLinks::new();
    let mut people: Vec<User> = Vec::new();
    for handle in markdown::mentions(markdown_text) {
        if people.len() == MAX_MENTIONED {
            break;
        }
        let found = match handle.domain.as_deref() {
            None => users::local_by_name(conn, &handle.name.to_ascii_lowercase())?,
            Some(domain) if domain == own => {
                users::local_by_name(conn, &handle.name.to_ascii_lowercase())?
            }
            Some(domain) => users::remote_by_handle(conn, &handle.name, domain)?,
        };
        let Some(person) = found.filter(|p| !p.pending && p.deleted_at.is_none()) else {
            continue;
        };
        links.insert(handle, inner.urls.user(&person));
        if !people.iter().any(|p| p.id == person.id) {
            people.push(person);
        }
    }
    Ok((links, people))
}

/// Renders a local post's Markdown with its mentions linked, and records whom it mentions.
pub(super) fn render_local(
    conn: &mut Conn<'_>,
    inner: &Inner,
    post_id: i64,
    body: &str,
) -> Result<(String, Vec<User>), ForumError> {
    let (links, people) = mentioned_in(conn, inner, body)?;
    let html = markdown::render_linked(body, &markdown::anchor_prefix(post_id), &links);
    let ids: Vec<i64> = people.iter().map(|p| p.id).collect();
    mentions::set(conn, post_id, &ids)?;
    Ok((html, people))
}

/// The people of this instance a post from elsewhere names, from the local names its
/// `Mention` tags point at (at most [`MAX_MENTIONED`]).
pub(super) fn local_people(conn: &mut Conn<'_>, names: &[String]) -> Result<Vec<User>, ForumError> {
    let mut people = Vec::new();
    for name in names.iter().take(MAX_MENTIONED) {
        if let Some(person) = users::local_by_name(conn, name)? {
            if !people.iter().any(|p: &User| p.id == person.id) {
                people.push(person);
            }
        }
    }
    Ok(people)
}

//! Local threads and replies as ActivityPub objects: a thread's opening post as a `Page`, a
//! reply as a `Note`, each with its thread's `context` (FEP-7888) and the forum as `audience`
//! (FEP-1b12). The handlers that serve them and the activities that carry them both build
//! them here.

use activitypub_federation::kinds::link::MentionType;
use activitypub_federation::kinds::object::{NoteType, PageType};
use url::Url;

use crate::federation::error::FederationError;
use crate::federation::own_url;
use crate::federation::protocol::{Mention, Note, Page, Source, PUBLIC};
use crate::forum::threads::PostContext;
use crate::forum::{Site, Thread, User};

/// A local thread's context collection (FEP-7888); none for a thread from elsewhere.
fn context_url(site: &Site, thread: &Thread) -> Result<Option<Url>, FederationError> {
    if !thread.local {
        return Ok(None);
    }
    Ok(Some(own_url(
        &site.urls().absolute(&format!("/t/{}/context", thread.id)),
    )?))
}

pub(crate) fn handle(user: &User, site: &Site) -> String {
    format!(
        "@{}@{}",
        user.name,
        user.domain
            .clone()
            .unwrap_or_else(|| site.settings().federation_domain())
    )
}

/// Whom a local post is addressed to: its forum (also its `audience`), and the public.
fn addressed(site: &Site, ctx: &PostContext) -> Result<(Url, Vec<Url>), FederationError> {
    let forum_id = own_url(&site.urls().forum(&ctx.forum))?;
    Ok((forum_id.clone(), vec![forum_id, own_url(PUBLIC)?]))
}

/// `Mention` tags for `people`, with their ids (for `cc`).
fn mention_tags(site: &Site, people: &[User]) -> Result<(Vec<Mention>, Vec<Url>), FederationError> {
    let mut tags = Vec::with_capacity(people.len());
    let mut ids = Vec::with_capacity(people.len());
    for person in people {
        let href = own_url(&site.urls().user(person))?;
        tags.push(Mention {
            kind: MentionType::Mention,
            href: href.clone(),
            name: handle(person, site),
        });
        ids.push(href);
    }
    Ok((tags, ids))
}

/// A thread's opening post as a `Page`, tagging and copying to the people it mentions.
pub fn page_json(
    site: &Site,
    ctx: &PostContext,
    mentioned: &[User],
) -> Result<Page, FederationError> {
    let urls = site.urls();
    let id = own_url(&urls.thread(&ctx.thread))?;
    let (forum_id, to) = addressed(site, ctx)?;
    let author_id = own_url(&urls.user(&ctx.author))?;
    let (tag, mut cc) = mention_tags(site, mentioned)?;
    cc.insert(0, own_url(&format!("{author_id}/followers"))?);
    Ok(Page {
        kind: PageType::Page,
        attributed_to: author_id.clone(),
        to,
        cc,
        tag,
        audience: forum_id,
        context: context_url(site, &ctx.thread)?,
        name: ctx.thread.title.clone(),
        content: ctx.post.body_html.clone(),
        media_type: "text/html".into(),
        source: Source::markdown(&ctx.post.body_markdown),
        url: id.clone(),
        published: ctx.post.created_at.and_utc(),
        updated: ctx.post.edited_at.map(|t| t.and_utc()),
        id,
    })
}

/// A reply as a `Note`, answering `parent` (the post it answers, or the opening post), tagging
/// and copying to its author and the people it mentions.
pub fn note_json(
    site: &Site,
    ctx: &PostContext,
    parent: &PostContext,
    mentioned: &[User],
) -> Result<Note, FederationError> {
    let urls = site.urls();
    let id = own_url(&urls.post(&ctx.post))?;
    let (forum_id, to) = addressed(site, ctx)?;
    let mut people = vec![parent.author.clone()];
    people.extend(
        mentioned
            .iter()
            .filter(|p| p.id != parent.author.id)
            .cloned(),
    );
    let (tag, cc) = mention_tags(site, &people)?;
    Ok(Note {
        kind: NoteType::Note,
        attributed_to: own_url(&urls.user(&ctx.author))?,
        to,
        cc,
        audience: forum_id,
        context: context_url(site, &ctx.thread)?,
        in_reply_to: own_url(&urls.post(&parent.post))?,
        content: ctx.post.body_html.clone(),
        media_type: "text/html".into(),
        source: Source::markdown(&ctx.post.body_markdown),
        tag,
        url: id.clone(),
        published: ctx.post.created_at.and_utc(),
        updated: ctx.post.edited_at.map(|t| t.and_utc()),
        id,
    })
}

/// The post a reply answers: the one it names, or the thread's opening post.
pub async fn parent_of(site: &Site, ctx: &PostContext) -> Result<PostContext, FederationError> {
    Ok(match ctx.post.in_reply_to_id {
        Some(parent_id) => site.post(parent_id, None).await?,
        None => site.opening_post(ctx.thread.id).await?,
    })
}

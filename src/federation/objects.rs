//! Objects: threads (`Page`), replies (`Note`) and thread contexts (`OrderedCollection`).

use activitypub_federation::kinds::collection::OrderedCollectionType;
use activitypub_federation::kinds::link::MentionType;
use activitypub_federation::kinds::object::{NoteType, PageType, TombstoneType};
use actix_web::{web, HttpResponse};

use super::actors::url;
use super::error::FederationError;
use super::protocol::{Mention, Note, Page, Source, ThreadContext, Tombstone, PUBLIC};
use super::respond;
use crate::forum::threads::PostContext;
use crate::forum::{Post, Site, Thread, User};
use crate::state::AppState;

fn tombstone(
    id: url::Url,
    former_type: &str,
    post: &Post,
) -> Result<HttpResponse, FederationError> {
    let mut res = respond(Tombstone {
        kind: TombstoneType::Tombstone,
        id,
        former_type: former_type.into(),
        deleted: post.deleted_at.unwrap_or(post.created_at).and_utc(),
    })?;
    *res.status_mut() = actix_web::http::StatusCode::GONE;
    Ok(res)
}

fn context_url(site: &Site, thread: &Thread) -> Result<Option<url::Url>, FederationError> {
    if !thread.local {
        return Ok(None);
    }
    Ok(Some(url(&site
        .urls()
        .absolute(&format!("/t/{}/context", thread.id)))?))
}

fn handle(user: &User, site: &Site) -> String {
    format!(
        "@{}@{}",
        user.name,
        user.domain
            .clone()
            .unwrap_or_else(|| site.settings().federation_domain())
    )
}

/// A thread's opening post as a `Page`.
pub fn page_json(site: &Site, ctx: &PostContext) -> Result<Page, FederationError> {
    let urls = site.urls();
    let id = url(&urls.thread(&ctx.thread))?;
    let forum_id = url(&urls.forum(&ctx.forum))?;
    let author_id = url(&urls.user(&ctx.author))?;
    Ok(Page {
        kind: PageType::Page,
        attributed_to: author_id.clone(),
        to: vec![forum_id.clone(), url(PUBLIC)?],
        cc: vec![url(&format!("{author_id}/followers"))?],
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

/// A reply as a `Note`, answering `parent` (the post it answers, or the opening post).
pub fn note_json(
    site: &Site,
    ctx: &PostContext,
    parent: &PostContext,
) -> Result<Note, FederationError> {
    let urls = site.urls();
    let id = url(&urls.post(&ctx.post))?;
    let forum_id = url(&urls.forum(&ctx.forum))?;
    let parent_author = url(&urls.user(&parent.author))?;
    Ok(Note {
        kind: NoteType::Note,
        attributed_to: url(&urls.user(&ctx.author))?,
        to: vec![forum_id.clone(), url(PUBLIC)?],
        cc: vec![parent_author.clone()],
        audience: forum_id,
        context: context_url(site, &ctx.thread)?,
        in_reply_to: url(&urls.post(&parent.post))?,
        content: ctx.post.body_html.clone(),
        media_type: "text/html".into(),
        source: Source::markdown(&ctx.post.body_markdown),
        tag: vec![Mention {
            kind: MentionType::Mention,
            href: parent_author,
            name: handle(&parent.author, site),
        }],
        url: id.clone(),
        published: ctx.post.created_at.and_utc(),
        updated: ctx.post.edited_at.map(|t| t.and_utc()),
        id,
    })
}

/// The post a reply answers: the one it names, or the thread's opening post.
pub async fn parent_of(site: &Site, ctx: &PostContext) -> Result<PostContext, FederationError> {
    Ok(match ctx.post.in_reply_to_id {
        Some(parent_id) => site.post(parent_id).await?,
        None => site.opening_post(ctx.thread.id).await?,
    })
}

/// Content from elsewhere is served by its origin: send the fetcher there.
fn elsewhere(ap_id: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header(("Location", ap_id.to_string()))
        .finish()
}

/// GET /t/{id} as ActivityPub: the thread as a `Page`.
pub async fn page(
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, FederationError> {
    let ctx = state.site.opening_post(path.into_inner()).await?;
    if let (false, Some(ap_id)) = (ctx.thread.local, &ctx.thread.ap_id) {
        return Ok(elsewhere(ap_id));
    }
    if ctx.post.deleted_at.is_some() {
        return tombstone(
            url(&state.site.urls().thread(&ctx.thread))?,
            "Page",
            &ctx.post,
        );
    }
    respond(page_json(&state.site, &ctx)?)
}

/// GET /p/{id} as ActivityPub: the reply as a `Note` (an opening post redirects to its `Page`).
pub async fn note(
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, FederationError> {
    let ctx = state.site.post(path.into_inner()).await?;
    let urls = state.site.urls();
    if let (false, Some(ap_id)) = (ctx.post.local, &ctx.post.ap_id) {
        return Ok(elsewhere(ap_id));
    }
    if ctx.post.is_opening {
        return Ok(HttpResponse::PermanentRedirect()
            .insert_header(("Location", urls.thread(&ctx.thread)))
            .finish());
    }
    if ctx.post.deleted_at.is_some() {
        return tombstone(url(&urls.post(&ctx.post))?, "Note", &ctx.post);
    }
    let parent = parent_of(&state.site, &ctx).await?;
    respond(note_json(&state.site, &ctx, &parent)?)
}

/// GET /t/{id}/context: every post of the thread, oldest first, as an `OrderedCollection`.
pub async fn context(
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, FederationError> {
    let (opening, replies) = state.site.thread_context(path.into_inner()).await?;
    let urls = state.site.urls();
    let forum_id = url(&urls.forum(&opening.forum))?;
    let mut items = vec![url(&urls.thread(&opening.thread))?];
    for reply in replies {
        items.push(match reply.ap_id {
            Some(ap_id) if !reply.local => url(&ap_id)?,
            _ => url(&urls.absolute(&format!("/p/{}", reply.id)))?,
        });
    }
    respond(ThreadContext {
        kind: OrderedCollectionType::OrderedCollection,
        id: url(&urls.absolute(&format!("/t/{}/context", opening.thread.id)))?,
        attributed_to: forum_id.clone(),
        audience: forum_id,
        total_items: items.len(),
        ordered_items: items,
    })
}

/// GET /activities/{kind}/{id}: an activity this instance sent, as it was sent.
pub async fn activity(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, FederationError> {
    let id = state.site.urls().absolute(req.path());
    let body = state.site.sent_activity(id).await?;
    Ok(HttpResponse::Ok()
        .content_type(activitypub_federation::FEDERATION_CONTENT_TYPE)
        .body(body))
}

/// GET /f/{name}/outbox: the forum's newest threads, newest first, each as the `Create` of its
/// `Page` (what a server that has just followed reads to fill in the forum).
pub async fn forum_outbox(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, FederationError> {
    let name = path.into_inner();
    let (forum_row, entries) = state.site.forum_feed(name).await?;
    if !forum_row.local {
        return Err(FederationError::new(
            404,
            "not_found",
            "No forum here by that name.",
        ));
    }
    let urls = state.site.urls();
    let forum_url = url(&urls.forum(&forum_row))?;
    let mut items = Vec::new();
    for (post, thread, author) in entries {
        if post.deleted_at.is_some() {
            continue;
        }
        let ctx = PostContext {
            post,
            author,
            thread,
            forum: forum_row.clone(),
        };
        let page = page_json(&state.site, &ctx)?;
        items.push(serde_json::json!({
            "type": "Create",
            "id": format!("{}#create", page.id),
            "actor": page.attributed_to,
            "to": page.to,
            "cc": page.cc,
            "audience": forum_url,
            "object": page,
        }));
    }
    respond(serde_json::json!({
        "type": "OrderedCollection",
        "id": format!("{forum_url}/outbox"),
        "totalItems": items.len(),
        "orderedItems": items,
    }))
}

/// GET /f/{name}/followers: how many follow the forum (the list itself is not published).
pub async fn forum_followers(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, FederationError> {
    let forum_row = state.site.forum(path.into_inner()).await?;
    let count = state.site.follower_count(forum_row.id).await?;
    let forum_url = url(&state.site.urls().forum(&forum_row))?;
    respond(serde_json::json!({
        "type": "OrderedCollection",
        "id": format!("{forum_url}/followers"),
        "totalItems": count,
    }))
}

/// An empty `OrderedCollection` at `id`: what a person's outbox and followers, and the instance
/// actor's outbox, hold (people post in forums, and only forums are followed).
fn empty_collection(id: &str) -> Result<HttpResponse, FederationError> {
    respond(serde_json::json!({
        "type": "OrderedCollection",
        "id": id,
        "totalItems": 0,
        "orderedItems": [],
    }))
}

/// GET /u/{name}/outbox and /u/{name}/followers.
pub async fn person_collection(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, FederationError> {
    state.site.local_user(path.into_inner()).await?;
    empty_collection(&state.site.urls().absolute(req.path()))
}

/// GET /actor/outbox.
pub async fn instance_outbox(state: web::Data<AppState>) -> Result<HttpResponse, FederationError> {
    empty_collection(&state.site.urls().absolute("/actor/outbox"))
}

/// GET /f/{name}/featured: the forum's pinned threads, as `Page`s (Lemmy's "featured").
pub async fn forum_featured(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, FederationError> {
    let (forum_row, _, pinned) = state
        .site
        .forum_moderators_and_pinned(path.into_inner())
        .await?;
    let forum_url = url(&state.site.urls().forum(&forum_row))?;
    let items = pinned
        .iter()
        .map(|ctx| page_json(&state.site, ctx))
        .collect::<Result<Vec<_>, _>>()?;
    respond(serde_json::json!({
        "type": "OrderedCollection",
        "id": format!("{forum_url}/featured"),
        "totalItems": items.len(),
        "orderedItems": items,
    }))
}

/// GET /f/{name}/moderators: who moderates the forum (its `attributedTo`, as Lemmy has it).
pub async fn forum_moderators(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, FederationError> {
    let (forum_row, moderators, _) = state
        .site
        .forum_moderators_and_pinned(path.into_inner())
        .await?;
    let urls = state.site.urls();
    let forum_url = url(&urls.forum(&forum_row))?;
    let items: Vec<String> = moderators.iter().map(|u| urls.user(u)).collect();
    respond(serde_json::json!({
        "type": "OrderedCollection",
        "id": format!("{forum_url}/moderators"),
        "totalItems": items.len(),
        "orderedItems": items,
    }))
}

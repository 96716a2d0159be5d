//! Objects: threads (`Page`), replies (`Note`) and thread contexts (`OrderedCollection`).

use activitypub_federation::kinds::collection::OrderedCollectionType;
use activitypub_federation::kinds::link::MentionType;
use activitypub_federation::kinds::object::{NoteType, PageType, TombstoneType};
use actix_web::{web, HttpResponse};

use super::actors::url;
use super::protocol::{Mention, Note, Page, Source, ThreadContext, Tombstone, PUBLIC};
use super::respond;
use crate::api::ApiError;
use crate::forum::threads::PostContext;
use crate::forum::{Post, User};
use crate::web::AppState;

fn tombstone(id: url::Url, former_type: &str, post: &Post) -> Result<HttpResponse, ApiError> {
    let mut res = respond(Tombstone {
        kind: TombstoneType::Tombstone,
        id,
        former_type: former_type.into(),
        deleted: post.deleted_at.unwrap_or(post.created_at).and_utc(),
    })?;
    *res.status_mut() = actix_web::http::StatusCode::GONE;
    Ok(res)
}

fn context_url(state: &AppState, thread_id: i64) -> Result<url::Url, ApiError> {
    url(&state
        .forum
        .urls()
        .absolute(&format!("/t/{thread_id}/context")))
}

fn handle(user: &User, state: &AppState) -> String {
    format!(
        "@{}@{}",
        user.name,
        user.domain
            .clone()
            .unwrap_or_else(|| state.forum.settings().federation_domain())
    )
}

/// GET /t/{id} as ActivityPub: the thread as a `Page`.
pub async fn page(
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let PostContext {
        post,
        author,
        thread,
        forum,
    } = state.forum.opening_post(path.into_inner()).await?;
    let urls = state.forum.urls();
    let id = url(&urls.thread(&thread))?;
    if post.deleted_at.is_some() {
        return tombstone(id, "Page", &post);
    }
    let forum_id = url(&urls.forum(&forum))?;
    let author_id = url(&urls.user(&author))?;
    respond(Page {
        kind: PageType::Page,
        attributed_to: author_id.clone(),
        to: vec![forum_id.clone(), url(PUBLIC)?],
        cc: vec![url(&format!("{author_id}/followers"))?],
        audience: forum_id,
        context: context_url(&state, thread.id)?,
        name: thread.title,
        content: post.body_html,
        media_type: "text/html".into(),
        source: Source::markdown(&post.body_markdown),
        url: id.clone(),
        published: post.created_at.and_utc(),
        updated: post.edited_at.map(|t| t.and_utc()),
        id,
    })
}

/// GET /p/{id} as ActivityPub: the reply as a `Note` (an opening post redirects to its `Page`).
pub async fn note(
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let PostContext {
        post,
        author,
        thread,
        forum,
    } = state.forum.post(path.into_inner()).await?;
    let urls = state.forum.urls();
    if post.is_opening {
        return Ok(HttpResponse::PermanentRedirect()
            .insert_header(("Location", urls.thread(&thread)))
            .finish());
    }
    let id = url(&urls.post(&post))?;
    if post.deleted_at.is_some() {
        return tombstone(id, "Note", &post);
    }
    // The post answered, or the thread itself when the reply answers no one post.
    let parent = match post.in_reply_to_id {
        Some(parent_id) => state.forum.post(parent_id).await?,
        None => state.forum.opening_post(thread.id).await?,
    };
    let forum_id = url(&urls.forum(&forum))?;
    let parent_author = url(&urls.user(&parent.author))?;
    respond(Note {
        kind: NoteType::Note,
        attributed_to: url(&urls.user(&author))?,
        to: vec![forum_id.clone(), url(PUBLIC)?],
        cc: vec![parent_author.clone()],
        audience: forum_id,
        context: context_url(&state, thread.id)?,
        in_reply_to: url(&urls.post(&parent.post))?,
        content: post.body_html,
        media_type: "text/html".into(),
        source: Source::markdown(&post.body_markdown),
        tag: vec![Mention {
            kind: MentionType::Mention,
            href: parent_author,
            name: handle(&parent.author, &state),
        }],
        url: id.clone(),
        published: post.created_at.and_utc(),
        updated: post.edited_at.map(|t| t.and_utc()),
        id,
    })
}

/// GET /t/{id}/context: every post of the thread, oldest first, as an `OrderedCollection`.
pub async fn context(
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (opening, replies) = state.forum.thread_context(path.into_inner()).await?;
    let urls = state.forum.urls();
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
        id: context_url(&state, opening.thread.id)?,
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
) -> Result<HttpResponse, ApiError> {
    let id = state.forum.urls().absolute(req.path());
    let body = state.forum.sent_activity(id).await?;
    Ok(HttpResponse::Ok()
        .content_type(activitypub_federation::FEDERATION_CONTENT_TYPE)
        .body(body))
}

//! The ActivityPub documents at the shared addresses of threads and replies (`/t/{id}`,
//! `/p/{id}` by content negotiation), a thread's context collection, sent activities, and the
//! collections forums and people name (outbox, followers, featured, moderators).

use activitypub_federation::kinds::collection::OrderedCollectionType;
use activitypub_federation::kinds::object::TombstoneType;
use actix_web::{web, HttpResponse};

use crate::federation::error::FederationError;
use crate::federation::objects::{note_json, page_json, parent_of};
use crate::federation::protocol::{ThreadContext, Tombstone};
use crate::federation::{own_url, respond};
use crate::forum::threads::PostContext;
use crate::forum::{Post, User};
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
        deleted: post
            .deleted_at
            .or(post.removed_at)
            .unwrap_or(post.created_at)
            .and_utc(),
    })?;
    *res.status_mut() = actix_web::http::StatusCode::GONE;
    Ok(res)
}

/// Content from elsewhere is served by its origin: send the fetcher there.
pub(crate) fn elsewhere(ap_id: &str) -> HttpResponse {
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
    // Deleted by its author, or removed by a moderator: gone, for other servers.
    if !ctx.post.readable() {
        return tombstone(
            own_url(&state.site.urls().thread(&ctx.thread))?,
            "Page",
            &ctx.post,
        );
    }
    let mentioned = state.site.mentioned(vec![ctx.post.id]).await?;
    let people = mentioned.get(&ctx.post.id).map_or(&[][..], Vec::as_slice);
    respond(page_json(&state.site, &ctx, people)?)
}

/// GET /p/{id} as ActivityPub: the reply as a `Note` (an opening post redirects to its `Page`).
pub async fn note(
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, FederationError> {
    let ctx = state.site.post(path.into_inner(), None).await?;
    let urls = state.site.urls();
    if let (false, Some(ap_id)) = (ctx.post.local, &ctx.post.ap_id) {
        return Ok(elsewhere(ap_id));
    }
    if ctx.post.is_opening {
        return Ok(HttpResponse::PermanentRedirect()
            .insert_header(("Location", urls.thread(&ctx.thread)))
            .finish());
    }
    if !ctx.post.readable() {
        return tombstone(own_url(&urls.post(&ctx.post))?, "Note", &ctx.post);
    }
    let parent = parent_of(&state.site, &ctx).await?;
    let mentioned = state.site.mentioned(vec![ctx.post.id]).await?;
    let people = mentioned.get(&ctx.post.id).map_or(&[][..], Vec::as_slice);
    respond(note_json(&state.site, &ctx, &parent, people)?)
}

/// GET /t/{id}/context: every post of the thread, oldest first, as an `OrderedCollection`.
pub async fn context(
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, FederationError> {
    let (opening, replies) = state.site.thread_context(path.into_inner()).await?;
    let urls = state.site.urls();
    let forum_id = own_url(&urls.forum(&opening.forum))?;
    let mut items = vec![own_url(&urls.thread(&opening.thread))?];
    for reply in replies {
        items.push(match reply.ap_id {
            Some(ap_id) if !reply.local => own_url(&ap_id)?,
            _ => own_url(&urls.absolute(&format!("/p/{}", reply.id)))?,
        });
    }
    let id = urls.absolute(&format!("/t/{}/context", opening.thread.id));
    respond(ThreadContext {
        kind: OrderedCollectionType::OrderedCollection,
        followers: own_url(&format!("{id}/followers"))?,
        id: own_url(&id)?,
        attributed_to: forum_id.clone(),
        audience: forum_id,
        total_items: items.len(),
        ordered_items: items,
    })
}

/// GET /t/{id}/context/followers: how many people elsewhere follow the thread (the list itself
/// is not published).
pub async fn context_followers(
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, FederationError> {
    let ctx = state.site.opening_post(path.into_inner()).await?;
    if !ctx.thread.local || ctx.forum.members_only() {
        return Err(FederationError::new(
            404,
            "not_found",
            "No thread here by that number.",
        ));
    }
    let count = state.site.thread_follower_count(ctx.thread.id).await?;
    let id = state
        .site
        .urls()
        .absolute(&format!("/t/{}/context/followers", ctx.thread.id));
    respond(serde_json::json!({
        "type": "OrderedCollection",
        "id": id,
        "totalItems": count,
    }))
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
    let forum_url = own_url(&urls.forum(&forum_row))?;
    let mentioned = state
        .site
        .mentioned(entries.iter().map(|(post, _, _)| post.id).collect())
        .await?;
    let mut items = Vec::new();
    for (post, thread, author) in entries {
        if !post.readable() {
            continue;
        }
        let ctx = PostContext {
            post,
            author,
            thread,
            forum: forum_row.clone(),
        };
        let people = mentioned.get(&ctx.post.id).map_or(&[][..], Vec::as_slice);
        let page = page_json(&state.site, &ctx, people)?;
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
    collection(&format!("{forum_url}/outbox"), &items)
}

/// GET /f/{name}/followers: how many follow the forum (the list itself is not published).
pub async fn forum_followers(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, FederationError> {
    let forum_row = state.site.forum(path.into_inner()).await?;
    let count = state.site.follower_count(forum_row.id).await?;
    let forum_url = own_url(&state.site.urls().forum(&forum_row))?;
    respond(serde_json::json!({
        "type": "OrderedCollection",
        "id": format!("{forum_url}/followers"),
        "totalItems": count,
    }))
}

/// An `OrderedCollection` at `id` holding all of `items`.
fn collection<T: serde::Serialize>(id: &str, items: &[T]) -> Result<HttpResponse, FederationError> {
    respond(serde_json::json!({
        "type": "OrderedCollection",
        "id": id,
        "totalItems": items.len(),
        "orderedItems": items,
    }))
}

/// An empty `OrderedCollection` at `id`: what a person's outbox and followers, and the instance
/// actor's outbox, hold (people post in forums, and only forums are followed).
fn empty_collection(id: &str) -> Result<HttpResponse, FederationError> {
    collection::<serde_json::Value>(id, &[])
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
    let (forum_url, _, pinned) = forum_lists(&state, path.into_inner()).await?;
    let mentioned = state
        .site
        .mentioned(pinned.iter().map(|ctx| ctx.post.id).collect())
        .await?;
    let items = pinned
        .iter()
        .map(|ctx| {
            let people = mentioned.get(&ctx.post.id).map_or(&[][..], Vec::as_slice);
            page_json(&state.site, ctx, people)
        })
        .collect::<Result<Vec<_>, _>>()?;
    collection(&format!("{forum_url}/featured"), &items)
}

/// GET /f/{name}/moderators: who moderates the forum (its `attributedTo`, as Lemmy has it).
pub async fn forum_moderators(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, FederationError> {
    let (forum_url, moderators, _) = forum_lists(&state, path.into_inner()).await?;
    let urls = state.site.urls();
    let items: Vec<String> = moderators.iter().map(|u| urls.user(u)).collect();
    collection(&format!("{forum_url}/moderators"), &items)
}

/// A local forum's address, moderators and pinned threads (what `featured` and `moderators`
/// list).
async fn forum_lists(
    state: &AppState,
    name: String,
) -> Result<(url::Url, Vec<User>, Vec<PostContext>), FederationError> {
    let (forum, moderators, pinned) = state.site.forum_moderators_and_pinned(name).await?;
    let forum_url = own_url(&state.site.urls().forum(&forum))?;
    Ok((forum_url, moderators, pinned))
}

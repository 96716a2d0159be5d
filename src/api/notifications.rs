//! Keeping up through the API: notifications, and watching threads and forums.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::json::{ts, PagingJson, PostJson, UserJson};
use super::{ApiResult, ApiUser};
use crate::error::JsonError;
use crate::forum::notifications::{Kind, Notice};
use crate::forum::Urls;
use crate::state::AppState;

/// The thread a notification's post is in.
#[derive(Serialize)]
struct NoticeThreadJson {
    id: i64,
    title: String,
    url: String,
    forum: String,
    /// Whether the caller watches it.
    watching: bool,
}

/// One notification.
#[derive(Serialize)]
struct NoticeJson {
    id: i64,
    /// `reply`, `quote`, `mention` or `watched`.
    kind: Kind,
    post: PostJson,
    thread: NoticeThreadJson,
    /// Who wrote the post.
    actor: UserJson,
    read: bool,
    created_at: String,
}

impl NoticeJson {
    fn new(n: &Notice, urls: &Urls) -> NoticeJson {
        let ctx = &n.context;
        NoticeJson {
            id: n.id,
            kind: n.kind,
            post: PostJson::new(&ctx.post, &ctx.author, urls),
            thread: NoticeThreadJson {
                id: ctx.thread.id,
                title: ctx.thread.title.clone(),
                url: urls.thread(&ctx.thread),
                forum: ctx.forum.handle(),
                watching: n.watching_thread,
            },
            actor: UserJson::new(&ctx.author, urls),
            read: n.read,
            created_at: ts(n.created_at),
        }
    }
}

#[derive(Serialize)]
struct NoticesJson {
    items: Vec<NoticeJson>,
    /// How many are unread (counted up to 100).
    unread: i64,
    paging: PagingJson,
}

/// `?unread=true&page=N`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    unread: bool,
    page: Option<u32>,
}

/// GET /api/v1/notifications?unread=true&page=N: the caller's notifications, newest first.
pub async fn list(state: web::Data<AppState>, me: ApiUser, q: web::Query<ListQuery>) -> ApiResult {
    let page = state.site.notifications(me.user, q.unread, q.page).await?;
    let urls = state.site.urls();
    Ok(HttpResponse::Ok().json(NoticesJson {
        items: page
            .items
            .iter()
            .map(|n| NoticeJson::new(n, urls))
            .collect(),
        unread: page.unread,
        paging: (&page.paging).into(),
    }))
}

/// `POST /api/v1/notifications/read` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReadBody {
    /// Which; all when absent.
    ids: Option<Vec<i64>>,
}

#[derive(Serialize)]
struct ReadJson {
    /// How many were unread and are now read.
    marked: usize,
    /// How many are still unread.
    unread: i64,
}

/// POST /api/v1/notifications/read {ids?}: marks the caller's notifications read (all of them
/// when `ids` is absent; ids not theirs are ignored).
pub async fn mark_read(state: web::Data<AppState>, me: ApiUser, body: web::Bytes) -> ApiResult {
    // No body at all means all of them; a body must be valid JSON (a typo must not mark
    // everything read).
    let ids = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<ReadBody>(&body)
            .map_err(|e| {
                JsonError::new(
                    400,
                    "invalid_json",
                    format!("The JSON body is not valid: {e}"),
                )
            })?
            .ids
    };
    let marked = state
        .site
        .mark_notifications_read(me.user.clone(), ids)
        .await?;
    let unread = state.site.unread_notifications(me.user).await?;
    Ok(HttpResponse::Ok().json(ReadJson { marked, unread }))
}

#[derive(Serialize)]
struct WatchJson {
    watching: bool,
}

/// PUT /api/v1/threads/{id}/watch: new posts in the thread notify the caller.
pub async fn watch_thread(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<i64>,
) -> ApiResult {
    thread_watch(state, me, path.into_inner(), true).await
}

/// DELETE /api/v1/threads/{id}/watch: they no longer do (and writing in the thread again does
/// not start it again).
pub async fn unwatch_thread(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<i64>,
) -> ApiResult {
    thread_watch(state, me, path.into_inner(), false).await
}

async fn thread_watch(state: web::Data<AppState>, me: ApiUser, id: i64, on: bool) -> ApiResult {
    state.site.watch_thread(me.user, id, on).await?;
    Ok(HttpResponse::Ok().json(WatchJson { watching: on }))
}

/// PUT /api/v1/forums/{name}/watch: every new thread and reply in the forum notifies the caller.
pub async fn watch_forum(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<String>,
) -> ApiResult {
    forum_watch(state, me, path.into_inner(), true).await
}

/// DELETE /api/v1/forums/{name}/watch: they no longer do.
pub async fn unwatch_forum(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<String>,
) -> ApiResult {
    forum_watch(state, me, path.into_inner(), false).await
}

async fn forum_watch(state: web::Data<AppState>, me: ApiUser, name: String, on: bool) -> ApiResult {
    state.site.watch_forum(me.user, name, on).await?;
    Ok(HttpResponse::Ok().json(WatchJson { watching: on }))
}

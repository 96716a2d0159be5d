//! `/api/v1/threads/{id}`: a thread with its posts, pinning and locking, replying.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::json::{PagingJson, PostJson, ThreadJson, UserJson};
use super::{unknown_token, ApiResult, ApiUser, BearerToken, PageQuery};
use crate::error::JsonError;
use crate::forum::accounts::SessionKind;
use crate::state::AppState;

#[derive(Serialize)]
struct ThreadPageJson {
    thread: ThreadJson,
    opening_post: PostJson,
    posts: Vec<PostJson>,
    paging: PagingJson,
    /// Who locked the thread, when it is locked.
    locked_by: Option<UserJson>,
    /// Whether the caller watches the thread (absent without a token).
    #[serde(skip_serializing_if = "Option::is_none")]
    watching: Option<bool>,
}

/// GET /api/v1/threads/{id}?page=N: the thread, its opening post and a page of replies (the
/// forum's moderators also see the words of removed posts).
pub async fn show(
    state: web::Data<AppState>,
    token: BearerToken,
    path: web::Path<i64>,
    q: web::Query<PageQuery>,
) -> ApiResult {
    // The token is looked up with the page: one round trip to the database for both.
    let sent = token.0.is_some();
    let (session, page) = state
        .site
        .thread_page_with_session(path.into_inner(), q.page, token.0, SessionKind::Api)
        .await?;
    let logged_in = session.is_some();
    if sent && !logged_in {
        return Err(unknown_token());
    }
    let urls = state.site.urls();
    let moderator = page.viewer_moderates;
    let answer = HttpResponse::Ok().json(ThreadPageJson {
        thread: ThreadJson::new(&page.thread, &page.forum, &page.posts.opening.author, urls),
        opening_post: PostJson::from_view(&page.posts.opening, urls, moderator),
        posts: page
            .posts
            .replies
            .iter()
            .map(|r| PostJson::from_view(r, urls, moderator))
            .collect(),
        paging: (&page.paging).into(),
        locked_by: page.locked_by.as_ref().map(|u| UserJson::new(u, urls)),
        watching: logged_in.then_some(page.viewer_watches),
    });
    // Without a token, every caller is given the same (see `page_cache`).
    Ok(if logged_in {
        answer
    } else {
        crate::page_cache::shared(answer)
    })
}

/// `PATCH /api/v1/threads/{id}` body: only the fields sent change.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UpdateBody {
    pinned: Option<bool>,
    locked: Option<bool>,
    /// Move it to this forum of ours.
    forum: Option<String>,
    /// Why it is locked, unlocked or moved (for the moderation log).
    reason: String,
}

/// PATCH /api/v1/threads/{id}: pin or unpin, lock or unlock, move to another forum here (the
/// forum's moderators; a move, those of both forums).
pub async fn update(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<i64>,
    body: web::Json<UpdateBody>,
) -> ApiResult {
    let id = path.into_inner();
    let body = body.into_inner();
    if body.pinned.is_none() && body.locked.is_none() && body.forum.is_none() {
        return Err(JsonError::new(
            422,
            "invalid_input",
            "Nothing to change: send {\"pinned\": true|false}, {\"locked\": true|false, \"reason\": \"...\"} or {\"forum\": \"name\"}.",
        ));
    }
    if let Some(forum) = body.forum {
        state
            .site
            .move_thread(me.user.clone(), id, forum, body.reason.clone())
            .await?;
    }
    if let Some(locked) = body.locked {
        state
            .site
            .lock_thread(me.user.clone(), id, locked, body.reason)
            .await?;
    }
    if let Some(pinned) = body.pinned {
        state.site.pin_thread(me.user.clone(), id, pinned).await?;
    }
    show(
        state,
        BearerToken(Some(me.token)),
        web::Path::from(id),
        web::Query(PageQuery { page: Some(1) }),
    )
    .await
}

/// `POST /api/v1/threads/{id}/posts` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReplyBody {
    body: String,
    in_reply_to: Option<i64>,
}

/// POST /api/v1/threads/{id}/posts: reply.
pub async fn reply(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<i64>,
    body: web::Json<ReplyBody>,
) -> ApiResult {
    let body = body.into_inner();
    let user = me.user.clone();
    let post = state
        .site
        .reply(me.user, path.into_inner(), body.body, body.in_reply_to)
        .await?;
    let urls = state.site.urls();
    Ok(HttpResponse::Created()
        .insert_header(("Location", urls.post(&post)))
        .json(PostJson::new(&post, &user, urls)))
}

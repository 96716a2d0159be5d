//! `/api/v1/forums`: list, create, show, edit and archive forums; a forum's threads.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::json::{ForumJson, PagingJson, PostJson, ThreadJson};
use super::{ApiResult, ApiUser, MaybeApiUser, PageQuery};
use crate::forum::forums::{ForumChanges, ForumForm};
use crate::state::AppState;

/// GET /api/v1/forums: every forum the caller may read.
pub async fn list(state: web::Data<AppState>, me: MaybeApiUser) -> ApiResult {
    let forums = state.site.forums(me.0.map(|me| me.user)).await?;
    let urls = state.site.urls();
    Ok(HttpResponse::Ok().json(
        forums
            .iter()
            .map(|f| ForumJson::new(f, urls))
            .collect::<Vec<_>>(),
    ))
}

/// `POST /api/v1/forums` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CreateBody {
    name: String,
    title: String,
    description: String,
}

/// POST /api/v1/forums (administrators)
pub async fn create(
    state: web::Data<AppState>,
    me: ApiUser,
    body: web::Json<CreateBody>,
) -> ApiResult {
    let body = body.into_inner();
    let forum = state
        .site
        .create_forum(
            me.user,
            ForumForm {
                name: body.name,
                title: body.title,
                description: body.description,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(ForumJson::new(&forum, state.site.urls())))
}

/// GET /api/v1/forums/{name}
pub async fn show(
    state: web::Data<AppState>,
    me: MaybeApiUser,
    path: web::Path<String>,
) -> ApiResult {
    let forum = state
        .site
        .forum_by_handle(path.into_inner(), me.0.map(|me| me.user))
        .await?;
    Ok(HttpResponse::Ok().json(ForumJson::new(&forum, state.site.urls())))
}

/// `PATCH /api/v1/forums/{name}` body: only the fields sent change.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UpdateBody {
    title: Option<String>,
    description: Option<String>,
    archived: Option<bool>,
    /// `public` or `members`.
    visibility: Option<String>,
    all_accounts_are_members: Option<bool>,
    posting_restricted_to_mods: Option<bool>,
}

/// PATCH /api/v1/forums/{name} (administrators)
pub async fn update(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<String>,
    body: web::Json<UpdateBody>,
) -> ApiResult {
    let body = body.into_inner();
    let forum = state
        .site
        .update_forum(
            me.user,
            path.into_inner(),
            ForumChanges {
                title: body.title,
                description: body.description,
                archived: body.archived,
                visibility: body.visibility,
                all_accounts_are_members: body.all_accounts_are_members,
                posting_restricted_to_mods: body.posting_restricted_to_mods,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(ForumJson::new(&forum, state.site.urls())))
}

#[derive(Serialize)]
struct ThreadsJson {
    forum: ForumJson,
    threads: Vec<ThreadJson>,
    paging: PagingJson,
}

/// GET /api/v1/forums/{name}/threads?page=N
pub async fn threads(
    state: web::Data<AppState>,
    me: MaybeApiUser,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> ApiResult {
    let viewer = me.0.map(|me| me.user);
    let page = state
        .site
        .forum_page(path.into_inner(), q.page, viewer)
        .await?;
    let urls = state.site.urls();
    Ok(HttpResponse::Ok().json(ThreadsJson {
        threads: page
            .threads
            .iter()
            .map(|(t, u)| ThreadJson::new(t, &page.forum, u, urls).read_by(&page.viewer_read))
            .collect(),
        forum: ForumJson::new(&page.forum, urls),
        paging: (&page.paging).into(),
    }))
}

/// `POST /api/v1/forums/{name}/threads` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartBody {
    title: String,
    body: String,
}

#[derive(Serialize)]
struct StartedJson {
    thread: ThreadJson,
    opening_post: PostJson,
}

/// POST /api/v1/forums/{name}/threads: start a thread.
pub async fn start_thread(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<String>,
    body: web::Json<StartBody>,
) -> ApiResult {
    let body = body.into_inner();
    let name = path.into_inner();
    let user = me.user.clone();
    let (forum, thread, post) = state
        .site
        .start_thread(me.user, name, body.title, body.body)
        .await?;
    let urls = state.site.urls();
    Ok(HttpResponse::Created()
        .insert_header(("Location", urls.thread(&thread)))
        .json(StartedJson {
            thread: ThreadJson::new(&thread, &forum, &(&user).into(), urls),
            opening_post: PostJson::new(&post, &user, urls),
        }))
}

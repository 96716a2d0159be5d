//! `/api/v1/posts/{id}`: show, edit, delete, and earlier versions.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::json::{PostJson, RevisionJson};
use super::{ApiResult, ApiUser, MaybeApiUser};
use crate::forum::threads::PostEdit;
use crate::state::AppState;

/// GET /api/v1/posts/{id}
pub async fn show(state: web::Data<AppState>, me: MaybeApiUser, path: web::Path<i64>) -> ApiResult {
    let viewer = me.0.map(|me| me.user);
    let ctx = state.site.post(path.into_inner(), viewer).await?;
    Ok(HttpResponse::Ok().json(PostJson::new(&ctx.post, &ctx.author, state.site.urls())))
}

/// `PATCH /api/v1/posts/{id}` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EditBody {
    body: String,
    /// A new thread title (opening posts only).
    title: Option<String>,
}

/// PATCH /api/v1/posts/{id}: edit your own post.
pub async fn edit(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<i64>,
    body: web::Json<EditBody>,
) -> ApiResult {
    let body = body.into_inner();
    let user = me.user.clone();
    let post = state
        .site
        .edit_post(
            me.user,
            path.into_inner(),
            PostEdit {
                body: body.body,
                title: body.title,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(PostJson::new(&post, &user, state.site.urls())))
}

/// DELETE /api/v1/posts/{id}: delete your own post (or any, as an administrator).
pub async fn delete(state: web::Data<AppState>, me: ApiUser, path: web::Path<i64>) -> ApiResult {
    state.site.delete_post(me.user, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize)]
struct HistoryJson {
    post: PostJson,
    revisions: Vec<RevisionJson>,
}

/// GET /api/v1/posts/{id}/revisions: the post now and its earlier versions, oldest first.
pub async fn revisions(
    state: web::Data<AppState>,
    me: MaybeApiUser,
    path: web::Path<i64>,
) -> ApiResult {
    let viewer = me.0.map(|me| me.user);
    let history = state.site.post_history(path.into_inner(), viewer).await?;
    let ctx = &history.context;
    Ok(HttpResponse::Ok().json(HistoryJson {
        post: PostJson::new(&ctx.post, &ctx.author, state.site.urls()),
        revisions: history.revisions.iter().map(RevisionJson::from).collect(),
    }))
}

/// POST /api/v1/posts/{id}/helpful: mark a post helpful (again is harmless).
pub async fn mark_helpful(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<i64>,
) -> ApiResult {
    let post = state
        .site
        .mark_helpful(me.user.clone(), path.into_inner())
        .await?;
    let ctx = state.site.post(post.id, Some(me.user)).await?;
    Ok(HttpResponse::Ok().json(PostJson::new(&ctx.post, &ctx.author, state.site.urls())))
}

/// DELETE /api/v1/posts/{id}/helpful: take the mark back.
pub async fn unmark_helpful(
    state: web::Data<AppState>,
    me: ApiUser,
    path: web::Path<i64>,
) -> ApiResult {
    let post = state
        .site
        .unmark_helpful(me.user.clone(), path.into_inner())
        .await?;
    let ctx = state.site.post(post.id, Some(me.user)).await?;
    Ok(HttpResponse::Ok().json(PostJson::new(&ctx.post, &ctx.author, state.site.urls())))
}

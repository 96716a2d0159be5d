//! `/api/v1/users/{name}`: a profile with what the person wrote.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::json::{PagingJson, UserJson};
use super::{ApiResult, MaybeApiUser, PageQuery};
use crate::state::AppState;

#[derive(Serialize)]
struct ActivityJson {
    post_id: i64,
    url: String,
    thread_id: i64,
    thread_title: String,
    started_thread: bool,
    created_at: String,
}

#[derive(Serialize)]
struct ProfileJson {
    user: UserJson,
    threads_started: i64,
    replies: i64,
    posts: Vec<ActivityJson>,
    paging: PagingJson,
}

/// GET /api/v1/users/{name}?page=N
pub async fn show(
    state: web::Data<AppState>,
    me: MaybeApiUser,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> ApiResult {
    let viewer = me.0.map(|me| me.user);
    let profile = state
        .site
        .profile(path.into_inner(), q.page, viewer)
        .await?;
    let urls = state.site.urls();
    Ok(HttpResponse::Ok().json(ProfileJson {
        user: UserJson::new(&profile.user, urls),
        threads_started: profile.threads_started,
        replies: profile.replies,
        posts: profile
            .posts
            .iter()
            .map(|(p, t)| ActivityJson {
                post_id: p.id,
                url: urls.post(p),
                thread_id: t.id,
                thread_title: t.title.clone(),
                started_thread: p.is_opening,
                created_at: p
                    .created_at
                    .and_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            })
            .collect(),
        paging: (&profile.paging).into(),
    }))
}

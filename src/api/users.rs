//! `/api/v1/users/{name}`: a profile with what the person wrote.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::json::UserJson;
use super::{ApiResult, MaybeApiUser};
use crate::forum::users::ProfileFrom;
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
    paging: ProfilePagingJson,
}

/// Where a page of a profile stands: the addresses of the pages beside it.
#[derive(Serialize)]
struct ProfilePagingJson {
    per_page: u32,
    /// Posts in all (threads started and replies).
    total: i64,
    /// The page of older posts (`?before=ID`), when there are any.
    older: Option<String>,
    /// The page of newer posts (`?after=ID`), when this is not the newest page.
    newer: Option<String>,
}

/// Which page: posts older or newer than one of the person's.
#[derive(serde::Deserialize)]
pub struct ProfileQuery {
    before: Option<i64>,
    after: Option<i64>,
}

/// GET /api/v1/users/{name}?before=ID|after=ID
pub async fn show(
    state: web::Data<AppState>,
    me: MaybeApiUser,
    path: web::Path<String>,
    q: web::Query<ProfileQuery>,
) -> ApiResult {
    let viewer = me.0.map(|me| me.user);
    let from = ProfileFrom {
        before: q.before,
        after: q.after,
    };
    let profile = state.site.profile(path.into_inner(), from, viewer).await?;
    let urls = state.site.urls();
    let here = urls.absolute(&format!("/api/v1/users/{}", profile.user.name));
    let pages = profile.pages;
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
        paging: ProfilePagingJson {
            per_page: pages.per_page,
            total: profile.threads_started + profile.replies,
            older: pages.older.map(|id| format!("{here}?before={id}")),
            newer: pages.newer.map(|id| format!("{here}?after={id}")),
        },
    }))
}

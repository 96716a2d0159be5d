//! `GET /api/v1/search`: posts whose words match, best first.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::json::{PagingJson, PostJson};
use super::{ApiResult, MaybeApiUser};
use crate::forum::search::SearchRequest;
use crate::state::AppState;

/// The thread a post found is in.
#[derive(Serialize)]
struct HitThreadJson {
    id: i64,
    title: String,
    url: String,
    forum: String,
}

/// One post found.
#[derive(Serialize)]
struct HitJson {
    thread: HitThreadJson,
    post: PostJson,
    /// Its words around what matched, as HTML: escaped, the matches in `<mark>`.
    snippet: String,
}

#[derive(Serialize)]
struct ResultsJson {
    items: Vec<HitJson>,
    total: i64,
    /// More posts match than `total` (then the newest `total` are ranked): narrow the search.
    more: bool,
    paging: PagingJson,
}

/// GET /api/v1/search?q=...: what the caller may read that matches (400 `invalid_input` on the
/// field at fault for a query with no word, too long, or an unknown forum or person).
pub async fn search(
    state: web::Data<AppState>,
    me: MaybeApiUser,
    q: web::Query<SearchRequest>,
) -> ApiResult {
    let results = state
        .site
        .search(me.0.map(|m| m.user), q.into_inner())
        .await?;
    let urls = state.site.urls();
    Ok(HttpResponse::Ok().json(ResultsJson {
        total: results.paging.total,
        more: results.more,
        items: results
            .hits
            .iter()
            .map(|hit| {
                let ctx = &hit.context;
                HitJson {
                    thread: HitThreadJson {
                        id: ctx.thread.id,
                        title: ctx.thread.title.clone(),
                        url: urls.thread(&ctx.thread),
                        forum: ctx.forum.handle(),
                    },
                    post: PostJson::new(&ctx.post, &ctx.author, urls),
                    snippet: hit.snippet_html(),
                }
            })
            .collect(),
        paging: (&results.paging).into(),
    }))
}

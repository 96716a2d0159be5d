//! Search on the pages: `/search?q=...`, with filters by forum, author and date.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::super::session::Viewer;
use super::super::views::{FormErrors, ForumItem, Pager, UserLink, When};
use super::super::{html, invalid_status, Layout, PageError};
use crate::error::ForumError;
use crate::forum::search::{SearchHit, SearchRequest};

/// One post found.
struct HitLine {
    url: String,
    thread_title: String,
    forum: ForumItem,
    author: UserLink,
    when: When,
    /// Escaped here, the matches in `<mark>`.
    snippet: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage<'a> {
    layout: &'a Layout,
    form: &'a SearchRequest,
    /// How many posts match (none before a search is made).
    total: Option<i64>,
    /// More posts match than `total`.
    more: bool,
    hits: Vec<HitLine>,
    pager: Pager,
    errors: FormErrors,
}

impl From<&SearchHit> for HitLine {
    fn from(hit: &SearchHit) -> HitLine {
        let ctx = &hit.context;
        HitLine {
            url: format!("/p/{}", ctx.post.id),
            thread_title: ctx.thread.title.clone(),
            forum: ForumItem::from(&ctx.forum),
            author: UserLink::from(&ctx.author),
            when: When::new(ctx.post.created_at),
            snippet: hit.snippet_html(),
        }
    }
}

/// GET /search
pub async fn search(
    viewer: Viewer,
    form: web::Query<SearchRequest>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let layout = viewer.layout(if form.q.trim().is_empty() {
        "Search".to_string()
    } else {
        format!("Search: {}", form.q.trim())
    });
    let empty = Pager::new("/search", &crate::forum::Paging::new(None, 1, 0));
    if form.q.trim().is_empty() && form.page.is_none() {
        return Ok(html(
            StatusCode::OK,
            &SearchPage {
                layout: &layout,
                form: &form,
                total: None,
                more: false,
                hits: Vec::new(),
                pager: empty,
                errors: FormErrors::default(),
            },
        ));
    }
    match viewer.site.search(viewer.user.clone(), form.clone()).await {
        Ok(results) => {
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("q", &form.q)
                .append_pair("forum", &form.forum)
                .append_pair("author", &form.author)
                .append_pair("from", &form.from)
                .append_pair("to", &form.to)
                .finish();
            Ok(html(
                StatusCode::OK,
                &SearchPage {
                    layout: &layout,
                    form: &form,
                    total: Some(results.paging.total),
                    more: results.more,
                    hits: results.hits.iter().map(HitLine::from).collect(),
                    pager: Pager::with_query("/search", &query, &results.paging),
                    errors: FormErrors::default(),
                },
            ))
        }
        Err(ForumError::Invalid(invalid)) => Ok(html(
            invalid_status(&invalid),
            &SearchPage {
                layout: &layout,
                form: &form,
                total: None,
                more: false,
                hits: Vec::new(),
                pager: empty,
                errors: FormErrors(invalid.fields),
            },
        )),
        Err(e) => Err(viewer.error(e)),
    }
}

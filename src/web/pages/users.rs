//! Profile pages.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::super::session::Viewer;
use super::super::views::{Pager, UserLink, When};
use super::super::{ok, Layout, PageError};
use super::PageQuery;

/// A line of a profile: something the person wrote.
struct ActivityItem {
    started: bool,
    thread_title: String,
    url: String,
    when: When,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage<'a> {
    layout: &'a Layout,
    person: UserLink,
    joined: When,
    threads_started: i64,
    replies: i64,
    items: Vec<ActivityItem>,
    pager: Pager,
}

/// GET /u/{name}
pub async fn profile(
    viewer: Viewer,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let profile = viewer
        .site
        .profile(path.into_inner(), q.page, viewer.user.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    let person = UserLink::from(&profile.user);
    let layout = viewer.layout(person.display_name.clone());
    ok(&ProfilePage {
        layout: &layout,
        pager: Pager::new(&person.url, &profile.paging),
        person,
        joined: When::new(profile.user.created_at),
        threads_started: profile.threads_started,
        replies: profile.replies,
        items: profile
            .posts
            .iter()
            .map(|(p, t)| ActivityItem {
                started: p.is_opening,
                thread_title: t.title.clone(),
                url: if p.is_opening {
                    format!("/t/{}", t.id)
                } else {
                    format!("/p/{}", p.id)
                },
                when: When::new(p.created_at),
            })
            .collect(),
    })
}

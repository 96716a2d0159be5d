//! Profile pages.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::super::session::Viewer;
use serde::Deserialize;

use super::super::views::{UserLink, When};
use super::super::{ok, Layout, PageError};
use crate::forum::users::ProfileFrom;

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
    /// The newest page, when this is not it.
    newest: Option<String>,
    newer: Option<String>,
    older: Option<String>,
}

/// Which page of a profile: posts older or newer than one of the person's.
#[derive(Deserialize)]
pub struct ProfileQuery {
    before: Option<i64>,
    after: Option<i64>,
}

/// GET /u/{name}
pub async fn profile(
    viewer: Viewer,
    path: web::Path<String>,
    q: web::Query<ProfileQuery>,
) -> Result<HttpResponse, PageError> {
    let from = ProfileFrom {
        before: q.before,
        after: q.after,
    };
    let profile = viewer
        .site
        .profile(path.into_inner(), from, viewer.user.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    let person = UserLink::from(&profile.user);
    let layout = viewer.layout(person.display_name.clone());
    viewer.shared_if_anonymous(ok(&ProfilePage {
        layout: &layout,
        newest: (!profile.pages.newest).then(|| person.url.clone()),
        newer: (profile.pages.newer).map(|id| format!("{}?after={id}", person.url)),
        older: (profile.pages.older).map(|id| format!("{}?before={id}", person.url)),
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
    }))
}

//! The forum list, a forum's threads, and starting a thread.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::session::{redirect_with_notice, Viewer};
use super::super::views::{FormErrors, ForumItem, Pager, ThreadItem};
use super::super::{html, ok, Layout, PageError};
use super::accounts::{login_to_keep, Draft};
use super::PageQuery;
use crate::error::ForumError;

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    layout: &'a Layout,
    open: Vec<ForumItem>,
    archived: Vec<ForumItem>,
    needs_admin: bool,
    federating: bool,
    follow_target: &'a str,
    follow_error: Option<String>,
}

#[derive(Template)]
#[template(path = "forum.html")]
struct ForumPage<'a> {
    layout: &'a Layout,
    forum: ForumItem,
    threads: Vec<ThreadItem>,
    pager: Pager,
    logged_in: bool,
    may_start_thread: bool,
    following: bool,
    watching: bool,
}

#[derive(Template)]
#[template(path = "new_thread.html")]
struct NewThreadPage<'a> {
    layout: &'a Layout,
    forum: ForumItem,
    title: &'a str,
    body: &'a str,
    errors: FormErrors,
}

/// GET /
pub async fn index(viewer: Viewer) -> Result<HttpResponse, PageError> {
    viewer.shared_if_anonymous(render_index(&viewer, StatusCode::OK, "", None).await)
}

/// The forum list, with the follow form holding `follow_target` and its error, if any.
pub async fn render_index(
    viewer: &Viewer,
    status: StatusCode,
    follow_target: &str,
    follow_error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let forums = viewer
        .site
        .forums(viewer.user.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    let needs_admin = !viewer
        .site
        .admin_exists()
        .await
        .map_err(|e| viewer.error(e))?;
    let (archived, open): (Vec<_>, Vec<_>) =
        forums.iter().map(ForumItem::from).partition(|f| f.archived);
    let layout = viewer.layout("Forums");
    Ok(html(
        status,
        &IndexPage {
            layout: &layout,
            open,
            archived,
            needs_admin,
            federating: viewer.site.settings().federation.enabled,
            follow_target,
            follow_error,
        },
    ))
}

/// GET /f/{name}
pub async fn forum(
    viewer: Viewer,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let page = viewer
        .site
        .forum_page(path.into_inner(), q.page, viewer.user.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    let item = ForumItem::from(&page.forum);
    let following = match &viewer.user {
        Some(user) if !page.forum.local => viewer
            .site
            .follows_forum(user.id, page.forum.id)
            .await
            .map_err(|e| viewer.error(e))?,
        _ => false,
    };
    let layout = viewer
        .layout(item.title.clone())
        .hidden_if_members_only(&page.forum);
    viewer.shared_if_anonymous(ok(&ForumPage {
        layout: &layout,
        pager: Pager::new(&item.url, &page.paging),
        threads: page
            .threads
            .iter()
            .map(|(t, u)| ThreadItem::new(t, u).read_by(t.id, t.reply_count + 1, &page.viewer_read))
            .collect(),
        forum: item,
        logged_in: viewer.user.is_some(),
        may_start_thread: page.viewer_may_start_thread,
        following,
        watching: page.viewer_watches,
    }))
}

/// GET /f/{name}/new
pub async fn new_thread_form(
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let name = path.into_inner();
    viewer.require_user(&format!("/f/{name}/new"))?;
    let forum = viewer
        .site
        .forum_by_handle(name, viewer.user.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    crate::forum::forums::require_open(&forum).map_err(|e| viewer.error(e))?;
    let layout = viewer.layout(format!("New thread in {}", forum.title));
    ok(&NewThreadPage {
        layout: &layout,
        forum: ForumItem::from(&forum),
        title: "",
        body: "",
        errors: FormErrors::default(),
    })
}

/// The new-thread form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewThreadForm {
    csrf_token: String,
    title: String,
    body: String,
}

/// POST /f/{name}/new
pub async fn new_thread(
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<NewThreadForm>,
) -> Result<HttpResponse, PageError> {
    let name = path.into_inner();
    viewer
        .check_csrf(&form.csrf_token)
        .map_err(|e| e.keeping(&form.body))?;
    let Some(user) = viewer.user.clone() else {
        return Ok(login_to_keep(
            &viewer,
            Draft {
                draft_action: format!("/f/{name}/new"),
                draft_title: form.title.clone(),
                draft_body: form.body.clone(),
                draft_in_reply_to: String::new(),
            },
        ));
    };
    let result = viewer
        .site
        .start_thread(user, name.clone(), form.title.clone(), form.body.clone())
        .await;
    match result {
        Ok((_, thread, _)) => Ok(redirect_with_notice(
            &viewer.site,
            &format!("/t/{}", thread.id),
            "Your thread is started.",
        )),
        Err(ForumError::Invalid(invalid)) => {
            let forum = viewer
                .site
                .forum_by_handle(name, viewer.user.clone())
                .await
                .map_err(|e| viewer.error(e))?;
            let layout = viewer.layout(format!("New thread in {}", forum.title));
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &NewThreadPage {
                    layout: &layout,
                    forum: ForumItem::from(&forum),
                    title: &form.title,
                    body: &form.body,
                    errors: FormErrors(invalid.fields),
                },
            ))
        }
        Err(e) => Err(viewer.error(e).keeping(&form.body)),
    }
}

//! Moderation: locking and pinning threads, removing and restoring posts, and a forum's
//! public moderation log.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::session::{redirect_with_notice, Viewer};
use super::super::views::{FormErrors, ForumItem, Pager, PostItem, UserLink, When};
use super::super::{html, invalid_status, ok, Layout, PageError};
use super::PageQuery;
use crate::error::ForumError;
use crate::forum::moderation::LogItem;
use crate::forum::threads::PostContext;

#[derive(Template)]
#[template(path = "lock.html")]
struct LockPage<'a> {
    layout: &'a Layout,
    thread_id: i64,
    thread_title: &'a str,
    /// Whether the form unlocks (the thread is locked now).
    unlocking: bool,
    reason: &'a str,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "remove.html")]
struct RemovePage<'a> {
    layout: &'a Layout,
    post: PostItem,
    thread_title: &'a str,
    reason: &'a str,
    errors: FormErrors,
}

/// One line of the moderation log.
struct LogLine {
    at: When,
    /// `None` when the log does not say who acted.
    moderator: Option<UserLink>,
    what: &'static str,
    /// The thread acted on: its path and title.
    thread: Option<(String, String)>,
    person: Option<UserLink>,
    reason: String,
}

#[derive(Template)]
#[template(path = "modlog.html")]
struct LogPageView<'a> {
    layout: &'a Layout,
    /// `None`: the instance's own log.
    forum: Option<ForumItem>,
    lines: Vec<LogLine>,
    pager: Pager,
}

impl From<&LogItem> for LogLine {
    fn from(item: &LogItem) -> LogLine {
        LogLine {
            at: When::new(item.entry.created_at),
            moderator: item.moderator.as_ref().map(UserLink::from),
            what: item.action.map_or("acted", |a| a.describe()),
            thread: item
                .thread
                .as_ref()
                .map(|t| (format!("/t/{}", t.id), t.title.clone())),
            person: item.person.as_ref().map(UserLink::from),
            reason: item.entry.reason.clone(),
        }
    }
}

/// GET /t/{id}/lock: the form that locks or unlocks a thread (its forum's moderators).
pub async fn lock_form(viewer: Viewer, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let user = viewer.require_user(&format!("/t/{id}/lock"))?;
    let (thread, _) = viewer
        .site
        .thread_to_moderate(user, id)
        .await
        .map_err(|e| viewer.error(e))?;
    lock_page(&viewer, StatusCode::OK, &thread, "", FormErrors::default())
}

fn lock_page(
    viewer: &Viewer,
    status: StatusCode,
    thread: &crate::forum::Thread,
    reason: &str,
    errors: FormErrors,
) -> Result<HttpResponse, PageError> {
    let unlocking = thread.locked_at.is_some();
    let layout = viewer.layout(format!(
        "{} {}",
        if unlocking { "Unlock" } else { "Lock" },
        thread.title
    ));
    Ok(html(
        status,
        &LockPage {
            layout: &layout,
            thread_id: thread.id,
            thread_title: &thread.title,
            unlocking,
            reason,
            errors,
        },
    ))
}

/// The lock form: `locked` is `true` to lock, `false` to unlock.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LockForm {
    csrf_token: String,
    locked: String,
    reason: String,
}

/// POST /t/{id}/lock
pub async fn lock(
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<LockForm>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    viewer.check_csrf(&form.csrf_token)?;
    let user = viewer.require_user(&format!("/t/{id}/lock"))?;
    let locked = form.locked == "true";
    match viewer
        .site
        .lock_thread(user.clone(), id, locked, form.reason.clone())
        .await
    {
        Ok(_) => Ok(redirect_with_notice(
            &viewer.site,
            &format!("/t/{id}"),
            if locked {
                "The thread is locked: it takes no new replies."
            } else {
                "The thread is unlocked."
            },
        )),
        Err(ForumError::Invalid(invalid)) => {
            let (thread, _) = viewer
                .site
                .thread_to_moderate(user, id)
                .await
                .map_err(|e| viewer.error(e))?;
            lock_page(
                &viewer,
                invalid_status(&invalid),
                &thread,
                &form.reason,
                FormErrors(invalid.fields),
            )
        }
        Err(e) => Err(viewer.error(e)),
    }
}

/// The pin form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PinForm {
    csrf_token: String,
    pinned: String,
}

/// POST /t/{id}/pin (its forum's moderators)
pub async fn pin(
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<PinForm>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    viewer.check_csrf(&form.csrf_token)?;
    let user = viewer.require_user(&format!("/t/{id}"))?;
    let pinned = form.pinned == "true";
    viewer
        .site
        .pin_thread(user, id, pinned)
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(redirect_with_notice(
        &viewer.site,
        &format!("/t/{id}"),
        if pinned {
            "The thread is pinned."
        } else {
            "The thread is unpinned."
        },
    ))
}

/// GET /f/{name}/modlog: what the forum's moderators did, newest first.
pub async fn log(
    viewer: Viewer,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let page = viewer
        .site
        .moderation_log(viewer.user.clone(), path.into_inner(), q.page)
        .await
        .map_err(|e| viewer.error(e))?;
    let forum = ForumItem::from(&page.forum);
    let layout = viewer
        .layout(format!("Moderation log: {}", page.forum.title))
        .hidden_if_members_only(&page.forum);
    let base = format!("{}/modlog", forum.url);
    ok(&LogPageView {
        layout: &layout,
        lines: page.items.iter().map(LogLine::from).collect(),
        pager: Pager::new(&base, &page.paging),
        forum: Some(forum),
    })
}

/// GET /modlog: what the administrators did across the instance, newest first.
pub async fn instance_log(
    viewer: Viewer,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let page = viewer
        .site
        .instance_moderation_log(viewer.user.clone(), q.page)
        .await
        .map_err(|e| viewer.error(e))?;
    let layout = viewer.layout("Moderation log: this instance");
    ok(&LogPageView {
        layout: &layout,
        lines: page.items.iter().map(LogLine::from).collect(),
        pager: Pager::new("/modlog", &page.paging),
        forum: None,
    })
}

fn remove_page(
    viewer: &Viewer,
    status: StatusCode,
    ctx: &PostContext,
    reason: &str,
    errors: FormErrors,
) -> Result<HttpResponse, PageError> {
    let layout = viewer.layout(format!("Remove a post: {}", ctx.thread.title));
    let post = PostItem::alone(ctx, viewer.user.as_ref()).for_moderator(&ctx.post);
    Ok(html(
        status,
        &RemovePage {
            layout: &layout,
            post,
            thread_title: &ctx.thread.title,
            reason,
            errors,
        },
    ))
}

/// GET /p/{id}/remove: asks a moderator why, before removing a post.
pub async fn remove_form(viewer: Viewer, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let user = viewer.require_user(&format!("/p/{id}/remove"))?;
    let ctx = viewer
        .site
        .post_to_moderate(user, id)
        .await
        .map_err(|e| viewer.error(e))?;
    remove_page(&viewer, StatusCode::OK, &ctx, "", FormErrors::default())
}

/// The removal form, and the restore button's (whose reason is optional).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReasonForm {
    csrf_token: String,
    reason: String,
}

/// POST /p/{id}/remove
pub async fn remove(
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<ReasonForm>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    viewer.check_csrf(&form.csrf_token)?;
    let user = viewer.require_user(&format!("/p/{id}/remove"))?;
    match viewer
        .site
        .remove_post(user.clone(), id, form.reason.clone())
        .await
    {
        Ok(post) => Ok(redirect_with_notice(
            &viewer.site,
            &format!("/p/{}", post.id),
            "The post is removed: readers see that a moderator removed it.",
        )),
        Err(ForumError::Invalid(invalid)) => {
            let ctx = viewer
                .site
                .post_to_moderate(user, id)
                .await
                .map_err(|e| viewer.error(e))?;
            remove_page(
                &viewer,
                invalid_status(&invalid),
                &ctx,
                &form.reason,
                FormErrors(invalid.fields),
            )
        }
        Err(e) => Err(viewer.error(e)),
    }
}

/// POST /p/{id}/restore
pub async fn restore(
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<ReasonForm>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    viewer.check_csrf(&form.csrf_token)?;
    let user = viewer.require_user(&format!("/p/{id}"))?;
    let post = viewer
        .site
        .restore_post(user, id, form.reason.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(redirect_with_notice(
        &viewer.site,
        &format!("/p/{}", post.id),
        "The post is restored.",
    ))
}

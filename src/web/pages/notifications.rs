//! Keeping up on the pages: `/notifications` (newest first, unread ones marked), opening one,
//! marking them read, watching threads and forums, and the notification settings.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::session::{redirect_with_notice, Viewer};
use super::super::views::{FormErrors, ForumItem, Pager, UserLink, When};
use super::super::{html, invalid_status, ok, safe_next, Layout, PageError};
use crate::forum::markdown;
use crate::forum::notifications::{Kind, Notice};
use actix_web::http::StatusCode;

/// How much of a post a notification shows.
const EXCERPT_CHARS: usize = 200;

/// One notification as listed.
struct NoticeLine {
    id: i64,
    /// "replied to your post in", "mentioned you in", ...
    why: &'static str,
    who: UserLink,
    thread_title: String,
    thread_id: i64,
    forum: ForumItem,
    excerpt: String,
    when: When,
    read: bool,
    watching_thread: bool,
}

impl From<&Notice> for NoticeLine {
    fn from(n: &Notice) -> NoticeLine {
        let ctx = &n.context;
        let why = match (n.kind, ctx.post.is_opening) {
            (Kind::Reply, _) => "replied to your post in",
            (Kind::Quote, _) => "quoted you in",
            (Kind::Mention, _) => "mentioned you in",
            (Kind::Watched, true) => "started",
            (Kind::Watched, false) => "replied in",
        };
        let text = markdown::plain_text(&ctx.post.body_html);
        let mut excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
        if text.chars().nth(EXCERPT_CHARS).is_some() {
            excerpt.push('…');
        }
        NoticeLine {
            id: n.id,
            why,
            who: UserLink::from(&ctx.author),
            thread_title: ctx.thread.title.clone(),
            thread_id: ctx.thread.id,
            forum: ForumItem::from(&ctx.forum),
            excerpt,
            when: When::new(n.created_at),
            read: n.read,
            watching_thread: n.watching_thread,
        }
    }
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage<'a> {
    layout: &'a Layout,
    items: Vec<NoticeLine>,
    unread: i64,
    unread_only: bool,
    pager: Pager,
    /// Where the forms on the page send the reader back to.
    here: String,
}

/// `?unread=true&page=N`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    unread: Option<String>,
    page: Option<u32>,
}

/// GET /notifications
pub async fn list(viewer: Viewer, q: web::Query<ListQuery>) -> Result<HttpResponse, PageError> {
    let user = viewer.require_user("/notifications")?;
    let unread_only = matches!(q.unread.as_deref(), Some("true" | "1" | "on"));
    let page = viewer
        .site
        .notifications(user, unread_only, q.page)
        .await
        .map_err(|e| viewer.error(e))?;
    let (base_query, here) = if unread_only {
        ("unread=true", "/notifications?unread=true".to_string())
    } else {
        ("", "/notifications".to_string())
    };
    let layout = viewer.layout("Notifications");
    ok(&NotificationsPage {
        layout: &layout,
        items: page.items.iter().map(NoticeLine::from).collect(),
        unread: page.unread,
        unread_only,
        pager: Pager::with_query("/notifications", base_query, &page.paging),
        here,
    })
}

/// GET /notifications/{id}: marks it read and goes to its post.
pub async fn open(viewer: Viewer, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let user = viewer.require_user("/notifications")?;
    let post_id = viewer
        .site
        .open_notification(user, path.into_inner())
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("/p/{post_id}")))
        .finish())
}

/// The form that marks notifications read: one (`id`), or all.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReadForm {
    csrf_token: String,
    id: Option<i64>,
    back: String,
}

/// POST /notifications/read
pub async fn mark_read(
    viewer: Viewer,
    form: web::Form<ReadForm>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let user = viewer.require_user("/notifications")?;
    let ids = form.id.map(|id| vec![id]);
    let all = ids.is_none();
    viewer
        .site
        .mark_notifications_read(user, ids)
        .await
        .map_err(|e| viewer.error(e))?;
    let back = safe_next(&form.back).unwrap_or_else(|| "/notifications".into());
    let notice = if all {
        "All your notifications are marked read."
    } else {
        "Marked read."
    };
    Ok(redirect_with_notice(&viewer.site, &back, notice))
}

/// The form that starts or stops watching.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WatchForm {
    csrf_token: String,
    /// `true` to watch, anything else to stop.
    watch: String,
    /// Where to go afterwards (the thread or forum itself when absent).
    back: String,
}

/// POST /t/{id}/watch
pub async fn watch_thread(
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<WatchForm>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let id = path.into_inner();
    let user = viewer.require_user(&format!("/t/{id}"))?;
    let on = form.watch == "true";
    viewer
        .site
        .watch_thread(user, id, on)
        .await
        .map_err(|e| viewer.error(e))?;
    let back = safe_next(&form.back).unwrap_or_else(|| format!("/t/{id}"));
    let notice = if on {
        "You are watching this thread: new replies will notify you."
    } else {
        "You stopped watching the thread."
    };
    Ok(redirect_with_notice(&viewer.site, &back, notice))
}

/// POST /f/{name}/watch
pub async fn watch_forum(
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<WatchForm>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let name = path.into_inner();
    let user = viewer.require_user(&format!("/f/{name}"))?;
    let on = form.watch == "true";
    let forum = viewer
        .site
        .watch_forum(user, name, on)
        .await
        .map_err(|e| viewer.error(e))?;
    let item = ForumItem::from(&forum);
    let back = safe_next(&form.back).unwrap_or(item.url);
    let notice = if on {
        "You are watching this forum: every new thread and reply will notify you."
    } else {
        "You stopped watching the forum."
    };
    Ok(redirect_with_notice(&viewer.site, &back, notice))
}

#[derive(Template)]
#[template(path = "notification_settings.html")]
struct SettingsPage<'a> {
    layout: &'a Layout,
    watch_on_post: bool,
    /// The address in the field (what was typed, when it comes back with a mistake).
    email: &'a str,
    /// The address kept.
    saved_email: &'a str,
    verified: bool,
    mode: &'a str,
    enabled: bool,
    digest_hour: u32,
    errors: FormErrors,
}

fn settings_page(
    viewer: &Viewer,
    user: &crate::forum::User,
    typed: Option<(&SettingsForm, Vec<crate::error::FieldError>)>,
    status: StatusCode,
) -> HttpResponse {
    let layout = viewer.layout("Notification settings");
    let settings = viewer.site.email_settings(user);
    let saved = settings.email.clone().unwrap_or_default();
    let (watch_on_post, email, mode, errors) = match &typed {
        Some((form, errors)) => (
            form.watch_on_post.is_some(),
            form.email.as_str(),
            form.email_mode.as_str(),
            FormErrors(errors.clone()),
        ),
        None => (
            user.watch_on_post,
            saved.as_str(),
            settings.mode.as_str(),
            FormErrors::default(),
        ),
    };
    html(
        status,
        &SettingsPage {
            layout: &layout,
            watch_on_post,
            email,
            saved_email: &saved,
            verified: settings.verified,
            mode,
            enabled: settings.enabled,
            digest_hour: viewer.site.settings().email.digest_hour,
            errors,
        },
    )
}

/// GET /settings/notifications
pub async fn settings(viewer: Viewer) -> Result<HttpResponse, PageError> {
    let user = viewer.require_user("/settings/notifications")?;
    Ok(settings_page(&viewer, &user, None, StatusCode::OK))
}

/// The notification settings form (an unticked checkbox sends nothing).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    csrf_token: String,
    watch_on_post: Option<String>,
    email: String,
    email_mode: String,
}

/// POST /settings/notifications
pub async fn save_settings(
    viewer: Viewer,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let user = viewer.require_user("/settings/notifications")?;
    let mode = (!form.email_mode.is_empty()).then(|| form.email_mode.clone());
    let changed_address =
        form.email.trim().to_lowercase() != user.email.clone().unwrap_or_default();
    match viewer
        .site
        .update_email(user.clone(), Some(form.email.clone()), mode)
        .await
    {
        Ok(_) => {}
        Err(crate::error::ForumError::Invalid(invalid)) => {
            let status = invalid_status(&invalid);
            return Ok(settings_page(
                &viewer,
                &user,
                Some((&form, invalid.fields)),
                status,
            ));
        }
        Err(e) => return Err(viewer.error(e)),
    }
    viewer
        .site
        .set_watch_on_post(user, form.watch_on_post.is_some())
        .await
        .map_err(|e| viewer.error(e))?;
    let notice = if changed_address && !form.email.trim().is_empty() && viewer.site.email_enabled()
    {
        "Your settings are saved. Open the link we sent to your new address to confirm it."
    } else {
        "Your notification settings are saved."
    };
    Ok(redirect_with_notice(
        &viewer.site,
        "/settings/notifications",
        notice,
    ))
}

/// POST /settings/email/verification: sends the confirmation link again.
pub async fn resend_verification(
    viewer: Viewer,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let user = viewer.require_user("/settings/notifications")?;
    viewer
        .site
        .resend_verification(user)
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(redirect_with_notice(
        &viewer.site,
        "/settings/notifications",
        "A new confirmation link is on its way.",
    ))
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfOnly {
    csrf_token: String,
}

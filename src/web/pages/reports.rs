//! Reports on the pages: "Report" under a post (`/p/{id}/report`) for anyone logged in, and a
//! forum's report queue (`/f/{name}/reports`) where its moderators resolve or dismiss them.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::session::{redirect_with_notice, Viewer};
use super::super::views::{FormErrors, Pager, PostItem, UserLink, When};
use super::super::{html, invalid_status, ok, Layout, PageError};
use crate::error::ForumError;
use crate::forum::moderation::{Outcome, ReportView};
use crate::forum::threads::PostContext;

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    layout: &'a Layout,
    post: PostItem,
    thread_title: &'a str,
    reason: &'a str,
    errors: FormErrors,
}

fn report_page(
    viewer: &Viewer,
    status: StatusCode,
    ctx: &PostContext,
    reason: &str,
    errors: FormErrors,
) -> Result<HttpResponse, PageError> {
    let layout = viewer.layout(format!("Report a post: {}", ctx.thread.title));
    let post = PostItem::alone(ctx, viewer.user.as_ref());
    Ok(html(
        status,
        &ReportPage {
            layout: &layout,
            post,
            thread_title: &ctx.thread.title,
            reason,
            errors,
        },
    ))
}

/// GET /p/{id}/report: asks why, before reporting a post to its forum's moderators.
pub async fn report_form(viewer: Viewer, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    viewer.require_user(&format!("/p/{id}/report"))?;
    let ctx = viewer
        .site
        .post(id, viewer.user.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    report_page(&viewer, StatusCode::OK, &ctx, "", FormErrors::default())
}

/// The report form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReportForm {
    csrf_token: String,
    reason: String,
}

/// POST /p/{id}/report
pub async fn report(
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<ReportForm>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    viewer.check_csrf(&form.csrf_token)?;
    let user = viewer.require_user(&format!("/p/{id}/report"))?;
    match viewer.site.report_post(user, id, form.reason.clone()).await {
        Ok(view) => Ok(redirect_with_notice(
            &viewer.site,
            &format!("/p/{}", view.post.post.id),
            "Thank you: the forum's moderators will look at the post.",
        )),
        Err(ForumError::Invalid(invalid)) => {
            let ctx = viewer
                .site
                .post(id, viewer.user.clone())
                .await
                .map_err(|e| viewer.error(e))?;
            report_page(
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

/// One report in the queue.
struct ReportItem {
    id: i64,
    post: PostItem,
    thread: (String, String),
    reporter: UserLink,
    reason: String,
    at: When,
    /// "Resolved" or "Dismissed", by whom and when, once dealt with.
    closed: Option<(String, Option<UserLink>, When)>,
}

impl ReportItem {
    fn new(view: &ReportView, viewer: Option<&crate::forum::User>) -> ReportItem {
        let ctx = &view.post;
        let post = PostItem::alone(ctx, viewer).for_moderator(&ctx.post);
        ReportItem {
            id: view.report.id,
            post,
            thread: (format!("/t/{}", ctx.thread.id), ctx.thread.title.clone()),
            reporter: UserLink::from(&view.reporter),
            reason: view.report.reason.clone(),
            at: When::new(view.report.created_at),
            closed: view.report.closed_at.map(|at| {
                let outcome = match view.report.outcome.as_deref() {
                    Some("dismissed") => "Dismissed",
                    _ => "Resolved",
                };
                (
                    outcome.to_string(),
                    view.closed_by.as_ref().map(UserLink::from),
                    When::new(at),
                )
            }),
        }
    }
}

#[derive(Template)]
#[template(path = "reports.html")]
struct QueuePage<'a> {
    layout: &'a Layout,
    forum_title: &'a str,
    forum_url: String,
    open: bool,
    reports: Vec<ReportItem>,
    pager: Pager,
}

/// `?state=closed&page=N`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    state: Option<String>,
    page: Option<u32>,
}

/// GET /f/{name}/reports: the forum's open reports, newest first (`?state=closed`: those dealt
/// with), for its moderators.
pub async fn queue(
    viewer: Viewer,
    path: web::Path<String>,
    q: web::Query<QueueQuery>,
) -> Result<HttpResponse, PageError> {
    let name = path.into_inner();
    let user = viewer.require_user(&format!("/f/{name}/reports"))?;
    let open = q.state.as_deref() != Some("closed");
    let queue = viewer
        .site
        .report_queue(user, name, open, q.page)
        .await
        .map_err(|e| viewer.error(e))?;
    let forum_url = format!("/f/{}", queue.forum.handle());
    let layout = viewer.layout(format!("Reports: {}", queue.forum.title));
    let base = if open {
        format!("{forum_url}/reports")
    } else {
        format!("{forum_url}/reports?state=closed")
    };
    ok(&QueuePage {
        layout: &layout,
        forum_title: &queue.forum.title,
        open,
        reports: queue
            .reports
            .iter()
            .map(|r| ReportItem::new(r, viewer.user.as_ref()))
            .collect(),
        pager: Pager::new(&base, &queue.paging),
        forum_url,
    })
}

/// The resolve and dismiss buttons' form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CloseForm {
    csrf_token: String,
}

/// POST /reports/{id}/resolve
pub async fn resolve(
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<CloseForm>,
) -> Result<HttpResponse, PageError> {
    close(
        viewer,
        path.into_inner(),
        &form.csrf_token,
        Outcome::Resolved,
    )
    .await
}

/// POST /reports/{id}/dismiss
pub async fn dismiss(
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<CloseForm>,
) -> Result<HttpResponse, PageError> {
    close(
        viewer,
        path.into_inner(),
        &form.csrf_token,
        Outcome::Dismissed,
    )
    .await
}

async fn close(
    viewer: Viewer,
    id: i64,
    csrf: &str,
    outcome: Outcome,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(csrf)?;
    let user = viewer.require_user("/")?;
    let view = viewer
        .site
        .close_report(user, id, outcome)
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(redirect_with_notice(
        &viewer.site,
        &format!("/f/{}/reports", view.post.forum.handle()),
        match outcome {
            Outcome::Resolved => "The report is resolved.",
            Outcome::Dismissed => "The report is dismissed.",
        },
    ))
}

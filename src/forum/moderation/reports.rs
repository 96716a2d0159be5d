//! Reports: anyone logged in asks a forum's moderators to look at a post, saying why; the
//! moderators work through the forum's queue, resolving or dismissing each report. Reports
//! travel as `Flag`: one about a post from elsewhere goes to that post's server (and its
//! forum's), and one from elsewhere about a post here lands in our queue.

use super::*;
use crate::db::reports::{self as report_rows, NewReport, Report};

/// What a moderator made of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Acted on (the post removed, the person banned, a word had).
    Resolved,
    /// Nothing to act on.
    Dismissed,
}

impl Outcome {
    /// The stable name stored and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::Dismissed => "dismissed",
        }
    }
}

/// A report with what it names.
#[derive(Debug, Clone)]
pub struct ReportView {
    /// The report.
    pub report: Report,
    /// The post reported, with its author, thread and forum.
    pub post: PostContext,
    /// Who reported it.
    pub reporter: User,
    /// Who dealt with it.
    pub closed_by: Option<User>,
}

/// One page of a forum's reports.
#[derive(Debug, Clone)]
pub struct ReportQueue {
    /// The forum.
    pub forum: Forum,
    /// Open reports (or, `open` false, those dealt with).
    pub open: bool,
    /// The reports, newest first.
    pub reports: Vec<ReportView>,
    /// Where this page stands.
    pub paging: Paging,
}

/// A report as another server sends it.
#[derive(Debug, Clone)]
pub struct ReceivedReport {
    /// The Flag's id.
    pub ap_id: String,
    /// Who reported (on the sending server).
    pub reporter: User,
    /// The post reported (known here).
    pub post_id: i64,
    /// Why.
    pub reason: Option<String>,
}

fn report_view(conn: &mut Conn<'_>, report: Report) -> Result<ReportView, ForumError> {
    report_views(conn, vec![report])?
        .pop()
        .ok_or(ForumError::NotFound { what: "report" })
}

/// Reports with what they name: two queries however many there are (the posts in context,
/// then the reporters and moderators). A report whose post or reporter is gone is left out.
fn report_views(conn: &mut Conn<'_>, reports: Vec<Report>) -> Result<Vec<ReportView>, ForumError> {
    let post_ids: Vec<i64> = reports.iter().map(|r| r.post_id).collect();
    let posts = crate::db::posts::many_with_context(conn, &post_ids)?;
    let mut people_ids: Vec<i64> = reports.iter().map(|r| r.reporter_id).collect();
    people_ids.extend(reports.iter().filter_map(|r| r.closed_by_id));
    people_ids.sort_unstable();
    people_ids.dedup();
    let people = log::people(conn, &people_ids)?;
    let find = |id: i64| people.iter().find(|u| u.id == id).cloned();
    Ok(reports
        .into_iter()
        .filter_map(|report| {
            let (post, author, thread, forum) = posts
                .iter()
                .find(|(p, ..)| p.id == report.post_id)
                .cloned()?;
            let reporter = find(report.reporter_id)?;
            let closed_by = report.closed_by_id.and_then(find);
            Some(ReportView {
                post: PostContext {
                    post,
                    author,
                    thread,
                    forum,
                },
                reporter,
                closed_by,
                report,
            })
        })
        .collect())
}

impl Site {
    /// `by` reports a post to its forum's moderators, saying why (required). Not one's own
    /// post, not a deleted one (410 `post_deleted`), and not twice while the first report is
    /// open (409 `already_reported`). A post from elsewhere, or in a forum elsewhere, is also
    /// reported to the servers it lives on.
    pub async fn report_post(
        &self,
        by: User,
        post_id: i64,
        why: String,
    ) -> Result<ReportView, ForumError> {
        self.blocking_then_send(move |inner, conn| {
            let ctx = post_context(conn, post_id)?;
            require_can_read(conn, &ctx.forum, Some(&by), "post")?;
            if ctx.post.deleted_at.is_some() {
                return Err(ForumError::Gone {
                    code: "post_deleted",
                    message: "This post was deleted by its author".into(),
                });
            }
            if ctx.post.author_id == by.id {
                return Err(ForumError::forbidden(
                    "own_post",
                    "You cannot report your own post",
                ));
            }
            let mut v = Validator::new();
            let Some(why) = v.check("reason", Reason::parse(&why, true)) else {
                return Err(v.into_error());
            };
            let told = inner.settings.federation.enabled
                && by.local
                && (!ctx.forum.local || !ctx.author.local);
            let flag_id = told.then(|| super::super::outbox::new_activity_id(inner, "flag"));
            conn.transaction(|conn| {
                let Some(report) = report_rows::insert(
                    conn,
                    &NewReport {
                        post_id,
                        forum_id: ctx.forum.id,
                        reporter_id: by.id,
                        reason: why.as_str(),
                        ap_id: flag_id.as_deref(),
                        created_at: db::now(),
                    },
                )?
                else {
                    return Err(ForumError::conflict(
                        "already_reported",
                        "reason",
                        "You have reported this post already; its moderators will look at it.",
                    ));
                };
                if told {
                    push_event(
                        conn,
                        &OutboxEvent::Report {
                            report_id: report.id,
                        },
                    )?;
                }
                Ok((report_view(conn, report)?, told))
            })
        })
        .await
    }

    /// One page of a forum's reports, newest first: open ones, or (`open` false) those dealt
    /// with. For the forum's moderators.
    pub async fn report_queue(
        &self,
        by: User,
        forum_name: String,
        open: bool,
        page: Option<u32>,
    ) -> Result<ReportQueue, ForumError> {
        let per_page = self.settings().pages.threads_per_page;
        self.blocking(move |_inner, conn| {
            let forum = forums::by_handle(conn, &forum_name)?
                .ok_or(ForumError::NotFound { what: "forum" })?;
            require_moderator(conn, &by, &forum)?;
            let paging = Paging::new(
                page,
                per_page,
                report_rows::count_in_forum(conn, forum.id, open)?,
            );
            let rows =
                report_rows::page_in_forum(conn, forum.id, open, paging.limit(), paging.offset())?;
            let reports = report_views(conn, rows)?;
            Ok(ReportQueue {
                forum,
                open,
                reports,
                paging,
            })
        })
        .await
    }

    /// Resolves or dismisses a report (its forum's moderators), recorded in the forum's log;
    /// 409 `report_closed` when it was dealt with already.
    pub async fn close_report(
        &self,
        by: User,
        id: i64,
        outcome: Outcome,
    ) -> Result<ReportView, ForumError> {
        self.blocking_then_send(move |inner, conn| {
            let report =
                report_rows::by_id(conn, id)?.ok_or(ForumError::NotFound { what: "report" })?;
            let forum = forums::by_id(conn, report.forum_id)?
                .ok_or(ForumError::NotFound { what: "forum" })?;
            require_moderator(conn, &by, &forum)?;
            conn.transaction(|conn| {
                let Some(closed) =
                    report_rows::close(conn, id, outcome.as_str(), by.id, db::now())?
                else {
                    return Err(ForumError::conflict(
                        "report_closed",
                        "report",
                        "This report was dealt with already.",
                    ));
                };
                let view = report_view(conn, closed)?;
                let action = match outcome {
                    Outcome::Resolved => Action::Resolve,
                    Outcome::Dismissed => Action::DismissReport,
                };
                let target = Target {
                    thread: Some(view.post.thread.id),
                    post: Some(view.post.post.id),
                    person: Some(view.reporter.id),
                };
                record(conn, &forum, &by, action, target, &Reason::default())?;
                // Servers that know of the report hear it is dealt with: the reporter's, and
                // the forum's when it lives elsewhere.
                let told = inner.settings.federation.enabled
                    && view.report.ap_id.is_some()
                    && (!forum.local || !view.reporter.local);
                if told {
                    push_event(
                        conn,
                        &OutboxEvent::ResolveReport {
                            report_id: id,
                            moderator_id: by.id,
                        },
                    )?;
                }
                Ok((view, told))
            })
        })
        .await
    }

    /// The forum of the report made by the Flag `flag_ap_id`, if there is one.
    pub async fn report_forum(&self, flag_ap_id: String) -> Result<Option<Forum>, ForumError> {
        self.blocking(
            move |_inner, conn| match report_rows::by_ap_id(conn, &flag_ap_id)? {
                Some(report) => Ok(forums::by_id(conn, report.forum_id)?),
                None => Ok(None),
            },
        )
        .await
    }

    /// A report closed elsewhere (Lemmy's `Resolve` of its `Flag`), by `by`, who must moderate
    /// the report's forum (here, or as its forum elsewhere lists them). A report not known
    /// here, or closed already, is left as it is.
    pub async fn receive_report_resolution(
        &self,
        by: User,
        flag_ap_id: String,
    ) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            let Some(report) = report_rows::by_ap_id(conn, &flag_ap_id)? else {
                return Ok(());
            };
            let forum = forums::by_id(conn, report.forum_id)?
                .ok_or(ForumError::NotFound { what: "forum" })?;
            require_federated(&forum, "forum")?;
            let may = if forum.local {
                moderates(conn, &by, &forum)?
            } else {
                log::is_moderator(conn, forum.id, by.id)?
            };
            if !may {
                return Err(ForumError::forbidden(
                    "moderators_only",
                    "Only this forum's moderators can do that",
                ));
            }
            conn.transaction(|conn| {
                let now = db::now();
                let Some(closed) =
                    report_rows::close(conn, report.id, Outcome::Resolved.as_str(), by.id, now)?
                else {
                    return Ok(());
                };
                let target = Target {
                    thread: crate::db::posts::by_id(conn, closed.post_id)?.map(|p| p.thread_id),
                    post: Some(closed.post_id),
                    person: Some(closed.reporter_id),
                };
                record(
                    conn,
                    &forum,
                    &by,
                    Action::Resolve,
                    target,
                    &Reason::default(),
                )?;
                Ok(())
            })
        })
        .await
    }

    /// A report from elsewhere about a post here: it lands in the queue of the post's forum.
    /// The same Flag twice, or a second open report by the same person, is one report. The
    /// reason is cut to our limit.
    pub async fn receive_report(&self, received: ReceivedReport) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            let ctx = post_context(conn, received.post_id)?;
            require_federated(&ctx.forum, "post")?;
            let why = remote_reason(received.reason);
            report_rows::insert(
                conn,
                &NewReport {
                    post_id: ctx.post.id,
                    forum_id: ctx.forum.id,
                    reporter_id: received.reporter.id,
                    reason: why.as_str(),
                    ap_id: Some(&received.ap_id),
                    created_at: db::now(),
                },
            )?;
            Ok(())
        })
        .await
    }

    /// A report made here, with what it names (to send it elsewhere).
    pub async fn report(&self, id: i64) -> Result<ReportView, ForumError> {
        self.blocking(move |_inner, conn| {
            let report =
                report_rows::by_id(conn, id)?.ok_or(ForumError::NotFound { what: "report" })?;
            report_view(conn, report)
        })
        .await
    }
}

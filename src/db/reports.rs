//! `reports`: posts people asked a forum's moderators to look at, and what became of them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::reports;
use super::{dispatch, Conn};

/// A report.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reports)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Report {
    /// Row id.
    pub id: i64,
    /// The post reported.
    pub post_id: i64,
    /// The forum the post is in (whose moderators see it).
    pub forum_id: i64,
    /// Who reported it.
    pub reporter_id: i64,
    /// Why.
    pub reason: String,
    /// The `Flag`'s id: ours when sent elsewhere, the sender's when received.
    pub ap_id: Option<String>,
    /// When.
    pub created_at: NaiveDateTime,
    /// `resolved` or `dismissed`, once dealt with.
    pub outcome: Option<String>,
    /// The moderator who dealt with it.
    pub closed_by_id: Option<i64>,
    /// When.
    pub closed_at: Option<NaiveDateTime>,
}

/// A report to make.
#[derive(Debug, Insertable)]
#[diesel(table_name = reports)]
// NULL for `None`, so the insert stays prepared (see the `db` module).
#[diesel(treat_none_as_default_value = false)]
pub struct NewReport<'a> {
    /// The post.
    pub post_id: i64,
    /// Its forum.
    pub forum_id: i64,
    /// Who.
    pub reporter_id: i64,
    /// Why.
    pub reason: &'a str,
    /// The Flag's id.
    pub ap_id: Option<&'a str>,
    /// Now.
    pub created_at: NaiveDateTime,
}

/// Stores a report; `None` when the person has an open report of the post already, or the
/// Flag was received before.
pub fn insert(conn: &mut Conn<'_>, report: &NewReport<'_>) -> QueryResult<Option<Report>> {
    dispatch!(conn, |c| diesel::insert_into(reports::table)
        .values(report)
        .on_conflict_do_nothing()
        .returning(Report::as_returning())
        .get_result(c)
        .optional())
}

/// The report made by the Flag with this id (through `reports_ap_id`).
pub fn by_ap_id(conn: &mut Conn<'_>, ap_id: &str) -> QueryResult<Option<Report>> {
    dispatch!(conn, |c| reports::table
        .filter(reports::ap_id.eq(ap_id))
        .select(Report::as_select())
        .first(c)
        .optional())
}

/// The report.
pub fn by_id(conn: &mut Conn<'_>, id: i64) -> QueryResult<Option<Report>> {
    dispatch!(conn, |c| reports::table
        .find(id)
        .select(Report::as_select())
        .first(c)
        .optional())
}

/// Closes an open report with `outcome`; the report as it is now, `None` when it was closed
/// already.
pub fn close(
    conn: &mut Conn<'_>,
    id: i64,
    outcome: &str,
    by: i64,
    at: NaiveDateTime,
) -> QueryResult<Option<Report>> {
    dispatch!(conn, |c| diesel::update(
        reports::table.find(id).filter(reports::closed_at.is_null())
    )
    .set((
        reports::outcome.eq(outcome),
        reports::closed_by_id.eq(by),
        reports::closed_at.eq(at),
    ))
    .returning(Report::as_returning())
    .get_result(c)
    .optional())
}

/// How many of the forum's reports are open (`open`) or closed.
pub fn count_in_forum(conn: &mut Conn<'_>, forum_id: i64, open: bool) -> QueryResult<i64> {
    dispatch!(conn, |c| {
        let q = reports::table
            .filter(reports::forum_id.eq(forum_id))
            .into_boxed();
        let q = if open {
            q.filter(reports::closed_at.is_null())
        } else {
            q.filter(reports::closed_at.is_not_null())
        };
        q.count().get_result(c)
    })
}

/// A page of the forum's open (or closed) reports, newest first. Served by `reports_queue`.
pub fn page_in_forum(
    conn: &mut Conn<'_>,
    forum_id: i64,
    open: bool,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<Report>> {
    dispatch!(conn, |c| {
        let q = reports::table
            .filter(reports::forum_id.eq(forum_id))
            .into_boxed();
        let q = if open {
            q.filter(reports::closed_at.is_null())
        } else {
            q.filter(reports::closed_at.is_not_null())
        };
        q.order(reports::id.desc())
            .limit(limit)
            .offset(offset)
            .select(Report::as_select())
            .load(c)
    })
}

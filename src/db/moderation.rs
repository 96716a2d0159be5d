//! `forum_moderators` (who moderates which forum) and `moderation_log` (what moderators did,
//! and why).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{forum_moderators, moderation_log, threads, users};
use super::threads::Thread;
use super::users::User;
use super::{dispatch, Conn};

/// Whether the person moderates the forum (administrators aside: they have no row).
pub fn is_moderator(conn: &mut Conn<'_>, forum_id: i64, user_id: i64) -> QueryResult<bool> {
    dispatch!(conn, |c| diesel::select(diesel::dsl::exists(
        forum_moderators::table
            .filter(forum_moderators::forum_id.eq(forum_id))
            .filter(forum_moderators::user_id.eq(user_id))
    ))
    .get_result(c))
}

/// Makes the person a moderator of the forum; false if they were one already.
pub fn add(
    conn: &mut Conn<'_>,
    forum_id: i64,
    user_id: i64,
    appointed_by: Option<i64>,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let added = dispatch!(conn, |c| diesel::insert_into(forum_moderators::table)
        .values((
            forum_moderators::forum_id.eq(forum_id),
            forum_moderators::user_id.eq(user_id),
            forum_moderators::appointed_by_id.eq(appointed_by),
            forum_moderators::created_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(added > 0)
}

/// Takes the person off the forum's moderators; false if they were not one.
pub fn remove(conn: &mut Conn<'_>, forum_id: i64, user_id: i64) -> QueryResult<bool> {
    let removed = dispatch!(conn, |c| diesel::delete(
        forum_moderators::table
            .filter(forum_moderators::forum_id.eq(forum_id))
            .filter(forum_moderators::user_id.eq(user_id))
    )
    .execute(c))?;
    Ok(removed > 0)
}

/// The forum's moderators, in the order they were appointed.
pub fn of_forum(conn: &mut Conn<'_>, forum_id: i64) -> QueryResult<Vec<User>> {
    // Found through `forum_moderators_pair`, put in order here (they are few).
    let mut rows: Vec<(i64, User)> = dispatch!(conn, |c| forum_moderators::table
        .inner_join(users::table.on(users::id.eq(forum_moderators::user_id)))
        .filter(forum_moderators::forum_id.eq(forum_id))
        .select((forum_moderators::id, User::as_select()))
        .load(c))?;
    rows.sort_by_key(|(id, _)| *id);
    Ok(rows.into_iter().map(|(_, user)| user).collect())
}

/// One entry of the moderation log.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = moderation_log)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct LogEntry {
    /// Row id.
    pub id: i64,
    /// The forum acted in (none for what concerns the whole instance).
    pub forum_id: Option<i64>,
    /// Who acted (none once their account is gone).
    pub moderator_id: Option<i64>,
    /// What was done: see `forum::moderation::Action`.
    pub action: String,
    /// The thread acted on.
    pub thread_id: Option<i64>,
    /// The post acted on.
    pub post_id: Option<i64>,
    /// The person acted on.
    pub person_id: Option<i64>,
    /// Why (may be empty).
    pub reason: String,
    /// When.
    pub created_at: NaiveDateTime,
}

/// An entry to record.
#[derive(Debug, Insertable)]
#[diesel(table_name = moderation_log)]
// NULL for `None`, so the insert stays prepared (see the `db` module).
#[diesel(treat_none_as_default_value = false)]
pub struct NewLogEntry<'a> {
    /// The forum.
    pub forum_id: Option<i64>,
    /// Who.
    pub moderator_id: Option<i64>,
    /// What.
    pub action: &'a str,
    /// The thread.
    pub thread_id: Option<i64>,
    /// The post.
    pub post_id: Option<i64>,
    /// The person.
    pub person_id: Option<i64>,
    /// Why.
    pub reason: &'a str,
    /// When.
    pub created_at: NaiveDateTime,
}

/// Records an entry.
pub fn record(conn: &mut Conn<'_>, entry: &NewLogEntry<'_>) -> QueryResult<LogEntry> {
    dispatch!(conn, |c| diesel::insert_into(moderation_log::table)
        .values(entry)
        .returning(LogEntry::as_returning())
        .get_result(c))
}

/// How many entries the forum's log holds (`None`: the instance's own log, of what concerns
/// no one forum).
pub fn count_in_forum(conn: &mut Conn<'_>, forum_id: Option<i64>) -> QueryResult<i64> {
    match forum_id {
        Some(id) => dispatch!(conn, |c| moderation_log::table
            .filter(moderation_log::forum_id.eq(id))
            .count()
            .get_result(c)),
        None => dispatch!(conn, |c| moderation_log::table
            .filter(moderation_log::forum_id.is_null())
            .count()
            .get_result(c)),
    }
}

/// One page of the forum's log (`None`: the instance's), newest first. Served by the index
/// `moderation_log_forum`.
pub fn page_in_forum(
    conn: &mut Conn<'_>,
    forum_id: Option<i64>,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<LogEntry>> {
    match forum_id {
        Some(id) => dispatch!(conn, |c| moderation_log::table
            .filter(moderation_log::forum_id.eq(id))
            .order(moderation_log::id.desc())
            .limit(limit)
            .offset(offset)
            .select(LogEntry::as_select())
            .load(c)),
        None => dispatch!(conn, |c| moderation_log::table
            .filter(moderation_log::forum_id.is_null())
            .order(moderation_log::id.desc())
            .limit(limit)
            .offset(offset)
            .select(LogEntry::as_select())
            .load(c)),
    }
}

/// The people with these ids (the moderators and people a page of the log names).
pub fn people(conn: &mut Conn<'_>, ids: &[i64]) -> QueryResult<Vec<User>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    dispatch!(conn, |c| users::table
        .filter(super::any_id(users::id, ids))
        .select(User::as_select())
        .load(c))
}

/// The threads with these ids (those a page of the log names).
pub fn threads(conn: &mut Conn<'_>, ids: &[i64]) -> QueryResult<Vec<Thread>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    dispatch!(conn, |c| threads::table
        .filter(super::any_id(threads::id, ids))
        .select(Thread::as_select())
        .load(c))
}

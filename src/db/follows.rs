//! `forum_follows`: who follows which forum. Remote people follow local forums (their instances
//! then receive the forum's announcements); local people follow remote forums (which then appear
//! in the forum list).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{forum_follows, users};
use super::{dispatch, Conn};

/// One follow.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = forum_follows)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Follow {
    /// Row id.
    pub id: i64,
    /// The forum followed.
    pub forum_id: i64,
    /// The follower.
    pub follower_id: i64,
    /// Until the forum accepts.
    pub pending: bool,
    /// The Follow activity's id.
    pub follow_ap_id: String,
    /// When asked.
    pub created_at: NaiveDateTime,
}

/// Records a follow, or (when the pair exists) replaces its Follow id and state. Returns the row
/// and whether it was new or pending before (so counts change once).
pub fn upsert(
    conn: &mut Conn<'_>,
    forum_id: i64,
    follower_id: i64,
    pending: bool,
    follow_ap_id: &str,
    at: NaiveDateTime,
) -> QueryResult<Follow> {
    dispatch!(conn, |c| diesel::insert_into(forum_follows::table)
        .values((
            forum_follows::forum_id.eq(forum_id),
            forum_follows::follower_id.eq(follower_id),
            forum_follows::pending.eq(pending),
            forum_follows::follow_ap_id.eq(follow_ap_id),
            forum_follows::created_at.eq(at),
        ))
        .on_conflict((forum_follows::forum_id, forum_follows::follower_id))
        .do_update()
        .set((
            forum_follows::pending.eq(pending),
            forum_follows::follow_ap_id.eq(follow_ap_id),
        ))
        .returning(Follow::as_returning())
        .get_result(c))
}

/// The follow of `forum_id` by `follower_id`, if any.
pub fn find(conn: &mut Conn<'_>, forum_id: i64, follower_id: i64) -> QueryResult<Option<Follow>> {
    dispatch!(conn, |c| forum_follows::table
        .filter(forum_follows::forum_id.eq(forum_id))
        .filter(forum_follows::follower_id.eq(follower_id))
        .select(Follow::as_select())
        .first(c)
        .optional())
}

/// Marks a follow accepted; returns whether it was pending.
pub fn accept(conn: &mut Conn<'_>, id: i64) -> QueryResult<bool> {
    let changed = dispatch!(conn, |c| diesel::update(
        forum_follows::table.find(id).filter(forum_follows::pending)
    )
    .set(forum_follows::pending.eq(false))
    .execute(c))?;
    Ok(changed > 0)
}

/// Removes a follow.
pub fn delete(conn: &mut Conn<'_>, id: i64) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::delete(forum_follows::table.find(id))
        .execute(c))
}

/// Where a forum's remote followers receive activities: one inbox per instance where it has a
/// shared inbox, each person's own inbox otherwise.
pub fn remote_follower_inboxes(conn: &mut Conn<'_>, forum_id: i64) -> QueryResult<Vec<String>> {
    let rows: Vec<(Option<String>, Option<String>)> = dispatch!(conn, |c| forum_follows::table
        .inner_join(users::table)
        .filter(forum_follows::forum_id.eq(forum_id))
        .filter(forum_follows::pending.eq(false))
        .filter(users::local.eq(super::sql_false()))
        .select((users::shared_inbox_url, users::inbox_url))
        .load(c))?;
    Ok(one_inbox_each(rows))
}

/// The inboxes of followers as (shared inbox, own inbox) rows: the shared one where there is
/// one, each once.
pub(super) fn one_inbox_each(rows: Vec<(Option<String>, Option<String>)>) -> Vec<String> {
    let mut inboxes: Vec<String> = rows
        .into_iter()
        .filter_map(|(shared, own)| shared.or(own))
        .collect();
    inboxes.sort();
    inboxes.dedup();
    inboxes
}

/// How many accepted followers a forum has.
pub fn count_followers(conn: &mut Conn<'_>, forum_id: i64) -> QueryResult<i64> {
    dispatch!(conn, |c| forum_follows::table
        .filter(forum_follows::forum_id.eq(forum_id))
        .filter(forum_follows::pending.eq(false))
        .count()
        .get_result(c))
}

/// The forums a person follows, with the state of each follow.
pub fn of_user(conn: &mut Conn<'_>, follower_id: i64) -> QueryResult<Vec<Follow>> {
    dispatch!(conn, |c| forum_follows::table
        .filter(forum_follows::follower_id.eq(follower_id))
        .order(forum_follows::id.asc())
        .select(Follow::as_select())
        .load(c))
}

/// A follow by row id.
pub fn find_by_id(conn: &mut Conn<'_>, id: i64) -> QueryResult<Option<Follow>> {
    dispatch!(conn, |c| forum_follows::table
        .find(id)
        .select(Follow::as_select())
        .first(c)
        .optional())
}

/// The follow made by the Follow activity with this id.
pub fn by_follow_ap_id(conn: &mut Conn<'_>, ap_id: &str) -> QueryResult<Option<Follow>> {
    dispatch!(conn, |c| forum_follows::table
        .filter(forum_follows::follow_ap_id.eq(ap_id))
        .select(Follow::as_select())
        .first(c)
        .optional())
}

/// Every follow of a forum (its followers, all of them elsewhere for a local forum), oldest
/// first.
pub fn of_forum(conn: &mut Conn<'_>, forum_id: i64) -> QueryResult<Vec<Follow>> {
    dispatch!(conn, |c| forum_follows::table
        .filter(forum_follows::forum_id.eq(forum_id))
        .order(forum_follows::id.asc())
        .select(Follow::as_select())
        .load(c))
}

//! `thread_follows`: who follows which single thread. People elsewhere follow our threads (the
//! forum then delivers that thread's activities to them as well); people here follow threads
//! elsewhere whose forum nobody here follows (pending until the forum accepts). Also the
//! context collection of threads from elsewhere, from which their conversations are filled in.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{forums, thread_follows, thread_reads, threads, users};
use super::{dispatch, Conn};

/// One follow of a thread.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = thread_follows)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ThreadFollow {
    /// Row id.
    pub id: i64,
    /// The thread followed.
    pub thread_id: i64,
    /// The follower.
    pub follower_id: i64,
    /// Until the thread's forum accepts.
    pub pending: bool,
    /// The Follow activity's id.
    pub follow_ap_id: String,
    /// When asked.
    pub created_at: NaiveDateTime,
}

/// Records a follow, or (when the pair exists) replaces its Follow id and state.
pub fn upsert(
    conn: &mut Conn<'_>,
    thread_id: i64,
    follower_id: i64,
    pending: bool,
    follow_ap_id: &str,
    at: NaiveDateTime,
) -> QueryResult<ThreadFollow> {
    dispatch!(conn, |c| diesel::insert_into(thread_follows::table)
        .values((
            thread_follows::thread_id.eq(thread_id),
            thread_follows::follower_id.eq(follower_id),
            thread_follows::pending.eq(pending),
            thread_follows::follow_ap_id.eq(follow_ap_id),
            thread_follows::created_at.eq(at),
        ))
        .on_conflict((thread_follows::thread_id, thread_follows::follower_id))
        .do_update()
        .set((
            thread_follows::pending.eq(pending),
            thread_follows::follow_ap_id.eq(follow_ap_id),
        ))
        .returning(ThreadFollow::as_returning())
        .get_result(c))
}

/// The follow of `thread_id` by `follower_id`, if any.
pub fn find(
    conn: &mut Conn<'_>,
    thread_id: i64,
    follower_id: i64,
) -> QueryResult<Option<ThreadFollow>> {
    dispatch!(conn, |c| thread_follows::table
        .filter(thread_follows::thread_id.eq(thread_id))
        .filter(thread_follows::follower_id.eq(follower_id))
        .select(ThreadFollow::as_select())
        .first(c)
        .optional())
}

/// A follow by row id.
pub fn find_by_id(conn: &mut Conn<'_>, id: i64) -> QueryResult<Option<ThreadFollow>> {
    dispatch!(conn, |c| thread_follows::table
        .find(id)
        .select(ThreadFollow::as_select())
        .first(c)
        .optional())
}

/// The follow made by the Follow activity with this id.
pub fn by_follow_ap_id(conn: &mut Conn<'_>, ap_id: &str) -> QueryResult<Option<ThreadFollow>> {
    dispatch!(conn, |c| thread_follows::table
        .filter(thread_follows::follow_ap_id.eq(ap_id))
        .select(ThreadFollow::as_select())
        .first(c)
        .optional())
}

/// Marks a follow accepted (`pending` false), or unanswered again (its server refused it).
pub fn set_pending(conn: &mut Conn<'_>, id: i64, pending: bool) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(thread_follows::table.find(id))
        .set(thread_follows::pending.eq(pending))
        .execute(c))
}

/// Removes a follow.
pub fn delete(conn: &mut Conn<'_>, id: i64) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::delete(thread_follows::table.find(id))
        .execute(c))
}

/// Where a thread's followers elsewhere receive its activities: one inbox per instance where
/// it has a shared inbox, each person's own inbox otherwise.
pub fn remote_follower_inboxes(conn: &mut Conn<'_>, thread_id: i64) -> QueryResult<Vec<String>> {
    let rows: Vec<(Option<String>, Option<String>)> = dispatch!(conn, |c| thread_follows::table
        .inner_join(users::table)
        .filter(thread_follows::thread_id.eq(thread_id))
        .filter(thread_follows::pending.eq(false))
        .filter(users::local.eq(super::sql_false()))
        .select((users::shared_inbox_url, users::inbox_url))
        .load(c))?;
    Ok(super::follows::one_inbox_each(rows))
}

/// How many accepted followers a thread has.
pub fn count_followers(conn: &mut Conn<'_>, thread_id: i64) -> QueryResult<i64> {
    dispatch!(conn, |c| thread_follows::table
        .filter(thread_follows::thread_id.eq(thread_id))
        .filter(thread_follows::pending.eq(false))
        .count()
        .get_result(c))
}

/// Whether someone here follows (accepted) a thread of forum `forum_id`: what lets that forum's
/// announcements in when nobody here follows the forum itself.
pub fn followed_in_forum(conn: &mut Conn<'_>, forum_id: i64) -> QueryResult<bool> {
    let found: Option<i64> = dispatch!(conn, |c| thread_follows::table
        .inner_join(threads::table)
        .inner_join(users::table)
        .filter(threads::forum_id.eq(forum_id))
        .filter(thread_follows::pending.eq(false))
        .filter(users::local)
        .select(thread_follows::id)
        .first(c)
        .optional())?;
    Ok(found.is_some())
}

/// The people here who watch thread `thread_id` and do not follow it yet.
pub fn watchers_not_following(conn: &mut Conn<'_>, thread_id: i64) -> QueryResult<Vec<i64>> {
    dispatch!(conn, |c| thread_reads::table
        .filter(thread_reads::thread_id.eq(thread_id))
        .filter(thread_reads::watching)
        .filter(diesel::dsl::not(diesel::dsl::exists(
            thread_follows::table
                .filter(thread_follows::thread_id.eq(thread_id))
                .filter(thread_follows::follower_id.eq(thread_reads::user_id)),
        )))
        .select(thread_reads::user_id)
        .load(c))
}

/// The threads of remote forum `forum_id` that someone here watches.
pub fn watched_threads_of_forum(conn: &mut Conn<'_>, forum_id: i64) -> QueryResult<Vec<i64>> {
    dispatch!(conn, |c| threads::table
        .filter(threads::forum_id.eq(forum_id))
        .filter(diesel::dsl::exists(
            thread_reads::table
                .filter(thread_reads::thread_id.eq(threads::id))
                .filter(thread_reads::watching),
        ))
        .select(threads::id)
        .load(c))
}

/// A thread's context collection, and when the conversation was last filled in from it.
pub fn context(
    conn: &mut Conn<'_>,
    thread_id: i64,
) -> QueryResult<Option<(Option<String>, Option<NaiveDateTime>)>> {
    dispatch!(conn, |c| threads::table
        .find(thread_id)
        .select((threads::context_url, threads::context_fetched_at))
        .first(c)
        .optional())
}

/// Records a remote thread's context collection.
pub fn set_context_url(conn: &mut Conn<'_>, thread_id: i64, url: &str) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(threads::table.find(thread_id))
        .set(threads::context_url.eq(url))
        .execute(c))
}

/// Claims a remote thread for filling in: true (and the time recorded) unless it was filled in
/// since `stale_before`, so that two callers never fetch the same conversation at once.
pub fn claim_fill_in(
    conn: &mut Conn<'_>,
    thread_id: i64,
    stale_before: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let changed = dispatch!(conn, |c| diesel::update(
        threads::table
            .find(thread_id)
            .filter(threads::local.eq(super::sql_false()))
            .filter(
                threads::context_fetched_at
                    .is_null()
                    .or(threads::context_fetched_at.lt(stale_before))
            )
    )
    .set(threads::context_fetched_at.eq(now))
    .execute(c))?;
    Ok(changed > 0)
}

/// Threads elsewhere that people here follow without an answer from their server (a follow
/// still pending, or refused), whose forum nobody here follows, not filled in since
/// `stale_before`: at most `limit`. Follows from here exist only while someone watches.
pub fn unreached_watched(
    conn: &mut Conn<'_>,
    stale_before: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    dispatch!(conn, |c| thread_follows::table
        .inner_join(threads::table.inner_join(forums::table))
        .filter(thread_follows::pending)
        .filter(forums::local_followers.eq(0))
        .filter(
            threads::context_fetched_at
                .is_null()
                .or(threads::context_fetched_at.lt(stale_before))
        )
        .select(threads::id)
        .limit(limit)
        .load::<i64>(c))
    .map(|mut ids| {
        // Several people here may follow one thread.
        ids.sort_unstable();
        ids.dedup();
        ids
    })
}

//! `threads`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use super::schema::{threads, users};
use super::users::Author;
use super::{dispatch, Conn};

/// A row of `threads`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = threads)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Thread {
    /// Primary key; the thread lives at `/t/{id}`.
    pub id: i64,
    /// The forum it belongs to.
    pub forum_id: i64,
    /// Who started it.
    pub author_id: i64,
    /// Title.
    pub title: String,
    /// Pinned threads are listed first.
    pub pinned: bool,
    /// Started on this instance.
    pub local: bool,
    /// ActivityPub id of a remote thread.
    pub ap_id: Option<String>,
    /// Replies, deleted placeholders included (they keep their place on the page).
    pub reply_count: i64,
    /// When it was started.
    pub created_at: NaiveDateTime,
    /// When it was started or last replied to.
    pub last_activity_at: NaiveDateTime,
    /// When it was locked (it takes no new replies), if it is.
    pub locked_at: Option<NaiveDateTime>,
    /// Who locked it.
    pub locked_by_id: Option<i64>,
}

/// A local thread to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = threads)]
pub struct NewLocalThread<'a> {
    /// Forum.
    pub forum_id: i64,
    /// Author.
    pub author_id: i64,
    /// Title.
    pub title: &'a str,
    /// Now.
    pub created_at: NaiveDateTime,
    /// Now.
    pub last_activity_at: NaiveDateTime,
}

/// Inserts a local thread.
pub fn insert_local(conn: &mut Conn<'_>, new: &NewLocalThread<'_>) -> QueryResult<Thread> {
    dispatch!(conn, |c| diesel::insert_into(threads::table)
        .values(new)
        .returning(Thread::as_returning())
        .get_result(c))
}

/// The thread with this id.
pub fn by_id(conn: &mut Conn<'_>, id: i64) -> QueryResult<Option<Thread>> {
    dispatch!(conn, |c| threads::table
        .find(id)
        .select(Thread::as_select())
        .first(c)
        .optional())
}

/// One page of a forum's threads with their starters: pinned first, then latest activity.
/// Served by the index `threads_forum_listing`.
pub fn page_in_forum(
    conn: &mut Conn<'_>,
    forum_id: i64,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<(Thread, Author)>> {
    dispatch!(conn, |c| threads::table
        .inner_join(users::table)
        .filter(threads::forum_id.eq(forum_id))
        .order((
            threads::pinned.desc(),
            threads::last_activity_at.desc(),
            threads::id.desc(),
        ))
        .limit(limit)
        .offset(offset)
        .select((Thread::as_select(), Author::as_select()))
        .load(c))
}

/// Counts `replies` new replies, moves the latest activity to `at`, and makes the new
/// replies' positions right (`first`: the earliest of them, by `created_at` and id; see
/// `posts::place_replies`).
pub fn count_replies(
    conn: &mut Conn<'_>,
    id: i64,
    replies: i64,
    at: NaiveDateTime,
    first: (NaiveDateTime, i64),
) -> QueryResult<usize> {
    // Written in SQL so that it stays prepared (see `prepared_sql`): every post runs it.
    let counted = dispatch!(conn, |c| {
        super::prepared_sql(
        "UPDATE threads SET reply_count = reply_count + $1, last_activity_at = $2 WHERE id = $3"
    )
    .bind::<BigInt, _>(replies)
    .bind::<Timestamp, _>(at)
    .bind::<BigInt, _>(id)
    .execute(c)
    })?;
    super::posts::place_replies(conn, id, first)?;
    Ok(counted)
}

/// Changes the title (and indexes the opening post with it).
pub fn set_title(conn: &mut Conn<'_>, id: i64, title: &str) -> QueryResult<usize> {
    use super::schema::posts;
    let changed = dispatch!(conn, |c| diesel::update(threads::table.find(id))
        .set(threads::title.eq(title))
        .execute(c))?;
    let opening: Option<i64> = dispatch!(conn, |c| posts::table
        .filter(posts::thread_id.eq(id))
        .filter(posts::is_opening)
        .select(posts::id)
        .first(c)
        .optional())?;
    if let Some(post) = opening {
        super::search::reindex(conn, post)?;
    }
    Ok(changed)
}

/// Pins or unpins.
pub fn set_pinned(conn: &mut Conn<'_>, id: i64, pinned: bool) -> QueryResult<Thread> {
    dispatch!(conn, |c| diesel::update(threads::table.find(id))
        .set(threads::pinned.eq(pinned))
        .returning(Thread::as_returning())
        .get_result(c))
}

/// Puts the thread in another forum.
pub fn set_forum(conn: &mut Conn<'_>, id: i64, forum_id: i64) -> QueryResult<Thread> {
    dispatch!(conn, |c| diesel::update(threads::table.find(id))
        .set(threads::forum_id.eq(forum_id))
        .returning(Thread::as_returning())
        .get_result(c))
}

/// Locks (with who and when) or unlocks.
pub fn set_locked(
    conn: &mut Conn<'_>,
    id: i64,
    locked: Option<(i64, NaiveDateTime)>,
) -> QueryResult<Thread> {
    dispatch!(conn, |c| diesel::update(threads::table.find(id))
        .set((
            threads::locked_by_id.eq(locked.map(|(by, _)| by)),
            threads::locked_at.eq(locked.map(|(_, at)| at)),
        ))
        .returning(Thread::as_returning())
        .get_result(c))
}

/// A thread from another server.
#[derive(Debug, Insertable)]
#[diesel(table_name = threads)]
// NULL for `None`, so the insert stays prepared (see the `db` module).
#[diesel(treat_none_as_default_value = false)]
pub struct NewRemoteThread<'a> {
    /// Forum.
    pub forum_id: i64,
    /// Author.
    pub author_id: i64,
    /// Title.
    pub title: &'a str,
    /// False.
    pub local: bool,
    /// Its id (the opening post's).
    pub ap_id: Option<&'a str>,
    /// When it was written there.
    pub created_at: NaiveDateTime,
    /// The same.
    pub last_activity_at: NaiveDateTime,
    /// Its context collection (FEP-7888), when it names one.
    pub context_url: Option<&'a str>,
}

/// Inserts a thread from another server.
pub fn insert_remote(conn: &mut Conn<'_>, new: &NewRemoteThread<'_>) -> QueryResult<Thread> {
    dispatch!(conn, |c| diesel::insert_into(threads::table)
        .values(new)
        .returning(Thread::as_returning())
        .get_result(c))
}

/// The thread with this ActivityPub id (threads from other servers).
pub fn by_ap_id(conn: &mut Conn<'_>, ap_id: &str) -> QueryResult<Option<Thread>> {
    dispatch!(conn, |c| threads::table
        .filter(threads::ap_id.eq(ap_id))
        .select(Thread::as_select())
        .first(c)
        .optional())
}

//! `thread_reads`: how far each reader has read each thread, and whether they watch it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use super::schema::{bans, forum_moderators, helpful_marks, posts, thread_reads, threads};
use super::{dispatch, Conn};

/// What a thread's page needs to know about a logged-in reader, found in one statement (on
/// PostgreSQL each statement is a round trip to the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderState {
    /// They are one of the forum's moderators (administrators are not listed).
    pub moderator: bool,
    /// A ban from the forum or the whole instance is in force (read it with
    /// `bans::in_force`).
    pub banned: bool,
    /// How many posts of the thread they have seen (none: they never opened it).
    pub posts_read: Option<i64>,
    /// They watch the thread by their own choice.
    pub watching: bool,
    /// They marked the thread's opening post helpful.
    pub opening_marked: bool,
}

/// The reader `user_id`'s state at `now` on the thread of the row it is selected with (its
/// forum and thread are `threads.forum_id` and `threads.id`), as subqueries of that row's
/// statement: each by its table's index (`forum_moderators_pair`, `bans_person`,
/// `thread_reads`'s primary key). Read it with [`ReaderState::new`].
#[diesel::dsl::auto_type(no_type_alias)]
pub(super) fn thread_state_here(user_id: i64, now: NaiveDateTime) -> _ {
    (
        diesel::dsl::exists(
            forum_moderators::table
                .filter(forum_moderators::forum_id.eq(threads::forum_id))
                .filter(forum_moderators::user_id.eq(user_id)),
        ),
        diesel::dsl::exists(
            bans::table
                .filter(bans::user_id.eq(user_id))
                .filter(
                    bans::forum_id
                        .eq(threads::forum_id.nullable())
                        .or(bans::forum_id.is_null()),
                )
                .filter(bans::expires_at.is_null().or(bans::expires_at.gt(now))),
        ),
        thread_reads::table
            .filter(thread_reads::user_id.eq(user_id))
            .filter(thread_reads::thread_id.eq(threads::id))
            .select(thread_reads::posts_read)
            .single_value(),
        thread_reads::table
            .filter(thread_reads::user_id.eq(user_id))
            .filter(thread_reads::thread_id.eq(threads::id))
            .select(thread_reads::watching)
            .single_value(),
    )
}

/// Whether the reader `user_id` marked helpful the post of the row it is selected with
/// (`posts.id`), as a subquery of that row's statement (by `helpful_marks_pair`).
#[diesel::dsl::auto_type(no_type_alias)]
pub(super) fn post_marked_here(user_id: i64) -> _ {
    diesel::dsl::exists(
        helpful_marks::table
            .filter(helpful_marks::post_id.eq(posts::id))
            .filter(helpful_marks::user_id.eq(user_id)),
    )
}

/// The columns [`thread_state_here`] reads.
pub(super) type ThreadStateRow = (bool, bool, Option<i64>, Option<bool>);

impl ReaderState {
    /// The state [`thread_state_here`] read, with whether the reader marked the opening post.
    pub(super) fn new(
        (moderator, banned, posts_read, watching): ThreadStateRow,
        opening_marked: bool,
    ) -> Self {
        ReaderState {
            moderator,
            banned,
            posts_read,
            watching: watching.unwrap_or(false),
            opening_marked,
        }
    }
}

/// How many posts of the thread the person has seen (none: they never opened it). Through the
/// primary key.
pub fn posts_read(conn: &mut Conn<'_>, user_id: i64, thread_id: i64) -> QueryResult<Option<i64>> {
    dispatch!(conn, |c| thread_reads::table
        .find((user_id, thread_id))
        .select(thread_reads::posts_read)
        .first(c)
        .optional())
}

/// Of `thread_ids`, how far the person has read each they opened: `(thread, posts read)`.
pub fn posts_read_in(
    conn: &mut Conn<'_>,
    user_id: i64,
    thread_ids: &[i64],
) -> QueryResult<Vec<(i64, i64)>> {
    if thread_ids.is_empty() {
        return Ok(Vec::new());
    }
    dispatch!(conn, |c| thread_reads::table
        .filter(thread_reads::user_id.eq(user_id))
        .filter(super::any_id(thread_reads::thread_id, thread_ids))
        .select((thread_reads::thread_id, thread_reads::posts_read))
        .load(c))
}

/// Records that the person has seen `posts_read` posts of the thread (never less than before:
/// the caller writes only when they got further).
pub fn record(
    conn: &mut Conn<'_>,
    user_id: i64,
    thread_id: i64,
    posts_read: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    // Written in SQL so that it stays prepared (see `prepared_sql`): every page a logged-in
    // reader gets further in runs it.
    dispatch!(conn, |c| super::prepared_sql(
        "INSERT INTO thread_reads (user_id, thread_id, posts_read, updated_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, thread_id) \
         DO UPDATE SET posts_read = excluded.posts_read, updated_at = excluded.updated_at"
    )
    .bind::<BigInt, _>(user_id)
    .bind::<BigInt, _>(thread_id)
    .bind::<BigInt, _>(posts_read)
    .bind::<Timestamp, _>(at)
    .execute(c))
}

/// How far the person has read the thread and whether they watch it (`None`: never chose;
/// `Some(false)`: they stopped), if they ever opened or watched it. Through the primary key.
pub fn state(
    conn: &mut Conn<'_>,
    user_id: i64,
    thread_id: i64,
) -> QueryResult<Option<(i64, Option<bool>)>> {
    dispatch!(conn, |c| thread_reads::table
        .find((user_id, thread_id))
        .select((thread_reads::posts_read, thread_reads::watching))
        .first(c)
        .optional())
}

/// Starts or stops the person watching the thread, by their own choice.
pub fn set_watching(
    conn: &mut Conn<'_>,
    user_id: i64,
    thread_id: i64,
    watching: bool,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::insert_into(thread_reads::table)
        .values((
            thread_reads::user_id.eq(user_id),
            thread_reads::thread_id.eq(thread_id),
            thread_reads::posts_read.eq(0),
            thread_reads::updated_at.eq(at),
            thread_reads::watching.eq(Some(watching)),
        ))
        .on_conflict((thread_reads::user_id, thread_reads::thread_id))
        .do_update()
        .set(thread_reads::watching.eq(Some(watching)))
        .execute(c))
}

/// Watches the thread for the person who just wrote in it, unless they once stopped watching
/// it; `posts_read` is how far a first visit counts as read (their own post, when it opens the
/// thread).
pub fn watch_unless_stopped(
    conn: &mut Conn<'_>,
    user_id: i64,
    thread_id: i64,
    posts_read: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    // One statement, written in SQL so that it stays prepared (see `prepared_sql`): every
    // local post runs it.
    dispatch!(conn, |c| super::prepared_sql(
        "INSERT INTO thread_reads (user_id, thread_id, posts_read, updated_at, watching) \
         VALUES ($1, $2, $3, $4, TRUE) ON CONFLICT (user_id, thread_id) \
         DO UPDATE SET watching = TRUE WHERE thread_reads.watching IS NULL"
    )
    .bind::<BigInt, _>(user_id)
    .bind::<BigInt, _>(thread_id)
    .bind::<BigInt, _>(posts_read)
    .bind::<Timestamp, _>(at)
    .execute(c))
}

/// Of `thread_ids`, those the person watches.
pub fn watched_among(
    conn: &mut Conn<'_>,
    user_id: i64,
    thread_ids: &[i64],
) -> QueryResult<Vec<i64>> {
    if thread_ids.is_empty() {
        return Ok(Vec::new());
    }
    dispatch!(conn, |c| thread_reads::table
        .filter(thread_reads::user_id.eq(user_id))
        .filter(super::any_id(thread_reads::thread_id, thread_ids))
        .filter(thread_reads::watching)
        .select(thread_reads::thread_id)
        .load(c))
}

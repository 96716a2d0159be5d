//! `thread_reads`: how far each reader has read each thread, and whether they watch it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::thread_reads;
use super::{dispatch, Conn};

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
        .filter(thread_reads::thread_id.eq_any(thread_ids))
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
    dispatch!(conn, |c| diesel::insert_into(thread_reads::table)
        .values((
            thread_reads::user_id.eq(user_id),
            thread_reads::thread_id.eq(thread_id),
            thread_reads::posts_read.eq(posts_read),
            thread_reads::updated_at.eq(at),
        ))
        .on_conflict((thread_reads::user_id, thread_reads::thread_id))
        .do_update()
        .set((
            thread_reads::posts_read.eq(posts_read),
            thread_reads::updated_at.eq(at),
        ))
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
    let inserted = dispatch!(conn, |c| diesel::insert_into(thread_reads::table)
        .values((
            thread_reads::user_id.eq(user_id),
            thread_reads::thread_id.eq(thread_id),
            thread_reads::posts_read.eq(posts_read),
            thread_reads::updated_at.eq(at),
            thread_reads::watching.eq(Some(true)),
        ))
        .on_conflict((thread_reads::user_id, thread_reads::thread_id))
        .do_nothing()
        .execute(c))?;
    if inserted > 0 {
        return Ok(inserted);
    }
    dispatch!(conn, |c| diesel::update(
        thread_reads::table
            .find((user_id, thread_id))
            .filter(thread_reads::watching.is_null())
    )
    .set(thread_reads::watching.eq(Some(true)))
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
        .filter(thread_reads::thread_id.eq_any(thread_ids))
        .filter(thread_reads::watching)
        .select(thread_reads::thread_id)
        .load(c))
}

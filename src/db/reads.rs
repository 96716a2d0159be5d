//! `thread_reads`: how far each reader has read each thread.

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

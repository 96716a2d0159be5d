//! `forum_watches`: the forums people watch.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::forum_watches;
use super::{dispatch, Conn};

/// Starts the person watching the forum (nothing when they already do).
pub fn watch(
    conn: &mut Conn<'_>,
    user_id: i64,
    forum_id: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::insert_into(forum_watches::table)
        .values((
            forum_watches::user_id.eq(user_id),
            forum_watches::forum_id.eq(forum_id),
            forum_watches::created_at.eq(at),
        ))
        .on_conflict((forum_watches::user_id, forum_watches::forum_id))
        .do_nothing()
        .execute(c))
}

/// Stops the person watching the forum.
pub fn unwatch(conn: &mut Conn<'_>, user_id: i64, forum_id: i64) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::delete(
        forum_watches::table.find((user_id, forum_id))
    )
    .execute(c))
}

/// Whether the person watches the forum. Through the primary key.
pub fn watches(conn: &mut Conn<'_>, user_id: i64, forum_id: i64) -> QueryResult<bool> {
    dispatch!(conn, |c| diesel::select(diesel::dsl::exists(
        forum_watches::table.find((user_id, forum_id))
    ))
    .get_result(c))
}

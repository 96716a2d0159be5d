//! `login_failures`: recent failed logins, by account (`account:NAME`) and by client address
//! (`address:IP`). Kept in the database so every Staffroom process sharing it throttles alike.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::login_failures;
use super::{dispatch, Conn};

/// Records one failure for each key.
pub fn record(conn: &mut Conn<'_>, keys: &[&str], at: NaiveDateTime) -> QueryResult<usize> {
    let rows: Vec<_> = keys
        .iter()
        .map(|k| (login_failures::key.eq(*k), login_failures::failed_at.eq(at)))
        .collect();
    dispatch!(conn, |c| diesel::insert_into(login_failures::table)
        .values(&rows)
        .execute(c))
}

/// Failures for `key` since `since`.
pub fn count_since(conn: &mut Conn<'_>, key: &str, since: NaiveDateTime) -> QueryResult<i64> {
    dispatch!(conn, |c| login_failures::table
        .filter(login_failures::key.eq(key))
        .filter(login_failures::failed_at.gt(since))
        .count()
        .get_result(c))
}

/// The oldest failure for `key` since `since` (to say when trying again will work).
pub fn oldest_since(
    conn: &mut Conn<'_>,
    key: &str,
    since: NaiveDateTime,
) -> QueryResult<Option<NaiveDateTime>> {
    dispatch!(conn, |c| login_failures::table
        .filter(login_failures::key.eq(key))
        .filter(login_failures::failed_at.gt(since))
        .select(diesel::dsl::min(login_failures::failed_at))
        .first(c))
}

/// Forgets the failures for `key` (after a successful login).
pub fn clear(conn: &mut Conn<'_>, key: &str) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::delete(
        login_failures::table.filter(login_failures::key.eq(key))
    )
    .execute(c))
}

/// Forgets failures older than `before`.
pub fn prune(conn: &mut Conn<'_>, before: NaiveDateTime) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::delete(
        login_failures::table.filter(login_failures::failed_at.le(before))
    )
    .execute(c))
}

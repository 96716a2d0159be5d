//! `login_failures`: recent failed logins, by account (`account:NAME`) and by client address
//! (`address:IP`). Kept in the database so every Staffroom process sharing it throttles alike.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::login_failures;
use super::{dispatch, Conn};

/// Records one failure for each key, returning the new rows' ids.
pub fn record(conn: &mut Conn<'_>, keys: &[&str], at: NaiveDateTime) -> QueryResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(keys.len());
    for key in keys {
        let id = dispatch!(conn, |c| diesel::insert_into(login_failures::table)
            .values((
                login_failures::key.eq(*key),
                login_failures::failed_at.eq(at)
            ))
            .returning(login_failures::id)
            .get_result(c))?;
        ids.push(id);
    }
    Ok(ids)
}

/// Takes, until the end of the current transaction, a lock for each key, so that two attempts
/// on one key count and record one after the other. On PostgreSQL an advisory lock per key; on
/// SQLite the write transaction already holds the only write lock, so nothing more is needed.
pub fn lock_keys(conn: &mut Conn<'_>, keys: &[&str]) -> QueryResult<()> {
    if let Conn::Pg(c) = conn {
        for key in keys {
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind::<diesel::sql_types::Text, _>(*key)
                .execute(*c)?;
        }
    }
    Ok(())
}

/// Forgets the failures with these ids (an attempt that turned out right).
pub fn delete(conn: &mut Conn<'_>, ids: &[i64]) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::delete(
        login_failures::table.filter(super::any_id(login_failures::id, ids))
    )
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

//! `sessions`: web logins and API tokens. Only the SHA-256 digest of a token is stored, so a
//! leaked database does not hand out logins.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{sessions, users};
use super::users::User;
use super::{dispatch, Conn};

/// A row of `sessions`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sessions)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Session {
    /// Primary key.
    pub id: i64,
    /// Whose session.
    pub user_id: i64,
    /// Digest of the token the client holds.
    pub token_hash: String,
    /// `web` (cookie) or `api` (bearer token).
    pub kind: String,
    /// When the login happened.
    pub created_at: NaiveDateTime,
    /// When it stops working.
    pub expires_at: NaiveDateTime,
}

/// A session to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    /// Whose session.
    pub user_id: i64,
    /// Digest of the token.
    pub token_hash: &'a str,
    /// `web` or `api`.
    pub kind: &'a str,
    /// Now.
    pub created_at: NaiveDateTime,
    /// Expiry.
    pub expires_at: NaiveDateTime,
}

/// Inserts a session.
pub fn insert(conn: &mut Conn<'_>, new: &NewSession<'_>) -> QueryResult<Session> {
    dispatch!(conn, |c| diesel::insert_into(sessions::table)
        .values(new)
        .returning(Session::as_returning())
        .get_result(c))
}

/// The unexpired session of this kind with this token digest, with its account.
pub fn live_with_user(
    conn: &mut Conn<'_>,
    token_hash: &str,
    kind: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(Session, User)>> {
    dispatch!(conn, |c| sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::kind.eq(kind))
        .filter(sessions::expires_at.gt(now))
        .select((Session::as_select(), User::as_select()))
        .first(c)
        .optional())
}

/// Ends the session with this token digest.
pub fn delete_by_hash(conn: &mut Conn<'_>, token_hash: &str) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::delete(
        sessions::table.filter(sessions::token_hash.eq(token_hash))
    )
    .execute(c))
}

/// Ends every session of an account except `keep` (after a password change).
pub fn delete_others(conn: &mut Conn<'_>, user_id: i64, keep: Option<i64>) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::id.ne(keep.unwrap_or(-1)))
    )
    .execute(c))
}

/// Removes expired sessions.
pub fn delete_expired(conn: &mut Conn<'_>, now: NaiveDateTime) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::delete(
        sessions::table.filter(sessions::expires_at.le(now))
    )
    .execute(c))
}

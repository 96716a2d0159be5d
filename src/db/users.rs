//! `users`: accounts, local and (later) remote.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::users;
use super::{dispatch, Conn};

/// A row of `users`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// Username: lowercase `a-z 0-9 _` for local accounts.
    pub name: String,
    /// The name shown beside posts.
    pub display_name: String,
    /// argon2id PHC string; `None` for remote people.
    pub password_hash: Option<String>,
    /// May manage forums and moderate.
    pub is_admin: bool,
    /// Lives on this instance.
    pub local: bool,
    /// Home domain of a remote person.
    pub domain: Option<String>,
    /// ActivityPub id of a remote person; local ids derive from `server.public_url`.
    pub ap_id: Option<String>,
    /// When the account was created.
    pub created_at: NaiveDateTime,
    /// When the account last changed.
    pub updated_at: NaiveDateTime,
}

/// A local account to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewLocalUser<'a> {
    /// Username (already parsed).
    pub name: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// argon2id hash.
    pub password_hash: &'a str,
    /// Administrator?
    pub is_admin: bool,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Same as `created_at`.
    pub updated_at: NaiveDateTime,
}

/// Inserts a local account.
pub fn insert_local(conn: &mut Conn<'_>, new: &NewLocalUser<'_>) -> QueryResult<User> {
    dispatch!(conn, |c| diesel::insert_into(users::table)
        .values(new)
        .returning(User::as_returning())
        .get_result(c))
}

/// The local account with this (lowercase) name.
///
/// Boolean conditions that match a partial index's `WHERE` are written as bare columns, never
/// `= ?`: a bound parameter keeps SQLite and PostgreSQL from using the partial index.
pub fn local_by_name(conn: &mut Conn<'_>, name: &str) -> QueryResult<Option<User>> {
    dispatch!(conn, |c| users::table
        .filter(users::local)
        .filter(users::name.eq(name))
        .select(User::as_select())
        .first(c)
        .optional())
}

/// Whether any administrator exists.
pub fn admin_exists(conn: &mut Conn<'_>) -> QueryResult<bool> {
    dispatch!(conn, |c| diesel::select(diesel::dsl::exists(
        users::table.filter(users::is_admin)
    ))
    .get_result(c))
}

/// Replaces an account's password hash.
pub fn set_password_hash(
    conn: &mut Conn<'_>,
    id: i64,
    hash: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(at)))
        .execute(c))
}

/// Accounts on this instance (for NodeInfo).
pub fn count_local(conn: &mut Conn<'_>) -> QueryResult<i64> {
    dispatch!(conn, |c| users::table
        .filter(users::local)
        .count()
        .get_result(c))
}

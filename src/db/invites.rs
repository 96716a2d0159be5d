//! `invites`: single-use invitations to register, made by administrators.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::invites;
use super::{dispatch, Conn};

/// An invitation.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invites)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Invite {
    /// Row id.
    pub id: i64,
    /// Digest of the code (the code itself is shown once, when made).
    pub code_hash: String,
    /// Who it is for, as the administrator noted it.
    pub note: String,
    /// The administrator who made it.
    pub created_by_id: Option<i64>,
    /// When.
    pub created_at: NaiveDateTime,
    /// When it stops working; `None`: when used.
    pub expires_at: Option<NaiveDateTime>,
    /// Who registered with it.
    pub used_by_id: Option<i64>,
    /// When.
    pub used_at: Option<NaiveDateTime>,
}

/// An invitation to make.
#[derive(Debug, Insertable)]
#[diesel(table_name = invites)]
// NULL for `None`, so the insert stays prepared (see the `db` module).
#[diesel(treat_none_as_default_value = false)]
pub struct NewInvite<'a> {
    /// Digest of the code.
    pub code_hash: &'a str,
    /// Who it is for.
    pub note: &'a str,
    /// The administrator.
    pub created_by_id: Option<i64>,
    /// Now.
    pub created_at: NaiveDateTime,
    /// When it stops working.
    pub expires_at: Option<NaiveDateTime>,
}

/// Stores an invitation.
pub fn insert(conn: &mut Conn<'_>, invite: &NewInvite<'_>) -> QueryResult<Invite> {
    dispatch!(conn, |c| diesel::insert_into(invites::table)
        .values(invite)
        .returning(Invite::as_returning())
        .get_result(c))
}

/// Uses the invitation with this code digest for `user_id`, if it is unused and has not
/// expired at `now`: one statement, so two registrations cannot both use it.
pub fn use_code(
    conn: &mut Conn<'_>,
    code_hash: &str,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Option<Invite>> {
    dispatch!(conn, |c| diesel::update(
        invites::table
            .filter(invites::code_hash.eq(code_hash))
            .filter(invites::used_at.is_null())
            .filter(
                invites::expires_at
                    .is_null()
                    .or(invites::expires_at.gt(now))
            )
    )
    .set((invites::used_by_id.eq(user_id), invites::used_at.eq(now)))
    .returning(Invite::as_returning())
    .get_result(c)
    .optional())
}

/// Whether an unused, unexpired invitation has this code digest.
pub fn usable(conn: &mut Conn<'_>, code_hash: &str, now: NaiveDateTime) -> QueryResult<bool> {
    dispatch!(conn, |c| diesel::select(diesel::dsl::exists(
        invites::table
            .filter(invites::code_hash.eq(code_hash))
            .filter(invites::used_at.is_null())
            .filter(
                invites::expires_at
                    .is_null()
                    .or(invites::expires_at.gt(now))
            )
    ))
    .get_result(c))
}

/// Every invitation, newest first (an instance makes few).
pub fn all(conn: &mut Conn<'_>) -> QueryResult<Vec<Invite>> {
    dispatch!(conn, |c| invites::table
        .order(invites::id.desc())
        .select(Invite::as_select())
        .load(c))
}

/// Withdraws an unused invitation; whether there was one.
pub fn revoke(conn: &mut Conn<'_>, id: i64) -> QueryResult<bool> {
    let deleted = dispatch!(conn, |c| diesel::delete(
        invites::table.find(id).filter(invites::used_at.is_null())
    )
    .execute(c))?;
    Ok(deleted > 0)
}

//! `forum_members`: who may read and post in a members-only forum.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{forum_members, forum_moderators, users};
use super::users::User;
use super::{dispatch, Conn};

/// A membership, with who granted it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = forum_members)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Membership {
    /// Row id.
    pub id: i64,
    /// The forum.
    pub forum_id: i64,
    /// The member.
    pub user_id: i64,
    /// Who added them (none once that account is gone).
    pub added_by_id: Option<i64>,
    /// When.
    pub created_at: NaiveDateTime,
}

/// Whether the person is a member of the forum, or one of its moderators (one query through
/// `forum_members_pair` and `forum_moderators_pair`).
pub fn is_member_or_moderator(
    conn: &mut Conn<'_>,
    forum_id: i64,
    user_id: i64,
) -> QueryResult<bool> {
    dispatch!(conn, |c| diesel::select(
        diesel::dsl::exists(
            forum_members::table
                .filter(forum_members::forum_id.eq(forum_id))
                .filter(forum_members::user_id.eq(user_id))
        )
        .or(diesel::dsl::exists(
            forum_moderators::table
                .filter(forum_moderators::forum_id.eq(forum_id))
                .filter(forum_moderators::user_id.eq(user_id))
        ))
    )
    .get_result(c))
}

/// Of `forum_ids`, those the person is a member or a moderator of.
pub fn forums_of(conn: &mut Conn<'_>, user_id: i64, forum_ids: &[i64]) -> QueryResult<Vec<i64>> {
    if forum_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<i64> = dispatch!(conn, |c| forum_members::table
        .filter(forum_members::user_id.eq(user_id))
        .filter(super::any_id(forum_members::forum_id, forum_ids))
        .select(forum_members::forum_id)
        .load(c))?;
    ids.extend(dispatch!(conn, |c| forum_moderators::table
        .filter(forum_moderators::user_id.eq(user_id))
        .filter(super::any_id(forum_moderators::forum_id, forum_ids))
        .select(forum_moderators::forum_id)
        .load::<i64>(c))?);
    Ok(ids)
}

/// Makes the person a member; false if they were one already.
pub fn add(
    conn: &mut Conn<'_>,
    forum_id: i64,
    user_id: i64,
    added_by: Option<i64>,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let added = dispatch!(conn, |c| diesel::insert_into(forum_members::table)
        .values((
            forum_members::forum_id.eq(forum_id),
            forum_members::user_id.eq(user_id),
            forum_members::added_by_id.eq(added_by),
            forum_members::created_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(added > 0)
}

/// Takes the person off the forum's members; false if they were not one.
pub fn remove(conn: &mut Conn<'_>, forum_id: i64, user_id: i64) -> QueryResult<bool> {
    let removed = dispatch!(conn, |c| diesel::delete(
        forum_members::table
            .filter(forum_members::forum_id.eq(forum_id))
            .filter(forum_members::user_id.eq(user_id))
    )
    .execute(c))?;
    Ok(removed > 0)
}

/// The forum's members with their memberships, in the order they were added.
pub fn of_forum(conn: &mut Conn<'_>, forum_id: i64) -> QueryResult<Vec<(Membership, User)>> {
    // Found through `forum_members_pair`, put in order here.
    let mut rows: Vec<(Membership, User)> = dispatch!(conn, |c| forum_members::table
        .inner_join(users::table.on(users::id.eq(forum_members::user_id)))
        .filter(forum_members::forum_id.eq(forum_id))
        .select((Membership::as_select(), User::as_select()))
        .load(c))?;
    rows.sort_by_key(|(m, _)| m.id);
    Ok(rows)
}

/// Ends every membership and moderator's appointment of a person (their account is deleted).
pub fn forget_person(conn: &mut Conn<'_>, user_id: i64) -> QueryResult<usize> {
    let members = dispatch!(conn, |c| diesel::delete(
        forum_members::table.filter(forum_members::user_id.eq(user_id))
    )
    .execute(c))?;
    let moderators = dispatch!(conn, |c| diesel::delete(
        forum_moderators::table.filter(forum_moderators::user_id.eq(user_id))
    )
    .execute(c))?;
    Ok(members + moderators)
}

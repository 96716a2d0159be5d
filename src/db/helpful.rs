//! `helpful_marks`: who marked which post helpful (ActivityPub `Like`), with the count kept on
//! the post so pages need no extra query.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{helpful_marks, posts};
use super::{dispatch, Conn};

/// One mark.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = helpful_marks)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Mark {
    /// Row id.
    pub id: i64,
    /// The post.
    pub post_id: i64,
    /// Who marked it.
    pub user_id: i64,
    /// The Like activity's id.
    pub like_ap_id: String,
    /// When.
    pub created_at: NaiveDateTime,
}

/// Marks a post helpful for a person; false if they had already (nothing changes then).
pub fn add(
    conn: &mut Conn<'_>,
    post_id: i64,
    user_id: i64,
    like_ap_id: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let added = dispatch!(conn, |c| diesel::insert_into(helpful_marks::table)
        .values((
            helpful_marks::post_id.eq(post_id),
            helpful_marks::user_id.eq(user_id),
            helpful_marks::like_ap_id.eq(like_ap_id),
            helpful_marks::created_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    if added > 0 {
        dispatch!(conn, |c| diesel::update(posts::table.find(post_id))
            .set(posts::helpful_count.eq(posts::helpful_count + 1))
            .execute(c))?;
    }
    Ok(added > 0)
}

/// Removes a person's mark from a post; returns it if there was one.
pub fn remove(conn: &mut Conn<'_>, post_id: i64, user_id: i64) -> QueryResult<Option<Mark>> {
    let mark = find(conn, post_id, user_id)?;
    if let Some(mark) = &mark {
        dispatch!(conn, |c| diesel::delete(helpful_marks::table.find(mark.id))
            .execute(c))?;
        dispatch!(conn, |c| diesel::update(posts::table.find(post_id))
            .set(posts::helpful_count.eq(posts::helpful_count - 1))
            .execute(c))?;
    }
    Ok(mark)
}

/// A person's mark on a post.
pub fn find(conn: &mut Conn<'_>, post_id: i64, user_id: i64) -> QueryResult<Option<Mark>> {
    dispatch!(conn, |c| helpful_marks::table
        .filter(helpful_marks::post_id.eq(post_id))
        .filter(helpful_marks::user_id.eq(user_id))
        .select(Mark::as_select())
        .first(c)
        .optional())
}

/// The mark made by the Like with this id.
pub fn by_like_ap_id(conn: &mut Conn<'_>, like_ap_id: &str) -> QueryResult<Option<Mark>> {
    dispatch!(conn, |c| helpful_marks::table
        .filter(helpful_marks::like_ap_id.eq(like_ap_id))
        .select(Mark::as_select())
        .first(c)
        .optional())
}

/// Which of `post_ids` a person marked helpful (for one page of a thread).
pub fn marked_by(conn: &mut Conn<'_>, user_id: i64, post_ids: &[i64]) -> QueryResult<Vec<i64>> {
    dispatch!(conn, |c| helpful_marks::table
        .filter(helpful_marks::user_id.eq(user_id))
        .filter(super::any_id(helpful_marks::post_id, post_ids))
        .select(helpful_marks::post_id)
        .load(c))
}

//! `post_mentions`: the people each post mentions.

use diesel::prelude::*;

use super::schema::{post_mentions, users};
use super::users::User;
use super::{dispatch, Conn};

/// Makes `user_ids` the people the post mentions (replacing any it mentioned before).
pub fn set(conn: &mut Conn<'_>, post_id: i64, user_ids: &[i64]) -> QueryResult<()> {
    dispatch!(conn, |c| diesel::delete(
        post_mentions::table.filter(post_mentions::post_id.eq(post_id))
    )
    .execute(c))?;
    if user_ids.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = user_ids
        .iter()
        .map(|&user_id| {
            (
                post_mentions::post_id.eq(post_id),
                post_mentions::user_id.eq(user_id),
            )
        })
        .collect();
    dispatch!(conn, |c| diesel::insert_into(post_mentions::table)
        .values(&rows)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// The people each of `post_ids` mentions: `(post, person)`, by post, then by person's id.
pub fn of_posts(conn: &mut Conn<'_>, post_ids: &[i64]) -> QueryResult<Vec<(i64, User)>> {
    if post_ids.is_empty() {
        return Ok(Vec::new());
    }
    dispatch!(conn, |c| post_mentions::table
        .inner_join(users::table)
        .filter(super::any_id(post_mentions::post_id, post_ids))
        .select((post_mentions::post_id, User::as_select()))
        .order((post_mentions::post_id, post_mentions::user_id))
        .load(c))
}

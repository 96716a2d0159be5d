//! Posts from other servers: stored once by their ActivityPub id, and found by it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::posts::{provisional_position, Post};
use super::schema::posts;
use super::{dispatch, Conn};

/// A post from another server (stored with `local` false).
#[derive(Debug, Insertable)]
#[diesel(table_name = posts)]
// NULL for `None`, so the insert stays prepared (see the `db` module).
#[diesel(treat_none_as_default_value = false)]
pub struct NewRemotePost<'a> {
    /// Thread.
    pub thread_id: i64,
    /// Author.
    pub author_id: i64,
    /// The post answered.
    pub in_reply_to_id: Option<i64>,
    /// Opening post?
    pub is_opening: bool,
    /// Markdown source, when the sender gave one.
    pub body_markdown: &'a str,
    /// Sanitized HTML.
    pub body_html: &'a str,
    /// Its id.
    pub ap_id: Option<&'a str>,
    /// When it was written there.
    pub created_at: NaiveDateTime,
    /// When it was last edited there.
    pub edited_at: Option<NaiveDateTime>,
}

/// Inserts a post from another server; `None` when a post with its ActivityPub id is here
/// already (nothing is inserted then). Its words are the caller's to index
/// ([`super::search::index_each`]), with others of its batch.
pub fn insert_remote(conn: &mut Conn<'_>, new: &NewRemotePost<'_>) -> QueryResult<Option<Post>> {
    if new.is_opening {
        dispatch!(conn, |c| diesel::insert_into(posts::table)
            .values((new, posts::local.eq(false), posts::position.eq(None::<i64>)))
            .on_conflict(posts::ap_id)
            .do_nothing()
            .returning(Post::as_returning())
            .get_result(c)
            .optional())
    } else {
        dispatch!(conn, |c| diesel::insert_into(posts::table)
            .values((
                new,
                posts::local.eq(false),
                posts::position.eq(provisional_position!(new.thread_id))
            ))
            .on_conflict(posts::ap_id)
            .do_nothing()
            .returning(Post::as_returning())
            .get_result(c)
            .optional())
    }
}

/// Which of these ActivityPub ids are posts here already (in chunks the databases take).
pub fn known_ap_ids(
    conn: &mut Conn<'_>,
    ap_ids: &[String],
) -> QueryResult<std::collections::HashSet<String>> {
    let mut known = std::collections::HashSet::new();
    for chunk in ap_ids.chunks(500) {
        let found: Vec<Option<String>> = dispatch!(conn, |c| posts::table
            .filter(posts::ap_id.eq_any(chunk))
            .select(posts::ap_id)
            .load(c))?;
        known.extend(found.into_iter().flatten());
    }
    Ok(known)
}

/// The post with this ActivityPub id (posts from other servers).
pub fn by_ap_id(conn: &mut Conn<'_>, ap_id: &str) -> QueryResult<Option<Post>> {
    dispatch!(conn, |c| posts::table
        .filter(posts::ap_id.eq(ap_id))
        .select(Post::as_select())
        .first(c)
        .optional())
}

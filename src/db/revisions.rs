//! `post_revisions`: the earlier versions of edited posts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::post_revisions;
use super::{dispatch, Conn};

/// A row of `post_revisions`: one earlier version.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = post_revisions)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Revision {
    /// Primary key.
    pub id: i64,
    /// The post.
    pub post_id: i64,
    /// The thread title at the time, for opening posts.
    pub title: Option<String>,
    /// The Markdown of that version.
    pub body_markdown: String,
    /// Its rendered HTML.
    pub body_html: String,
    /// When that version was written.
    pub written_at: NaiveDateTime,
    /// When an edit replaced it.
    pub replaced_at: NaiveDateTime,
}

/// A revision to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = post_revisions)]
// NULL for `None`, so the insert stays prepared (see the `db` module).
#[diesel(treat_none_as_default_value = false)]
pub struct NewRevision<'a> {
    /// The post.
    pub post_id: i64,
    /// Old title.
    pub title: Option<&'a str>,
    /// Old Markdown.
    pub body_markdown: &'a str,
    /// Old HTML.
    pub body_html: &'a str,
    /// When it was written.
    pub written_at: NaiveDateTime,
    /// Now.
    pub replaced_at: NaiveDateTime,
}

/// Keeps an earlier version.
pub fn insert(conn: &mut Conn<'_>, new: &NewRevision<'_>) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::insert_into(post_revisions::table)
        .values(new)
        .execute(c))
}

/// A post's earlier versions, oldest first.
pub fn for_post(conn: &mut Conn<'_>, post_id: i64) -> QueryResult<Vec<Revision>> {
    dispatch!(conn, |c| post_revisions::table
        .filter(post_revisions::post_id.eq(post_id))
        .order(post_revisions::id.asc())
        .select(Revision::as_select())
        .load(c))
}

/// Erases the earlier versions of everything a person wrote.
pub fn delete_by_author(conn: &mut Conn<'_>, author_id: i64) -> QueryResult<usize> {
    use super::schema::posts;
    dispatch!(conn, |c| diesel::delete(
        post_revisions::table.filter(
            post_revisions::post_id.eq_any(
                posts::table
                    .filter(posts::author_id.eq(author_id))
                    .select(posts::id)
            )
        )
    )
    .execute(c))
}

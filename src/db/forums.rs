//! `forums`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::forums;
use super::{dispatch, Conn};

/// A row of `forums`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = forums)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Forum {
    /// Primary key.
    pub id: i64,
    /// Short name used in URLs (`/f/{name}`).
    pub name: String,
    /// Title shown on pages.
    pub title: String,
    /// One-paragraph description.
    pub description: String,
    /// Lives on this instance.
    pub local: bool,
    /// Home domain of a remote forum.
    pub domain: Option<String>,
    /// ActivityPub id of a remote forum.
    pub ap_id: Option<String>,
    /// Archived forums are read-only.
    pub archived: bool,
    /// Threads in the forum.
    pub thread_count: i64,
    /// Posts (opening posts and replies) in the forum.
    pub post_count: i64,
    /// When the last thread or reply was posted.
    pub last_activity_at: Option<NaiveDateTime>,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Last change to name, title, description or archive state.
    pub updated_at: NaiveDateTime,
}

/// A local forum to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = forums)]
pub struct NewLocalForum<'a> {
    /// URL name.
    pub name: &'a str,
    /// Title.
    pub title: &'a str,
    /// Description.
    pub description: &'a str,
    /// Now.
    pub created_at: NaiveDateTime,
    /// Now.
    pub updated_at: NaiveDateTime,
}

/// Inserts a local forum.
pub fn insert_local(conn: &mut Conn<'_>, new: &NewLocalForum<'_>) -> QueryResult<Forum> {
    dispatch!(conn, |c| diesel::insert_into(forums::table)
        .values(new)
        .returning(Forum::as_returning())
        .get_result(c))
}

/// The local forum with this name.
pub fn local_by_name(conn: &mut Conn<'_>, name: &str) -> QueryResult<Option<Forum>> {
    dispatch!(conn, |c| forums::table
        .filter(forums::local)
        .filter(forums::name.eq(name))
        .select(Forum::as_select())
        .first(c)
        .optional())
}

/// The forum with this id.
pub fn by_id(conn: &mut Conn<'_>, id: i64) -> QueryResult<Option<Forum>> {
    dispatch!(conn, |c| forums::table
        .find(id)
        .select(Forum::as_select())
        .first(c)
        .optional())
}

/// Every forum, open ones first, then by title.
pub fn all(conn: &mut Conn<'_>) -> QueryResult<Vec<Forum>> {
    dispatch!(conn, |c| forums::table
        .order((
            forums::archived.asc(),
            forums::title.asc(),
            forums::id.asc()
        ))
        .select(Forum::as_select())
        .load(c))
}

/// Sets title, description and archive state.
pub fn update(
    conn: &mut Conn<'_>,
    id: i64,
    title: &str,
    description: &str,
    archived: bool,
    at: NaiveDateTime,
) -> QueryResult<Forum> {
    dispatch!(conn, |c| diesel::update(forums::table.find(id))
        .set((
            forums::title.eq(title),
            forums::description.eq(description),
            forums::archived.eq(archived),
            forums::updated_at.eq(at),
        ))
        .returning(Forum::as_returning())
        .get_result(c))
}

/// Counts a new post (and a new thread when `new_thread`) and moves the latest activity.
pub fn count_post(
    conn: &mut Conn<'_>,
    id: i64,
    new_thread: bool,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let threads_added: i64 = if new_thread { 1 } else { 0 };
    dispatch!(conn, |c| diesel::update(forums::table.find(id))
        .set((
            forums::thread_count.eq(forums::thread_count + threads_added),
            forums::post_count.eq(forums::post_count + 1),
            forums::last_activity_at.eq(at),
        ))
        .execute(c))
}

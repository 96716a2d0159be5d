//! What a page of a thread reads: its opening post, a window of its replies by their
//! positions, and the posts those replies answer. Each author is read as an [`Author`], the
//! part of their row a page shows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::forums::Forum;
use super::posts::{opening_joined, Post};
use super::reads::{post_marked_here, thread_state_here, ReaderState, ThreadStateRow};
use super::schema::{forums, helpful_marks, posts, threads, users};
use super::threads::Thread;
use super::users::Author;
use super::{dispatch, Conn};

/// [`super::posts::opening_with_context`] as a page of the thread shows it: the author as an
/// [`Author`].
pub fn opening_for_page(
    conn: &mut Conn<'_>,
    thread_id: i64,
) -> QueryResult<Option<(Post, Author, Thread, Forum)>> {
    dispatch!(conn, |c| opening_joined(thread_id)
        .select((
            Post::as_select(),
            Author::as_select(),
            Thread::as_select(),
            Forum::as_select(),
        ))
        .first(c)
        .optional())
}

/// A thread's opening post, its author, the thread, its forum and a reader's state on it.
pub type OpeningForReader = (Post, Author, Thread, Forum, ReaderState);

/// [`opening_for_page`] for the logged-in reader `user_id` at `now`, with their state on the
/// thread ([`ReaderState`]) in the same statement (on PostgreSQL each statement is a round trip).
pub fn opening_for_reader(
    conn: &mut Conn<'_>,
    thread_id: i64,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Option<OpeningForReader>> {
    let found = dispatch!(conn, |c| opening_joined(thread_id)
        .select((
            Post::as_select(),
            Author::as_select(),
            Thread::as_select(),
            Forum::as_select(),
            thread_state_here(user_id, now),
            post_marked_here(user_id),
        ))
        .first::<(Post, Author, Thread, Forum, ThreadStateRow, bool)>(c)
        .optional())?;
    Ok(found.map(|(post, author, thread, forum, state, marked)| {
        (post, author, thread, forum, ReaderState::new(state, marked))
    }))
}

/// A thread and its forum: what a page whose posts were kept reads again, to know they are
/// still the thread's.
pub fn thread_with_forum(
    conn: &mut Conn<'_>,
    thread_id: i64,
) -> QueryResult<Option<(Thread, Forum)>> {
    dispatch!(conn, |c| threads::table
        .inner_join(forums::table)
        .filter(threads::id.eq(thread_id))
        .select((Thread::as_select(), Forum::as_select()))
        .first(c)
        .optional())
}

/// [`thread_with_forum`] for the logged-in reader `user_id` at `now`, with their state on the
/// thread in the same statement: all of [`ReaderState`] but whether they marked the opening
/// post (`opening_marked` is false), which the caller reads with the marks on the page's other
/// posts.
pub fn thread_for_reader(
    conn: &mut Conn<'_>,
    thread_id: i64,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Option<(Thread, Forum, ReaderState)>> {
    let found = dispatch!(conn, |c| threads::table
        .inner_join(forums::table)
        .filter(threads::id.eq(thread_id))
        .select((
            Thread::as_select(),
            Forum::as_select(),
            thread_state_here(user_id, now),
        ))
        .first::<(Thread, Forum, ThreadStateRow)>(c)
        .optional())?;
    Ok(found.map(|(thread, forum, state)| (thread, forum, ReaderState::new(state, false))))
}

/// The replies of `thread_id` after the first `after`, up to and including the `last`-th.
#[diesel::dsl::auto_type(no_type_alias)]
fn in_window(thread_id: i64, after: i64, last: i64) -> _ {
    posts::thread_id
        .eq(thread_id)
        .and(posts::position.gt(after))
        .and(posts::position.le(last))
}

/// One page of a thread's replies with their authors, oldest first: those after the first
/// `offset`, by their positions (a deep page costs what the first does). Served by the index
/// `posts_thread_positions`.
pub fn replies_page(
    conn: &mut Conn<'_>,
    thread_id: i64,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<(Post, Author)>> {
    dispatch!(conn, |c| posts::table
        .inner_join(users::table)
        .filter(in_window(thread_id, offset, offset.saturating_add(limit)))
        .order(posts::position.asc())
        .limit(limit)
        .select((Post::as_select(), Author::as_select()))
        .load(c))
}

/// [`replies_page`] as the reader `viewer` sees it: each reply also with whether they marked
/// it helpful (through `helpful_marks_pair`), in the same statement.
pub fn replies_page_for(
    conn: &mut Conn<'_>,
    thread_id: i64,
    (limit, offset): (i64, i64),
    viewer: i64,
) -> QueryResult<Vec<(Post, Author, bool)>> {
    dispatch!(conn, |c| posts::table
        .inner_join(users::table)
        .left_join(
            helpful_marks::table.on(helpful_marks::post_id
                .eq(posts::id)
                .and(helpful_marks::user_id.eq(viewer))),
        )
        .filter(in_window(thread_id, offset, offset.saturating_add(limit)))
        .order(posts::position.asc())
        .limit(limit)
        .select((
            Post::as_select(),
            Author::as_select(),
            helpful_marks::id.nullable().is_not_null(),
        ))
        .load(c))
}

/// The post a reply answers, as a page links to it: where it is and who wrote it.
#[derive(Debug, Clone, Queryable)]
pub struct ParentRef {
    /// The post.
    pub id: i64,
    /// Its thread.
    pub thread_id: i64,
    /// The thread's opening post (linked as the thread itself).
    pub is_opening: bool,
    /// Its author's display name.
    pub author: String,
}

impl ParentRef {
    /// The link to `post` written by `author`.
    pub fn of(post: &Post, author: &Author) -> ParentRef {
        ParentRef {
            id: post.id,
            thread_id: post.thread_id,
            is_opening: post.is_opening,
            author: author.display_name.clone(),
        }
    }
}

/// [`ParentRef`]s of the posts `ids`, in no particular order: one query.
pub fn parent_refs(conn: &mut Conn<'_>, ids: &[i64]) -> QueryResult<Vec<ParentRef>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    dispatch!(conn, |c| posts::table
        .inner_join(users::table)
        .filter(super::any_id(posts::id, ids))
        .select((
            posts::id,
            posts::thread_id,
            posts::is_opening,
            users::display_name,
        ))
        .load(c))
}

//! `posts`: opening posts and replies.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::forums::Forum;
use super::schema::{forums, posts, threads, users};
use super::threads::Thread;
use super::users::User;
use super::{dispatch, Conn};

/// A row of `posts`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = posts)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Post {
    /// Primary key; a reply lives at `/p/{id}`.
    pub id: i64,
    /// The thread it belongs to.
    pub thread_id: i64,
    /// Who wrote it.
    pub author_id: i64,
    /// The earlier post this one answers, if any.
    pub in_reply_to_id: Option<i64>,
    /// The thread's opening post (exactly one per thread).
    pub is_opening: bool,
    /// The Markdown the author wrote.
    pub body_markdown: String,
    /// Sanitized HTML rendered from it.
    pub body_html: String,
    /// Written on this instance.
    pub local: bool,
    /// ActivityPub id of a remote post.
    pub ap_id: Option<String>,
    /// When it was written.
    pub created_at: NaiveDateTime,
    /// When it was last edited.
    pub edited_at: Option<NaiveDateTime>,
    /// When it was deleted; the row stays as a placeholder so the thread still reads.
    pub deleted_at: Option<NaiveDateTime>,
    /// How many people marked it helpful.
    pub helpful_count: i64,
    /// When a moderator removed it: hidden from readers, shown to moderators, restorable.
    pub removed_at: Option<NaiveDateTime>,
    /// The moderator who removed it.
    pub removed_by_id: Option<i64>,
    /// Why it was removed.
    pub removal_reason: Option<String>,
    /// A reply's place in its thread, from 1 in the order replies were written (see
    /// [`place_replies`]); `None` for an opening post.
    pub position: Option<i64>,
}

impl Post {
    /// Whether readers see its words: not deleted by its author, nor removed by a moderator.
    pub fn readable(&self) -> bool {
        self.deleted_at.is_none() && self.removed_at.is_none()
    }
}

/// A local post to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = posts)]
// NULL for `None`, so the insert stays prepared (see the `db` module).
#[diesel(treat_none_as_default_value = false)]
pub struct NewLocalPost<'a> {
    /// Thread.
    pub thread_id: i64,
    /// Author.
    pub author_id: i64,
    /// The post answered.
    pub in_reply_to_id: Option<i64>,
    /// Opening post?
    pub is_opening: bool,
    /// Markdown.
    pub body_markdown: &'a str,
    /// Rendered HTML.
    pub body_html: &'a str,
    /// Now.
    pub created_at: NaiveDateTime,
}

/// Inserts a local post.
pub fn insert_local(conn: &mut Conn<'_>, new: &NewLocalPost<'_>) -> QueryResult<Post> {
    if new.is_opening {
        dispatch!(conn, |c| diesel::insert_into(posts::table)
            .values((new, posts::position.eq(None::<i64>)))
            .returning(Post::as_returning())
            .get_result(c))
    } else {
        dispatch!(conn, |c| diesel::insert_into(posts::table)
            .values((
                new,
                posts::position.eq(provisional_position!(new.thread_id))
            ))
            .returning(Post::as_returning())
            .get_result(c))
    }
}

diesel::define_sql_function! {
    /// SQL's `COALESCE` of a number that may be missing and the number to use then (typed as
    /// the nullable column it is written to).
    fn coalesce(x: diesel::sql_types::Nullable<diesel::sql_types::BigInt>, y: diesel::sql_types::BigInt) -> diesel::sql_types::Nullable<diesel::sql_types::BigInt>;
}

/// A new reply's position as it is written: after the thread's last, found by the insert
/// itself (a subquery, not a statement of its own). Right unless another transaction adds a
/// reply to the thread meanwhile, or the reply was written before others here (from
/// elsewhere, late): [`place_replies`] makes it right before the commit, writing only what is
/// wrong. (Written with the row, a reply needs no second write, which on PostgreSQL would leave
/// a dead row and new entries in every index of `posts`.)
macro_rules! provisional_position {
    ($thread_id:expr) => {
        $crate::db::posts::coalesce(
            $crate::db::schema::posts::table
                .filter($crate::db::schema::posts::thread_id.eq($thread_id))
                .select(diesel::dsl::max($crate::db::schema::posts::position))
                .single_value(),
            0_i64,
        ) + 1_i64
    };
}
pub(super) use provisional_position;

/// Removes (with who, when and why) or restores a post.
pub fn set_removed(
    conn: &mut Conn<'_>,
    id: i64,
    removed: Option<(i64, NaiveDateTime, &str)>,
) -> QueryResult<Post> {
    dispatch!(conn, |c| diesel::update(posts::table.find(id))
        .set((
            posts::removed_at.eq(removed.map(|(_, at, _)| at)),
            posts::removed_by_id.eq(removed.map(|(by, _, _)| by)),
            posts::removal_reason.eq(removed.map(|(_, _, why)| why)),
        ))
        .returning(Post::as_returning())
        .get_result(c))
}

/// Sets the rendered HTML (rendering needs the post's id for its anchors), and indexes it.
pub fn set_html(conn: &mut Conn<'_>, post: Post, html: String) -> QueryResult<Post> {
    use diesel::sql_types::{BigInt, Text};
    // Written in SQL so that it stays prepared (see `prepared_sql`): every local post runs it.
    dispatch!(conn, |c| super::prepared_sql(
        "UPDATE posts SET body_html = $1 WHERE id = $2"
    )
    .bind::<Text, _>(&html)
    .bind::<BigInt, _>(post.id)
    .execute(c))?;
    let post = Post {
        body_html: html,
        ..post
    };
    index_words(conn, &post)?;
    Ok(post)
}

/// Indexes a new post's words for search: an opening post with its thread's title (read
/// again), a reply from its HTML as it stands.
pub(super) fn index_words(conn: &mut Conn<'_>, post: &Post) -> QueryResult<()> {
    if post.is_opening {
        super::search::reindex(conn, post.id)
    } else {
        super::search::index(conn, post.id, "", &post.body_html)
    }
}

/// The post with this id.
pub fn by_id(conn: &mut Conn<'_>, id: i64) -> QueryResult<Option<Post>> {
    dispatch!(conn, |c| posts::table
        .find(id)
        .select(Post::as_select())
        .first(c)
        .optional())
}

/// A post with its author, thread and forum: one query.
pub fn with_context(
    conn: &mut Conn<'_>,
    id: i64,
) -> QueryResult<Option<(Post, User, Thread, Forum)>> {
    dispatch!(conn, |c| posts::table
        .inner_join(users::table)
        .inner_join(threads::table.inner_join(forums::table))
        .filter(posts::id.eq(id))
        .select((
            Post::as_select(),
            User::as_select(),
            Thread::as_select(),
            Forum::as_select(),
        ))
        .first(c)
        .optional())
}

/// Posts with their authors, threads and forums, in no particular order: one query.
pub fn many_with_context(
    conn: &mut Conn<'_>,
    ids: &[i64],
) -> QueryResult<Vec<(Post, User, Thread, Forum)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    dispatch!(conn, |c| posts::table
        .inner_join(users::table)
        .inner_join(threads::table.inner_join(forums::table))
        .filter(super::any_id(posts::id, ids))
        .select((
            Post::as_select(),
            User::as_select(),
            Thread::as_select(),
            Forum::as_select(),
        ))
        .load(c))
}

/// A thread's opening post joined to its author, the thread and its forum.
#[diesel::dsl::auto_type(no_type_alias)]
pub(super) fn opening_joined(thread_id: i64) -> _ {
    posts::table
        .inner_join(users::table)
        .inner_join(threads::table.inner_join(forums::table))
        .filter(posts::thread_id.eq(thread_id))
        .filter(posts::is_opening)
}

/// A thread's opening post with its author, the thread and its forum: one query.
pub fn opening_with_context(
    conn: &mut Conn<'_>,
    thread_id: i64,
) -> QueryResult<Option<(Post, User, Thread, Forum)>> {
    dispatch!(conn, |c| opening_joined(thread_id)
        .select((
            Post::as_select(),
            User::as_select(),
            Thread::as_select(),
            Forum::as_select(),
        ))
        .first(c)
        .optional())
}

/// Makes the positions of a thread's new replies right, `first` (`created_at`, id) being the
/// earliest of them: each reply from it on numbered after the reply before it, by
/// `created_at` then id, writing only the positions that are wrong (in the usual case none:
/// see `provisional_position!`; a reply from elsewhere that was written before others here
/// moves those after it on). Called with the count of new replies
/// (`threads::count_replies`), after the thread's row is updated: on PostgreSQL that update
/// holds the row until the commit, so that two transactions adding replies to one thread are
/// placed one after the other, each seeing the other's.
pub fn place_replies(
    conn: &mut Conn<'_>,
    thread_id: i64,
    (at, id): (NaiveDateTime, i64),
) -> QueryResult<usize> {
    use diesel::sql_types::{BigInt, Timestamp};
    const SQL: &str = "UPDATE posts SET position = numbered.n FROM (\
         SELECT later.id, ROW_NUMBER() OVER (ORDER BY later.created_at, later.id) + COALESCE((\
         SELECT earlier.position FROM posts AS earlier WHERE earlier.thread_id = $1 \
         AND earlier.is_opening = FALSE AND (earlier.created_at, earlier.id) < ($2, $3) \
         ORDER BY earlier.created_at DESC, earlier.id DESC LIMIT 1), 0) AS n \
         FROM posts AS later WHERE later.thread_id = $1 AND later.is_opening = FALSE \
         AND (later.created_at, later.id) >= ($2, $3)) AS numbered \
         WHERE posts.id = numbered.id AND (posts.position IS NULL OR posts.position <> numbered.n)";
    dispatch!(conn, |c| super::prepared_sql(SQL)
        .bind::<BigInt, _>(thread_id)
        .bind::<Timestamp, _>(at)
        .bind::<BigInt, _>(id)
        .execute(c))
}

/// How many replies come before `post` in its thread (its place, for finding its page).
pub fn replies_before(post: &Post) -> i64 {
    post.position.map_or(0, |p| p - 1)
}

/// Replaces the body after an edit.
pub fn update_body(
    conn: &mut Conn<'_>,
    id: i64,
    markdown: &str,
    html: &str,
    at: NaiveDateTime,
) -> QueryResult<Post> {
    dispatch!(conn, |c| diesel::update(posts::table.find(id))
        .set((
            posts::body_markdown.eq(markdown),
            posts::body_html.eq(html),
            posts::edited_at.eq(at),
        ))
        .returning(Post::as_returning())
        .get_result(c))
    .and_then(|post| {
        super::search::reindex(conn, id)?;
        Ok(post)
    })
}

/// Marks a post deleted.
pub fn mark_deleted(conn: &mut Conn<'_>, id: i64, at: NaiveDateTime) -> QueryResult<Post> {
    dispatch!(conn, |c| diesel::update(posts::table.find(id))
        .set(posts::deleted_at.eq(at))
        .returning(Post::as_returning())
        .get_result(c))
}

/// Where a page of a person's posts starts (posts in the order `(created_at, id)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorPage {
    /// The newest.
    Newest,
    /// Those just older than this key.
    Before((NaiveDateTime, i64)),
    /// Those just newer than this key.
    After((NaiveDateTime, i64)),
}

/// Up to `limit` posts (not deleted nor removed) a person wrote outside the forums `hidden`,
/// from `from`, newest first, each with its thread. Found by their key in `posts_author`
/// (`created_at <= key` bounds the range; the `id` breaks ties), so a deep page costs what
/// the first does.
pub fn page_by_author(
    conn: &mut Conn<'_>,
    author_id: i64,
    hidden: &[i64],
    limit: i64,
    from: AuthorPage,
) -> QueryResult<Vec<(Post, Thread)>> {
    let mut rows = dispatch!(conn, |c| {
        let mut q = posts::table
            .inner_join(threads::table)
            .filter(posts::author_id.eq(author_id))
            .filter(posts::deleted_at.is_null())
            .filter(posts::removed_at.is_null())
            .select((Post::as_select(), Thread::as_select()))
            .limit(limit)
            .into_boxed();
        if !hidden.is_empty() {
            q = q.filter(threads::forum_id.ne_all(hidden));
        }
        q = match from {
            AuthorPage::Newest => q.order((posts::created_at.desc(), posts::id.desc())),
            AuthorPage::Before((at, id)) => q
                .filter(posts::created_at.le(at))
                .filter(posts::created_at.lt(at).or(posts::id.lt(id)))
                .order((posts::created_at.desc(), posts::id.desc())),
            AuthorPage::After((at, id)) => q
                .filter(posts::created_at.ge(at))
                .filter(posts::created_at.gt(at).or(posts::id.gt(id)))
                .order((posts::created_at.asc(), posts::id.asc())),
        };
        q.load::<(Post, Thread)>(c)
    })?;
    if matches!(from, AuthorPage::After(_)) {
        rows.reverse();
    }
    Ok(rows)
}

/// The key `(created_at, id)` of a person's post, if it is theirs (a profile page's bound).
pub fn author_key(
    conn: &mut Conn<'_>,
    author_id: i64,
    id: i64,
) -> QueryResult<Option<(NaiveDateTime, i64)>> {
    dispatch!(conn, |c| posts::table
        .find(id)
        .filter(posts::author_id.eq(author_id))
        .select((posts::created_at, posts::id))
        .first(c)
        .optional())
}

/// The newest threads of a forum with their opening posts and starters (the forum's feed).
/// Served by `threads_forum_created`, then `posts_thread_replies` for each opening post.
pub fn newest_openings_in_forum(
    conn: &mut Conn<'_>,
    forum_id: i64,
    limit: i64,
) -> QueryResult<Vec<(Post, Thread, User)>> {
    dispatch!(conn, |c| posts::table
        .inner_join(threads::table)
        .inner_join(users::table)
        .filter(threads::forum_id.eq(forum_id))
        .filter(posts::is_opening)
        .order((threads::created_at.desc(), threads::id.desc()))
        .limit(limit)
        .select((Post::as_select(), Thread::as_select(), User::as_select()))
        .load(c))
}

/// The newest replies of a thread with their authors (the thread's feed), newest first.
/// Served by `posts_thread_replies`, read backwards.
pub fn newest_replies(
    conn: &mut Conn<'_>,
    thread_id: i64,
    limit: i64,
) -> QueryResult<Vec<(Post, User)>> {
    dispatch!(conn, |c| posts::table
        .inner_join(users::table)
        .filter(posts::thread_id.eq(thread_id))
        .filter(posts::is_opening.eq(super::sql_false()))
        .order((posts::created_at.desc(), posts::id.desc()))
        .limit(limit)
        .select((Post::as_select(), User::as_select()))
        .load(c))
}

/// Where a reply lives: enough to name it in a thread's context collection.
#[derive(Debug, Clone, Queryable)]
pub struct PostRef {
    /// Id.
    pub id: i64,
    /// Written here?
    pub local: bool,
    /// ActivityPub id of a remote post.
    pub ap_id: Option<String>,
}

/// Every reply of a thread, oldest first, as references. Served by `posts_thread_replies`.
pub fn reply_refs(conn: &mut Conn<'_>, thread_id: i64) -> QueryResult<Vec<PostRef>> {
    dispatch!(conn, |c| posts::table
        .filter(posts::thread_id.eq(thread_id))
        .filter(posts::is_opening.eq(super::sql_false()))
        .order((posts::created_at.asc(), posts::id.asc()))
        .select((posts::id, posts::local, posts::ap_id))
        .load(c))
}

/// Posts written on this instance and not deleted, outside the forums `hidden` (members-only
/// ones: for NodeInfo).
pub fn count_local(conn: &mut Conn<'_>, hidden: &[i64]) -> QueryResult<i64> {
    if hidden.is_empty() {
        return dispatch!(conn, |c| posts::table
            .filter(posts::local)
            .filter(posts::deleted_at.is_null())
            .count()
            .get_result(c));
    }
    dispatch!(conn, |c| posts::table
        .inner_join(threads::table)
        .filter(posts::local)
        .filter(posts::deleted_at.is_null())
        .filter(threads::forum_id.ne_all(hidden))
        .count()
        .get_result(c))
}

/// The opening posts of a forum's pinned threads, with their threads and authors.
pub fn pinned_openings_in_forum(
    conn: &mut Conn<'_>,
    forum_id: i64,
) -> QueryResult<Vec<(Post, Thread, User)>> {
    dispatch!(conn, |c| posts::table
        .inner_join(threads::table)
        .inner_join(users::table)
        .filter(threads::forum_id.eq(forum_id))
        // An equality, so that `threads_forum_listing` serves the order too.
        .filter(threads::pinned.eq(true))
        .filter(posts::is_opening)
        .order((threads::last_activity_at.desc(), threads::id.desc()))
        .select((Post::as_select(), Thread::as_select(), User::as_select()))
        .load(c))
}

/// Deletes everything a person wrote, erasing the words (the earlier versions are erased by
/// [`super::revisions::delete_by_author`]): their posts stay as placeholders, so threads still
/// read. Through `posts_author`.
pub fn erase_by_author(
    conn: &mut Conn<'_>,
    author_id: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    super::search::forget_author(conn, author_id)?;
    dispatch!(conn, |c| diesel::update(
        posts::table
            .filter(posts::author_id.eq(author_id))
            .filter(posts::deleted_at.is_null())
    )
    .set(posts::deleted_at.eq(at))
    .execute(c))?;
    dispatch!(conn, |c| diesel::update(
        posts::table.filter(posts::author_id.eq(author_id))
    )
    .set((posts::body_markdown.eq(""), posts::body_html.eq("")))
    .execute(c))
}

/// The forums a person has posted in (through `posts_author`).
pub fn forums_of_author(conn: &mut Conn<'_>, author_id: i64) -> QueryResult<Vec<i64>> {
    let mut ids: Vec<i64> = dispatch!(conn, |c| posts::table
        .inner_join(threads::table)
        .filter(posts::author_id.eq(author_id))
        .select(threads::forum_id)
        .load(c))?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

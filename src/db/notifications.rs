//! `notifications`: what each person is told about, one row per person and post.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use super::schema::{forum_members, forum_moderators, forums, notifications, posts, threads};
use super::{dispatch, Conn};

/// A row of `notifications`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Notification {
    /// Primary key.
    pub id: i64,
    /// Whom it is for.
    pub user_id: i64,
    /// The post it is about.
    pub post_id: i64,
    /// `mention`, `quote`, `reply` or `watched`.
    pub kind: String,
    /// When it was made.
    pub created_at: NaiveDateTime,
    /// When its person read it.
    pub read_at: Option<NaiveDateTime>,
    /// When the mailer dealt with it.
    pub emailed_at: Option<NaiveDateTime>,
}

/// Tells one person about the post, as `kind`, unless they were already told about it (the
/// first kind written wins, so the strongest is written first).
fn notify_one(
    conn: &mut Conn<'_>,
    (user_id, post_id, kind): (i64, i64, &str),
    at: NaiveDateTime,
) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::insert_into(notifications::table)
        .values((
            notifications::user_id.eq(user_id),
            notifications::post_id.eq(post_id),
            notifications::kind.eq(kind),
            notifications::created_at.eq(at),
        ))
        .on_conflict((notifications::user_id, notifications::post_id))
        .do_nothing()
        .execute(c))
}

/// Tells people about posts, `(user_id, post_id, kind)` (a batch's), unless they were already
/// told about that post: where one person and post come twice, the first row wins (so the
/// strongest kind is given first). On PostgreSQL one statement for them all, on SQLite one
/// prepared row each.
pub fn notify_each(
    conn: &mut Conn<'_>,
    told: &[(i64, i64, &str)],
    at: NaiveDateTime,
) -> QueryResult<()> {
    match conn {
        Conn::Pg(c) if told.len() > 1 => {
            use diesel::sql_types::{Array, Text};
            super::prepared_sql(
                "INSERT INTO notifications (user_id, post_id, kind, created_at) \
                 SELECT user_id, post_id, kind, $1 \
                 FROM unnest($2, $3, $4) WITH ORDINALITY AS t(user_id, post_id, kind, n) \
                 ORDER BY n ON CONFLICT (user_id, post_id) DO NOTHING",
            )
            .bind::<Timestamp, _>(at)
            .bind::<Array<BigInt>, _>(told.iter().map(|t| t.0).collect::<Vec<_>>())
            .bind::<Array<BigInt>, _>(told.iter().map(|t| t.1).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(told.iter().map(|t| t.2).collect::<Vec<_>>())
            .execute(*c)?;
        }
        _ => {
            for &told in told {
                notify_one(conn, told, at)?;
            }
        }
    }
    Ok(())
}

/// A new post for those watching its thread or forum to be told of (see
/// [`notify_watchers_each`]).
#[derive(Debug, Clone, Copy)]
pub struct Watched {
    /// The post.
    pub post_id: i64,
    /// Its thread.
    pub thread_id: i64,
    /// Its forum.
    pub forum_id: i64,
    /// Its author (not told).
    pub author_id: i64,
}

/// Tells everyone who watches the thread or the forum of each post (a batch's) about it
/// (`watched`), except its author and those already told about it: on PostgreSQL one statement
/// for them all, on SQLite one per post.
pub fn notify_watchers_each(
    conn: &mut Conn<'_>,
    posts: &[Watched],
    at: NaiveDateTime,
) -> QueryResult<()> {
    match conn {
        Conn::Pg(c) if posts.len() > 1 => {
            use diesel::sql_types::Array;
            let column = |f: fn(&Watched) -> i64| posts.iter().map(f).collect::<Vec<_>>();
            super::prepared_sql(
                "WITH p AS (SELECT * FROM unnest($2, $3, $4, $5) \
                 AS p(post_id, thread_id, forum_id, author_id)) \
                 INSERT INTO notifications (user_id, post_id, kind, created_at) \
                 SELECT r.user_id, p.post_id, 'watched', $1 FROM p JOIN thread_reads r \
                 ON r.thread_id = p.thread_id AND r.watching AND r.user_id <> p.author_id \
                 UNION \
                 SELECT w.user_id, p.post_id, 'watched', $1 FROM p JOIN forum_watches w \
                 ON w.forum_id = p.forum_id AND w.user_id <> p.author_id \
                 ON CONFLICT (user_id, post_id) DO NOTHING",
            )
            .bind::<Timestamp, _>(at)
            .bind::<Array<BigInt>, _>(column(|p| p.post_id))
            .bind::<Array<BigInt>, _>(column(|p| p.thread_id))
            .bind::<Array<BigInt>, _>(column(|p| p.forum_id))
            .bind::<Array<BigInt>, _>(column(|p| p.author_id))
            .execute(*c)?;
        }
        _ => {
            for p in posts {
                notify_watchers(conn, p.post_id, p.thread_id, p.forum_id, p.author_id, at)?;
            }
        }
    }
    Ok(())
}

/// Tells everyone who watches the thread or the forum about the post (`watched`), except its
/// author and those already told about it: one statement, however many watch.
fn notify_watchers(
    conn: &mut Conn<'_>,
    post_id: i64,
    thread_id: i64,
    forum_id: i64,
    author_id: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    // One statement for both kinds of watcher (someone watching both is told once), written
    // in SQL so that it stays prepared (see `prepared_sql`): every post runs it.
    dispatch!(conn, |c| super::prepared_sql(
        "INSERT INTO notifications (user_id, post_id, kind, created_at) \
         SELECT user_id, $1, 'watched', $2 FROM thread_reads \
         WHERE thread_id = $3 AND watching AND user_id <> $4 \
         UNION \
         SELECT user_id, $1, 'watched', $2 FROM forum_watches \
         WHERE forum_id = $5 AND user_id <> $4 \
         ON CONFLICT (user_id, post_id) DO NOTHING"
    )
    .bind::<BigInt, _>(post_id)
    .bind::<Timestamp, _>(at)
    .bind::<BigInt, _>(thread_id)
    .bind::<BigInt, _>(author_id)
    .bind::<BigInt, _>(forum_id)
    .execute(c))
}

/// Which notifications to list.
#[derive(Debug, Clone, Copy)]
pub struct Listing {
    /// Whose.
    pub user_id: i64,
    /// Only those not yet read.
    pub unread_only: bool,
    /// Whether they may read every forum (an administrator): then members-only forums need
    /// no check.
    pub reads_everything: bool,
}

/// Builds, inside a [`dispatch!`] body, the boxed query of the person's notifications that
/// still point at something they may read: the post is neither deleted nor removed, and its
/// forum is public, open to every account here, or one they are a member or moderator of.
macro_rules! readable_notifications {
    ($which:expr) => {{
        let which: Listing = $which;
        let mut query = notifications::table
            .inner_join(posts::table.inner_join(threads::table.inner_join(forums::table)))
            .filter(notifications::user_id.eq(which.user_id))
            .filter(posts::deleted_at.is_null())
            .filter(posts::removed_at.is_null())
            .into_boxed();
        if which.unread_only {
            query = query.filter(notifications::read_at.is_null());
        }
        if !which.reads_everything {
            query = query.filter(forum_readable_by(which.user_id));
        }
        query
    }};
}

/// The person's notifications that still point at something they may read, newest first:
/// `limit` from `offset`. Through `notifications_user` (or `notifications_unread`).
pub fn list(
    conn: &mut Conn<'_>,
    which: Listing,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<Notification>> {
    dispatch!(conn, |c| readable_notifications!(which)
        .select(Notification::as_select())
        .order(notifications::id.desc())
        .limit(limit)
        .offset(offset)
        .load(c))
}

/// Of `ids`, the person's notifications that still point at something they may read, newest
/// first.
pub fn among(conn: &mut Conn<'_>, which: Listing, ids: &[i64]) -> QueryResult<Vec<Notification>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    dispatch!(conn, |c| readable_notifications!(which)
        .filter(super::any_id(notifications::id, ids))
        .select(Notification::as_select())
        .order(notifications::id.desc())
        .load(c))
}

/// How many notifications [`list`] would give in all (`unread_only`: how many are unread), up
/// to `cap` (counting stops there, so the count costs little however many there are). One
/// query.
pub fn count(conn: &mut Conn<'_>, which: Listing, cap: i64) -> QueryResult<i64> {
    if which.unread_only {
        return count_unread(conn, which, cap);
    }
    let ids: Vec<i64> = dispatch!(conn, |c| readable_notifications!(which)
        .select(notifications::id)
        .order(notifications::id.desc())
        .limit(cap)
        .load(c))?;
    Ok(ids.len() as i64)
}

/// Whether the forum of the row it is selected with (`forums.id`) is one `user_id` may read:
/// public, open to every account here, or one they are a member or moderator of.
#[diesel::dsl::auto_type(no_type_alias)]
fn forum_readable_by(user_id: i64) -> _ {
    let public: &'static str = super::forums::PUBLIC;
    forums::visibility
        .eq(public)
        .or(forums::all_accounts_are_members)
        .or(diesel::dsl::exists(
            forum_members::table
                .filter(forum_members::forum_id.eq(forums::id))
                .filter(forum_members::user_id.eq(user_id)),
        ))
        .or(diesel::dsl::exists(
            forum_moderators::table
                .filter(forum_moderators::forum_id.eq(forums::id))
                .filter(forum_moderators::user_id.eq(user_id)),
        ))
}

/// [`count`] of `which`, unread ones alone (whatever `which.unread_only` says), as the number
/// beside "Notifications" on every page a logged-in person opens counts them. Written without
/// boxing, so that diesel knows its statement by its type and keeps it prepared without
/// writing its SQL again first (as it must for a boxed query: that was over half the count's
/// time). Through `notifications_unread`.
fn count_unread(conn: &mut Conn<'_>, which: Listing, cap: i64) -> QueryResult<i64> {
    let Listing {
        user_id,
        reads_everything,
        ..
    } = which;
    let ids: Vec<i64> = dispatch!(conn, |c| {
        let unread = notifications::table
            .inner_join(posts::table.inner_join(threads::table.inner_join(forums::table)))
            .filter(notifications::user_id.eq(user_id))
            .filter(notifications::read_at.is_null())
            .filter(posts::deleted_at.is_null())
            .filter(posts::removed_at.is_null())
            .select(notifications::id)
            .order(notifications::id.desc())
            .limit(cap);
        if reads_everything {
            unread.load(c)
        } else {
            unread.filter(forum_readable_by(user_id)).load(c)
        }
    })?;
    Ok(ids.len() as i64)
}

/// Marks the person's notifications read: those of `ids`, or all of them when `None`.
pub fn mark_read(
    conn: &mut Conn<'_>,
    user_id: i64,
    ids: Option<&[i64]>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    dispatch!(conn, |c| {
        let mut query = diesel::update(notifications::table)
            .filter(notifications::user_id.eq(user_id))
            .filter(notifications::read_at.is_null())
            .into_boxed();
        if let Some(ids) = ids {
            query = query.filter(super::any_id(notifications::id, ids));
        }
        query.set(notifications::read_at.eq(at)).execute(c)
    })
}

/// Marks read the person's notifications about any of `post_ids` (they have now seen them).
pub fn mark_posts_read(
    conn: &mut Conn<'_>,
    user_id: i64,
    post_ids: &[i64],
    at: NaiveDateTime,
) -> QueryResult<usize> {
    if post_ids.is_empty() {
        return Ok(0);
    }
    // Written in SQL so that it stays prepared (see `prepared_sql`): every page a logged-in
    // reader opens runs it.
    dispatch!(conn, |c| super::prepared_sql(
        "UPDATE notifications SET read_at = $1 \
         WHERE user_id = $2 AND post_id = ANY($3) AND read_at IS NULL"
    )
    .bind::<Timestamp, _>(at)
    .bind::<BigInt, _>(user_id)
    .bind::<super::IdList, _>(super::Ids(post_ids))
    .execute(c))
}

/// One of the person's notifications.
pub fn by_id(conn: &mut Conn<'_>, user_id: i64, id: i64) -> QueryResult<Option<Notification>> {
    dispatch!(conn, |c| notifications::table
        .filter(notifications::id.eq(id))
        .filter(notifications::user_id.eq(user_id))
        .select(Notification::as_select())
        .first(c)
        .optional())
}

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

/// Tells each of `user_ids` about the post, as `kind`, unless they were already told about it
/// (the first kind written wins, so the strongest is written first).
pub fn notify(
    conn: &mut Conn<'_>,
    user_ids: &[i64],
    post_id: i64,
    kind: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let row = |user_id: i64| {
        (
            notifications::user_id.eq(user_id),
            notifications::post_id.eq(post_id),
            notifications::kind.eq(kind),
            notifications::created_at.eq(at),
        )
    };
    match user_ids {
        [] => return Ok(0),
        // Most posts tell one person (the author answered): one row's insert stays prepared,
        // a batch's is prepared anew each time.
        [user_id] => {
            return dispatch!(conn, |c| diesel::insert_into(notifications::table)
                .values(row(*user_id))
                .on_conflict((notifications::user_id, notifications::post_id))
                .do_nothing()
                .execute(c))
        }
        _ => {}
    }
    let rows: Vec<_> = user_ids.iter().map(|&user_id| row(user_id)).collect();
    dispatch!(conn, |c| diesel::insert_into(notifications::table)
        .values(&rows)
        .on_conflict((notifications::user_id, notifications::post_id))
        .do_nothing()
        .execute(c))
}

/// Tells everyone who watches the thread or the forum about the post (`watched`), except its
/// author and those already told about it: one statement, however many watch.
pub fn notify_watchers(
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
            query = query.filter(
                forums::visibility
                    .eq(super::forums::PUBLIC)
                    .or(forums::all_accounts_are_members)
                    .or(diesel::dsl::exists(
                        forum_members::table
                            .filter(forum_members::forum_id.eq(forums::id))
                            .filter(forum_members::user_id.eq(which.user_id)),
                    ))
                    .or(diesel::dsl::exists(
                        forum_moderators::table
                            .filter(forum_moderators::forum_id.eq(forums::id))
                            .filter(forum_moderators::user_id.eq(which.user_id)),
                    )),
            );
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
    let ids: Vec<i64> = dispatch!(conn, |c| readable_notifications!(which)
        .select(notifications::id)
        .order(notifications::id.desc())
        .limit(cap)
        .load(c))?;
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

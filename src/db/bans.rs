//! `bans`: people kept from posting in one forum, or anywhere here.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{bans, posts, threads, users};
use super::users::User;
use super::{dispatch, Conn};

/// A ban.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bans)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Ban {
    /// Row id.
    pub id: i64,
    /// The forum the person is banned from; `None`: the whole instance.
    pub forum_id: Option<i64>,
    /// Who is banned.
    pub user_id: i64,
    /// Who banned them (none once that account is gone).
    pub banned_by_id: Option<i64>,
    /// Why.
    pub reason: String,
    /// When it ends by itself; `None`: when lifted.
    pub expires_at: Option<NaiveDateTime>,
    /// When it was made.
    pub created_at: NaiveDateTime,
}

/// A ban to make.
#[derive(Debug, Insertable)]
#[diesel(table_name = bans)]
// NULL for `None`, so the insert stays prepared (see the `db` module).
#[diesel(treat_none_as_default_value = false)]
pub struct NewBan<'a> {
    /// The forum, or `None` for the whole instance.
    pub forum_id: Option<i64>,
    /// Who.
    pub user_id: i64,
    /// By whom.
    pub banned_by_id: Option<i64>,
    /// Why.
    pub reason: &'a str,
    /// Until when.
    pub expires_at: Option<NaiveDateTime>,
    /// Now.
    pub created_at: NaiveDateTime,
}

/// The ban (in force at `now`) keeping the person from posting in the forum: a ban from the
/// forum or from the whole instance, the one that ends last. Served by `bans_person`.
pub fn in_force(
    conn: &mut Conn<'_>,
    user_id: i64,
    forum_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Option<Ban>> {
    let found: Vec<Ban> = dispatch!(conn, |c| bans::table
        .filter(bans::user_id.eq(user_id))
        .filter(bans::forum_id.eq(forum_id).or(bans::forum_id.is_null()))
        .filter(bans::expires_at.is_null().or(bans::expires_at.gt(now)))
        .select(Ban::as_select())
        .load(c))?;
    // At most two rows: the forum's and the instance's.
    Ok(found
        .into_iter()
        .max_by_key(|b| b.expires_at.unwrap_or(NaiveDateTime::MAX)))
}

/// Everyone a ban in force at `now` keeps from posting in the forum (banned from it or from
/// the whole instance): for checking many posts at once. Served by `bans_forum`.
pub fn people_kept_out(
    conn: &mut Conn<'_>,
    forum_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    dispatch!(conn, |c| bans::table
        .filter(bans::forum_id.eq(forum_id).or(bans::forum_id.is_null()))
        .filter(bans::expires_at.is_null().or(bans::expires_at.gt(now)))
        .select(bans::user_id)
        .load(c))
}

/// The person's ban from the forum (`None`: from the whole instance), in force or not.
pub fn find(conn: &mut Conn<'_>, user_id: i64, forum_id: Option<i64>) -> QueryResult<Option<Ban>> {
    dispatch!(conn, |c| {
        let q = bans::table.filter(bans::user_id.eq(user_id)).into_boxed();
        let q = match forum_id {
            Some(f) => q.filter(bans::forum_id.eq(f)),
            None => q.filter(bans::forum_id.is_null()),
        };
        q.select(Ban::as_select()).first(c).optional()
    })
}

/// Bans the person, replacing any earlier ban from the same place (call in a transaction).
pub fn put(conn: &mut Conn<'_>, ban: &NewBan<'_>) -> QueryResult<Ban> {
    lift(conn, ban.user_id, ban.forum_id)?;
    dispatch!(conn, |c| diesel::insert_into(bans::table)
        .values(ban)
        .returning(Ban::as_returning())
        .get_result(c))
}

/// Lifts the person's ban from the forum (`None`: from the instance); the ban lifted, if any.
pub fn lift(conn: &mut Conn<'_>, user_id: i64, forum_id: Option<i64>) -> QueryResult<Option<Ban>> {
    let Some(ban) = find(conn, user_id, forum_id)? else {
        return Ok(None);
    };
    dispatch!(conn, |c| diesel::delete(bans::table.find(ban.id))
        .execute(c))?;
    Ok(Some(ban))
}

/// The bans in force at `now` from the forum (`None`: from the whole instance), newest first,
/// with the people banned. Served by `bans_forum` (and `bans_on_instance`).
pub fn listed(
    conn: &mut Conn<'_>,
    forum_id: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<Vec<(Ban, User)>> {
    dispatch!(conn, |c| {
        let q = bans::table
            .inner_join(users::table.on(users::id.eq(bans::user_id)))
            .filter(bans::expires_at.is_null().or(bans::expires_at.gt(now)))
            .into_boxed();
        let q = match forum_id {
            Some(f) => q.filter(bans::forum_id.eq(f)),
            None => q.filter(bans::forum_id.is_null()),
        };
        q.order(bans::id.desc())
            .select((Ban::as_select(), User::as_select()))
            .load(c)
    })
}

/// Removes (as a moderator does, reversibly) every post by the person that is neither deleted
/// nor removed, in the forum or (`None`) everywhere; how many. Served by `posts_author`.
pub fn remove_posts_of(
    conn: &mut Conn<'_>,
    user_id: i64,
    forum_id: Option<i64>,
    removal: (i64, NaiveDateTime, &str),
) -> QueryResult<usize> {
    let (by, at, why) = removal;
    dispatch!(conn, |c| {
        let q = diesel::update(posts::table)
            .filter(posts::author_id.eq(user_id))
            .filter(posts::deleted_at.is_null())
            .filter(posts::removed_at.is_null())
            .into_boxed();
        let q = match forum_id {
            Some(f) => q.filter(
                posts::thread_id.eq_any(
                    threads::table
                        .filter(threads::forum_id.eq(f))
                        .select(threads::id),
                ),
            ),
            None => q,
        };
        q.set((
            posts::removed_at.eq(at),
            posts::removed_by_id.eq(by),
            posts::removal_reason.eq(why),
        ))
        .execute(c)
    })
}

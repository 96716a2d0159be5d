//! `forums`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

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
    /// A remote forum's inbox.
    pub inbox_url: Option<String>,
    /// A remote forum's instance's shared inbox.
    pub shared_inbox_url: Option<String>,
    /// A remote forum's outbox (recent activity, read when first followed).
    pub outbox_url: Option<String>,
    /// A remote forum's page.
    pub profile_url: Option<String>,
    /// When a remote forum was last fetched.
    pub last_refreshed_at: Option<NaiveDateTime>,
    /// Local people following this (remote) forum.
    pub local_followers: i64,
    /// `public` or `members` (see [`Forum::members_only`]).
    pub visibility: String,
    /// A members-only forum whose members are everyone with an account here.
    pub all_accounts_are_members: bool,
    /// Only its moderators start threads (Lemmy's `postingRestrictedToMods`).
    pub posting_restricted_to_mods: bool,
}

/// `forums.visibility` of a forum everyone may read.
pub const PUBLIC: &str = "public";
/// `forums.visibility` of a forum only its members may read.
pub const MEMBERS: &str = "members";

impl Forum {
    /// Whether only its members may read it (never a forum elsewhere: what it federates is
    /// public).
    pub fn members_only(&self) -> bool {
        self.local && self.visibility == MEMBERS
    }

    /// How the forum is named in URLs and the API: `name` here, `name@domain` if remote.
    pub fn handle(&self) -> String {
        match (&self.domain, self.local) {
            (Some(domain), false) => format!("{}@{domain}", self.name),
            _ => self.name.clone(),
        }
    }
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
        .filter(forums::local.or(forums::local_followers.gt(0)))
        .order((
            forums::archived.asc(),
            forums::title.asc(),
            forums::id.asc()
        ))
        .select(Forum::as_select())
        .load(c))
}

/// Sets title, description, archive state and whether only moderators start threads.
pub fn update(
    conn: &mut Conn<'_>,
    id: i64,
    title: &str,
    description: &str,
    (archived, posting_restricted_to_mods): (bool, bool),
    at: NaiveDateTime,
) -> QueryResult<Forum> {
    dispatch!(conn, |c| diesel::update(forums::table.find(id))
        .set((
            forums::title.eq(title),
            forums::description.eq(description),
            forums::archived.eq(archived),
            forums::posting_restricted_to_mods.eq(posting_restricted_to_mods),
            forums::updated_at.eq(at),
        ))
        .returning(Forum::as_returning())
        .get_result(c))
}

/// Sets who may read the forum: `visibility` ([`PUBLIC`] or [`MEMBERS`]) and whether everyone
/// with an account here is a member.
pub fn set_visibility(
    conn: &mut Conn<'_>,
    id: i64,
    visibility: &str,
    all_accounts_are_members: bool,
    at: NaiveDateTime,
) -> QueryResult<Forum> {
    dispatch!(conn, |c| diesel::update(forums::table.find(id))
        .set((
            forums::visibility.eq(visibility),
            forums::all_accounts_are_members.eq(all_accounts_are_members),
            forums::updated_at.eq(at),
        ))
        .returning(Forum::as_returning())
        .get_result(c))
}

/// The local members-only forums (few: a scan of `forums`).
pub fn members_only(conn: &mut Conn<'_>) -> QueryResult<Vec<Forum>> {
    dispatch!(conn, |c| forums::table
        .filter(forums::local)
        .filter(forums::visibility.eq(MEMBERS))
        .select(Forum::as_select())
        .load(c))
}

/// Counts new `(threads, posts)` (a new thread counts as one of each) and moves the latest
/// activity to `at`.
pub fn count_posts(
    conn: &mut Conn<'_>,
    id: i64,
    (threads, posts): (i64, i64),
    at: NaiveDateTime,
) -> QueryResult<usize> {
    // Written in SQL so that it stays prepared (see `prepared_sql`): every post runs it.
    dispatch!(conn, |c| super::prepared_sql(
        "UPDATE forums SET thread_count = thread_count + $1, post_count = post_count + $2, \
         last_activity_at = $3 WHERE id = $4"
    )
    .bind::<BigInt, _>(threads)
    .bind::<BigInt, _>(posts)
    .bind::<Timestamp, _>(at)
    .bind::<BigInt, _>(id)
    .execute(c))
}

/// Shifts the counts by `(threads, posts)` (a thread moved in or out), and sets the latest
/// activity to `latest` when given.
pub fn shift_counts(
    conn: &mut Conn<'_>,
    id: i64,
    (threads, posts): (i64, i64),
    latest: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(forums::table.find(id))
        .set((
            forums::thread_count.eq(forums::thread_count + threads),
            forums::post_count.eq(forums::post_count + posts),
        ))
        .execute(c))?;
    match latest {
        Some(at) => dispatch!(conn, |c| diesel::update(forums::table.find(id))
            .set(forums::last_activity_at.eq(at))
            .execute(c)),
        None => Ok(0),
    }
}

/// A remote forum as fetched: what [`upsert_remote`] stores.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = forums)]
pub struct RemoteForum {
    /// `preferredUsername`.
    pub name: String,
    /// `name`.
    pub title: String,
    /// `summary` as plain text.
    pub description: String,
    /// Always false.
    pub local: bool,
    /// Host (and port) of the actor id.
    pub domain: Option<String>,
    /// The actor id.
    pub ap_id: Option<String>,
    /// Its public key.
    pub public_key: Option<String>,
    /// Its inbox.
    pub inbox_url: Option<String>,
    /// Its instance's shared inbox.
    pub shared_inbox_url: Option<String>,
    /// Its outbox.
    pub outbox_url: Option<String>,
    /// Its page.
    pub profile_url: Option<String>,
    /// `postingRestrictedToMods`.
    pub posting_restricted_to_mods: bool,
    /// Now.
    pub last_refreshed_at: Option<NaiveDateTime>,
    /// Now.
    pub updated_at: NaiveDateTime,
}

/// Inserts a remote forum, or updates the one with the same actor id.
pub fn upsert_remote(conn: &mut Conn<'_>, forum: &RemoteForum) -> QueryResult<Forum> {
    let created_at = forum.updated_at;
    dispatch!(conn, |c| diesel::insert_into(forums::table)
        .values((forum, forums::created_at.eq(created_at)))
        .on_conflict(forums::ap_id)
        .do_update()
        .set(forum)
        .returning(Forum::as_returning())
        .get_result(c))
}

/// The forum (local or remote) with this actor id.
pub fn by_ap_id(conn: &mut Conn<'_>, ap_id: &str) -> QueryResult<Option<Forum>> {
    dispatch!(conn, |c| forums::table
        .filter(forums::ap_id.eq(ap_id))
        .select(Forum::as_select())
        .first(c)
        .optional())
}

/// A remote forum by `name@domain`.
pub fn remote_by_handle(
    conn: &mut Conn<'_>,
    name: &str,
    domain: &str,
) -> QueryResult<Option<Forum>> {
    dispatch!(conn, |c| forums::table
        .filter(forums::domain.eq(domain))
        .filter(forums::name.eq(name))
        .filter(forums::local.eq(super::sql_false()))
        .select(Forum::as_select())
        .first(c)
        .optional())
}

/// Adds `delta` (1 or -1) to a forum's count of local followers.
pub fn add_local_followers(conn: &mut Conn<'_>, id: i64, delta: i64) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(forums::table.find(id))
        .set(forums::local_followers.eq(forums::local_followers + delta))
        .execute(c))
}

/// The forum with this actor id and its public key.
pub fn by_ap_id_with_key(
    conn: &mut Conn<'_>,
    ap_id: &str,
) -> QueryResult<Option<(Forum, Option<String>)>> {
    dispatch!(conn, |c| forums::table
        .filter(forums::ap_id.eq(ap_id))
        .select((Forum::as_select(), forums::public_key))
        .first(c)
        .optional())
}

/// A forum by how URLs name it: `name` for a local forum, `name@domain` for a remote one.
pub fn by_handle(conn: &mut Conn<'_>, handle: &str) -> QueryResult<Option<Forum>> {
    let handle = handle.to_ascii_lowercase();
    match handle.split_once('@') {
        Some((name, domain)) => remote_by_handle(conn, name, domain),
        None => local_by_name(conn, &handle),
    }
}

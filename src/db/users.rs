//! `users`: accounts, local and remote (people elsewhere, stored when first seen).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::users;
use super::{dispatch, Conn};

/// A row of `users`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// Username: lowercase `a-z 0-9 _` for local accounts.
    pub name: String,
    /// The name shown beside posts.
    pub display_name: String,
    /// argon2id PHC string; `None` for remote people.
    pub password_hash: Option<String>,
    /// May manage forums and moderate.
    pub is_admin: bool,
    /// Lives on this instance.
    pub local: bool,
    /// Home domain of a remote person.
    pub domain: Option<String>,
    /// ActivityPub id of a remote person; local ids derive from `server.public_url`.
    pub ap_id: Option<String>,
    /// When the account was created.
    pub created_at: NaiveDateTime,
    /// When the account last changed.
    pub updated_at: NaiveDateTime,
    /// A remote person's inbox.
    pub inbox_url: Option<String>,
    /// A remote person's instance's shared inbox.
    pub shared_inbox_url: Option<String>,
    /// A remote person's profile page.
    pub profile_url: Option<String>,
    /// When a remote person was last fetched.
    pub last_refreshed_at: Option<NaiveDateTime>,
    /// The e-mail address given at registration.
    pub email: Option<String>,
    /// Registered by application, waiting for an administrator's approval.
    pub pending: bool,
    /// When the account was deleted (by its owner here, or by their server elsewhere).
    pub deleted_at: Option<NaiveDateTime>,
    /// Whether starting or replying to a thread watches it.
    pub watch_on_post: bool,
    /// When the person proved `email` is theirs.
    pub email_verified_at: Option<NaiveDateTime>,
    /// `immediate`, `digest` or `off`.
    pub email_mode: String,
    /// When their last digest was made.
    pub last_digest_at: Option<NaiveDateTime>,
}

impl User {
    /// How the person is named: `name` here, `name@domain` if remote.
    pub fn handle(&self) -> String {
        handle(&self.name, self.domain.as_deref(), self.local)
    }
}

/// `name` here, `name@domain` for a person elsewhere.
fn handle(name: &str, domain: Option<&str>, local: bool) -> String {
    match (domain, local) {
        (Some(domain), false) => format!("{name}@{domain}"),
        _ => name.to_owned(),
    }
}

/// What a page shows of a person beside what they wrote: the columns of `users` a byline and
/// a link to them need. Pages of posts read this rather than [`User`], whose other columns
/// (the password hash, the e-mail address, settings, a remote person's inboxes) no page shows:
/// read once per post they made PostgreSQL send, and the server decode, about twice the
/// columns of a page for nothing.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Author {
    /// Primary key.
    pub id: i64,
    /// Username.
    pub name: String,
    /// The name shown beside posts.
    pub display_name: String,
    /// An administrator.
    pub is_admin: bool,
    /// Lives on this instance.
    pub local: bool,
    /// Home domain of a remote person.
    pub domain: Option<String>,
    /// ActivityPub id of a remote person.
    pub ap_id: Option<String>,
    /// A remote person's profile page.
    pub profile_url: Option<String>,
    /// When the account was created.
    pub created_at: NaiveDateTime,
}

impl Author {
    /// How the person is named: `name` here, `name@domain` if remote.
    pub fn handle(&self) -> String {
        handle(&self.name, self.domain.as_deref(), self.local)
    }
}

impl From<&User> for Author {
    fn from(u: &User) -> Author {
        Author {
            id: u.id,
            name: u.name.clone(),
            display_name: u.display_name.clone(),
            is_admin: u.is_admin,
            local: u.local,
            domain: u.domain.clone(),
            ap_id: u.ap_id.clone(),
            profile_url: u.profile_url.clone(),
            created_at: u.created_at,
        }
    }
}

/// A local account to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
// NULL for `None`, so the insert stays prepared (see the `db` module).
#[diesel(treat_none_as_default_value = false)]
pub struct NewLocalUser<'a> {
    /// Username (already parsed).
    pub name: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// argon2id hash.
    pub password_hash: &'a str,
    /// Administrator?
    pub is_admin: bool,
    /// The e-mail address given.
    pub email: Option<&'a str>,
    /// Waiting for an administrator's approval.
    pub pending: bool,
    /// The answer to the instance's question, for an application.
    pub application: Option<&'a str>,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Same as `created_at`.
    pub updated_at: NaiveDateTime,
}

/// Inserts a local account.
pub fn insert_local(conn: &mut Conn<'_>, new: &NewLocalUser<'_>) -> QueryResult<User> {
    dispatch!(conn, |c| diesel::insert_into(users::table)
        .values(new)
        .returning(User::as_returning())
        .get_result(c))
}

/// The local account with this (lowercase) name.
///
/// Boolean conditions that match a partial index's `WHERE` are written as bare columns, never
/// `= ?`: a bound parameter keeps SQLite and PostgreSQL from using the partial index.
pub fn local_by_name(conn: &mut Conn<'_>, name: &str) -> QueryResult<Option<User>> {
    dispatch!(conn, |c| users::table
        .filter(users::local)
        .filter(users::name.eq(name))
        .select(User::as_select())
        .first(c)
        .optional())
}

/// What a deleted account is called on pages.
pub const DELETED_NAME: &str = "Deleted account";

/// Deletes a local account, keeping its row: it is renamed `new_name` (a name nobody can
/// register), remembers its old address in `ap_id` (so the address stays out of use, and the
/// `Delete` that tells other servers is signed as it), and loses its password, e-mail,
/// application and administrator's rights.
pub fn retire(
    conn: &mut Conn<'_>,
    id: i64,
    new_name: &str,
    old_address: &str,
    at: NaiveDateTime,
) -> QueryResult<User> {
    dispatch!(conn, |c| diesel::update(users::table.find(id))
        .set((
            users::name.eq(new_name),
            users::ap_id.eq(Some(old_address)),
            users::display_name.eq(DELETED_NAME),
            users::password_hash.eq(None::<String>),
            users::email.eq(None::<String>),
            users::application.eq(None::<String>),
            users::is_admin.eq(false),
            users::deleted_at.eq(Some(at)),
            users::updated_at.eq(at),
        ))
        .returning(User::as_returning())
        .get_result(c))
}

/// Marks a person elsewhere deleted, as their server said.
pub fn mark_deleted(conn: &mut Conn<'_>, id: i64, at: NaiveDateTime) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(users::table.find(id))
        .set((
            users::display_name.eq(DELETED_NAME),
            users::deleted_at.eq(Some(at)),
            users::updated_at.eq(at),
        ))
        .execute(c))
}

/// How many administrators there are (through `users_admins`).
pub fn count_admins(conn: &mut Conn<'_>) -> QueryResult<i64> {
    dispatch!(conn, |c| users::table
        .filter(users::is_admin)
        .count()
        .get_result(c))
}

/// [`count_admins`] inside a write transaction, holding the count until it commits: two
/// administrators who leave at once cannot both count the other as staying. SQLite's write
/// transaction already has the database to itself; PostgreSQL locks the administrators' rows
/// (`FOR UPDATE`), so the second waits for the first, then counts anew without those it retired.
pub fn count_admins_for_update(conn: &mut Conn<'_>) -> QueryResult<i64> {
    match conn {
        Conn::Sqlite(..) => count_admins(conn),
        Conn::Pg(c) => {
            let ids: Vec<i64> = users::table
                .filter(users::is_admin)
                .select(users::id)
                .for_update()
                .load(&mut **c)?;
            Ok(ids.len() as i64)
        }
    }
}

/// Whether any administrator exists.
pub fn admin_exists(conn: &mut Conn<'_>) -> QueryResult<bool> {
    dispatch!(conn, |c| diesel::select(diesel::dsl::exists(
        users::table.filter(users::is_admin)
    ))
    .get_result(c))
}

/// Replaces an account's password hash.
pub fn set_password_hash(
    conn: &mut Conn<'_>,
    id: i64,
    hash: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(at)))
        .execute(c))
}

/// Sets whether starting or replying to a thread watches it for the person.
pub fn set_watch_on_post(conn: &mut Conn<'_>, id: i64, on: bool) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(users::table.find(id))
        .set(users::watch_on_post.eq(on))
        .execute(c))
}

/// Accounts on this instance (for NodeInfo).
pub fn count_local(conn: &mut Conn<'_>) -> QueryResult<i64> {
    dispatch!(conn, |c| users::table
        .filter(users::local)
        .count()
        .get_result(c))
}

/// A remote person as fetched: what [`upsert_remote`] stores.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = users)]
pub struct RemoteUser {
    /// `preferredUsername`.
    pub name: String,
    /// `name`, or the username.
    pub display_name: String,
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
    /// Its profile page.
    pub profile_url: Option<String>,
    /// Now.
    pub last_refreshed_at: Option<NaiveDateTime>,
    /// Now.
    pub updated_at: NaiveDateTime,
}

/// Inserts a remote person, or updates the one with the same actor id.
pub fn upsert_remote(conn: &mut Conn<'_>, user: &RemoteUser) -> QueryResult<User> {
    let created_at = user.updated_at;
    dispatch!(conn, |c| diesel::insert_into(users::table)
        .values((user, users::created_at.eq(created_at)))
        .on_conflict(users::ap_id)
        .do_update()
        .set(user)
        .returning(User::as_returning())
        .get_result(c))
}

/// The person (local or remote) with this actor id.
pub fn by_ap_id(conn: &mut Conn<'_>, ap_id: &str) -> QueryResult<Option<User>> {
    dispatch!(conn, |c| users::table
        .filter(users::ap_id.eq(ap_id))
        .select(User::as_select())
        .first(c)
        .optional())
}

/// A person by id.
pub fn by_id(conn: &mut Conn<'_>, id: i64) -> QueryResult<Option<User>> {
    dispatch!(conn, |c| users::table
        .find(id)
        .select(User::as_select())
        .first(c)
        .optional())
}

/// A remote person by `name@domain`.
pub fn remote_by_handle(
    conn: &mut Conn<'_>,
    name: &str,
    domain: &str,
) -> QueryResult<Option<User>> {
    dispatch!(conn, |c| users::table
        .filter(users::domain.eq(domain))
        .filter(users::name.eq(name))
        .filter(users::local.eq(super::sql_false()))
        .select(User::as_select())
        .first(c)
        .optional())
}

/// The person with this actor id and their public key.
pub fn by_ap_id_with_key(
    conn: &mut Conn<'_>,
    ap_id: &str,
) -> QueryResult<Option<(User, Option<String>)>> {
    dispatch!(conn, |c| users::table
        .filter(users::ap_id.eq(ap_id))
        .select((User::as_select(), users::public_key))
        .first(c)
        .optional())
}

/// The administrators (who moderate every forum for now), oldest account first.
pub fn admins(conn: &mut Conn<'_>) -> QueryResult<Vec<User>> {
    // Found through the partial index `users_admins`, put in order here (they are few).
    let mut admins: Vec<User> = dispatch!(conn, |c| users::table
        .filter(users::is_admin)
        .select(User::as_select())
        .load(c))?;
    admins.sort_by_key(|u| u.id);
    Ok(admins)
}

/// The applications waiting for approval, oldest first, each with the applicant's answer.
/// Served by `users_pending`.
pub fn pending(conn: &mut Conn<'_>) -> QueryResult<Vec<(User, Option<String>)>> {
    dispatch!(conn, |c| users::table
        .filter(users::pending)
        .order((users::created_at, users::id))
        .select((User::as_select(), users::application))
        .load(c))
}

/// Approves a waiting application; the account, `None` when none waits under that id.
pub fn approve(conn: &mut Conn<'_>, id: i64) -> QueryResult<Option<User>> {
    dispatch!(conn, |c| diesel::update(
        users::table.find(id).filter(users::pending)
    )
    .set(users::pending.eq(super::sql_false()))
    .returning(User::as_returning())
    .get_result(c)
    .optional())
}

/// Deletes a waiting application's account (it never posted); whether there was one.
pub fn reject(conn: &mut Conn<'_>, id: i64) -> QueryResult<bool> {
    let deleted = dispatch!(conn, |c| diesel::delete(
        users::table.find(id).filter(users::pending)
    )
    .execute(c))?;
    Ok(deleted > 0)
}

//! `mail_outbox`, `email_tokens` and `site_secrets`: mail waiting to be sent, the single-use
//! links it carries, and the key other links are signed with.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{email_tokens, mail_outbox, notifications, site_secrets, users};
use super::users::User;
use super::{dispatch, Conn};

/// A row of `mail_outbox`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_outbox)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Mail {
    /// Primary key.
    pub id: i64,
    /// `verify`, `reset`, `notification` or `digest`.
    pub kind: String,
    /// Whom it is for (none once their account is gone).
    pub user_id: Option<i64>,
    /// The address it goes to.
    pub to_address: String,
    /// What the message needs (JSON).
    pub payload: String,
    /// When it was written.
    pub created_at: NaiveDateTime,
    /// Tries so far.
    pub attempts: i32,
    /// When to try next.
    pub next_attempt_at: NaiveDateTime,
    /// Why the last try failed.
    pub last_error: Option<String>,
    /// When it was sent.
    pub sent_at: Option<NaiveDateTime>,
    /// When the mail server refused it for good.
    pub failed_at: Option<NaiveDateTime>,
}

/// Writes a message to send.
pub fn enqueue(
    conn: &mut Conn<'_>,
    kind: &str,
    user_id: Option<i64>,
    to_address: &str,
    payload: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::kind.eq(kind),
            mail_outbox::user_id.eq(user_id),
            mail_outbox::to_address.eq(to_address),
            mail_outbox::payload.eq(payload),
            mail_outbox::created_at.eq(at),
            mail_outbox::next_attempt_at.eq(at),
        ))
        .execute(c))
}

/// Messages due by `now`, oldest due first (at most `limit`). Through `mail_outbox_due`.
pub fn due(conn: &mut Conn<'_>, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<Mail>> {
    dispatch!(conn, |c| mail_outbox::table
        .filter(mail_outbox::sent_at.is_null())
        .filter(mail_outbox::failed_at.is_null())
        .filter(mail_outbox::next_attempt_at.le(now))
        .order(mail_outbox::next_attempt_at)
        .limit(limit)
        .select(Mail::as_select())
        .load(c))
}

/// When the next message waiting is due, if any waits.
pub fn next_due(conn: &mut Conn<'_>) -> QueryResult<Option<NaiveDateTime>> {
    dispatch!(conn, |c| mail_outbox::table
        .filter(mail_outbox::sent_at.is_null())
        .filter(mail_outbox::failed_at.is_null())
        .order(mail_outbox::next_attempt_at)
        .select(mail_outbox::next_attempt_at)
        .first(c)
        .optional())
}

/// How many messages wait to be sent.
pub fn waiting(conn: &mut Conn<'_>) -> QueryResult<i64> {
    dispatch!(conn, |c| mail_outbox::table
        .filter(mail_outbox::sent_at.is_null())
        .filter(mail_outbox::failed_at.is_null())
        .count()
        .get_result(c))
}

/// Records a message sent (and forgets the one-time token its payload carried).
pub fn sent(conn: &mut Conn<'_>, id: i64, at: NaiveDateTime) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::sent_at.eq(Some(at)),
            mail_outbox::payload.eq("{}"),
        ))
        .execute(c))
}

/// Records a failed try: the next one at `next`.
pub fn retry(
    conn: &mut Conn<'_>,
    id: i64,
    attempts: i32,
    next: NaiveDateTime,
    error: &str,
) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::attempts.eq(attempts),
            mail_outbox::next_attempt_at.eq(next),
            mail_outbox::last_error.eq(Some(error)),
        ))
        .execute(c))
}

/// Records that the mail server refused the message for good.
pub fn failed(conn: &mut Conn<'_>, id: i64, at: NaiveDateTime, error: &str) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::failed_at.eq(Some(at)),
            mail_outbox::last_error.eq(Some(error)),
            mail_outbox::payload.eq("{}"),
        ))
        .execute(c))
}

/// Forgets messages sent or refused before `before`. Through `mail_outbox_done`.
pub fn forget_done(conn: &mut Conn<'_>, before: NaiveDateTime) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::delete(
        mail_outbox::table
            .filter(
                mail_outbox::sent_at
                    .is_not_null()
                    .or(mail_outbox::failed_at.is_not_null())
            )
            .filter(mail_outbox::created_at.lt(before))
    )
    .execute(c))
}

/// A row of `email_tokens`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = email_tokens)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct EmailToken {
    /// Primary key.
    pub id: i64,
    /// Whose.
    pub user_id: i64,
    /// `verify` or `reset`.
    pub purpose: String,
    /// SHA-256 of the token.
    pub token_hash: String,
    /// The address it was sent to.
    pub email: String,
    /// When it was made.
    pub created_at: NaiveDateTime,
    /// When it stops working.
    pub expires_at: NaiveDateTime,
    /// When it was used (it works once).
    pub used_at: Option<NaiveDateTime>,
}

/// Stores a token's digest.
pub fn insert_token(
    conn: &mut Conn<'_>,
    user_id: i64,
    purpose: &str,
    token_hash: &str,
    email: &str,
    at: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::user_id.eq(user_id),
            email_tokens::purpose.eq(purpose),
            email_tokens::token_hash.eq(token_hash),
            email_tokens::email.eq(email),
            email_tokens::created_at.eq(at),
            email_tokens::expires_at.eq(expires_at),
        ))
        .execute(c))
}

/// The token with this digest and purpose, if any.
pub fn token(
    conn: &mut Conn<'_>,
    token_hash: &str,
    purpose: &str,
) -> QueryResult<Option<EmailToken>> {
    dispatch!(conn, |c| email_tokens::table
        .filter(email_tokens::token_hash.eq(token_hash))
        .filter(email_tokens::purpose.eq(purpose))
        .select(EmailToken::as_select())
        .first(c)
        .optional())
}

/// Uses a token up, unless it was used already; whether this call used it.
pub fn use_token(conn: &mut Conn<'_>, id: i64, at: NaiveDateTime) -> QueryResult<bool> {
    let n = dispatch!(conn, |c| diesel::update(
        email_tokens::table
            .find(id)
            .filter(email_tokens::used_at.is_null())
    )
    .set(email_tokens::used_at.eq(Some(at)))
    .execute(c))?;
    Ok(n == 1)
}

/// When the person was last sent a token for `purpose`.
pub fn last_token_at(
    conn: &mut Conn<'_>,
    user_id: i64,
    purpose: &str,
) -> QueryResult<Option<NaiveDateTime>> {
    dispatch!(conn, |c| email_tokens::table
        .filter(email_tokens::user_id.eq(user_id))
        .filter(email_tokens::purpose.eq(purpose))
        .order(email_tokens::created_at.desc())
        .select(email_tokens::created_at)
        .first(c)
        .optional())
}

/// Forgets tokens that ended before `before`.
pub fn forget_tokens(conn: &mut Conn<'_>, before: NaiveDateTime) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::delete(
        email_tokens::table.filter(email_tokens::expires_at.lt(before))
    )
    .execute(c))
}

/// The secret called `name`, made from `fresh` the first time it is asked for (by whichever
/// process asks first; every process then reads the same one).
pub fn secret(conn: &mut Conn<'_>, name: &str, fresh: &str) -> QueryResult<String> {
    dispatch!(conn, |c| diesel::insert_into(site_secrets::table)
        .values((site_secrets::name.eq(name), site_secrets::value.eq(fresh)))
        .on_conflict(site_secrets::name)
        .do_nothing()
        .execute(c))?;
    dispatch!(conn, |c| site_secrets::table
        .find(name)
        .select(site_secrets::value)
        .first(c))
}

/// Sets a person's address (`None`: none); it is not verified until they follow the link.
pub fn set_email(conn: &mut Conn<'_>, user_id: i64, email: Option<&str>) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(users::table.find(user_id))
        .set((
            users::email.eq(email),
            users::email_verified_at.eq(None::<NaiveDateTime>),
        ))
        .execute(c))
}

/// Marks the person's address verified, if it is still `email`.
pub fn verify_email(
    conn: &mut Conn<'_>,
    user_id: i64,
    email: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = dispatch!(conn, |c| diesel::update(
        users::table.find(user_id).filter(users::email.eq(email))
    )
    .set(users::email_verified_at.eq(Some(at)))
    .execute(c))?;
    Ok(n == 1)
}

/// Sets how the person wants mail; choosing the digest starts it from `at`.
pub fn set_email_mode(
    conn: &mut Conn<'_>,
    user_id: i64,
    mode: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(users::table.find(user_id))
        .set((
            users::email_mode.eq(mode),
            users::last_digest_at.eq(Some(at)),
        ))
        .execute(c))
}

/// The local account with this verified address (addresses are kept lowercased), if one.
pub fn by_verified_email(conn: &mut Conn<'_>, email: &str) -> QueryResult<Option<User>> {
    dispatch!(conn, |c| users::table
        .filter(users::local)
        .filter(users::email_verified_at.is_not_null())
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(c)
        .optional())
}

/// Notifications the mailer has not dealt with, made before `before`, with their people:
/// oldest first, at most `limit`. Through `notifications_to_mail`.
pub fn notifications_to_mail(
    conn: &mut Conn<'_>,
    before: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(super::notifications::Notification, User)>> {
    dispatch!(conn, |c| notifications::table
        .inner_join(users::table)
        .filter(notifications::emailed_at.is_null())
        .filter(notifications::created_at.le(before))
        .order(notifications::id)
        .limit(limit)
        .select((
            super::notifications::Notification::as_select(),
            User::as_select(),
        ))
        .load(c))
}

/// Marks notifications dealt with by the mailer.
pub fn mark_emailed(conn: &mut Conn<'_>, ids: &[i64], at: NaiveDateTime) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    dispatch!(conn, |c| diesel::update(
        notifications::table.filter(super::any_id(notifications::id, ids))
    )
    .set(notifications::emailed_at.eq(Some(at)))
    .execute(c))
}

/// People who take the daily digest, have a verified address, and whose last digest was made
/// before `cutoff`. Through `users_digest`.
pub fn due_digests(
    conn: &mut Conn<'_>,
    cutoff: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<User>> {
    dispatch!(conn, |c| users::table
        .filter(users::email_mode.eq("digest"))
        .filter(users::email_verified_at.is_not_null())
        .filter(
            users::last_digest_at
                .is_null()
                .or(users::last_digest_at.lt(cutoff))
        )
        .limit(limit)
        .select(User::as_select())
        .load(c))
}

/// Records when the person's digest was made.
pub fn digest_made(conn: &mut Conn<'_>, user_id: i64, at: NaiveDateTime) -> QueryResult<usize> {
    dispatch!(conn, |c| diesel::update(users::table.find(user_id))
        .set(users::last_digest_at.eq(Some(at)))
        .execute(c))
}

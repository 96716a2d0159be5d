//! E-mail, as the domain sees it: an address per account, proved by a link before anything
//! else is sent to it; how each person wants to hear (`immediate`, a daily `digest`, or
//! `off`); password reset by a single-use link that expires; unsubscribing and stopping
//! watching by links signed with a key of the site's own; and what the mailer must send.
//!
//! Nothing here speaks SMTP. Mail is written to `mail_outbox` (in the transaction that calls
//! for it, where there is one) and the `mail` layer turns each row into a message and sends
//! it, trying again later when the mail server fails, so a failing server delays mail but
//! loses none and a restart sends what was pending. With `email.smtp_url` empty, e-mail is
//! off: addresses can still be kept, and everything says mail is off.

use chrono::{Duration, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};

use super::notifications::Notice;
use super::threads::PostContext;
use super::tokens::{digest, new_token};
use super::types::{EmailAddress, NewPassword};
use super::{Site, Thread, User};
use crate::db::{self, mail, notifications as notification_rows, sessions, threads, users, Conn};
use crate::error::{ForumError, Validator};

/// How long an address verification link works.
pub const VERIFY_HOURS: i64 = 48;
/// How long a password reset link works.
pub const RESET_MINUTES: i64 = 60;
/// How often one account may be sent a reset link.
pub const RESET_EVERY_MINUTES: i64 = 5;
/// How long unsubscribe and stop-watching links in a message work.
pub const LINK_DAYS: i64 = 60;
/// The most notifications one digest lists.
pub const DIGEST_MAX: i64 = 50;

/// The ways a person may hear of their notifications by e-mail.
pub const MODES: [&str; 3] = ["immediate", "digest", "off"];

/// What a message in the outbox is, with what composing it needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MailKind {
    /// "Is this your address?", with the link that says yes.
    Verify {
        /// The link's token (kept only until the message is sent).
        token: String,
    },
    /// A password reset link.
    Reset {
        /// The link's token (kept only until the message is sent).
        token: String,
    },
    /// One notification.
    Notification {
        /// Its id.
        id: i64,
    },
    /// A day's notifications.
    Digest {
        /// Their ids, newest first.
        ids: Vec<i64>,
    },
}

impl MailKind {
    fn name(&self) -> &'static str {
        match self {
            MailKind::Verify { .. } => "verify",
            MailKind::Reset { .. } => "reset",
            MailKind::Notification { .. } => "notification",
            MailKind::Digest { .. } => "digest",
        }
    }
}

/// A message to send, as the mailer takes it.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The outbox row's id.
    pub id: i64,
    /// What it is.
    pub kind: MailKind,
    /// The address.
    pub to: String,
    /// The person (gone: `None`).
    pub user: Option<User>,
    /// Tries before this one.
    pub attempts: i32,
}

/// A person's e-mail settings, as they see them.
#[derive(Debug, Clone, Serialize)]
pub struct EmailSettings {
    /// Their address, if they gave one.
    pub email: Option<String>,
    /// Whether they proved it.
    pub verified: bool,
    /// `immediate`, `digest` or `off`.
    pub mode: String,
    /// Whether this instance sends mail at all.
    pub enabled: bool,
}

impl EmailSettings {
    fn of(user: &User, enabled: bool) -> EmailSettings {
        EmailSettings {
            email: user.email.clone(),
            verified: user.email_verified_at.is_some(),
            mode: user.email_mode.clone(),
            enabled,
        }
    }
}

fn enqueue(conn: &mut Conn<'_>, kind: &MailKind, user: &User, to: &str) -> Result<(), ForumError> {
    let payload = serde_json::to_string(kind).map_err(|e| ForumError::Internal(e.to_string()))?;
    mail::enqueue(conn, kind.name(), Some(user.id), to, &payload, db::now())?;
    Ok(())
}

/// Makes a verification link for `email` and writes the message that carries it.
fn send_verification(conn: &mut Conn<'_>, user: &User, email: &str) -> Result<(), ForumError> {
    let token = new_token();
    let now = db::now();
    mail::insert_token(
        conn,
        user.id,
        "verify",
        &digest(&token),
        email,
        now,
        now + Duration::hours(VERIFY_HOURS),
    )?;
    enqueue(conn, &MailKind::Verify { token }, user, email)
}

fn bad_link(what: &str) -> ForumError {
    ForumError::Gone {
        code: "link_expired",
        message: format!("This {what} link has expired or was used already. Ask for a new one."),
    }
}

/// The token of a link, if it is one of ours of `purpose`, unused and not expired.
fn live_token(
    conn: &mut Conn<'_>,
    token: &str,
    purpose: &str,
    what: &str,
) -> Result<mail::EmailToken, ForumError> {
    match mail::token(conn, &digest(token.trim()), purpose)? {
        Some(t) if t.used_at.is_none() && t.expires_at > db::now() => Ok(t),
        _ => Err(bad_link(what)),
    }
}

impl Site {
    /// Whether this instance sends mail.
    pub fn email_enabled(&self) -> bool {
        self.settings().email.enabled()
    }

    /// `by`'s e-mail settings.
    pub fn email_settings(&self, by: &User) -> EmailSettings {
        EmailSettings::of(by, self.email_enabled())
    }

    /// Changes `by`'s e-mail: a new address (`Some("")` removes it) and how they want to
    /// hear. A new address is not used until they follow the link sent to it (sent now, when
    /// e-mail is on). 422 on the field at fault.
    pub async fn update_email(
        &self,
        by: User,
        email: Option<String>,
        mode: Option<String>,
    ) -> Result<EmailSettings, ForumError> {
        let enabled = self.email_enabled();
        let user = self
            .blocking(move |_inner, conn| {
                let mut v = Validator::new();
                let address = match email.as_deref().map(str::trim) {
                    None => None,
                    Some("") => Some(None),
                    Some(text) => v.check("email", EmailAddress::parse(text)).map(Some),
                };
                let mode = match mode {
                    Some(m) if MODES.contains(&m.as_str()) => Some(m),
                    Some(_) => v.check(
                        "email_mode",
                        Err("Choose immediate, digest or off.".to_string()),
                    ),
                    None => None,
                };
                if !v.is_empty() {
                    return Err(v.into_error());
                }
                conn.transaction(|conn| {
                    if let Some(address) = &address {
                        let new = address.as_ref().map(EmailAddress::as_str);
                        if new != by.email.as_deref() {
                            mail::set_email(conn, by.id, new)?;
                            if let (Some(new), true) = (new, enabled) {
                                send_verification(conn, &by, new)?;
                            }
                        }
                    }
                    if let Some(mode) = &mode {
                        if *mode != by.email_mode {
                            mail::set_email_mode(conn, by.id, mode, db::now())?;
                        }
                    }
                    users::by_id(conn, by.id)?.ok_or(ForumError::NotFound { what: "person" })
                })
            })
            .await?;
        self.mail_written();
        Ok(EmailSettings::of(&user, enabled))
    }

    /// Sends `by` a new verification link for their address (409 `email_verified` when it is
    /// proved already, 422 when they have none, 409 `email_disabled` when mail is off).
    pub async fn resend_verification(&self, by: User) -> Result<(), ForumError> {
        if !self.email_enabled() {
            return Err(email_off());
        }
        self.blocking(move |_inner, conn| {
            let Some(email) = by.email.clone() else {
                return Err(ForumError::invalid(
                    "invalid_input",
                    "email",
                    "Give an address first.",
                ));
            };
            if by.email_verified_at.is_some() {
                return Err(ForumError::conflict(
                    "email_verified",
                    "email",
                    "Your address is verified already.",
                ));
            }
            conn.transaction(|conn| send_verification(conn, &by, &email))
        })
        .await?;
        self.mail_written();
        Ok(())
    }

    /// Follows a verification link: the address it was sent to is proved (410 `link_expired`
    /// for a link used, expired, or for an address since changed).
    pub async fn verify_email(&self, token: String) -> Result<User, ForumError> {
        self.blocking(move |_inner, conn| {
            conn.transaction(|conn| {
                let found = live_token(conn, &token, "verify", "verification")?;
                if !mail::use_token(conn, found.id, db::now())?
                    || !mail::verify_email(conn, found.user_id, &found.email, db::now())?
                {
                    return Err(bad_link("verification"));
                }
                users::by_id(conn, found.user_id)?.ok_or(ForumError::NotFound { what: "person" })
            })
        })
        .await
    }

    /// Asks for a password reset link for the account with this name or verified address.
    /// Always succeeds, whether or not there is one, so nobody learns who has an account here;
    /// a link is sent (when e-mail is on) to a verified address only, at most every
    /// [`RESET_EVERY_MINUTES`] minutes.
    pub async fn request_password_reset(&self, name_or_email: String) -> Result<(), ForumError> {
        if !self.email_enabled() {
            return Ok(());
        }
        let wrote = self
            .blocking(move |_inner, conn| {
                let text = name_or_email.trim().to_lowercase();
                if text.is_empty() || text.len() > 254 {
                    return Ok(false);
                }
                let user = if text.contains('@') {
                    mail::by_verified_email(conn, &text)?
                } else {
                    users::local_by_name(conn, &text)?
                };
                let Some(user) = user.filter(|u| {
                    u.email_verified_at.is_some() && u.deleted_at.is_none() && !u.pending
                }) else {
                    return Ok(false);
                };
                let Some(email) = user.email.clone() else {
                    return Ok(false);
                };
                let now = db::now();
                if mail::last_token_at(conn, user.id, "reset")?
                    .is_some_and(|at| at > now - Duration::minutes(RESET_EVERY_MINUTES))
                {
                    return Ok(false);
                }
                conn.transaction(|conn| {
                    let token = new_token();
                    mail::insert_token(
                        conn,
                        user.id,
                        "reset",
                        &digest(&token),
                        &email,
                        now,
                        now + Duration::minutes(RESET_MINUTES),
                    )?;
                    enqueue(conn, &MailKind::Reset { token }, &user, &email)?;
                    Ok(true)
                })
            })
            .await?;
        if wrote {
            self.mail_written();
        }
        Ok(())
    }

    /// The account a reset link is for, if the link still works (410 `link_expired`).
    pub async fn reset_link(&self, token: String) -> Result<User, ForumError> {
        self.blocking(move |_inner, conn| {
            let found = live_token(conn, &token, "reset", "password reset")?;
            users::by_id(conn, found.user_id)?.ok_or_else(|| bad_link("password reset"))
        })
        .await
    }

    /// Sets a new password through a reset link, once: every session of the account ends.
    /// 410 `link_expired`; 422 on `new_password` for a password too weak.
    pub async fn reset_password(&self, token: String, new: String) -> Result<User, ForumError> {
        let mut v = Validator::new();
        let new = v.check("new_password", NewPassword::parse(&new));
        let Some(new) = new else {
            return Err(v.into_error());
        };
        // The link is checked before the (slow) hash, and used up after it, in one transaction.
        self.reset_link(token.clone()).await?;
        let hash = self.inner.hasher.hash(new.as_str().to_string()).await?;
        self.blocking(move |_inner, conn| {
            conn.transaction(|conn| {
                let found = live_token(conn, &token, "reset", "password reset")?;
                if !mail::use_token(conn, found.id, db::now())? {
                    return Err(bad_link("password reset"));
                }
                users::set_password_hash(conn, found.user_id, &hash, db::now())?;
                sessions::delete_others(conn, found.user_id, None)?;
                users::by_id(conn, found.user_id)?.ok_or(ForumError::NotFound { what: "person" })
            })
        })
        .await
    }

    /// The key links in messages are signed with (made once, kept in the database, so every
    /// process of this instance signs alike).
    async fn link_key(&self) -> Result<Vec<u8>, ForumError> {
        if let Some(key) = self.inner.link_key.get() {
            return Ok(key.clone());
        }
        let key = self
            .blocking(|_inner, conn| Ok(mail::secret(conn, "link_key", &new_token())?))
            .await?;
        let _ = self.inner.link_key.set(key.clone().into_bytes());
        Ok(key.into_bytes())
    }

    /// A link that unsubscribes `user` from all mail but the account's own (resets), for
    /// [`LINK_DAYS`] days: `/unsubscribe?token=...`.
    pub async fn unsubscribe_url(&self, user: &User) -> Result<String, ForumError> {
        let key = self.link_key().await?;
        let token = super::tokens::sign(&key, "unsubscribe", user.id, 0, link_end());
        Ok(self.urls().absolute(&format!("/unsubscribe?token={token}")))
    }

    /// A link that stops `user` watching `thread`, for [`LINK_DAYS`] days.
    pub async fn unwatch_url(&self, user: &User, thread: &Thread) -> Result<String, ForumError> {
        let key = self.link_key().await?;
        let token = super::tokens::sign(&key, "unwatch", user.id, thread.id, link_end());
        Ok(self.urls().absolute(&format!("/unwatch?token={token}")))
    }

    /// Follows an unsubscribe link: the person gets no more notification mail (410
    /// `link_expired` for a link that does not check out or has ended).
    pub async fn unsubscribe(&self, token: String) -> Result<User, ForumError> {
        let key = self.link_key().await?;
        let (user_id, _) = super::tokens::check(&key, "unsubscribe", &token, db::now())
            .ok_or_else(|| bad_link("unsubscribe"))?;
        self.blocking(move |_inner, conn| {
            mail::set_email_mode(conn, user_id, "off", db::now())?;
            users::by_id(conn, user_id)?.ok_or_else(|| bad_link("unsubscribe"))
        })
        .await
    }

    /// Follows a stop-watching link: the person no longer watches the thread.
    pub async fn unwatch_by_link(&self, token: String) -> Result<Thread, ForumError> {
        let key = self.link_key().await?;
        let (user_id, thread_id) = super::tokens::check(&key, "unwatch", &token, db::now())
            .ok_or_else(|| bad_link("stop watching"))?;
        self.blocking(move |_inner, conn| {
            let thread =
                threads::by_id(conn, thread_id)?.ok_or_else(|| bad_link("stop watching"))?;
            crate::db::reads::set_watching(conn, user_id, thread_id, false, db::now())?;
            Ok(thread)
        })
        .await
    }

    /// Writes the mail that is due: each notification older than
    /// `email.notify_after_minutes` and still unread, to those who take immediate mail; and,
    /// from `email.digest_hour`, one digest to each who takes the digest and has something
    /// new since their last. Returns how many messages it wrote.
    pub async fn collect_mail(&self) -> Result<usize, ForumError> {
        let email = self.settings().email.clone();
        let written = self
            .blocking(move |_inner, conn| {
                let now = db::now();
                let delay = Duration::milliseconds((email.notify_after_minutes * 60_000.0) as i64);
                let mut written = 0;
                loop {
                    let batch = mail::notifications_to_mail(conn, now - delay, 200)?;
                    if batch.is_empty() {
                        break;
                    }
                    conn.transaction(|conn| {
                        let mut done = Vec::with_capacity(batch.len());
                        for (n, person) in &batch {
                            done.push(n.id);
                            let wants = person.email_mode == "immediate"
                                && person.email_verified_at.is_some()
                                && person.deleted_at.is_none()
                                && n.read_at.is_none();
                            if let (true, Some(to)) = (wants, person.email.as_deref()) {
                                enqueue(conn, &MailKind::Notification { id: n.id }, person, to)?;
                                written += 1;
                            }
                        }
                        mail::mark_emailed(conn, &done, now)?;
                        Ok::<_, ForumError>(())
                    })?;
                }
                // Today's digest hour, or yesterday's before it comes round.
                let today = now
                    .date()
                    .and_hms_opt(email.digest_hour, 0, 0)
                    .unwrap_or(now);
                let cutoff = if now.hour() >= email.digest_hour {
                    today
                } else {
                    today - Duration::days(1)
                };
                for person in mail::due_digests(conn, cutoff, 500)? {
                    let since = person.last_digest_at.unwrap_or(person.created_at);
                    let listing = notification_rows::Listing {
                        user_id: person.id,
                        unread_only: true,
                        reads_everything: person.is_admin,
                    };
                    let ids: Vec<i64> = notification_rows::list(conn, listing, DIGEST_MAX, 0)?
                        .into_iter()
                        .filter(|n| n.created_at > since)
                        .map(|n| n.id)
                        .collect();
                    conn.transaction(|conn| {
                        if let (false, Some(to)) = (ids.is_empty(), person.email.as_deref()) {
                            enqueue(conn, &MailKind::Digest { ids: ids.clone() }, &person, to)?;
                            written += 1;
                        }
                        mail::digest_made(conn, person.id, now)?;
                        Ok::<_, ForumError>(())
                    })?;
                }
                Ok(written)
            })
            .await?;
        Ok(written)
    }

    /// Messages due to be sent now, at most `limit`, oldest first.
    pub async fn due_mail(&self, limit: i64) -> Result<Vec<Outgoing>, ForumError> {
        self.blocking(move |_inner, conn| {
            let mut out = Vec::new();
            for row in mail::due(conn, db::now(), limit)? {
                let user = match row.user_id {
                    Some(id) => users::by_id(conn, id)?,
                    None => None,
                };
                match serde_json::from_str::<MailKind>(&row.payload) {
                    Ok(kind) => out.push(Outgoing {
                        id: row.id,
                        kind,
                        to: row.to_address,
                        user,
                        attempts: row.attempts,
                    }),
                    Err(e) => {
                        mail::failed(conn, row.id, db::now(), &format!("unreadable: {e}"))?;
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    /// How many messages wait to be sent (tests wait for none).
    pub async fn mail_waiting(&self) -> Result<i64, ForumError> {
        self.blocking(|_inner, conn| Ok(mail::waiting(conn)?)).await
    }

    /// When the next message waiting is due.
    pub async fn next_mail_due(&self) -> Result<Option<NaiveDateTime>, ForumError> {
        self.blocking(|_inner, conn| Ok(mail::next_due(conn)?))
            .await
    }

    /// Records a message sent.
    pub async fn mail_sent(&self, id: i64) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            mail::sent(conn, id, db::now())?;
            Ok(())
        })
        .await
    }

    /// Records a try that failed for now: the next is later, the longer the more tries failed
    /// (`email.retry_seconds`, then four times longer each time, at most six hours); mail is
    /// never given up for a failure of the mail server.
    pub async fn mail_failed_for_now(
        &self,
        id: i64,
        attempts: i32,
        error: String,
    ) -> Result<(), ForumError> {
        let wait = mail_backoff(self.settings().email.retry_seconds, attempts);
        self.blocking(move |_inner, conn| {
            mail::retry(conn, id, attempts + 1, db::now() + wait, &error)?;
            Ok(())
        })
        .await
    }

    /// Records that the mail server refused a message for good (a mailbox that does not
    /// exist, say): it is not tried again.
    pub async fn mail_refused(&self, id: i64, error: String) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            mail::failed(conn, id, db::now(), &error)?;
            Ok(())
        })
        .await
    }

    /// The notifications a message tells of, as their person may see them now (those deleted
    /// since, or no longer readable, are left out).
    pub async fn notices_for_mail(
        &self,
        user: User,
        ids: Vec<i64>,
    ) -> Result<Vec<Notice>, ForumError> {
        self.blocking(move |_inner, conn| super::notifications::notices_by_id(conn, &user, &ids))
            .await
    }

    /// The post a notification is about, for a message.
    pub fn notice_url(&self, ctx: &PostContext) -> String {
        self.urls().absolute(&format!("/p/{}", ctx.post.id))
    }

    /// Wakes the mailer: something was written for it.
    pub(super) fn mail_written(&self) {
        self.inner.mail_signal.notify_one();
    }

    /// Waits until mail is written or `timeout` passes.
    pub async fn mail_wait(&self, timeout: std::time::Duration) {
        let _ = tokio::time::timeout(timeout, self.inner.mail_signal.notified()).await;
    }
}

fn email_off() -> ForumError {
    ForumError::conflict(
        "email_disabled",
        "email",
        "This instance does not send e-mail (no SMTP server is configured).",
    )
}

fn link_end() -> NaiveDateTime {
    db::now() + Duration::days(LINK_DAYS)
}

/// The wait before the try after `attempts` failed ones, from a first wait of `base` seconds.
pub fn mail_backoff(base: f64, attempts: i32) -> Duration {
    let factor = 4f64.powi(attempts.clamp(0, 10));
    let seconds = (base * factor).min(6.0 * 3600.0);
    Duration::milliseconds((seconds * 1000.0) as i64)
}

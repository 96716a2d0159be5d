//! Accounts: registration, login with throttling, sessions, password changes.

use chrono::{NaiveDateTime, TimeDelta};

use super::types::{Answer, DisplayName, EmailAddress, NewPassword, Username};
use super::{password, tokens, Inner, Site, User};
use crate::config::RegistrationMode;
use crate::db::{self, invites, login_failures, sessions, users, Conn};
use crate::error::{ForumError, Validator};

/// What a registration form or JSON body carries.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    /// Username as typed.
    pub username: String,
    /// Display name as typed (may be empty).
    pub display_name: String,
    /// Password as typed.
    pub password: String,
    /// E-mail address as typed (required when `registration.allowed_email_domains` is set).
    pub email: String,
    /// The answer to `registration.question` (required in `approval` mode).
    pub answer: String,
    /// The invitation code (required in `invite` mode).
    pub invite: String,
}

/// Who is creating the account.
#[derive(Debug, Clone)]
pub enum Registrar {
    /// A visitor registering themselves, by the instance's `registration` rules.
    Visitor,
    /// A logged-in administrator; `admin` makes the new account an administrator too.
    Admin {
        /// The administrator (boxed: a row is much larger than the other variants).
        by: Box<User>,
        /// Make the new account an administrator.
        admin: bool,
    },
    /// The `staffroom admin create-user` command, run by whoever runs the server.
    Console {
        /// Make the new account an administrator.
        admin: bool,
    },
}

/// Web cookie or API bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// Browser session cookie.
    Web,
    /// API bearer token.
    Api,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Web => "web",
            SessionKind::Api => "api",
        }
    }
}

/// A fresh login: the token to give the client (never stored) and the account.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The secret the client presents from now on.
    pub token: String,
    /// Whose it is.
    pub user: User,
    /// When it stops working.
    pub expires_at: NaiveDateTime,
}

/// A session found from its token.
#[derive(Debug, Clone)]
pub struct LiveSession {
    /// The session's row id.
    pub id: i64,
    /// Whose it is.
    pub user: User,
    /// For a web session, how many of their notifications are unread (up to
    /// [`super::notifications::UNREAD_CAP`]), for the header.
    pub unread_notifications: Option<i64>,
}

/// The live session holding `token`, if any, with its account (and, for a web session, the
/// count of unread notifications its pages' header shows).
pub(super) fn live_session(
    conn: &mut Conn<'_>,
    token: &str,
    kind: SessionKind,
) -> Result<Option<LiveSession>, ForumError> {
    let found = sessions::live_with_user(conn, &tokens::digest(token), kind.as_str(), db::now())?;
    let Some((session, user)) = found else {
        return Ok(None);
    };
    let unread_notifications = match kind {
        SessionKind::Web => Some(super::notifications::unread_count(conn, &user)?),
        SessionKind::Api => None,
    };
    Ok(Some(LiveSession {
        id: session.id,
        user,
        unread_notifications,
    }))
}

fn create_session(
    inner: &Inner,
    conn: &mut Conn<'_>,
    user: User,
    kind: SessionKind,
) -> Result<NewSession, ForumError> {
    let now = db::now();
    let token = tokens::new_token();
    let expires_at = now + TimeDelta::days(i64::from(inner.settings.accounts.session_days));
    sessions::insert(
        conn,
        &sessions::NewSession {
            user_id: user.id,
            token_hash: &tokens::digest(&token),
            kind: kind.as_str(),
            created_at: now,
            expires_at,
        },
    )?;
    Ok(NewSession {
        token,
        user,
        expires_at,
    })
}

impl Site {
    /// Whether visitors may register themselves straight away (`registration.mode = "open"`).
    pub fn registration_open(&self) -> bool {
        self.settings().registration.mode == RegistrationMode::Open
    }

    /// Creates an account. Every field is checked and all mistakes reported together. A
    /// visitor registers by the instance's rules: not at all when registration is `closed`;
    /// with a usable invitation (used up by this registration) in `invite` mode; in
    /// `approval` mode answering the instance's question, the account then waiting
    /// (`pending`) for an administrator, unless they came with an invitation; and with an
    /// address at an allowed domain when any are set.
    /// Administrators and the console create accounts whatever the rules.
    pub async fn register(&self, form: Registration, by: Registrar) -> Result<User, ForumError> {
        let rules = self.settings().registration.clone();
        let visitor = matches!(by, Registrar::Visitor);
        let make_admin = match &by {
            Registrar::Visitor if rules.mode == RegistrationMode::Closed => {
                return Err(ForumError::forbidden(
                    "registration_closed",
                    "Registration is closed on this instance; ask an administrator for an account",
                ))
            }
            Registrar::Visitor => false,
            Registrar::Admin { by, admin } => {
                super::require_admin(by)?;
                *admin
            }
            Registrar::Console { admin } => *admin,
        };
        let mut v = Validator::new();
        let username = v.check("username", Username::parse(&form.username));
        let display = username
            .as_ref()
            .map(|u| DisplayName::parse_or(&form.display_name, u));
        let display = match display {
            Some(d) => v.check("display_name", d),
            None => None,
        };
        let password = v.check("password", NewPassword::parse(&form.password));
        let domains = &rules.allowed_email_domains;
        let email = if visitor && !domains.is_empty() {
            match v.check("email", EmailAddress::parse(&form.email)) {
                Some(e) if domains.iter().any(|d| d.eq_ignore_ascii_case(e.domain())) => Some(e),
                Some(_) => v.check(
                    "email",
                    Err(format!(
                        "Registration here is for addresses at {}.",
                        domains.join(" or ")
                    )),
                ),
                None => None,
            }
        } else if form.email.trim().is_empty() {
            None
        } else {
            v.check("email", EmailAddress::parse(&form.email))
        };
        // An invitation lets a visitor in whatever the mode (but `closed`): in `invite` mode
        // one is needed, and in `approval` mode it stands for the administrator's approval.
        let code = form.invite.trim();
        let invited = visitor && !code.is_empty();
        let answer = (visitor && rules.mode == RegistrationMode::Approval && !invited)
            .then(|| v.check("answer", Answer::parse(&form.answer)))
            .flatten();
        let invite = if invited {
            Some(tokens::digest(code))
        } else if visitor && rules.mode == RegistrationMode::Invite {
            v.check(
                "invite",
                Err(
                    "Registration here is by invitation: open the link an administrator sent you."
                        .to_string(),
                ),
            )
        } else {
            None
        };
        let (Some(username), Some(display), Some(password), true) =
            (username, display, password, v.is_empty())
        else {
            return Err(v.into_error());
        };
        let name = username.as_str().to_string();
        let checked_invite = invite.clone();
        let taken_already = self
            .blocking(move |inner, conn| {
                if let Some(hash) = &checked_invite {
                    if !invites::usable(conn, hash, db::now())? {
                        return Err(invalid_invite());
                    }
                }
                // A deleted account's name stays out of use: other servers knew it at that
                // address (see `leaving`).
                let address = inner.urls.absolute(&format!("/u/{name}"));
                Ok(users::local_by_name(conn, &name)?.is_some()
                    || users::by_ap_id(conn, &address)?.is_some())
            })
            .await?;
        if taken_already {
            return Err(taken());
        }
        let hash = self
            .inner
            .hasher
            .hash(password.as_str().to_string())
            .await?;
        let pending = visitor && rules.mode == RegistrationMode::Approval && !invited;
        self.blocking(move |_inner, conn| {
            conn.transaction(|conn| {
                let now = db::now();
                let user = users::insert_local(
                    conn,
                    &users::NewLocalUser {
                        name: username.as_str(),
                        display_name: display.as_str(),
                        password_hash: &hash,
                        is_admin: make_admin,
                        email: email.as_ref().map(EmailAddress::as_str),
                        pending,
                        application: answer.as_ref().map(Answer::as_str),
                        created_at: now,
                        updated_at: now,
                    },
                )
                .map_err(|e| match e {
                    // Two registrations racing for one name: the index decides.
                    diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    ) => taken(),
                    other => other.into(),
                })?;
                if let Some(code) = &invite {
                    // Two registrations racing for one invitation: the first takes it.
                    if invites::use_code(conn, code, user.id, now)?.is_none() {
                        return Err(invalid_invite());
                    }
                }
                Ok(user)
            })
        })
        .await
    }

    /// Opens a session for an account that has just been created (registration logs in).
    pub async fn open_session(
        &self,
        user: User,
        kind: SessionKind,
    ) -> Result<NewSession, ForumError> {
        self.blocking(move |inner, conn| create_session(inner, conn, user, kind))
            .await
    }

    /// Logs in. Throttled per account and per client `address`; a wrong username and a wrong
    /// password give the same answer in the same time.
    ///
    /// Each attempt is counted as a failure before the password is checked (and forgotten if it
    /// was right), so attempts made at the same moment cannot all slip under the limit.
    pub async fn login(
        &self,
        username: String,
        password: String,
        address: Option<String>,
        kind: SessionKind,
    ) -> Result<NewSession, ForumError> {
        let name = username.trim().to_ascii_lowercase();
        // A name no account can have (a NUL byte, spaces, ...) is never looked up or recorded
        // as an account key; it still costs a hash, and counts against the address.
        let plausible = Username::parse(&name).is_ok();
        let accounts = &self.settings().accounts;
        let mut limits = Vec::new();
        if plausible {
            limits.push((format!("account:{name}"), accounts.max_failures_per_account));
        }
        if let Some(address) = address.filter(|a| !a.contains('\0')) {
            limits.push((
                format!("address:{address}"),
                accounts.max_failures_per_address,
            ));
        }
        let (attempt, user) = self
            .blocking(move |inner, conn| {
                let attempt = reserve_attempt(inner, conn, &limits)?;
                let user = if plausible {
                    users::local_by_name(conn, &name)?
                } else {
                    None
                };
                Ok((attempt, user))
            })
            .await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let matches = self
            .inner
            .hasher
            .verify(
                stored
                    .clone()
                    .unwrap_or_else(|| password::DUMMY_HASH.to_string()),
                password,
            )
            .await;
        match user {
            Some(user) if matches && stored.is_some() && user.pending => {
                // The right password: not a failure, but nothing to log in to yet.
                self.blocking(move |_inner, conn| {
                    login_failures::delete(conn, &attempt.ids)?;
                    Ok(())
                })
                .await?;
                Err(ForumError::forbidden(
                    "awaiting_approval",
                    "Your application is waiting for an administrator's approval; you can log in once it is approved",
                ))
            }
            Some(user) if matches && stored.is_some() => {
                self.blocking(move |inner, conn| {
                    login_failures::delete(conn, &attempt.ids)?;
                    login_failures::clear(conn, &format!("account:{}", user.name))?;
                    create_session(inner, conn, user, kind)
                })
                .await
            }
            // The attempt stays recorded as a failure.
            _ => Err(ForumError::InvalidCredentials),
        }
    }

    /// The live session for a token, if any.
    pub async fn session(
        &self,
        token: String,
        kind: SessionKind,
    ) -> Result<Option<LiveSession>, ForumError> {
        self.blocking(move |_inner, conn| live_session(conn, &token, kind))
            .await
    }

    /// Ends the session holding this token.
    pub async fn logout(&self, token: String) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            sessions::delete_by_hash(conn, &tokens::digest(&token))?;
            Ok(())
        })
        .await
    }

    /// Changes a password after checking the current one, and ends every other session of the
    /// account (a stolen session dies with the old password). Wrong current passwords are
    /// throttled like failed logins (`accounts.max_failures_per_account`), under a key of their
    /// own so that someone guessing with a stolen session cannot lock the owner out of logging in.
    pub async fn change_password(
        &self,
        user: User,
        current_session: Option<i64>,
        current: String,
        new: String,
    ) -> Result<(), ForumError> {
        let (attempt, current_ok) = self.own_password(&user, current).await?;
        let mut v = Validator::new();
        if !current_ok {
            v.check::<()>(
                "current_password",
                Err("That is not your current password.".into()),
            );
        }
        let new = v.check("new_password", NewPassword::parse(&new));
        let new = match (new, v.is_empty()) {
            (Some(new), true) => new,
            _ => {
                if current_ok {
                    self.forget_attempt(attempt).await?;
                }
                return Err(v.into_error());
            }
        };
        let hash = self.inner.hasher.hash(new.as_str().to_string()).await?;
        self.blocking(move |_inner, conn| {
            conn.transaction(|conn| {
                users::set_password_hash(conn, user.id, &hash, db::now())?;
                sessions::delete_others(conn, user.id, current_session)?;
                login_failures::delete(conn, &attempt.ids)?;
                Ok(())
            })
        })
        .await
    }

    /// Checks a person's own password before a change only they may make (a new password,
    /// deleting the account), counted against their limit like a login: 429 when guessed at.
    /// Answers the attempt (forgotten once the change is made) and whether the password is right.
    pub(super) async fn own_password(
        &self,
        user: &User,
        password: String,
    ) -> Result<(Attempt, bool), ForumError> {
        let limits = vec![(
            format!("password:{}", user.id),
            self.settings().accounts.max_failures_per_account,
        )];
        let attempt = self
            .blocking(move |inner, conn| reserve_attempt(inner, conn, &limits))
            .await?;
        let stored = user.password_hash.clone().unwrap_or_default();
        let right = !stored.is_empty() && self.inner.hasher.verify(stored, password).await;
        Ok((attempt, right))
    }

    /// Forgets an attempt whose password was right, when the change was turned down for
    /// another reason: only wrong passwords count against the limit.
    pub(super) async fn forget_attempt(&self, attempt: Attempt) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            login_failures::delete(conn, &attempt.ids)?;
            Ok(())
        })
        .await
    }

    /// Whether an administrator exists (the front page says how to create one until then).
    /// Once one has been seen it is not asked again: the last administrator cannot delete
    /// their account, and no other way makes an administrator an ordinary account.
    pub async fn admin_exists(&self) -> Result<bool, ForumError> {
        use std::sync::atomic::Ordering;
        if self.inner.admin_seen.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let exists = self
            .blocking(|_inner, conn| Ok(users::admin_exists(conn)?))
            .await?;
        self.inner.admin_seen.fetch_or(exists, Ordering::Relaxed);
        Ok(exists)
    }
}

/// An attempt counted against its throttling keys before the password is checked.
pub(super) struct Attempt {
    /// The failure rows recorded for it, removed again if the password was right.
    pub(super) ids: Vec<i64>,
}

/// Counts an attempt for every `(key, max)` in `limits`, or refuses it with 429 when a key has
/// reached its limit inside the window. Counting and recording happen in one transaction that
/// holds each key's lock, so of many attempts at the same moment at most `max` get through.
fn reserve_attempt(
    inner: &Inner,
    conn: &mut Conn<'_>,
    limits: &[(String, u32)],
) -> Result<Attempt, ForumError> {
    let now = db::now();
    let window = TimeDelta::minutes(i64::from(inner.settings.accounts.failure_window_minutes));
    // Only failures inside the window count; older ones are pruned hourly by `housekeeping`.
    let since = now - window;
    conn.transaction(|conn| {
        let keys: Vec<&str> = limits.iter().map(|(k, _)| k.as_str()).collect();
        login_failures::lock_keys(conn, &keys)?;
        for (key, max) in limits {
            if login_failures::count_since(conn, key, since)? >= i64::from(*max) {
                let oldest = login_failures::oldest_since(conn, key, since)?.unwrap_or(now);
                let retry = (oldest + window - now).num_seconds().max(1);
                return Err(ForumError::RateLimited {
                    retry_after_secs: u64::try_from(retry).unwrap_or(1),
                });
            }
        }
        let ids = login_failures::record(conn, &keys, now)?;
        Ok(Attempt { ids })
    })
}

fn invalid_invite() -> ForumError {
    ForumError::invalid(
        "invalid_invite",
        "invite",
        "This invitation is not valid: it was used already, has expired or was withdrawn. Ask an administrator for a new one.",
    )
}

fn taken() -> ForumError {
    ForumError::conflict(
        "username_taken",
        "username",
        "That username is taken. Please choose another.",
    )
}

impl Site {
    /// Removes expired sessions and old login failures (run hourly by the server).
    pub async fn housekeeping(&self) -> Result<(), ForumError> {
        self.blocking(|inner, conn| {
            let now = db::now();
            sessions::delete_expired(conn, now)?;
            let window =
                TimeDelta::minutes(i64::from(inner.settings.accounts.failure_window_minutes));
            login_failures::prune(conn, now - window)?;
            // Mail sent or refused a week ago, and links that ended, are no longer needed.
            crate::db::mail::forget_done(conn, now - TimeDelta::days(7))?;
            crate::db::mail::forget_tokens(conn, now)?;
            Ok(())
        })
        .await?;
        if self.settings().federation.enabled {
            self.federation_housekeeping().await?;
        }
        Ok(())
    }
}

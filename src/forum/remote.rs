//! People and forums on other servers as the domain keeps them: stored (upserted by actor id)
//! when fetched, found by actor id or handle, and the record of which activities have been
//! received. Finding something elsewhere from a handle or URL needs the protocol, so the domain
//! declares it as a capability ([`Resolver`]) that `federation` implements and `app` hands to
//! the HTTP layers.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use url::Url;

use super::threads::PostContext;
use super::{Forum, Site, User};
use crate::db::{self, forums, received, users};
use crate::error::ForumError;

/// A remote forum as read from its actor document, ready to store.
pub use crate::db::forums::RemoteForum;
/// A remote person as read from their actor document, ready to store.
pub use crate::db::users::RemoteUser;

/// People from elsewhere who signed activities lately, with their keys, by actor id: a busy
/// server signs every reply with the same person's key, and reading that person for each one was
/// a statement and a hop to a blocking thread per activity. An entry is kept for
/// [`SignersSeen::KEPT_FOR`] and forgotten when this process has stored that person again
/// (fetched anew, a changed key among them) or marked them deleted; a read that began before
/// such a write is not kept. Another process sharing the database may refresh a person without
/// telling this one, and a signature that then fails against the kept key fetches the person
/// again, which forgets it here.
#[derive(Default)]
pub(super) struct SignersSeen(std::sync::Mutex<Signers>);

/// What [`SignersSeen`] keeps.
#[derive(Default)]
struct Signers {
    by_ap_id: HashMap<String, SignerSeen>,
    /// How many people have been forgotten so far: a read is kept only if none was since it
    /// began.
    forgotten: u64,
}

/// One person kept by [`SignersSeen`].
struct SignerSeen {
    at: Instant,
    user: User,
    key: String,
}

impl SignersSeen {
    /// How long a person read from the database is used without reading them again.
    const KEPT_FOR: Duration = Duration::from_secs(60);
    /// People kept at the most; past it the map starts afresh.
    const MOST: usize = 10_000;

    fn signers(&self) -> std::sync::MutexGuard<'_, Signers> {
        // Every change is whole (insert, remove, clear, count), so a poisoned map is still good.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The person kept for `ap_id`, or the count of forgotten people to hand to [`Self::keep`]
    /// with what the database says.
    fn get(&self, ap_id: &str) -> Result<(User, String), u64> {
        let signers = self.signers();
        match signers.by_ap_id.get(ap_id) {
            Some(seen) if seen.at.elapsed() < Self::KEPT_FOR => {
                Ok((seen.user.clone(), seen.key.clone()))
            }
            _ => Err(signers.forgotten),
        }
    }

    /// Keeps a person read when `forgotten` people had been forgotten, unless more have been
    /// since (that read may be older than the write that made someone forgotten).
    fn keep(&self, user: &User, key: &str, forgotten: u64) {
        let Some(ap_id) = user.ap_id.clone() else {
            return;
        };
        let mut signers = self.signers();
        if signers.forgotten != forgotten {
            return;
        }
        if signers.by_ap_id.len() >= Self::MOST {
            signers.by_ap_id.clear();
        }
        let seen = SignerSeen {
            at: Instant::now(),
            user: user.clone(),
            key: key.to_string(),
        };
        signers.by_ap_id.insert(ap_id, seen);
    }

    /// Forgets the person with this actor id (once they have been written).
    pub(super) fn forget(&self, ap_id: Option<&str>) {
        let mut signers = self.signers();
        signers.forgotten += 1;
        if let Some(ap_id) = ap_id {
            signers.by_ap_id.remove(ap_id);
        }
    }
}

/// What a handle or URL names.
#[derive(Debug, Clone)]
pub enum Resolved {
    /// A forum (here or elsewhere).
    Forum(Forum),
    /// A person (here or elsewhere).
    User(User),
    /// A thread, by its opening post (here or elsewhere).
    Thread(Box<PostContext>),
    /// A reply (here or elsewhere).
    Post(Box<PostContext>),
}

impl Resolved {
    /// A post, as a thread when it opens one.
    pub fn of_post(ctx: PostContext) -> Resolved {
        if ctx.post.is_opening {
            Resolved::Thread(Box::new(ctx))
        } else {
            Resolved::Post(Box::new(ctx))
        }
    }

    /// The forum, or a 422 `not_a_forum` saying what was found instead.
    pub fn into_forum(self) -> Result<Forum, ForumError> {
        match self {
            Resolved::Forum(forum) => Ok(forum),
            Resolved::User(user) => Err(ForumError::invalid(
                "not_a_forum",
                "target",
                format!("{} is a person, not a forum", user.display_name),
            )),
            Resolved::Thread(ctx) | Resolved::Post(ctx) => Err(ForumError::invalid(
                "not_a_forum",
                "target",
                format!(
                    "That is a post in {}; follow the forum itself (its handle or address)",
                    ctx.forum.title
                ),
            )),
        }
    }
}

/// Finding a person, forum or post from what someone typed: a handle (`maths@school.example`)
/// or an address, here or on another server (fetched and stored when it is elsewhere). Only
/// the protocol layer can do this; `federation` implements it, and it exists only when the
/// instance federates.
#[async_trait::async_trait]
pub trait Resolver: Send + Sync {
    /// What `target` names. Errors: 422 for what cannot be a handle or address, 404 when
    /// nothing is there, 502 when the other server fails.
    async fn resolve(&self, target: &str) -> Result<Resolved, ForumError>;

    /// Reads the conversation of thread `thread_id` (from elsewhere) in from its context
    /// collection, in the background: at once when `fresh`, else only if that was not done
    /// within `federation.context_refresh_seconds`.
    fn fill_in(&self, thread_id: i64, fresh: bool);
}

/// The `host[:port]` of a URL: how instances are told apart.
pub fn domain_of(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

impl Site {
    /// Stores (or refreshes) a remote person.
    pub async fn remember_remote_user(&self, user: RemoteUser) -> Result<User, ForumError> {
        let ap_id = user.ap_id.clone();
        let stored = self
            .blocking(move |_inner, conn| Ok(users::upsert_remote(conn, &user)?))
            .await;
        self.inner.signers_seen.forget(ap_id.as_deref());
        stored
    }

    /// Stores (or refreshes) a remote forum.
    pub async fn remember_remote_forum(&self, forum: RemoteForum) -> Result<Forum, ForumError> {
        self.blocking(move |_inner, conn| Ok(forums::upsert_remote(conn, &forum)?))
            .await
    }

    /// A remote person with this actor id and their public key, if known: read from the
    /// database, or kept from a read within the last minute (see `SignersSeen`).
    pub async fn remote_user_with_key(
        &self,
        ap_id: String,
    ) -> Result<Option<(User, String)>, ForumError> {
        let forgotten = match self.inner.signers_seen.get(&ap_id) {
            Ok(seen) => return Ok(Some(seen)),
            Err(forgotten) => forgotten,
        };
        let found = self
            .blocking(move |_inner, conn| {
                Ok(users::by_ap_id_with_key(conn, &ap_id)?
                    .and_then(|(user, key)| Some((user, key?)))
                    .filter(|(user, _)| !user.local))
            })
            .await?;
        if let Some((user, key)) = &found {
            self.inner.signers_seen.keep(user, key, forgotten);
        }
        Ok(found)
    }

    /// A remote forum with this actor id and its public key, if known.
    pub async fn remote_forum_with_key(
        &self,
        ap_id: String,
    ) -> Result<Option<(Forum, String)>, ForumError> {
        self.blocking(move |_inner, conn| {
            Ok(forums::by_ap_id_with_key(conn, &ap_id)?
                .and_then(|(forum, key)| Some((forum, key?)))
                .filter(|(forum, _)| !forum.local))
        })
        .await
    }

    /// A person by row id.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, ForumError> {
        self.blocking(move |_inner, conn| Ok(users::by_id(conn, id)?))
            .await
    }

    /// A forum by row id.
    pub async fn forum_by_id(&self, id: i64) -> Result<Option<Forum>, ForumError> {
        self.blocking(move |_inner, conn| Ok(forums::by_id(conn, id)?))
            .await
    }

    /// The person with this actor id, if known.
    pub async fn user_by_ap_id(&self, ap_id: String) -> Result<Option<User>, ForumError> {
        self.blocking(move |_inner, conn| Ok(users::by_ap_id(conn, &ap_id)?))
            .await
    }

    /// The forum with this actor id, if known.
    pub async fn forum_by_ap_id(&self, ap_id: String) -> Result<Option<Forum>, ForumError> {
        self.blocking(move |_inner, conn| Ok(forums::by_ap_id(conn, &ap_id)?))
            .await
    }

    /// A known remote forum by `name@domain`.
    pub async fn remote_forum(
        &self,
        name: String,
        domain: String,
    ) -> Result<Option<Forum>, ForumError> {
        self.blocking(move |_inner, conn| {
            Ok(forums::remote_by_handle(
                conn,
                &name.to_ascii_lowercase(),
                &domain.to_ascii_lowercase(),
            )?)
        })
        .await
    }

    /// A forum and a person by row id (for turning events into JSON).
    pub async fn forum_and_user(
        &self,
        forum_id: i64,
        user_id: i64,
    ) -> Result<Option<(Forum, User)>, ForumError> {
        self.blocking(move |_inner, conn| {
            Ok(forums::by_id(conn, forum_id)?.zip(users::by_id(conn, user_id)?))
        })
        .await
    }

    /// Records an activity id as received; false when it was received before.
    pub async fn first_receipt(&self, ap_id: String) -> Result<bool, ForumError> {
        self.blocking(move |_inner, conn| Ok(received::record(conn, &ap_id, db::now())?))
            .await
    }

    /// Whether an activity id was received before.
    pub async fn seen_activity(&self, ap_id: String) -> Result<bool, ForumError> {
        self.blocking(move |_inner, conn| Ok(received::seen(conn, &ap_id)?))
            .await
    }
}

/// A post as another server describes it.
#[derive(Debug, Clone, Default)]
pub struct IncomingPost {
    /// Its id.
    pub ap_id: String,
    /// A thread's title (for an opening post).
    pub title: Option<String>,
    /// Its Markdown source, when sent.
    pub markdown: Option<String>,
    /// Its HTML (not yet sanitized).
    pub html: String,
    /// When written.
    pub published: chrono::NaiveDateTime,
    /// When last edited.
    pub updated: Option<chrono::NaiveDateTime>,
    /// The people of this instance its `Mention` tags name, by username.
    pub mentions: Vec<String>,
    /// Its thread's context collection (FEP-7888), kept for an opening post: where the
    /// conversation is read in from.
    pub context: Option<String>,
    /// Read in while a conversation is filled in for the first time: it tells the people it
    /// names or answers, but not those who watch the thread or forum (it is not news).
    pub quiet: bool,
}

/// The longest context address kept (longer ones are dropped).
const CONTEXT_MAX_CHARS: usize = 2000;

impl IncomingPost {
    /// Holds a post from another server to the limits our own posts have: a one-line title of
    /// at most `limits.title_max_chars` characters without control or invisible characters, a
    /// body of at most `limits.body_max_bytes` (longer ones are cut, with a line saying so and
    /// linking the original), no NUL or other control characters, and dates no later than
    /// `now`, so that nobody can keep a thread at the top by dating it in the future.
    pub fn fitted(
        mut self,
        limits: &crate::config::LimitSettings,
        now: chrono::NaiveDateTime,
    ) -> Self {
        self.title = self
            .title
            .as_deref()
            .map(|t| {
                super::types::remote_line(&super::markdown::plain_text(t), limits.title_max_chars)
            })
            .filter(|t| !t.is_empty());
        let max = limits.body_max_bytes;
        let mut cut = false;
        if let Some(md) = self.markdown.take() {
            let (text, was_cut) = super::types::remote_text(&md, max);
            cut |= was_cut;
            self.markdown = Some(if was_cut {
                format!(
                    "{text}\n\n---\n\n*This post is longer than this server keeps; the rest is in \
                     [the original]({}).*",
                    self.ap_id
                )
            } else {
                text
            });
        }
        // HTML carries markup around the same text: twice the Markdown limit.
        let (html, html_cut) = super::types::remote_text(&self.html, max.saturating_mul(2));
        self.html = html;
        if html_cut {
            cut = true;
            self.html.push_str(&format!(
                "\n<p><em>This post is longer than this server keeps; the rest is in \
                 <a href=\"{}\">the original</a>.</em></p>",
                super::markdown::escape_text(&self.ap_id).replace('"', "&quot;")
            ));
        }
        if cut {
            tracing::info!(id = %self.ap_id, "a post from another server was cut to our limit");
        }
        self.context = self.context.take().filter(|c| {
            c.len() <= CONTEXT_MAX_CHARS && (c.starts_with("https://") || c.starts_with("http://"))
        });
        self.published = self.published.min(now);
        self.updated = self.updated.map(|u| u.min(now));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_are_told_apart_by_host_and_port() {
        let a = url::Url::parse("http://localhost:8081/inbox").unwrap();
        let b = url::Url::parse("https://school.example/f/maths/inbox").unwrap();
        assert_eq!(domain_of(&a).as_deref(), Some("localhost:8081"));
        assert_eq!(domain_of(&b).as_deref(), Some("school.example"));
    }

    fn bea(key: &str) -> (User, String) {
        let at = crate::db::now();
        let user = User {
            id: 7,
            name: "bea".into(),
            display_name: "Bea".into(),
            password_hash: None,
            is_admin: false,
            local: false,
            domain: Some("beta.example".into()),
            ap_id: Some("https://beta.example/u/bea".into()),
            created_at: at,
            updated_at: at,
            inbox_url: None,
            shared_inbox_url: None,
            profile_url: None,
            last_refreshed_at: Some(at),
            email: None,
            pending: false,
            deleted_at: None,
            watch_on_post: false,
            email_verified_at: None,
            email_mode: "off".into(),
            last_digest_at: None,
        };
        (user, key.to_string())
    }

    #[test]
    fn a_signer_is_kept_and_forgotten_once_stored_again() {
        let seen = SignersSeen::default();
        let id = "https://beta.example/u/bea";
        let (user, key) = bea("old key");
        let before = seen.get(id).unwrap_err();
        seen.keep(&user, &key, before);
        assert_eq!(seen.get(id).map(|(_, k)| k), Ok("old key".to_string()));
        seen.forget(Some(id));
        assert!(seen.get(id).is_err(), "forgotten once stored again");
    }

    #[test]
    fn a_read_older_than_a_write_is_not_kept() {
        let seen = SignersSeen::default();
        let id = "https://beta.example/u/bea";
        // A read begins; meanwhile the person is fetched anew with a new key and stored.
        let read_began = seen.get(id).unwrap_err();
        seen.forget(Some(id));
        // The read ends with the row as it was before that write: not kept.
        let (user, key) = bea("old key");
        seen.keep(&user, &key, read_began);
        assert!(seen.get(id).is_err(), "a stale read was kept");
        // A read begun after the write is.
        let after = seen.get(id).unwrap_err();
        let (user, key) = bea("new key");
        seen.keep(&user, &key, after);
        assert_eq!(seen.get(id).map(|(_, k)| k), Ok("new key".to_string()));
    }
}

//! What the federation layer reads about local actors and objects: their keys, WebFinger
//! names, thread contexts and instance usage. Key generation itself belongs to the protocol
//! layer, which passes it in, so `forum` stays free of protocol crates.

use std::sync::PoisonError;

use super::threads::PostContext;
use super::visibility::{hidden_forums, require_federated};
use super::{Forum, Site, User};
use crate::db::keys;
use crate::db::posts::{self, PostRef};
use crate::db::{self, forums, users};
use crate::error::ForumError;

/// An actor's key pair (PEM), as stored.
pub use crate::db::keys::KeyPair;

/// Whose keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOwner {
    /// A local person.
    User(i64),
    /// A local forum.
    Forum(i64),
    /// The instance actor.
    Instance,
}

/// How long NodeInfo's counts are reused.
const USAGE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// What NodeInfo reports.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// Local accounts.
    pub users: i64,
    /// Local posts, not deleted.
    pub local_posts: i64,
}

impl Site {
    /// The actor's key pair, made with `generate` (on the blocking pool) the first time.
    pub async fn actor_keys<G>(&self, owner: KeyOwner, generate: G) -> Result<KeyPair, ForumError>
    where
        G: FnOnce() -> Result<KeyPair, String> + Send + 'static,
    {
        self.blocking(move |_inner, conn| {
            let read = |conn: &mut db::Conn<'_>| -> Result<Option<KeyPair>, ForumError> {
                Ok(match owner {
                    KeyOwner::User(id) => keys::of_user(conn, id)?,
                    KeyOwner::Forum(id) => keys::of_forum(conn, id)?,
                    KeyOwner::Instance => keys::of_instance(conn)?,
                })
            };
            if let Some(existing) = read(conn)? {
                return Ok(existing);
            }
            let made =
                generate().map_err(|e| ForumError::Internal(format!("key generation: {e}")))?;
            match owner {
                KeyOwner::User(id) => keys::set_user_if_missing(conn, id, &made)?,
                KeyOwner::Forum(id) => keys::set_forum_if_missing(conn, id, &made)?,
                KeyOwner::Instance => keys::set_instance_if_missing(conn, &made, db::now())?,
            };
            // Another request may have stored its keys first: everyone uses the stored ones.
            read(conn)?.ok_or_else(|| ForumError::Internal("actor keys were not stored".into()))
        })
        .await
    }

    /// The local account `name`.
    pub async fn local_user(&self, name: String) -> Result<User, ForumError> {
        self.blocking(move |_inner, conn| {
            let user = users::local_by_name(conn, &name.to_ascii_lowercase())?
                .ok_or(ForumError::NotFound { what: "user" })?;
            require_not_deleted(&user)?;
            Ok(user)
        })
        .await
    }

    /// The local account and the local forum called `name` (either, both or neither), as other
    /// servers may see them (never a members-only forum).
    pub async fn actors_named(
        &self,
        name: String,
    ) -> Result<(Option<User>, Option<Forum>), ForumError> {
        self.blocking(move |_inner, conn| {
            let name = name.to_ascii_lowercase();
            Ok((
                users::local_by_name(conn, &name)?.filter(|u| u.deleted_at.is_none()),
                forums::local_by_name(conn, &name)?.filter(|f| !f.members_only()),
            ))
        })
        .await
    }

    /// A thread's opening post with its author, thread and forum, as other servers may see it
    /// (not in a members-only forum).
    pub async fn opening_post(&self, thread_id: i64) -> Result<PostContext, ForumError> {
        self.blocking(move |_inner, conn| {
            let (post, author, thread, forum) = posts::opening_with_context(conn, thread_id)?
                .ok_or(ForumError::NotFound { what: "thread" })?;
            require_federated(&forum, "thread")?;
            Ok(PostContext {
                post,
                author,
                thread,
                forum,
            })
        })
        .await
    }

    /// A thread (its opening post in context) and every reply, oldest first, as other servers
    /// may see it (not in a members-only forum).
    pub async fn thread_context(
        &self,
        thread_id: i64,
    ) -> Result<(PostContext, Vec<PostRef>), ForumError> {
        self.blocking(move |_inner, conn| {
            let (post, author, thread, forum) = posts::opening_with_context(conn, thread_id)?
                .ok_or(ForumError::NotFound { what: "thread" })?;
            require_federated(&forum, "thread")?;
            let replies = posts::reply_refs(conn, thread_id)?;
            Ok((
                PostContext {
                    post,
                    author,
                    thread,
                    forum,
                },
                replies,
            ))
        })
        .await
    }

    /// A local forum's moderators (those appointed to it, then the administrators, who
    /// moderate every forum) and its pinned threads' opening posts.
    pub async fn forum_moderators_and_pinned(
        &self,
        name: String,
    ) -> Result<(Forum, Vec<User>, Vec<PostContext>), ForumError> {
        self.blocking(move |_inner, conn| {
            let forum = forums::local_by_name(conn, &name.to_ascii_lowercase())?
                .ok_or(ForumError::NotFound { what: "forum" })?;
            require_federated(&forum, "forum")?;
            let mut moderators = crate::db::moderation::of_forum(conn, forum.id)?;
            for admin in users::admins(conn)? {
                if !moderators.iter().any(|m| m.id == admin.id) {
                    moderators.push(admin);
                }
            }
            let pinned = posts::pinned_openings_in_forum(conn, forum.id)?
                .into_iter()
                .filter(|(post, _, _)| post.readable())
                .map(|(post, thread, author)| PostContext {
                    post,
                    author,
                    thread,
                    forum: forum.clone(),
                })
                .collect();
            Ok((forum, moderators, pinned))
        })
        .await
    }

    /// Accounts and posts on this instance, counted at most every [`USAGE_EVERY`].
    pub async fn usage(&self) -> Result<Usage, ForumError> {
        let cached = || {
            self.inner
                .usage
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        if let Some((at, usage)) = *cached() {
            if at.elapsed() < USAGE_EVERY {
                return Ok(usage);
            }
        }
        let usage = self
            .blocking(|_inner, conn| {
                // Posts in members-only forums are not counted: nobody elsewhere may see them.
                let hidden = hidden_forums(conn, None)?;
                Ok(Usage {
                    users: users::count_local(conn)?,
                    local_posts: posts::count_local(conn, &hidden)?,
                })
            })
            .await?;
        *cached() = Some((std::time::Instant::now(), usage));
        Ok(usage)
    }
}

/// Fails with 410 `account_deleted` for an account its owner deleted.
pub(crate) fn require_not_deleted(user: &User) -> Result<(), ForumError> {
    if user.deleted_at.is_some() {
        Err(ForumError::Gone {
            code: "account_deleted",
            message: "This account was deleted".into(),
        })
    } else {
        Ok(())
    }
}

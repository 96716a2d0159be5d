//! The domain: accounts, forums, threads, posts and the rules that govern them, behind one
//! service, [`Site`] (this instance: its database, settings and URLs).
//!
//! `forum` calls `db` and knows nothing of HTTP or ActivityPub: it never imports actix,
//! reqwest, askama or the protocol crate. `web`, `api` and `federation` call one [`Site`] method
//! per request and render the answer. Every method checks permission itself, so no caller can
//! forget to. Where the domain needs what only the protocol can do (finding a forum elsewhere
//! from its handle), it declares a capability ([`remote::Resolver`]) that `federation`
//! implements.
//!
//! One file per concern: `accounts`, `forums`, `threads`, `users`, `helpful`, `moderation`
//! (who moderates a forum, locking and pinning, and the moderation log); federation's
//! domain side in `follows` (both directions), `remote` (people, forums and received activities
//! from elsewhere), `incoming` (posts from elsewhere placed in threads), `actors` (local actors'
//! keys and names), `outbox` (what other servers must hear, recorded in the same transaction
//! as the change) and `delivery` (scheduling and the retry policy).
//!
//! Blocking work runs on tokio's blocking pool: queries through [`Site::blocking`], argon2
//! through [`password::Hasher`], which bounds how many hashes run at once.

pub mod accounts;
pub mod actors;
pub mod delivery;
mod direct_replies;
pub mod editing;
pub mod email;
pub mod feeds;
pub mod follows;
pub mod forums;
mod group_commit;
pub mod helpful;
pub mod incoming;
pub mod instance_blocks;
pub mod leaving;
pub mod markdown;
mod mentioning;
pub mod moderation;
pub mod notifications;
pub mod outbox;
mod owed;
pub mod password;
pub mod registration;
pub mod remote;
pub mod search;
pub mod thread_follows;
pub mod thread_pages;
pub mod threads;
pub mod tokens;
pub mod types;
pub mod urls;
pub mod users;
pub mod visibility;

use std::sync::Arc;

use crate::config::Settings;
use crate::db::{Conn, Db};
use crate::error::ForumError;

pub use crate::db::forums::Forum;
pub use crate::db::posts::Post;
pub use crate::db::revisions::Revision;
pub use crate::db::threads::Thread;
pub use crate::db::users::{Author, User};
/// Where this process stands in its writes (what a copy of something read checks).
pub use crate::db::Changes;
pub use urls::Urls;

/// The current time, as every row stores it.
pub use crate::db::now;

/// The service: this instance's forums, accounts and federation state. Cheap to clone, shared
/// by every handler.
#[derive(Clone)]
pub struct Site {
    inner: Arc<Inner>,
}

/// What the blocking closures see.
pub struct Inner {
    /// The database.
    pub db: Db,
    /// The settings.
    pub settings: Settings,
    /// Canonical URLs.
    pub urls: Urls,
    /// Runs argon2, bounded in concurrency and memory.
    hasher: password::Hasher,
    /// Wakes the delivery worker after outbox events are written.
    outbox_signal: tokio::sync::Notify,
    /// When each server was last recorded as heard from ([`Site::heard_from`] writes at most
    /// once a minute per server).
    heard: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
    /// People from elsewhere who signed activities lately, with their keys.
    signers_seen: remote::SignersSeen,
    /// NodeInfo's counts and when they were taken ([`Site::usage`] counts at most every ten
    /// minutes: every server that delivers here reads NodeInfo, and counting scans).
    usage: std::sync::Mutex<Option<(std::time::Instant, actors::Usage)>>,
    /// Posts from other servers stored at once, at the most: half the pool. Replies to one
    /// thread all update its row, so on PostgreSQL each waits for the one before; without a
    /// bound, a flood of them would hold every pooled connection waiting, and nothing else
    /// (pages, the delivery worker's relays) could get one.
    inbound_writes: tokio::sync::Semaphore,
    /// Replies sent straight to us, stored in batches ([`Site::receive_direct_reply`]).
    direct_replies:
        group_commit::GroupCommit<direct_replies::DirectStored, direct_replies::BatchReads>,
    /// Replies written here, stored in batches ([`Site::reply`]).
    local_replies: group_commit::GroupCommit<(Post, incoming::Counted)>,
    /// Deliveries done, forgotten in batches ([`Site::delivery_done`]).
    deliveries_done: group_commit::GroupCommit<i64>,
    /// The posts of thread pages read lately ([`thread_pages`]).
    kept_pages: thread_pages::KeptPages,
    /// The servers not federated with ([`instance_blocks`]).
    blocked: instance_blocks::BlockList,
    /// Finds people elsewhere whom a post mentions before this server has seen them. Weak: the
    /// resolver holds the federation configuration, which holds this site.
    resolver: std::sync::OnceLock<std::sync::Weak<dyn remote::Resolver>>,
    /// The key links in e-mail are signed with, once read ([`email`]).
    link_key: std::sync::OnceLock<Vec<u8>>,
    /// Wakes the mailer after mail is written.
    mail_signal: tokio::sync::Notify,
    /// An administrator has been seen ([`Site::admin_exists`]).
    admin_seen: std::sync::atomic::AtomicBool,
}

/// A 1-based page of results, with how many pages there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// This page.
    pub page: u32,
    /// The last page (at least 1).
    pub pages: u32,
    /// Items on a page.
    pub per_page: u32,
    /// Items in all.
    pub total: i64,
}

impl Paging {
    /// Clamps `requested` into range for `total` items at `per_page`.
    pub fn new(requested: Option<u32>, per_page: u32, total: i64) -> Paging {
        let per = i64::from(per_page.max(1));
        let pages = u32::try_from(((total.max(0) + per - 1) / per).max(1)).unwrap_or(u32::MAX);
        let page = requested.unwrap_or(1).clamp(1, pages);
        Paging {
            page,
            pages,
            per_page,
            total,
        }
    }

    /// SQL LIMIT.
    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }

    /// SQL OFFSET.
    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }

    /// The page on which the item at 0-based `index` stands.
    pub fn page_of(index: i64, per_page: u32) -> u32 {
        u32::try_from(index.max(0) / i64::from(per_page.max(1)) + 1).unwrap_or(u32::MAX)
    }
}

impl Site {
    /// Builds the service on an open database.
    pub fn new(db: Db, settings: Settings) -> Site {
        let urls = Urls::new(&settings);
        let inbound_writes = usize::try_from(settings.database.pool_size / 2)
            .unwrap_or(1)
            .max(1);
        // SQLite has one writer at a time; PostgreSQL overlaps one batch's round trips with
        // another's (measured with 50 servers sending replies: 890 a second with one batch at
        // a time, 1,140 with two, 1,190 with four).
        let batches_at_once = match db.backend() {
            crate::db::Backend::Sqlite => 1,
            crate::db::Backend::Postgres => inbound_writes.min(4),
        };
        // The configuration file's blocks; the administrators' are read when the site opens.
        let blocked = settings.federation.blocked_instances.clone();
        let kept_pages = thread_pages::KeptPages::new(
            settings.server.page_cache_seconds,
            settings.server.page_cache_megabytes,
        );
        Site {
            inner: Arc::new(Inner {
                db,
                settings,
                urls,
                hasher: password::Hasher::new(0),
                outbox_signal: tokio::sync::Notify::new(),
                heard: std::sync::Mutex::default(),
                signers_seen: remote::SignersSeen::default(),
                usage: std::sync::Mutex::default(),
                inbound_writes: tokio::sync::Semaphore::new(inbound_writes),
                direct_replies: group_commit::GroupCommit::new(
                    batches_at_once,
                    direct_replies::finish_stored_replies,
                ),
                local_replies: group_commit::GroupCommit::new(batches_at_once, |conn, stored| {
                    incoming::count_replies_stored(conn, stored.iter().map(|(_, counted)| *counted))
                }),
                deliveries_done: group_commit::GroupCommit::new(
                    batches_at_once,
                    delivery::forget_deliveries,
                ),
                kept_pages,
                blocked: instance_blocks::BlockList::new(blocked),
                resolver: std::sync::OnceLock::new(),
                link_key: std::sync::OnceLock::new(),
                mail_signal: tokio::sync::Notify::new(),
                admin_seen: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// Hands the site the way to find people elsewhere (when it federates), for mentions of
    /// people it has not seen yet. The first one given stays.
    pub fn use_resolver(&self, resolver: &Arc<dyn remote::Resolver>) {
        let _ = self.inner.resolver.set(Arc::downgrade(resolver));
    }

    /// Reads the conversation of a thread from elsewhere in from its context collection, in
    /// the background (see [`remote::Resolver::fill_in`]); nothing when this instance does not
    /// federate.
    pub fn fill_in_thread(&self, thread_id: i64, fresh: bool) {
        if let Some(resolver) = self.inner.resolver.get().and_then(std::sync::Weak::upgrade) {
            resolver.fill_in(thread_id, fresh);
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Canonical URLs.
    pub fn urls(&self) -> &Urls {
        &self.inner.urls
    }

    /// The database (tests read its query counter).
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Runs `f` with a connection on the blocking pool.
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, ForumError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner, &mut Conn<'_>) -> Result<T, ForumError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.db.with_conn(|conn| f(&inner, conn)))
            .await
            .map_err(|e| ForumError::Internal(format!("blocking task failed: {e}")))?
    }
}

/// Fails with `admin_only` unless `user` is an administrator.
pub fn require_admin(user: &User) -> Result<(), ForumError> {
    if user.is_admin {
        Ok(())
    } else {
        Err(ForumError::forbidden(
            "admin_only",
            "Only administrators can do that",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::Paging;

    #[test]
    fn paging_clamps_and_counts() {
        let p = Paging::new(None, 10, 0);
        assert_eq!((p.page, p.pages, p.offset()), (1, 1, 0));
        let p = Paging::new(Some(3), 10, 25);
        assert_eq!((p.page, p.pages, p.offset(), p.limit()), (3, 3, 20, 10));
        let p = Paging::new(Some(9), 10, 25);
        assert_eq!(p.page, 3);
        let p = Paging::new(Some(0), 10, 25);
        assert_eq!(p.page, 1);
        assert_eq!(Paging::page_of(0, 10), 1);
        assert_eq!(Paging::page_of(9, 10), 1);
        assert_eq!(Paging::page_of(10, 10), 2);
    }
}

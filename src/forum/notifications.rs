//! Watching and notifications: who is told about a new post, and why.
//!
//! A post notifies, once per person, with the strongest reason that applies: a **mention**
//! (`@name`, `@name@domain`, or a `Mention` tag from another server), a **quote** (a link to
//! their post inside a block quote, as "Quote" writes), a **reply** (it answers their post, or
//! their thread's opening post), or **watched** (they watch its thread or its forum). Nobody is
//! told of their own post, and at most [`MAX_MENTIONED`] people are mentioned by one post.
//! All of it is written in the transaction that stores the post, ours or one from elsewhere,
//! so a notification exists exactly when its post does.
//!
//! Notifications are listed only while they point at something their person may read: a
//! deleted or removed post, or one in a members-only forum they have left, drops out.

use serde::Serialize;

use super::markdown;
use super::owed::Owed;
use super::threads::PostContext;
use super::visibility::can_read;
use super::{Forum, Inner, Paging, Post, Site, Thread, User};
use crate::db::notifications::{self as rows, Listing};
use crate::db::{self, forums, mentions, posts, reads, threads, users, watches, Conn};
use crate::error::ForumError;

/// The most people one post mentions: further handles stay text, so a post cannot notify a
/// crowd.
pub const MAX_MENTIONED: usize = 20;

/// How far the unread count counts (shown as "99+" beyond).
pub const UNREAD_CAP: i64 = 100;

/// Why someone was told about a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// It answers their post.
    Reply,
    /// It quotes them.
    Quote,
    /// It names them.
    Mention,
    /// It is new in a thread or forum they watch.
    Watched,
}

impl Kind {
    /// The word stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Reply => "reply",
            Kind::Quote => "quote",
            Kind::Mention => "mention",
            Kind::Watched => "watched",
        }
    }

    fn parse(stored: &str) -> Kind {
        match stored {
            "reply" => Kind::Reply,
            "quote" => Kind::Quote,
            "mention" => Kind::Mention,
            _ => Kind::Watched,
        }
    }
}

/// One notification with the post it is about.
#[derive(Debug, Clone)]
pub struct Notice {
    /// Its id.
    pub id: i64,
    /// Why.
    pub kind: Kind,
    /// When it was made.
    pub created_at: chrono::NaiveDateTime,
    /// Whether its person has read it.
    pub read: bool,
    /// The post, its author, thread and forum.
    pub context: PostContext,
    /// Whether its person watches the post's thread (so the list can offer to stop).
    pub watching_thread: bool,
}

/// A page of a person's notifications.
#[derive(Debug, Clone)]
pub struct NoticePage {
    /// Newest first.
    pub items: Vec<Notice>,
    /// How many are unread (up to [`UNREAD_CAP`]).
    pub unread: i64,
    /// Where this page stands.
    pub paging: Paging,
}

/// The authors of our posts that `html` quotes: links inside its block quotes to `/p/{id}` or
/// `/t/{id}` here.
fn quoted_authors(conn: &mut Conn<'_>, inner: &Inner, html: &str) -> Result<Vec<User>, ForumError> {
    let base = inner.urls.base();
    let mut authors = Vec::new();
    for link in markdown::quoted_links(html, MAX_MENTIONED) {
        let path = link.strip_prefix(base).unwrap_or(&link);
        let path = path.split(['#', '?']).next().unwrap_or_default();
        if let Some(id) = path.strip_prefix("/p/").and_then(|s| s.parse().ok()) {
            authors.extend(author_of(conn, Some(id), None)?);
        } else if let Some(id) = path.strip_prefix("/t/").and_then(|s| s.parse().ok()) {
            authors.extend(author_of(conn, None, Some(id))?);
        }
    }
    Ok(authors)
}

/// The author of a post (by id) or of a thread's opening post (by the thread's id).
fn author_of(
    conn: &mut Conn<'_>,
    post_id: Option<i64>,
    thread_id: Option<i64>,
) -> Result<Option<User>, ForumError> {
    let found = match (post_id, thread_id) {
        (Some(id), _) => posts::with_context(conn, id)?,
        (None, Some(id)) => posts::opening_with_context(conn, id)?,
        (None, None) => None,
    };
    Ok(found.map(|(_, author, _, _)| author))
}

/// Whether `person` should be told about a post in `forum` by `author`.
fn tellable(
    conn: &mut Conn<'_>,
    person: &User,
    author_id: i64,
    forum: &Forum,
) -> Result<bool, ForumError> {
    Ok(person.local
        && person.id != author_id
        && !person.pending
        && person.deleted_at.is_none()
        && can_read(conn, forum, Some(person))?)
}

/// A post just stored, and who it concerns.
pub(super) struct NewPost<'a> {
    /// The post.
    pub post: &'a Post,
    /// Its thread.
    pub thread: &'a Thread,
    /// Its forum.
    pub forum: &'a Forum,
    /// For a reply, the author of the post it answers (of the opening post when it answers
    /// none in particular).
    pub parent_author: Option<&'a User>,
    /// The people it mentions.
    pub mentioned: &'a [User],
    /// Whether those who watch its thread or forum are told (not of old posts read in while a
    /// conversation is filled in for the first time).
    pub watchers: bool,
}

/// Tells everyone concerned about a new post (ours or from elsewhere), in the transaction that
/// stores it: at most four statements and a query per person named, however many watch.
pub(super) fn new_post(
    conn: &mut Conn<'_>,
    inner: &Inner,
    new: NewPost<'_>,
) -> Result<(), ForumError> {
    let mut owed = Owed::default();
    tell_of_new_post(conn, inner, new, &mut owed)?;
    owed.write(conn)
}

/// Who a new post tells, added to what `owed` writes (see [`new_post`]).
pub(super) fn tell_of_new_post(
    conn: &mut Conn<'_>,
    inner: &Inner,
    new: NewPost<'_>,
    owed: &mut Owed,
) -> Result<(), ForumError> {
    let NewPost {
        post,
        thread,
        forum,
        parent_author,
        mentioned,
        watchers,
    } = new;
    // A reply names the author it answers (as a `Mention` tag, on the wire): for them it is a
    // reply, told as such below.
    let named: Vec<User> = mentioned
        .iter()
        .filter(|p| parent_author.is_none_or(|a| a.id != p.id))
        .cloned()
        .collect();
    tell(conn, owed, (post, forum), named, Kind::Mention)?;
    let quoted = quoted_authors(conn, inner, &post.body_html)?;
    tell(conn, owed, (post, forum), quoted, Kind::Quote)?;
    if let Some(parent_author) = parent_author {
        let answered = vec![parent_author.clone()];
        tell(conn, owed, (post, forum), answered, Kind::Reply)?;
    }
    if watchers {
        owed.watched(rows::Watched {
            post_id: post.id,
            thread_id: thread.id,
            forum_id: forum.id,
            author_id: post.author_id,
        });
    }
    Ok(())
}

/// The author of the post a new local reply answers (`in_reply_to`, or the thread's opening
/// post).
pub(super) fn answered_author(
    conn: &mut Conn<'_>,
    thread_id: i64,
    in_reply_to: Option<i64>,
) -> Result<Option<User>, ForumError> {
    match in_reply_to {
        Some(id) => author_of(conn, Some(id), None),
        None => author_of(conn, None, Some(thread_id)),
    }
}

/// Tells the people an edit newly mentions or quotes (those told of the post before are not
/// told again).
pub(super) fn edited_post(
    conn: &mut Conn<'_>,
    inner: &Inner,
    post: &Post,
    forum: &Forum,
    mentioned: &[User],
) -> Result<(), ForumError> {
    let mut owed = Owed::default();
    tell(
        conn,
        &mut owed,
        (post, forum),
        mentioned.to_vec(),
        Kind::Mention,
    )?;
    let quoted = quoted_authors(conn, inner, &post.body_html)?;
    tell(conn, &mut owed, (post, forum), quoted, Kind::Quote)?;
    owed.write(conn)
}

/// Tells `people` about `post` of `forum` as `kind` (added to what `owed` writes), but for
/// those it must not: see [`tellable`].
fn tell(
    conn: &mut Conn<'_>,
    owed: &mut Owed,
    (post, forum): (&Post, &Forum),
    people: Vec<User>,
    kind: Kind,
) -> Result<(), ForumError> {
    let mut ids = Vec::new();
    for person in people {
        if !ids.contains(&person.id) && tellable(conn, &person, post.author_id, forum)? {
            ids.push(person.id);
        }
    }
    owed.tell(&ids, post.id, kind.as_str());
    Ok(())
}

/// Watches the thread for its author who just wrote in it, if their setting says so (and, for
/// a thread elsewhere whose forum nobody here follows, follows it there: see
/// [`super::thread_follows::follow_on_watch`]). Returns whether an outbox event was written.
pub(super) fn watch_written(
    inner: &Inner,
    conn: &mut Conn<'_>,
    author: &User,
    (thread, forum): (&Thread, &Forum),
    is_opening: bool,
) -> Result<bool, ForumError> {
    if !(author.local && author.watch_on_post) {
        return Ok(false);
    }
    reads::watch_unless_stopped(conn, author.id, thread.id, i64::from(is_opening), db::now())?;
    if thread.local || forum.local_followers > 0 {
        return Ok(false);
    }
    let watching = reads::state(conn, author.id, thread.id)?.is_some_and(|s| s.1 == Some(true));
    super::thread_follows::follow_on_watch(inner, conn, author, thread, forum, watching)
}

/// How long looking up people elsewhere that a post mentions may take in all, before the post
/// is written with the handles not found left as text.
const LOOKUP_TIME: std::time::Duration = std::time::Duration::from_secs(10);

impl Site {
    /// Looks up the people elsewhere that `body` mentions (`@name@domain`) and this server has
    /// not seen yet, so that the post links to them and tells them: at most [`MAX_MENTIONED`],
    /// at once, for at most [`LOOKUP_TIME`] in all. A handle that cannot be found stays text.
    pub(super) async fn learn_mentioned(&self, body: &str) {
        let Some(resolver) = self.inner.resolver.get().and_then(std::sync::Weak::upgrade) else {
            return;
        };
        let own = self.settings().federation_domain().to_ascii_lowercase();
        let text = body.to_string();
        let handles: Vec<_> = tokio::task::spawn_blocking(move || markdown::mentions(&text))
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|h| h.domain.as_deref().is_some_and(|d| d != own))
            .take(MAX_MENTIONED)
            .collect();
        if handles.is_empty() {
            return;
        }
        let unknown = self
            .blocking(move |_inner, conn| {
                let mut unknown = Vec::new();
                for h in handles {
                    let domain = h.domain.clone().unwrap_or_default();
                    if users::remote_by_handle(conn, &h.name, &domain)?.is_none() {
                        unknown.push(format!("{}@{domain}", h.name));
                    }
                }
                Ok(unknown)
            })
            .await
            .unwrap_or_default();
        let mut lookups = tokio::task::JoinSet::new();
        for handle in unknown {
            let resolver = resolver.clone();
            lookups.spawn(async move {
                if let Err(e) = resolver.resolve(&handle).await {
                    tracing::debug!(%handle, error = %e, "a mentioned person could not be found");
                }
            });
        }
        let _ = tokio::time::timeout(LOOKUP_TIME, lookups.join_all()).await;
    }

    /// The people each of `post_ids` mentions (for their `Mention` tags): one query.
    pub async fn mentioned(
        &self,
        post_ids: Vec<i64>,
    ) -> Result<std::collections::HashMap<i64, Vec<User>>, ForumError> {
        self.blocking(move |_inner, conn| {
            let mut by_post: std::collections::HashMap<i64, Vec<User>> = Default::default();
            for (post_id, person) in mentions::of_posts(conn, &post_ids)? {
                by_post.entry(post_id).or_default().push(person);
            }
            Ok(by_post)
        })
        .await
    }

    /// Starts (`true`) or stops watching a thread: new posts in it notify `by`. 404 for a
    /// thread they may not read.
    ///
    /// Watching a thread elsewhere whose forum nobody here follows also follows the thread at
    /// its server (and stopping undoes that), and reads the conversation in from its context
    /// collection now, for a server that does not answer such a follow.
    pub async fn watch_thread(&self, by: User, thread_id: i64, on: bool) -> Result<(), ForumError> {
        let (written, unreached) = self
            .blocking(move |inner, conn| {
                let thread = threads::by_id(conn, thread_id)?
                    .ok_or(ForumError::NotFound { what: "thread" })?;
                let forum = forums::by_id(conn, thread.forum_id)?
                    .ok_or(ForumError::NotFound { what: "forum" })?;
                super::visibility::require_can_read(conn, &forum, Some(&by), "thread")?;
                let written = conn.transaction(|conn| {
                    reads::set_watching(conn, by.id, thread.id, on, db::now())?;
                    super::thread_follows::follow_on_watch(inner, conn, &by, &thread, &forum, on)
                })?;
                Ok((written, on && !thread.local && forum.local_followers == 0))
            })
            .await?;
        if written {
            self.outbox_written();
        }
        if unreached {
            self.fill_in_thread(thread_id, true);
        }
        Ok(())
    }

    /// Starts (`true`) or stops watching a forum: every new thread and reply in it notifies
    /// `by`. 404 for a forum they may not read.
    pub async fn watch_forum(&self, by: User, name: String, on: bool) -> Result<Forum, ForumError> {
        self.blocking(move |_inner, conn| {
            let forum =
                forums::by_handle(conn, &name)?.ok_or(ForumError::NotFound { what: "forum" })?;
            super::visibility::require_can_read(conn, &forum, Some(&by), "forum")?;
            if on {
                watches::watch(conn, by.id, forum.id, db::now())?;
            } else {
                watches::unwatch(conn, by.id, forum.id)?;
            }
            Ok(forum)
        })
        .await
    }

    /// Whether `by` watches the forum (one query).
    pub async fn watches_forum(&self, by: User, forum_id: i64) -> Result<bool, ForumError> {
        self.blocking(move |_inner, conn| Ok(watches::watches(conn, by.id, forum_id)?))
            .await
    }

    /// Sets whether starting or replying to a thread watches it for `by`.
    pub async fn set_watch_on_post(&self, by: User, on: bool) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            users::set_watch_on_post(conn, by.id, on)?;
            Ok(())
        })
        .await
    }

    /// How many of `by`'s notifications are unread, up to [`UNREAD_CAP`]: two queries (three
    /// when there are members-only forums they are not in).
    pub async fn unread_notifications(&self, by: User) -> Result<i64, ForumError> {
        self.blocking(move |_inner, conn| unread_count(conn, &by))
            .await
    }

    /// A page of `by`'s notifications, newest first (`unread_only`: those not yet read), with
    /// the posts they are about: a fixed number of queries.
    pub async fn notifications(
        &self,
        by: User,
        unread_only: bool,
        page: Option<u32>,
    ) -> Result<NoticePage, ForumError> {
        self.blocking(move |inner, conn| {
            let which = listing(&by, unread_only);
            let per_page = inner.settings.pages.threads_per_page;
            // Counting every notification of someone who has thousands would cost more than
            // the page: the count goes as far as the pages anyone would click through.
            let cap = i64::from(per_page) * 100;
            let total = rows::count(conn, which, cap)?;
            let paging = Paging::new(page, per_page, total);
            let found = rows::list(conn, which, paging.limit(), paging.offset())?;
            let unread = if unread_only {
                total.min(UNREAD_CAP)
            } else {
                rows::count(
                    conn,
                    Listing {
                        unread_only: true,
                        ..which
                    },
                    UNREAD_CAP,
                )?
            };
            let items = notices_of(conn, &by, found)?;
            Ok(NoticePage {
                items,
                unread,
                paging,
            })
        })
        .await
    }

    /// Marks `by`'s notifications read: those of `ids`, or all when `None`. Returns how many
    /// were unread.
    pub async fn mark_notifications_read(
        &self,
        by: User,
        ids: Option<Vec<i64>>,
    ) -> Result<usize, ForumError> {
        self.blocking(move |_inner, conn| {
            Ok(rows::mark_read(conn, by.id, ids.as_deref(), db::now())?)
        })
        .await
    }

    /// Opens one of `by`'s notifications: marks it read and says which post it is about (404
    /// for anyone else's, or one whose post they may no longer read).
    pub async fn open_notification(&self, by: User, id: i64) -> Result<i64, ForumError> {
        self.blocking(move |_inner, conn| {
            let found = rows::by_id(conn, by.id, id)?.ok_or(ForumError::NotFound {
                what: "notification",
            })?;
            rows::mark_read(conn, by.id, Some(&[found.id]), db::now())?;
            Ok(found.post_id)
        })
        .await
    }
}

/// Which of `user`'s notifications to list.
fn listing(user: &User, unread_only: bool) -> Listing {
    Listing {
        user_id: user.id,
        unread_only,
        reads_everything: user.is_admin,
    }
}

/// How many of `user`'s notifications are unread, up to [`UNREAD_CAP`].
pub(super) fn unread_count(conn: &mut Conn<'_>, user: &User) -> Result<i64, ForumError> {
    Ok(rows::count(conn, listing(user, true), UNREAD_CAP)?)
}

/// Marks read `user`'s notifications about posts they have now seen on a page.
pub(super) fn seen(conn: &mut Conn<'_>, user_id: i64, post_ids: &[i64]) -> Result<(), ForumError> {
    rows::mark_posts_read(conn, user_id, post_ids, db::now())?;
    Ok(())
}

/// `ids` of `user`'s notifications that still point at something they may read, with their
/// posts (newest first): what a message about them shows.
pub(super) fn notices_by_id(
    conn: &mut Conn<'_>,
    user: &User,
    ids: &[i64],
) -> Result<Vec<Notice>, ForumError> {
    let found = rows::among(conn, listing(user, false), ids)?;
    notices_of(conn, user, found)
}

/// Notifications with their posts in context and whether their person watches each thread.
fn notices_of(
    conn: &mut Conn<'_>,
    user: &User,
    found: Vec<rows::Notification>,
) -> Result<Vec<Notice>, ForumError> {
    let post_ids: Vec<i64> = found.iter().map(|n| n.post_id).collect();
    let mut contexts: std::collections::HashMap<i64, PostContext> =
        posts::many_with_context(conn, &post_ids)?
            .into_iter()
            .map(|(post, author, thread, forum)| {
                (
                    post.id,
                    PostContext {
                        post,
                        author,
                        thread,
                        forum,
                    },
                )
            })
            .collect();
    let thread_ids: Vec<i64> = contexts.values().map(|c| c.thread.id).collect();
    let watched = reads::watched_among(conn, user.id, &thread_ids)?;
    let items = found
        .into_iter()
        .filter_map(|n| {
            let context = contexts.remove(&n.post_id)?;
            Some(Notice {
                id: n.id,
                kind: Kind::parse(&n.kind),
                created_at: n.created_at,
                read: n.read_at.is_some(),
                watching_thread: watched.contains(&context.thread.id),
                context,
            })
        })
        .collect();
    Ok(items)
}

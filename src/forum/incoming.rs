//! Threads and replies from other servers: storing them (once, by their ActivityPub id),
//! editing and deleting them at their author's word, and, when they land in one of our forums,
//! recording that the forum must relay them to its followers (FEP-1b12) in the same
//! transaction. Bodies are rendered from the sender's Markdown when it sends some, and its HTML
//! is sanitized with the same allowlist as our own Markdown otherwise.

pub use super::direct_replies::{Answered, DirectOutcome, DirectReply};
use chrono::NaiveDateTime;

use super::markdown::{self, anchor_prefix};
use super::moderation::{require_not_banned, require_unlocked};
use super::notifications;
use super::outbox::OutboxEvent;
use super::owed::Owed;
pub use super::remote::IncomingPost;
use super::threads::PostContext;
use super::visibility::require_federated;
use super::{Forum, Inner, Post, Site, Thread, User};
use crate::db::{self, author_counts, forums, posts, remote_posts, threads, Conn};
use crate::error::ForumError;

/// Where a post from elsewhere goes.
#[derive(Debug, Clone, Copy)]
pub enum Placement {
    /// It opens a thread in this forum.
    NewThread {
        /// The forum.
        forum_id: i64,
    },
    /// It answers a post already here.
    Reply {
        /// The post answered.
        parent_id: i64,
    },
}

/// A received activity our forum must pass on to its followers.
#[derive(Debug, Clone)]
pub struct Relay {
    /// The activity, as received.
    pub activity: String,
    /// The server it came from (not sent back there).
    pub origin: String,
}

/// The title of a fitted post ([`IncomingPost::fitted`]).
fn title_of(incoming: &IncomingPost) -> String {
    incoming
        .title
        .clone()
        .unwrap_or_else(|| "(untitled)".into())
}

/// Records that our forum must pass `relay` (about thread `thread_id`, when it concerns one)
/// on (nothing for a remote forum, whose own server does that). Returns whether it did.
pub(super) fn relay_event(
    conn: &mut Conn<'_>,
    forum: &Forum,
    thread_id: Option<i64>,
    relay: Option<Relay>,
) -> Result<bool, ForumError> {
    let mut owed = Owed::default();
    let relayed = owe_relay(&mut owed, forum, thread_id, relay)?;
    owed.write(conn)?;
    Ok(relayed)
}

/// [`relay_event`], added to what `owed` writes.
fn owe_relay(
    owed: &mut Owed,
    forum: &Forum,
    thread_id: Option<i64>,
    relay: Option<Relay>,
) -> Result<bool, ForumError> {
    match relay {
        Some(relay) if forum.local => {
            owed.event(&OutboxEvent::Relay {
                forum_id: forum.id,
                activity: relay.activity,
                origin: relay.origin,
                thread_id,
            })?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// A post's HTML, rendered before any transaction starts (sanitizing and Markdown rendering
/// are the costly part of storing a post) with a stand-in for the post's anchor prefix that
/// [`with_anchors`] replaces once the post has its id. The stand-in is random, so no text can
/// anticipate it.
pub(super) struct Rendered {
    html: String,
    stand_in: String,
}

fn render_body(incoming: &IncomingPost) -> Rendered {
    let stand_in = format!("a{}-", uuid::Uuid::new_v4().simple());
    let html = match incoming
        .markdown
        .as_deref()
        .filter(|m| !m.trim().is_empty())
    {
        Some(md) => markdown::render(md, &stand_in),
        None => markdown::sanitize(&incoming.html, &stand_in),
    };
    Rendered { html, stand_in }
}

fn with_anchors(rendered: &Rendered, post_id: i64) -> String {
    rendered
        .html
        .replace(&rendered.stand_in, &anchor_prefix(post_id))
}

/// Inserts a post from elsewhere into `thread` of `forum` (answering `parent_id`, or opening
/// it), leaving to `owed` the relay our forum owes, the people it tells and its words
/// ([`count_new_post`] counts it). Returns the post and whether a relay is owed.
#[allow(clippy::too_many_arguments)]
pub(super) fn insert_post(
    inner: &Inner,
    conn: &mut Conn<'_>,
    author: &User,
    (thread, forum): (&Thread, &Forum),
    parent: Option<(i64, &User)>,
    (incoming, rendered): (&IncomingPost, &Rendered),
    relay: Option<Relay>,
    owed: &mut Owed,
) -> Result<Option<(Post, bool)>, ForumError> {
    let parent_id = parent.map(|(id, _)| id);
    let is_opening = parent_id.is_none();
    // Most posts have no anchors (footnotes): their HTML is final before they have an id.
    let anchored = rendered.html.contains(&rendered.stand_in);
    let post = remote_posts::insert_remote(
        conn,
        &remote_posts::NewRemotePost {
            thread_id: thread.id,
            author_id: author.id,
            in_reply_to_id: parent_id,
            is_opening,
            body_markdown: incoming.markdown.as_deref().unwrap_or(""),
            body_html: if anchored { "" } else { &rendered.html },
            ap_id: Some(&incoming.ap_id),
            created_at: incoming.published,
            edited_at: incoming.updated,
        },
    )?;
    let Some(post) = post else {
        return Ok(None);
    };
    let post = if anchored {
        // Indexed by `set_html`, with its final HTML.
        let html = with_anchors(rendered, post.id);
        posts::set_html(conn, post, html)?
    } else {
        let title = if is_opening {
            thread.title.as_str()
        } else {
            ""
        };
        owed.words(post.id, title, &post.body_html);
        post
    };
    let relayed = owe_relay(owed, forum, Some(thread.id), relay)?;
    let mentioned = super::mentioning::local_people(conn, &incoming.mentions)?;
    notifications::tell_of_new_post(
        conn,
        inner,
        notifications::NewPost {
            post: &post,
            thread,
            forum,
            parent_author: parent.map(|(_, author)| author),
            mentioned: &mentioned,
            watchers: !incoming.quiet,
        },
        owed,
    )?;
    Ok(Some((post, relayed)))
}

/// A reply stored in a batch, as [`count_replies_stored`] counts it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Counted {
    thread: i64,
    forum: i64,
    /// Its `created_at` and id: where it stands in its thread.
    key: (NaiveDateTime, i64),
    author: i64,
}

impl Counted {
    /// `reply`, stored in `thread` of `forum`.
    pub(super) fn reply(thread: &Thread, forum: &Forum, reply: &Post) -> Counted {
        Counted {
            thread: thread.id,
            forum: forum.id,
            key: (reply.created_at, reply.id),
            author: reply.author_id,
        }
    }
}

/// Counts the replies a batch stored ([`count_new_post`] for each, together): each thread, forum
/// and author row updated once however many replies it got, in id order (so that two batches
/// never wait on each other's rows in a circle), at the end, just before the commit.
pub(super) fn count_replies_stored(
    conn: &mut Conn<'_>,
    counted: impl Iterator<Item = Counted>,
) -> Result<(), ForumError> {
    // Per thread: how many replies, and the earliest.
    let mut per_thread = std::collections::BTreeMap::<i64, (i64, (NaiveDateTime, i64))>::new();
    let mut per_forum = std::collections::BTreeMap::<i64, i64>::new();
    let mut per_author = std::collections::BTreeMap::<(i64, i64), i64>::new();
    for Counted {
        thread,
        forum,
        key,
        author,
    } in counted
    {
        let entry = per_thread.entry(thread).or_insert((0, key));
        entry.0 += 1;
        entry.1 = entry.1.min(key);
        *per_forum.entry(forum).or_default() += 1;
        *per_author.entry((author, forum)).or_default() += 1;
    }
    let now = db::now();
    for (thread, (replies, first)) in per_thread {
        threads::count_replies(conn, thread, replies, now, first)?;
    }
    for (forum, posts) in per_forum {
        forums::count_posts(conn, forum, (0, posts), now)?;
    }
    let per_author: Vec<(i64, i64, i64, i64)> = per_author
        .into_iter()
        .map(|((author, forum), replies)| (author, forum, 0, replies))
        .collect();
    author_counts::add_each(conn, &per_author)?;
    Ok(())
}

/// Counts a new post in its thread, its forum and its author's counts. Every post in a thread
/// updates the same rows, which PostgreSQL then holds locked until the transaction ends: done
/// last, just before the commit, so that concurrent replies to one thread wait on each other
/// as little as can be (and in the order every writer takes them: thread, forum, author).
pub(super) fn count_new_post(
    conn: &mut Conn<'_>,
    (thread, forum): (&Thread, &Forum),
    post: &Post,
) -> Result<(), ForumError> {
    let now = db::now();
    if !post.is_opening {
        threads::count_replies(conn, thread.id, 1, now, (post.created_at, post.id))?;
    }
    forums::count_posts(conn, forum.id, (post.is_opening.into(), 1), now)?;
    let opening = i64::from(post.is_opening);
    author_counts::add(conn, post.author_id, forum.id, (opening, 1 - opening))?;
    Ok(())
}

impl Site {
    /// A post from elsewhere held to our limits, and its HTML rendered, before any
    /// transaction starts.
    pub(super) fn prepare(&self, incoming: IncomingPost) -> (IncomingPost, Rendered) {
        let incoming = incoming.fitted(&self.settings().limits, db::now());
        let rendered = render_body(&incoming);
        (incoming, rendered)
    }

    /// A turn to store a post from elsewhere (see `Inner::inbound_writes`); held until dropped.
    async fn inbound_turn(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        // The semaphore is never closed; were it, storing would go on unbounded.
        self.inner.inbound_writes.acquire().await.ok()
    }

    /// Stores a post from another server, unless it is here already (then it is returned as
    /// stored). A post landing in one of our forums is relayed to the forum's followers.
    pub async fn receive_post(
        &self,
        author: User,
        placement: Placement,
        incoming: IncomingPost,
        relay: Option<Relay>,
    ) -> Result<PostContext, ForumError> {
        let (incoming, rendered) = self.prepare(incoming);
        let _turn = self.inbound_turn().await;
        self.blocking_then_send(move |inner, conn| {
            conn.transaction(|conn| {
                if let Some(existing) = remote_posts::by_ap_id(conn, &incoming.ap_id)? {
                    return Ok((context(conn, existing.id)?, false));
                }
                let (thread, forum, parent) = match placement {
                    Placement::NewThread { forum_id } => {
                        let forum = forums::by_id(conn, forum_id)?
                            .ok_or(ForumError::NotFound { what: "forum" })?;
                        require_federated(&forum, "forum")?;
                        super::forums::require_open(&forum)?;
                        require_not_banned(conn, &author, &forum)?;
                        if forum.local {
                            // A forum elsewhere decides for itself (it announced the thread).
                            super::forums::require_may_start_thread(conn, &forum, &author)?;
                        }
                        let title = title_of(&incoming);
                        let thread = threads::insert_remote(
                            conn,
                            &threads::NewRemoteThread {
                                forum_id,
                                author_id: author.id,
                                title: &title,
                                local: false,
                                ap_id: Some(&incoming.ap_id),
                                created_at: incoming.published,
                                last_activity_at: incoming.published,
                                context_url: incoming.context.as_deref(),
                            },
                        )?;
                        (thread, forum, None)
                    }
                    Placement::Reply { parent_id } => {
                        let parent = context(conn, parent_id)?;
                        require_federated(&parent.forum, "post")?;
                        super::forums::require_open(&parent.forum)?;
                        require_not_banned(conn, &author, &parent.forum)?;
                        require_unlocked(conn, &parent.thread, &parent.forum, Some(&author))?;
                        (
                            parent.thread,
                            parent.forum,
                            Some((parent_id, parent.author)),
                        )
                    }
                };
                let mut owed = Owed::default();
                let Some((post, relayed)) = insert_post(
                    inner,
                    conn,
                    &author,
                    (&thread, &forum),
                    parent.as_ref().map(|(id, author)| (*id, author)),
                    (&incoming, &rendered),
                    relay,
                    &mut owed,
                )?
                else {
                    // Stored by another process since the check above.
                    let existing = remote_posts::by_ap_id(conn, &incoming.ap_id)?
                        .ok_or(ForumError::NotFound { what: "post" })?;
                    return Ok((context(conn, existing.id)?, false));
                };
                owed.write(conn)?;
                count_new_post(conn, (&thread, &forum), &post)?;
                Ok((context(conn, post.id)?, relayed))
            })
        })
        .await
    }

    /// Applies an edit sent by a post's author. Returns false when the post is not here.
    pub async fn receive_edit(
        &self,
        author: User,
        incoming: IncomingPost,
        relay: Option<Relay>,
    ) -> Result<bool, ForumError> {
        let (incoming, rendered) = self.prepare(incoming);
        self.blocking_then_send(move |inner, conn| {
            conn.transaction(|conn| {
                let Some(post) = remote_posts::by_ap_id(conn, &incoming.ap_id)? else {
                    return Ok((false, false));
                };
                if post.author_id != author.id {
                    return Err(ForumError::forbidden(
                        "not_author",
                        "Only a post's author can edit it",
                    ));
                }
                let ctx = context(conn, post.id)?;
                require_federated(&ctx.forum, "post")?;
                let now = db::now();
                crate::db::revisions::insert(
                    conn,
                    &crate::db::revisions::NewRevision {
                        post_id: post.id,
                        title: post.is_opening.then_some(ctx.thread.title.as_str()),
                        body_markdown: &post.body_markdown,
                        body_html: &post.body_html,
                        written_at: post.edited_at.unwrap_or(post.created_at),
                        replaced_at: now,
                    },
                )?;
                if post.is_opening && incoming.title.is_some() {
                    threads::set_title(conn, ctx.thread.id, &title_of(&incoming))?;
                }
                let edited = posts::update_body(
                    conn,
                    post.id,
                    incoming.markdown.as_deref().unwrap_or(""),
                    &with_anchors(&rendered, post.id),
                    incoming.updated.unwrap_or(now),
                )?;
                let mentioned = super::mentioning::local_people(conn, &incoming.mentions)?;
                notifications::edited_post(conn, inner, &edited, &ctx.forum, &mentioned)?;
                Ok((
                    true,
                    relay_event(conn, &ctx.forum, Some(ctx.thread.id), relay)?,
                ))
            })
        })
        .await
    }

    /// Deletes a post at its author's word. Returns false when the post is not here.
    pub async fn receive_delete(
        &self,
        author: User,
        ap_id: String,
        relay: Option<Relay>,
    ) -> Result<bool, ForumError> {
        self.blocking_then_send(move |_inner, conn| {
            conn.transaction(|conn| {
                let Some(post) = remote_posts::by_ap_id(conn, &ap_id)? else {
                    return Ok((false, false));
                };
                if post.author_id != author.id {
                    return Err(ForumError::forbidden(
                        "not_author",
                        "Only a post's author can delete it",
                    ));
                }
                if post.deleted_at.is_none() {
                    posts::mark_deleted(conn, post.id, db::now())?;
                }
                let ctx = context(conn, post.id)?;
                Ok((
                    true,
                    relay_event(conn, &ctx.forum, Some(ctx.thread.id), relay)?,
                ))
            })
        })
        .await
    }

    /// The post (from elsewhere) with this ActivityPub id, in context, as other servers may
    /// see it (none in a members-only forum).
    pub async fn post_by_ap_id(&self, ap_id: String) -> Result<Option<PostContext>, ForumError> {
        self.blocking(
            move |_inner, conn| match remote_posts::by_ap_id(conn, &ap_id)? {
                Some(post) => Ok(Some(context(conn, post.id)?).filter(|c| !c.forum.members_only())),
                None => Ok(None),
            },
        )
        .await
    }

    /// A thread (from elsewhere) by its ActivityPub id.
    pub async fn thread_by_ap_id(&self, ap_id: String) -> Result<Option<Thread>, ForumError> {
        self.blocking(move |_inner, conn| Ok(threads::by_ap_id(conn, &ap_id)?))
            .await
    }
}

fn context(conn: &mut Conn<'_>, post_id: i64) -> Result<PostContext, ForumError> {
    let (post, author, thread, forum): (Post, User, Thread, Forum) =
        posts::with_context(conn, post_id)?.ok_or(ForumError::NotFound { what: "post" })?;
    Ok(PostContext {
        post,
        author,
        thread,
        forum,
    })
}

//! Pages of a thread. Every reader of a page sees the same posts (the opening post and a
//! window of replies, each with its author and the post it answers); a logged-in reader also
//! sees their own state on the thread: whether they moderate it, a ban, how far they had
//! read, which posts they marked helpful.
//!
//! The posts are what a page costs: read and decoded (a 5 KB opening post and 50 replies,
//! Markdown and HTML), they were over a third of a logged-in reader's page (perf, 2026-12-07,
//! the bench's thread of 50 on SQLite). So the posts of a page, once read, are kept
//! ([`KeptPages`]) and given to the next reader while nothing they show can have changed:
//! - **in this process**, nothing has been written ([`crate::db::Db::changes`], what the page
//!   cache checks too);
//! - **on the thread itself**, its row (read again with the reader's state, in the statement
//!   the page needs anyway) still has the count of replies, the last activity and the lock it
//!   had: a reply written by another process sharing the database shows at once, and a page
//!   number still means the same replies;
//! - anything else another process changes (an edit, a mark, a removal) is seen within
//!   `server.page_cache_seconds`, the longest posts are kept; 0 turns keeping them off, as it
//!   does the page cache.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;

use super::accounts::{live_session, LiveSession, SessionKind};
use super::moderation::banned_from;
use super::notifications;
use super::threads::thread_not_found;
use super::visibility::require_can_read;
use super::{Author, Forum, Inner, Paging, Post, Site, Thread, User};
use crate::db::reads::ReaderState;
use crate::db::thread_pages::{self, ParentRef};
use crate::db::{self, helpful, reads, Changes, Conn};
use crate::error::ForumError;

/// A post shown on a page: the post, its author and, for a reply that answers an earlier post,
/// that post and its author.
#[derive(Debug, Clone)]
pub struct PostView {
    /// The post.
    pub post: Post,
    /// Its author.
    pub author: Author,
    /// The post it answers: where it is and who wrote it.
    pub in_reply_to: Option<ParentRef>,
}

/// One page of a thread.
#[derive(Debug, Clone)]
pub struct ThreadPage {
    /// The thread.
    pub thread: Thread,
    /// Its forum.
    pub forum: Forum,
    /// The posts on this page, as everyone sees them (kept for the next reader: see
    /// [`KeptPages`]).
    pub posts: Arc<PagePosts>,
    /// Where this page stands.
    pub paging: Paging,
    /// The posts on this page the viewer marked helpful.
    pub marked_helpful: Vec<i64>,
    /// Who locked the thread, when it is locked (and their account still exists).
    pub locked_by: Option<User>,
    /// Whether the viewer moderates the thread's forum.
    pub viewer_moderates: bool,
    /// Why the logged-in viewer may not post here now, when a ban keeps them out.
    pub viewer_banned: Option<String>,
    /// How many of the thread's posts the logged-in viewer had seen before this page (none:
    /// they had never opened it). This page's are counted as seen from now on.
    pub viewer_had_read: Option<i64>,
    /// Whether the logged-in viewer watches the thread.
    pub viewer_watches: bool,
}

/// The posts of one page of a thread, as everyone sees them.
#[derive(Debug)]
pub struct PagePosts {
    /// The opening post (shown on every page).
    pub opening: PostView,
    /// The replies on this page, oldest first.
    pub replies: Vec<PostView>,
}

impl PagePosts {
    /// The posts, the opening post first.
    fn all(&self) -> impl Iterator<Item = &PostView> {
        std::iter::once(&self.opening).chain(&self.replies)
    }
}

/// What a thread's row says about its posts: whether a page's kept posts are still its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PostsMark {
    /// Its replies (the count also fixes which replies a page number means).
    reply_count: i64,
    /// Its last reply's time (a reply deleted for good and another written leave the count).
    last_activity_at: NaiveDateTime,
    /// Who locked it (their name is kept with the posts).
    locked_by_id: Option<i64>,
}

impl PostsMark {
    fn of(thread: &Thread) -> PostsMark {
        PostsMark {
            reply_count: thread.reply_count,
            last_activity_at: thread.last_activity_at,
            locked_by_id: thread.locked_by_id,
        }
    }
}

/// The posts of a page as read once, and where things stood then.
struct Kept {
    /// Where this process stood in its writes.
    changes: Changes,
    /// What the thread's row said.
    mark: PostsMark,
    posts: Arc<PagePosts>,
    locked_by: Option<User>,
}

/// The posts of pages read lately, by thread and page number.
pub(super) struct KeptPages {
    /// `None` when turned off.
    kept: Option<moka::sync::Cache<(i64, u32), Arc<Kept>>>,
}

impl KeptPages {
    /// Posts kept for `seconds` (none when 0), about `megabytes` of them in all.
    pub(super) fn new(seconds: u64, megabytes: u64) -> KeptPages {
        let kept = (seconds > 0 && megabytes > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(megabytes.saturating_mul(1 << 20))
                .weigher(|_, kept: &Arc<Kept>| {
                    let bytes: usize = kept
                        .posts
                        .all()
                        .map(|v| v.post.body_markdown.len() + v.post.body_html.len() + 512)
                        .sum();
                    u32::try_from(bytes).unwrap_or(u32::MAX)
                })
                .time_to_live(Duration::from_secs(seconds))
                .build()
        });
        KeptPages { kept }
    }

    /// Page `page`'s posts of thread `thread_id`, if kept while this process stood at `now`.
    fn get(&self, thread_id: i64, page: u32, now: Changes) -> Option<Arc<Kept>> {
        self.kept
            .as_ref()?
            .get(&(thread_id, page))
            .filter(|k| k.changes == now)
    }
}

impl Site {
    /// One page of a thread, as someone not logged in sees it: a fixed number of queries
    /// however long the thread is.
    pub async fn thread_page(&self, id: i64, page: Option<u32>) -> Result<ThreadPage, ForumError> {
        self.thread_page_for(id, page, None).await
    }

    /// [`Site::thread_page`] for a logged-in viewer, with their state on the thread: whether
    /// they moderate the forum, whether a ban keeps them from posting (the ban read only when
    /// there is one), how far they had read, whether they watch it, which of the page's posts
    /// they marked helpful. Read with the posts in the same statements when the posts are read;
    /// when they are kept (see the module), with the thread's row, and one statement more for
    /// the marks. One more in a members-only forum; writes when the page takes them further.
    /// 404 to anyone who may not read the thread.
    pub async fn thread_page_for(
        &self,
        id: i64,
        page: Option<u32>,
        viewer: Option<User>,
    ) -> Result<ThreadPage, ForumError> {
        let per_page = self.settings().pages.posts_per_page;
        let page = self
            .blocking(move |inner, conn| thread_page_in(inner, conn, id, page, per_page, viewer))
            .await?;
        self.after_thread_page(&page);
        Ok(page)
    }

    /// [`Site::thread_page_for`] the holder of the session `token` (of `kind`) if one was
    /// given, found in the same round trip as the page: one connection and one hand-off for
    /// both. Without a token, or with one that is no live session, the page is the one anyone
    /// not logged in is given, and the session `None`.
    pub async fn thread_page_with_session(
        &self,
        id: i64,
        page: Option<u32>,
        token: Option<String>,
        kind: SessionKind,
    ) -> Result<(Option<LiveSession>, ThreadPage), ForumError> {
        let per_page = self.settings().pages.posts_per_page;
        let (session, page) = self
            .blocking(move |inner, conn| {
                let session = match token {
                    Some(token) => live_session(conn, &token, kind)?,
                    None => None,
                };
                let viewer = session.as_ref().map(|s| s.user.clone());
                Ok((
                    session,
                    thread_page_in(inner, conn, id, page, per_page, viewer)?,
                ))
            })
            .await?;
        self.after_thread_page(&page);
        Ok((session, page))
    }

    /// A thread from elsewhere is read in whole from its context collection now and then, in
    /// the background, for the replies that never reached this server.
    fn after_thread_page(&self, page: &ThreadPage) {
        if !page.thread.local {
            self.fill_in_thread(page.thread.id, false);
        }
    }
}

/// What [`Site::thread_page_for`] reads and writes, on `conn`: the posts as kept when they
/// still are the thread's, else read and kept.
fn thread_page_in(
    inner: &Inner,
    conn: &mut Conn<'_>,
    id: i64,
    page: Option<u32>,
    per_page: u32,
    viewer: Option<User>,
) -> Result<ThreadPage, ForumError> {
    let kept_pages = &inner.kept_pages;
    let number = page.unwrap_or(1);
    let before = inner.db.changes();
    if let Some(kept) = kept_pages.get(id, number, before) {
        if let Some(page) = from_kept(conn, &kept, id, number, per_page, viewer.as_ref())? {
            return Ok(page);
        }
    }
    let (page, kept) = read_whole(conn, id, number, per_page, viewer.as_ref())?;
    // Kept only when nothing was written while it was read: it may hold what was there before.
    if let Some(cache) = &kept_pages.kept {
        if inner.db.changes() == before {
            cache.insert(
                (id, number),
                Arc::new(Kept {
                    changes: before,
                    ..kept
                }),
            );
        }
    }
    Ok(page)
}

/// A page built on posts kept from an earlier reading, if they are still the thread's: the
/// thread's row with the reader's state on it (one statement), and which of the page's posts
/// they marked helpful (one more).
fn from_kept(
    conn: &mut Conn<'_>,
    kept: &Kept,
    id: i64,
    number: u32,
    per_page: u32,
    viewer: Option<&User>,
) -> Result<Option<ThreadPage>, ForumError> {
    let (thread, forum, state) = match viewer {
        Some(user) => match thread_pages::thread_for_reader(conn, id, user.id, db::now())? {
            Some((t, f, s)) => (t, f, Some((user, s))),
            None => return Ok(None),
        },
        None => match thread_pages::thread_with_forum(conn, id)? {
            Some((t, f)) => (t, f, None),
            None => return Ok(None),
        },
    };
    if PostsMark::of(&thread) != kept.mark {
        return Ok(None);
    }
    require_can_read(conn, &forum, viewer, "thread")?;
    let (marked_helpful, state) = match state {
        Some((user, mut s)) => {
            let ids: Vec<i64> = kept.posts.all().map(|v| v.post.id).collect();
            let marked = helpful::marked_by(conn, user.id, &ids)?;
            s.opening_marked = marked.contains(&kept.posts.opening.post.id);
            (marked, Some((user, s)))
        }
        None => (Vec::new(), None),
    };
    let paging = Paging::new(Some(number), per_page, thread.reply_count);
    let parts = Parts {
        thread,
        forum,
        posts: kept.posts.clone(),
        paging,
        locked_by: kept.locked_by.clone(),
        marked_helpful,
    };
    Ok(Some(for_reader(conn, parts, state)?))
}

/// A page read whole, and its posts to keep (at no standing yet: the caller knows it).
fn read_whole(
    conn: &mut Conn<'_>,
    id: i64,
    number: u32,
    per_page: u32,
    viewer: Option<&User>,
) -> Result<(ThreadPage, Kept), ForumError> {
    // A logged-in reader's state (whether they moderate, are banned, how far they
    // had read, whether they marked the opening post helpful) comes with the
    // opening post, in its statement.
    let (opening, opening_author, thread, forum, state) = match viewer {
        Some(user) => thread_pages::opening_for_reader(conn, id, user.id, db::now())?
            .map(|(p, a, t, f, s)| (p, a, t, f, Some((user, s)))),
        None => thread_pages::opening_for_page(conn, id)?.map(|(p, a, t, f)| (p, a, t, f, None)),
    }
    .ok_or_else(thread_not_found)?;
    require_can_read(conn, &forum, viewer, "thread")?;
    let paging = Paging::new(Some(number), per_page, thread.reply_count);
    // A logged-in reader's replies come with whether they marked each helpful.
    let rows = match viewer {
        Some(user) => {
            let window = (paging.limit(), paging.offset());
            thread_pages::replies_page_for(conn, thread.id, window, user.id)?
        }
        None => thread_pages::replies_page(conn, thread.id, paging.limit(), paging.offset())?
            .into_iter()
            .map(|(post, author)| (post, author, false))
            .collect(),
    };
    let parent_ids: Vec<i64> = rows
        .iter()
        .filter_map(|(p, _, _)| p.in_reply_to_id)
        .filter(|pid| *pid != opening.id)
        .collect();
    let mut parents: HashMap<i64, ParentRef> = thread_pages::parent_refs(conn, &parent_ids)?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    parents.insert(opening.id, ParentRef::of(&opening, &opening_author));
    let mut marked_helpful: Vec<i64> = rows
        .iter()
        .filter(|(_, _, marked)| *marked)
        .map(|(p, _, _)| p.id)
        .collect();
    if state.is_some_and(|(_, s)| s.opening_marked) {
        marked_helpful.push(opening.id);
    }
    let locked_by = match thread.locked_by_id {
        Some(by) => crate::db::users::by_id(conn, by)?,
        None => None,
    };
    let replies = rows
        .into_iter()
        .map(|(post, author, _)| PostView {
            in_reply_to: post
                .in_reply_to_id
                .and_then(|pid| parents.get(&pid).cloned()),
            post,
            author,
        })
        .collect();
    let posts = Arc::new(PagePosts {
        opening: PostView {
            post: opening,
            author: opening_author,
            in_reply_to: None,
        },
        replies,
    });
    let kept = Kept {
        changes: Changes::default(),
        mark: PostsMark::of(&thread),
        posts: posts.clone(),
        locked_by: locked_by.clone(),
    };
    let parts = Parts {
        thread,
        forum,
        posts,
        paging,
        locked_by,
        marked_helpful,
    };
    Ok((for_reader(conn, parts, state)?, kept))
}

/// What a page shows everyone, and which of its posts the reader marked.
struct Parts {
    thread: Thread,
    forum: Forum,
    posts: Arc<PagePosts>,
    paging: Paging,
    locked_by: Option<User>,
    marked_helpful: Vec<i64>,
}

/// The page as the reader with `state` on the thread sees it (none: not logged in): whether
/// they moderate it, a ban (read only when there is one), how far they had read (written when
/// this page takes them further).
fn for_reader(
    conn: &mut Conn<'_>,
    parts: Parts,
    state: Option<(&User, ReaderState)>,
) -> Result<ThreadPage, ForumError> {
    let admin = state.is_some_and(|(u, _)| u.local && u.is_admin);
    let viewer_moderates = admin || state.is_some_and(|(_, s)| s.moderator);
    let viewer_banned = match state {
        // The message needs the ban itself: read only when there is one.
        Some((user, s)) if s.banned && !admin => banned_from(conn, user, &parts.forum)?,
        _ => None,
    };
    let (viewer_had_read, viewer_watches) = match state {
        Some((user, s)) => {
            let seen = 1 + parts.paging.offset() + parts.posts.replies.len() as i64;
            if seen > s.posts_read.unwrap_or(0) {
                reads::record(conn, user.id, parts.thread.id, seen, db::now())?;
                // What they now see, they need no longer be told about.
                let shown: Vec<i64> = parts.posts.all().map(|v| v.post.id).collect();
                notifications::seen(conn, user.id, &shown)?;
            }
            (s.posts_read, s.watching)
        }
        None => (None, false),
    };
    Ok(ThreadPage {
        thread: parts.thread,
        forum: parts.forum,
        posts: parts.posts,
        paging: parts.paging,
        marked_helpful: parts.marked_helpful,
        locked_by: parts.locked_by,
        viewer_moderates,
        viewer_banned,
        viewer_had_read,
        viewer_watches,
    })
}

//! Threads and posts: starting a thread, replying, quoting, editing with kept revisions,
//! deleting to a placeholder, and the pages and feeds that show them.

pub use super::editing::{PostEdit, PostHistory};
use super::forums::require_open;
use super::incoming::{count_new_post, Counted};
use super::markdown;
use super::moderation::{require_not_banned, require_unlocked};
use super::notifications;
use super::outbox::{post_event, PostAction};
pub use super::thread_pages::{PagePosts, PostView, ThreadPage};
use super::types::{PostBody, ThreadTitle};
use super::visibility::require_can_read;
use super::{Forum, Inner, Paging, Post, Site, Thread, User};
use crate::db::thread_pages;
use crate::db::{self, forums, posts, reads, threads, Conn};
use crate::error::{ForumError, Validator};

/// A post with everything around it.
#[derive(Debug, Clone)]
pub struct PostContext {
    /// The post.
    pub post: Post,
    /// Its author.
    pub author: User,
    /// Its thread.
    pub thread: Thread,
    /// The thread's forum.
    pub forum: Forum,
}

/// Where a post is: its thread and the page of the thread it is on.
#[derive(Debug, Clone, Copy)]
pub struct PostLocation {
    /// Thread id.
    pub thread_id: i64,
    /// Page of the thread.
    pub page: u32,
    /// Post id.
    pub post_id: i64,
}

pub(super) fn thread_not_found() -> ForumError {
    ForumError::NotFound { what: "thread" }
}

fn post_not_found() -> ForumError {
    ForumError::NotFound { what: "post" }
}

fn deleted() -> ForumError {
    ForumError::Gone {
        code: "post_deleted",
        message: "This post was deleted".into(),
    }
}

/// Fails when readers may not see the post's words: deleted by its author (410
/// `post_deleted`), or removed by a moderator (410 `post_removed`).
pub(super) fn require_readable(post: &Post) -> Result<(), ForumError> {
    if post.deleted_at.is_some() {
        return Err(deleted());
    }
    if post.removed_at.is_some() {
        return Err(ForumError::Gone {
            code: "post_removed",
            message: "A moderator removed this post".into(),
        });
    }
    Ok(())
}

/// A post with its author, thread and forum (404 when there is none).
pub(super) fn context(conn: &mut Conn<'_>, post_id: i64) -> Result<PostContext, ForumError> {
    let (post, author, thread, forum) =
        posts::with_context(conn, post_id)?.ok_or_else(post_not_found)?;
    Ok(PostContext {
        post,
        author,
        thread,
        forum,
    })
}

/// A post in context, if `viewer` may read its forum (404 otherwise, as for no post).
pub(super) fn visible_context(
    conn: &mut Conn<'_>,
    post_id: i64,
    viewer: Option<&User>,
) -> Result<PostContext, ForumError> {
    let ctx = context(conn, post_id)?;
    require_can_read(conn, &ctx.forum, viewer, "post")?;
    Ok(ctx)
}

/// Inserts a local post and renders it with its own anchor prefix (which needs its id) and its
/// mentions linked; returns it with the people it mentions.
#[allow(clippy::too_many_arguments)]
fn insert_post(
    inner: &Inner,
    conn: &mut Conn<'_>,
    thread_id: i64,
    author_id: i64,
    in_reply_to_id: Option<i64>,
    is_opening: bool,
    body: &PostBody,
    at: chrono::NaiveDateTime,
) -> Result<(Post, Vec<User>), ForumError> {
    let post = posts::insert_local(
        conn,
        &posts::NewLocalPost {
            thread_id,
            author_id,
            in_reply_to_id,
            is_opening,
            body_markdown: body.as_str(),
            body_html: "",
            created_at: at,
        },
    )?;
    let (html, mentioned) = super::mentioning::render_local(conn, inner, post.id, body.as_str())?;
    Ok((posts::set_html(conn, post, html)?, mentioned))
}

impl Site {
    /// Starts a thread in a forum: the thread and its opening post, in one transaction.
    pub async fn start_thread(
        &self,
        by: User,
        forum_name: String,
        title: String,
        body: String,
    ) -> Result<(Forum, Thread, Post), ForumError> {
        self.learn_mentioned(&body).await;
        let started = self
            .blocking(move |inner, conn| {
                let forum = forums::by_handle(conn, &forum_name)?
                    .ok_or(ForumError::NotFound { what: "forum" })?;
                require_can_read(conn, &forum, Some(&by), "forum")?;
                require_open(&forum)?;
                require_not_banned(conn, &by, &forum)?;
                super::forums::require_may_start_thread(conn, &forum, &by)?;
                let limits = &inner.settings.limits;
                let mut v = Validator::new();
                let title = v.check("title", ThreadTitle::parse(&title, limits.title_max_chars));
                let body = v.check("body", PostBody::parse(&body, limits.body_max_bytes));
                let (Some(title), Some(body)) = (title, body) else {
                    return Err(v.into_error());
                };
                conn.transaction(|conn| {
                    let now = db::now();
                    let thread = threads::insert_local(
                        conn,
                        &threads::NewLocalThread {
                            forum_id: forum.id,
                            author_id: by.id,
                            title: title.as_str(),
                            created_at: now,
                            last_activity_at: now,
                        },
                    )?;
                    let (post, mentioned) =
                        insert_post(inner, conn, thread.id, by.id, None, true, &body, now)?;
                    post_event(inner, conn, post.id, PostAction::Create)?;
                    notifications::watch_written(inner, conn, &by, (&thread, &forum), true)?;
                    notifications::new_post(
                        conn,
                        inner,
                        notifications::NewPost {
                            post: &post,
                            thread: &thread,
                            forum: &forum,
                            parent_author: None,
                            mentioned: &mentioned,
                            watchers: true,
                        },
                    )?;
                    count_new_post(conn, (&thread, &forum), &post)?;
                    Ok((forum, thread, post))
                })
            })
            .await?;
        self.outbox_written();
        Ok(started)
    }

    /// Replies to a thread, optionally answering one earlier post of it: checked first, then
    /// stored together with the replies written meanwhile, one transaction for the batch, each
    /// reply placed and announced as if alone and the batch counted once before the commit (see
    /// `group_commit`; a reply that fails there fails alone).
    pub async fn reply(
        &self,
        by: User,
        thread_id: i64,
        body: String,
        in_reply_to: Option<i64>,
    ) -> Result<Post, ForumError> {
        self.learn_mentioned(&body).await;
        let checked = self
            .blocking(move |inner, conn| {
                let thread = threads::by_id(conn, thread_id)?.ok_or_else(thread_not_found)?;
                let forum = forums::by_id(conn, thread.forum_id)?
                    .ok_or(ForumError::NotFound { what: "forum" })?;
                require_can_read(conn, &forum, Some(&by), "thread")?;
                require_open(&forum)?;
                require_not_banned(conn, &by, &forum)?;
                require_unlocked(conn, &thread, &forum, Some(&by))?;
                let mut v = Validator::new();
                let body = v.check(
                    "body",
                    PostBody::parse(&body, inner.settings.limits.body_max_bytes),
                );
                let parent = match in_reply_to {
                    Some(pid) => match posts::by_id(conn, pid)? {
                        Some(p) if p.thread_id == thread.id => Some(p.id),
                        _ => v.check(
                            "in_reply_to",
                            Err("The post you are answering is not in this thread.".into()),
                        ),
                    },
                    None => None,
                };
                let (Some(body), true) = (body, v.is_empty()) else {
                    return Err(v.into_error());
                };
                Ok((by, thread, forum, parent, body))
            })
            .await?;
        let inner = self.inner.clone();
        let store = move |conn: &mut Conn<'_>, _: &mut ()| {
            let (by, thread, forum, parent, body) = &checked;
            let now = db::now();
            let (post, mentioned) =
                insert_post(&inner, conn, thread.id, by.id, *parent, false, body, now)?;
            post_event(&inner, conn, post.id, PostAction::Create)?;
            notifications::watch_written(&inner, conn, by, (thread, forum), false)?;
            let answered = notifications::answered_author(conn, thread.id, *parent)?;
            notifications::new_post(
                conn,
                &inner,
                notifications::NewPost {
                    post: &post,
                    thread,
                    forum,
                    parent_author: answered.as_ref(),
                    mentioned: &mentioned,
                    watchers: true,
                },
            )?;
            // Counted with the rest of its batch, just before the commit.
            let counted = Counted::reply(thread, forum, &post);
            Ok((post, counted))
        };
        let (post, _) = self
            .together(|inner| &inner.local_replies, Box::new(store))
            .await?;
        self.outbox_written();
        Ok(post)
    }

    /// A post with its author, thread and forum, if `viewer` may read it (`None`: someone
    /// not logged in, or another server).
    pub async fn post(&self, id: i64, viewer: Option<User>) -> Result<PostContext, ForumError> {
        self.blocking(move |_inner, conn| visible_context(conn, id, viewer.as_ref()))
            .await
    }

    /// The Markdown that quotes a post, for pre-filling a reply.
    pub async fn quote(
        &self,
        id: i64,
        viewer: Option<User>,
    ) -> Result<(PostContext, String), ForumError> {
        self.blocking(move |inner, conn| {
            let ctx = visible_context(conn, id, viewer.as_ref())?;
            require_readable(&ctx.post)?;
            let url = inner.urls.post(&ctx.post);
            let text = markdown::quote(&ctx.author.display_name, &url, &ctx.post.body_markdown);
            Ok((ctx, text))
        })
        .await
    }

    /// Where the first post `viewer` has not seen in a thread is (the last post when they have
    /// seen them all; the opening post when they never opened it).
    pub async fn first_unread(
        &self,
        thread_id: i64,
        viewer: User,
    ) -> Result<PostLocation, ForumError> {
        let per_page = self.settings().pages.posts_per_page;
        self.blocking(move |_inner, conn| {
            let (opening, _, thread, forum) =
                posts::opening_with_context(conn, thread_id)?.ok_or_else(thread_not_found)?;
            require_can_read(conn, &forum, Some(&viewer), "thread")?;
            let read = reads::posts_read(conn, viewer.id, thread.id)?.unwrap_or(0);
            // Replies are numbered from 0; the post after `read` posts is reply `read - 1`.
            let reply_index = read.min(thread.reply_count) - 1;
            if reply_index < 0 {
                return Ok(PostLocation {
                    thread_id: thread.id,
                    page: 1,
                    post_id: opening.id,
                });
            }
            let post_id = thread_pages::replies_page(conn, thread.id, 1, reply_index)?
                .first()
                .map_or(opening.id, |(p, _)| p.id);
            Ok(PostLocation {
                thread_id: thread.id,
                page: Paging::page_of(reply_index, per_page),
                post_id,
            })
        })
        .await
    }

    /// Where a post is (for `/p/{id}` and links to it).
    pub async fn locate_post(
        &self,
        id: i64,
        viewer: Option<User>,
    ) -> Result<PostLocation, ForumError> {
        let per_page = self.settings().pages.posts_per_page;
        self.blocking(move |_inner, conn| {
            let post = visible_context(conn, id, viewer.as_ref())?.post;
            let page = if post.is_opening {
                1
            } else {
                Paging::page_of(posts::replies_before(&post), per_page)
            };
            Ok(PostLocation {
                thread_id: post.thread_id,
                page,
                post_id: post.id,
            })
        })
        .await
    }
}

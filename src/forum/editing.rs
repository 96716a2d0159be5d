//! Changing what was written: an author edits their post (every earlier version kept) or
//! deletes it to a placeholder; administrators may delete any post.

use super::forums::require_open;
use super::moderation::require_not_banned;
use super::notifications;
use super::outbox::{post_event, PostAction};
use super::threads::{context, require_readable, visible_context, PostContext};
use super::types::{PostBody, ThreadTitle};
use super::visibility::require_can_read;
use super::{Inner, Post, Revision, Site, User};
use crate::db::{self, posts, revisions, threads, Conn};
use crate::error::{ForumError, Validator};

/// A post with its earlier versions.
#[derive(Debug, Clone)]
pub struct PostHistory {
    /// The post as it is now.
    pub context: PostContext,
    /// Earlier versions, oldest first.
    pub revisions: Vec<Revision>,
}

/// An edit: the new body, and a new title when the post opens its thread.
#[derive(Debug, Clone, Default)]
pub struct PostEdit {
    /// New Markdown.
    pub body: String,
    /// New title (opening posts only; `None` keeps it).
    pub title: Option<String>,
}

/// The post, if `by` may edit it: their own, not deleted nor removed, in a forum taking posts.
fn editable(conn: &mut Conn<'_>, by: &User, post_id: i64) -> Result<PostContext, ForumError> {
    let ctx = context(conn, post_id)?;
    if ctx.post.author_id != by.id {
        return Err(ForumError::forbidden(
            "not_author",
            "You can only edit your own posts",
        ));
    }
    require_can_read(conn, &ctx.forum, Some(by), "post")?;
    require_readable(&ctx.post)?;
    require_open(&ctx.forum)?;
    require_not_banned(conn, by, &ctx.forum)?;
    Ok(ctx)
}

/// The post, if `by` may delete it: their own, or any as an administrator.
fn deletable(conn: &mut Conn<'_>, by: &User, post_id: i64) -> Result<PostContext, ForumError> {
    let ctx = context(conn, post_id)?;
    if ctx.post.author_id != by.id && !by.is_admin {
        return Err(ForumError::forbidden(
            "not_author",
            "You can only delete your own posts",
        ));
    }
    Ok(ctx)
}

impl Site {
    /// Edits a post (its author only). The version replaced is kept as a revision; an edit
    /// that changes nothing is not recorded.
    pub async fn edit_post(&self, by: User, id: i64, edit: PostEdit) -> Result<Post, ForumError> {
        self.learn_mentioned(&edit.body).await;
        let post = self
            .blocking(move |inner, conn| edit_post(inner, conn, &by, id, edit))
            .await?;
        self.outbox_written();
        Ok(post)
    }

    /// The post `by` wants to edit, if they may (for showing the edit form).
    pub async fn post_to_edit(&self, by: User, id: i64) -> Result<PostContext, ForumError> {
        self.blocking(move |_inner, conn| editable(conn, &by, id))
            .await
    }

    /// The post `by` wants to delete, if they may (for asking before deleting).
    pub async fn post_to_delete(&self, by: User, id: i64) -> Result<PostContext, ForumError> {
        self.blocking(move |_inner, conn| deletable(conn, &by, id))
            .await
    }

    /// Deletes a post (its author, or an administrator). It stays as a placeholder so the
    /// thread still reads; deleting an opening post keeps the replies.
    pub async fn delete_post(&self, by: User, id: i64) -> Result<Post, ForumError> {
        let post = self
            .blocking(move |inner, conn| {
                let post = deletable(conn, &by, id)?.post;
                if post.deleted_at.is_some() {
                    return Ok(post);
                }
                conn.transaction(|conn| {
                    let deleted = posts::mark_deleted(conn, id, db::now())?;
                    // Only our own posts are ours to announce as deleted.
                    if deleted.local {
                        post_event(inner, conn, id, PostAction::Delete)?;
                    }
                    Ok(deleted)
                })
            })
            .await?;
        self.outbox_written();
        Ok(post)
    }

    /// A post's earlier versions.
    pub async fn post_history(
        &self,
        id: i64,
        viewer: Option<User>,
    ) -> Result<PostHistory, ForumError> {
        self.blocking(move |_inner, conn| {
            let context = visible_context(conn, id, viewer.as_ref())?;
            require_readable(&context.post)?;
            let revisions = revisions::for_post(conn, id)?;
            Ok(PostHistory { context, revisions })
        })
        .await
    }
}

fn edit_post(
    inner: &Inner,
    conn: &mut Conn<'_>,
    by: &User,
    id: i64,
    edit: PostEdit,
) -> Result<Post, ForumError> {
    let ctx = editable(conn, by, id)?;
    let limits = &inner.settings.limits;
    let mut v = Validator::new();
    let body = v.check("body", PostBody::parse(&edit.body, limits.body_max_bytes));
    let title = match (&edit.title, ctx.post.is_opening) {
        (Some(t), true) => v.check("title", ThreadTitle::parse(t, limits.title_max_chars)),
        (Some(_), false) => v.check(
            "title",
            Err("Only the opening post of a thread has a title.".into()),
        ),
        (None, _) => None,
    };
    let (Some(body), true) = (body, v.is_empty()) else {
        return Err(v.into_error());
    };
    let title_changed = title
        .as_ref()
        .is_some_and(|t| t.as_str() != ctx.thread.title);
    if body.as_str() == ctx.post.body_markdown && !title_changed {
        return Ok(ctx.post);
    }
    conn.transaction(|conn| {
        let now = db::now();
        revisions::insert(
            conn,
            &revisions::NewRevision {
                post_id: ctx.post.id,
                title: ctx.post.is_opening.then_some(ctx.thread.title.as_str()),
                body_markdown: &ctx.post.body_markdown,
                body_html: &ctx.post.body_html,
                written_at: ctx.post.edited_at.unwrap_or(ctx.post.created_at),
                replaced_at: now,
            },
        )?;
        if let Some(title) = title.filter(|_| title_changed) {
            threads::set_title(conn, ctx.thread.id, title.as_str())?;
        }
        let (html, mentioned) =
            super::mentioning::render_local(conn, inner, ctx.post.id, body.as_str())?;
        let post = posts::update_body(conn, ctx.post.id, body.as_str(), &html, now)?;
        post_event(inner, conn, post.id, PostAction::Update)?;
        notifications::edited_post(conn, inner, &post, &ctx.forum, &mentioned)?;
        Ok(post)
    })
}

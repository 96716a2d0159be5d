//! Removing and restoring posts, here and as other servers send it.

use super::*;

impl Site {
    /// A post with its thread and forum, if `by` moderates the forum (for the removal form).
    pub async fn post_to_moderate(&self, by: User, id: i64) -> Result<PostContext, ForumError> {
        self.blocking(move |_inner, conn| {
            let ctx = post_context(conn, id)?;
            require_moderator(conn, &by, &ctx.forum)?;
            Ok(ctx)
        })
        .await
    }

    /// Removes a post (its forum's moderators), saying why (required): readers then see that a
    /// moderator removed it, moderators still read it, and it can be restored; a removed
    /// opening post keeps its thread and replies. Recorded in the forum's log. A post deleted
    /// by its author is gone already (410 `post_deleted`); removing a removed post changes
    /// nothing.
    pub async fn remove_post(&self, by: User, id: i64, why: String) -> Result<Post, ForumError> {
        self.blocking_then_send(move |inner, conn| {
            let ctx = post_context(conn, id)?;
            require_moderator(conn, &by, &ctx.forum)?;
            if ctx.post.deleted_at.is_some() {
                return Err(ForumError::Gone {
                    code: "post_deleted",
                    message: "This post was deleted by its author".into(),
                });
            }
            let mut v = Validator::new();
            let Some(why) = v.check("reason", Reason::parse(&why, true)) else {
                return Err(v.into_error());
            };
            if ctx.post.removed_at.is_some() {
                return Ok((ctx.post, false));
            }
            conn.transaction(|conn| {
                let removed = crate::db::posts::set_removed(
                    conn,
                    id,
                    Some((by.id, db::now(), why.as_str())),
                )?;
                let told = removal_recorded(inner, conn, &ctx, &by, true, &why)?;
                Ok((removed, told))
            })
        })
        .await
    }

    /// Restores a removed post (its forum's moderators), with an optional reason; recorded in
    /// the forum's log. Restoring a post that is not removed changes nothing.
    pub async fn restore_post(&self, by: User, id: i64, why: String) -> Result<Post, ForumError> {
        self.blocking_then_send(move |inner, conn| {
            let ctx = post_context(conn, id)?;
            require_moderator(conn, &by, &ctx.forum)?;
            let why = reason(&why)?;
            if ctx.post.removed_at.is_none() {
                return Ok((ctx.post, false));
            }
            conn.transaction(|conn| {
                let restored = crate::db::posts::set_removed(conn, id, None)?;
                let told = removal_recorded(inner, conn, &ctx, &by, false, &why)?;
                Ok((restored, told))
            })
        })
        .await
    }

    /// A removal (or restoring) from elsewhere of the post `post_id`, by `by`. For one of our
    /// forums they must moderate it, and the change is relayed to its followers; for a forum
    /// elsewhere, only that forum may pass it on (`announced_by`). A post its author deleted
    /// stays deleted; the reason is cut to our limit.
    pub async fn receive_removal(
        &self,
        by: User,
        post_id: i64,
        removed: bool,
        why: Option<String>,
        announced_by: Option<i64>,
        relay: Option<Relay>,
    ) -> Result<(), ForumError> {
        self.blocking_then_send(move |_inner, conn| {
            let ctx = post_context(conn, post_id)?;
            require_vouched(conn, &by, &ctx.forum, announced_by)?;
            if ctx.post.deleted_at.is_some() || ctx.post.removed_at.is_some() == removed {
                return Ok(((), false));
            }
            let why = remote_reason(why);
            conn.transaction(|conn| {
                let removal = removed.then(|| (by.id, db::now(), why.as_str()));
                crate::db::posts::set_removed(conn, post_id, removal)?;
                let action = if removed {
                    Action::Remove
                } else {
                    Action::Restore
                };
                record(conn, &ctx.forum, &by, action, Target::post(&ctx), &why)?;
                Ok((
                    (),
                    relay_event(conn, &ctx.forum, Some(ctx.thread.id), relay)?,
                ))
            })
        })
        .await
    }
}

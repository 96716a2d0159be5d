//! Marking posts helpful: people here mark and unmark posts by others; marks from elsewhere
//! (ActivityPub `Like`) count the same. Each post keeps its count, so pages show it for free.
//! A mark made here, and one received in one of our forums, is passed on (outbox event).

use super::incoming::{relay_event, Relay};
use super::outbox::{push_event, OutboxEvent};
use super::threads::{context, visible_context, PostContext};
use super::visibility::require_federated;
use super::{Post, Site, User};
use crate::db::{self, helpful};
use crate::error::ForumError;

fn markable(ctx: &PostContext, by: &User) -> Result<(), ForumError> {
    super::threads::require_readable(&ctx.post)?;
    if ctx.post.author_id == by.id {
        return Err(ForumError::forbidden(
            "own_post",
            "You cannot mark your own post helpful",
        ));
    }
    super::forums::require_open(&ctx.forum)
}

impl Site {
    /// `by` marks a post helpful (again is harmless). Returns the post with its new count.
    pub async fn mark_helpful(&self, by: User, post_id: i64) -> Result<Post, ForumError> {
        self.blocking_then_send(move |inner, conn| {
            let ctx = visible_context(conn, post_id, Some(&by))?;
            markable(&ctx, &by)?;
            super::moderation::require_not_banned(conn, &by, &ctx.forum)?;
            conn.transaction(|conn| {
                let like_ap_id = super::outbox::new_activity_id(inner, "like");
                let added = helpful::add(conn, post_id, by.id, &like_ap_id, db::now())?;
                let sent = added && inner.settings.federation.enabled;
                if sent {
                    push_event(
                        conn,
                        &OutboxEvent::Like {
                            post_id,
                            user_id: by.id,
                            like_ap_id,
                        },
                    )?;
                }
                Ok((context(conn, post_id)?.post, sent))
            })
        })
        .await
    }

    /// `by` takes back their helpful mark (none is harmless). Returns the post.
    pub async fn unmark_helpful(&self, by: User, post_id: i64) -> Result<Post, ForumError> {
        self.blocking_then_send(move |inner, conn| {
            visible_context(conn, post_id, Some(&by))?;
            conn.transaction(|conn| {
                let removed = helpful::remove(conn, post_id, by.id)?;
                let sent = removed.is_some() && inner.settings.federation.enabled;
                if let (true, Some(mark)) = (sent, removed) {
                    push_event(
                        conn,
                        &OutboxEvent::Unlike {
                            post_id,
                            user_id: by.id,
                            like_ap_id: mark.like_ap_id,
                        },
                    )?;
                }
                Ok((context(conn, post_id)?.post, sent))
            })
        })
        .await
    }

    /// Which of `post_ids` person `user_id` marked helpful.
    pub async fn marked_helpful(
        &self,
        user_id: i64,
        post_ids: Vec<i64>,
    ) -> Result<Vec<i64>, ForumError> {
        self.blocking(move |_inner, conn| Ok(helpful::marked_by(conn, user_id, &post_ids)?))
            .await
    }

    /// A mark from elsewhere (a `Like`), relayed when the post is in one of our forums.
    pub async fn receive_helpful(
        &self,
        by: User,
        post_id: i64,
        like_ap_id: String,
        relay: Option<Relay>,
    ) -> Result<(), ForumError> {
        self.blocking_then_send(move |_inner, conn| {
            let ctx = context(conn, post_id)?;
            require_federated(&ctx.forum, "post")?;
            markable(&ctx, &by)?;
            conn.transaction(|conn| {
                let added = helpful::add(conn, post_id, by.id, &like_ap_id, db::now())?;
                Ok((
                    (),
                    relay_event(
                        conn,
                        &ctx.forum,
                        Some(ctx.thread.id),
                        relay.filter(|_| added),
                    )?,
                ))
            })
        })
        .await
    }

    /// A mark from elsewhere taken back (`Undo` of a `Like`).
    pub async fn receive_unhelpful(
        &self,
        by: User,
        post_id: i64,
        relay: Option<Relay>,
    ) -> Result<(), ForumError> {
        self.blocking_then_send(move |_inner, conn| {
            let ctx = context(conn, post_id)?;
            conn.transaction(|conn| {
                let removed = helpful::remove(conn, post_id, by.id)?;
                let relay = relay.filter(|_| removed.is_some());
                Ok((
                    (),
                    relay_event(conn, &ctx.forum, Some(ctx.thread.id), relay)?,
                ))
            })
        })
        .await
    }
}

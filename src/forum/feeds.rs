//! Feeds: the newest threads of a forum and the newest posts of a thread, as the Atom feeds and
//! a forum's ActivityPub outbox read them. Both are read by anyone, so a members-only forum has
//! none.

use super::threads::PostContext;
use super::visibility::require_federated;
use super::{Forum, Post, Site, Thread, User};
use crate::db::{forums, posts};
use crate::error::ForumError;

impl Site {
    /// The newest threads of a forum, for its feed and its outbox (never a members-only
    /// forum's: feeds and other servers are read by anyone).
    pub async fn forum_feed(
        &self,
        name: String,
    ) -> Result<(Forum, Vec<(Post, Thread, User)>), ForumError> {
        self.blocking(move |_inner, conn| {
            let forum = forums::local_by_name(conn, &name.to_ascii_lowercase())?
                .ok_or(ForumError::NotFound { what: "forum" })?;
            require_federated(&forum, "forum")?;
            let entries = posts::newest_openings_in_forum(conn, forum.id, 30)?;
            Ok((forum, entries))
        })
        .await
    }

    /// The newest posts of a thread, newest first, for its feed (never a members-only
    /// forum's).
    pub async fn thread_feed(
        &self,
        id: i64,
    ) -> Result<(PostContext, Vec<(Post, User)>), ForumError> {
        self.blocking(move |_inner, conn| {
            let (post, author, thread, forum) = posts::opening_with_context(conn, id)?
                .ok_or(ForumError::NotFound { what: "thread" })?;
            require_federated(&forum, "thread")?;
            const ENTRIES: i64 = 30;
            let mut entries = posts::newest_replies(conn, id, ENTRIES)?;
            // The opening post is the oldest: it belongs in the feed while there is room.
            if (entries.len() as i64) < ENTRIES {
                entries.push((post.clone(), author.clone()));
            }
            Ok((
                PostContext {
                    post,
                    author,
                    thread,
                    forum,
                },
                entries,
            ))
        })
        .await
    }
}

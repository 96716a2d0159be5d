//! Profiles: who a person is and what they started and replied to.

use super::visibility::hidden_forums;
use super::{Paging, Post, Site, Thread, User};
use crate::db::{posts, users};
use crate::error::ForumError;

/// A profile page.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The person.
    pub user: User,
    /// Threads they started (not deleted).
    pub threads_started: i64,
    /// Replies they wrote (not deleted).
    pub replies: i64,
    /// What they wrote, newest first, each with its thread.
    pub posts: Vec<(Post, Thread)>,
    /// Where this page stands.
    pub paging: Paging,
}

impl Site {
    /// The profile of the local account `name`, with what they wrote where `viewer` may read.
    /// An applicant still waiting for approval has none yet, except for administrators.
    pub async fn profile(
        &self,
        name: String,
        page: Option<u32>,
        viewer: Option<User>,
    ) -> Result<Profile, ForumError> {
        let per_page = self.settings().pages.threads_per_page;
        self.blocking(move |_inner, conn| {
            let admin = viewer.as_ref().is_some_and(|v| v.local && v.is_admin);
            let user = users::local_by_name(conn, &name.trim().to_ascii_lowercase())?
                .filter(|u| !u.pending || admin)
                .ok_or(ForumError::NotFound { what: "user" })?;
            super::actors::require_not_deleted(&user)?;
            let hidden = hidden_forums(conn, viewer.as_ref())?;
            let (threads_started, replies) = posts::count_by_author(conn, user.id, &hidden)?;
            let paging = Paging::new(page, per_page, threads_started + replies);
            let posts =
                posts::page_by_author(conn, user.id, &hidden, paging.limit(), paging.offset())?;
            Ok(Profile {
                user,
                threads_started,
                replies,
                posts,
                paging,
            })
        })
        .await
    }
}

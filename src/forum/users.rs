//! Profiles: who a person is and what they started and replied to.

use super::visibility::hidden_forums;
use super::{Post, Site, Thread, User};
use crate::db::posts::AuthorPage;
use crate::db::{author_counts, posts, users};
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
    pub pages: ProfilePages,
}

/// Which page of a profile to show: the newest posts, or those just older (`before`) or
/// newer (`after`) than one of the person's posts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProfileFrom {
    /// Posts older than this one.
    pub before: Option<i64>,
    /// Posts newer than this one (when `before` is not given).
    pub after: Option<i64>,
}

/// Where a page of a profile stands. Pages are found by a post's key rather than by number,
/// so the thousandth costs what the first does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfilePages {
    /// Posts on a page.
    pub per_page: u32,
    /// The newest page.
    pub newest: bool,
    /// Older posts follow this one (its id), when there are any.
    pub older: Option<i64>,
    /// Newer posts precede this one, when this is not the newest page.
    pub newer: Option<i64>,
}

impl Site {
    /// The profile of the local account `name`, with what they wrote where `viewer` may read.
    /// An applicant still waiting for approval has none yet, except for administrators.
    pub async fn profile(
        &self,
        name: String,
        from: ProfileFrom,
        viewer: Option<User>,
    ) -> Result<Profile, ForumError> {
        let per_page = self.settings().pages.threads_per_page.max(1);
        self.blocking(move |_inner, conn| {
            let admin = viewer.as_ref().is_some_and(|v| v.local && v.is_admin);
            let user = users::local_by_name(conn, &name.trim().to_ascii_lowercase())?
                .filter(|u| !u.pending || admin)
                .ok_or(ForumError::NotFound { what: "user" })?;
            super::actors::require_not_deleted(&user)?;
            let hidden = hidden_forums(conn, viewer.as_ref())?;
            let (threads_started, replies) = author_counts::of_author(conn, user.id, &hidden)?;
            let mut key = |id| {
                posts::author_key(conn, user.id, id)?.ok_or(ForumError::NotFound { what: "post" })
            };
            let from = match (from.before, from.after) {
                (Some(id), _) => AuthorPage::Before(key(id)?),
                (None, Some(id)) => AuthorPage::After(key(id)?),
                (None, None) => AuthorPage::Newest,
            };
            // One more than a page: whether more lie beyond it.
            let limit = i64::from(per_page) + 1;
            let mut page = posts::page_by_author(conn, user.id, &hidden, limit, from)?;
            let full = page.len() > per_page as usize;
            let (posts, pages) = match from {
                AuthorPage::After(_) if !full => {
                    // Nothing newer than a page: the newest page, whole.
                    let mut page =
                        posts::page_by_author(conn, user.id, &hidden, limit, AuthorPage::Newest)?;
                    let more = page.len() > per_page as usize;
                    page.truncate(per_page as usize);
                    let older = more.then(|| page.last().map(|(p, _)| p.id)).flatten();
                    (page, (true, older, None))
                }
                AuthorPage::After(_) => {
                    // Read oldest first: the extra one is the newest.
                    page.remove(0);
                    let newer = page.first().map(|(p, _)| p.id);
                    let older = page.last().map(|(p, _)| p.id);
                    (page, (false, older, newer))
                }
                AuthorPage::Newest | AuthorPage::Before(_) => {
                    page.truncate(per_page as usize);
                    let older = full.then(|| page.last().map(|(p, _)| p.id)).flatten();
                    let newest = from == AuthorPage::Newest;
                    let newer = (!newest).then(|| page.first().map(|(p, _)| p.id)).flatten();
                    (page, (newest, older, newer))
                }
            };
            let (newest, older, newer) = pages;
            Ok(Profile {
                user,
                threads_started,
                replies,
                posts,
                pages: ProfilePages {
                    per_page,
                    newest,
                    older,
                    newer,
                },
            })
        })
        .await
    }
}

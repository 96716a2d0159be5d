//! Forums: listing, and creating, editing and archiving them (administrators only).

use super::moderation::set_visibility;
use super::types::{ForumDescription, ForumName, ForumTitle};
use super::visibility::{hidden_among, require_can_read};
use super::{require_admin, Forum, Paging, Site, Thread, User};
use crate::db::{self, forums, threads};
use crate::error::{ForumError, Validator};

/// The fields of the forum form.
#[derive(Debug, Clone, Default)]
pub struct ForumForm {
    /// URL name (only when creating).
    pub name: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
}

/// Changes to a forum; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ForumChanges {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// Archive (read-only) or reopen.
    pub archived: Option<bool>,
    /// `public` or `members` (members-only).
    pub visibility: Option<String>,
    /// Whether everyone with an account here is a member of a members-only forum.
    pub all_accounts_are_members: Option<bool>,
    /// Only its moderators start threads (anyone may reply).
    pub posting_restricted_to_mods: Option<bool>,
}

/// One page of a forum: the forum and its threads with their starters.
#[derive(Debug, Clone)]
pub struct ForumPage {
    /// The forum.
    pub forum: Forum,
    /// Threads on this page, pinned first, then latest activity.
    pub threads: Vec<(Thread, super::Author)>,
    /// Where this page stands.
    pub paging: Paging,
    /// Whether the viewer may start a thread here (logged in, and a moderator where only
    /// moderators start threads).
    pub viewer_may_start_thread: bool,
    /// For a logged-in viewer, how many posts of each thread on the page they have seen:
    /// `(thread, posts read)` for the threads they opened.
    pub viewer_read: Vec<(i64, i64)>,
    /// Whether the logged-in viewer watches the forum.
    pub viewer_watches: bool,
}

fn not_found() -> ForumError {
    ForumError::NotFound { what: "forum" }
}

/// Fails with 403 `posting_restricted` when only the forum's moderators start threads there
/// and `by` is not one of them (one query then; none otherwise).
pub(crate) fn require_may_start_thread(
    conn: &mut crate::db::Conn<'_>,
    forum: &Forum,
    by: &User,
) -> Result<(), ForumError> {
    if !forum.posting_restricted_to_mods {
        return Ok(());
    }
    let may = if forum.local {
        super::moderation::moderates(conn, by, forum)?
    } else {
        crate::db::moderation::is_moderator(conn, forum.id, by.id)?
    };
    if may {
        Ok(())
    } else {
        Err(ForumError::forbidden(
            "posting_restricted",
            "In this forum only its moderators start threads; you can reply to theirs",
        ))
    }
}

/// Fails with `forum_archived` when the forum takes no new posts.
pub fn require_open(forum: &Forum) -> Result<(), ForumError> {
    if forum.archived {
        Err(ForumError::forbidden(
            "forum_archived",
            "This forum is archived: it can be read but takes no new posts",
        ))
    } else {
        Ok(())
    }
}

impl Site {
    /// Every forum `viewer` may read, open ones first.
    pub async fn forums(&self, viewer: Option<User>) -> Result<Vec<Forum>, ForumError> {
        self.blocking(move |_inner, conn| {
            let mut all = forums::all(conn)?;
            let closed = all.iter().filter(|f| f.members_only());
            let hidden = hidden_among(conn, viewer.as_ref(), closed)?;
            all.retain(|f| !hidden.contains(&f.id));
            Ok(all)
        })
        .await
    }

    /// A forum by its handle (`name` here, `name@domain` for a remote forum followed here), if
    /// `viewer` may read it.
    pub async fn forum_by_handle(
        &self,
        handle: String,
        viewer: Option<User>,
    ) -> Result<Forum, ForumError> {
        self.blocking(move |_inner, conn| {
            let forum = forums::by_handle(conn, &handle)?.ok_or_else(not_found)?;
            require_can_read(conn, &forum, viewer.as_ref(), "forum")?;
            Ok(forum)
        })
        .await
    }

    /// The local forum called `name`, as other servers may see it (not a members-only one).
    pub async fn forum(&self, name: String) -> Result<Forum, ForumError> {
        self.blocking(move |_inner, conn| {
            let forum =
                forums::local_by_name(conn, &name.to_ascii_lowercase())?.ok_or_else(not_found)?;
            super::visibility::require_federated(&forum, "forum")?;
            Ok(forum)
        })
        .await
    }

    /// Creates a forum.
    pub async fn create_forum(&self, by: User, form: ForumForm) -> Result<Forum, ForumError> {
        self.blocking(move |_inner, conn| {
            require_admin(&by)?;
            let mut v = Validator::new();
            let name = v.check("name", ForumName::parse(&form.name));
            let title = v.check("title", ForumTitle::parse(&form.title));
            let description = v.check("description", ForumDescription::parse(&form.description));
            let (Some(name), Some(title), Some(description)) = (name, title, description) else {
                return Err(v.into_error());
            };
            if forums::local_by_name(conn, name.as_str())?.is_some() {
                return Err(ForumError::conflict(
                    "forum_name_taken",
                    "name",
                    "A forum with that name exists already.",
                ));
            }
            let now = db::now();
            Ok(forums::insert_local(
                conn,
                &forums::NewLocalForum {
                    name: name.as_str(),
                    title: title.as_str(),
                    description: description.as_str(),
                    created_at: now,
                    updated_at: now,
                },
            )?)
        })
        .await
    }

    /// Edits a forum's title and description, archives or reopens it, or makes it
    /// members-only or public (see [`super::moderation::set_visibility`]).
    pub async fn update_forum(
        &self,
        by: User,
        name: String,
        changes: ForumChanges,
    ) -> Result<Forum, ForumError> {
        self.blocking_then_send(move |inner, conn| {
            require_admin(&by)?;
            let forum =
                forums::local_by_name(conn, &name.to_ascii_lowercase())?.ok_or_else(not_found)?;
            let mut v = Validator::new();
            let title = v.check(
                "title",
                ForumTitle::parse(changes.title.as_deref().unwrap_or(&forum.title)),
            );
            let description = v.check(
                "description",
                ForumDescription::parse(
                    changes.description.as_deref().unwrap_or(&forum.description),
                ),
            );
            let visibility = match changes.visibility.as_deref().map(str::trim) {
                None => Some(forum.visibility.as_str()),
                Some(forums::PUBLIC) => Some(forums::PUBLIC),
                Some(forums::MEMBERS) => Some(forums::MEMBERS),
                Some(_) => v.check(
                    "visibility",
                    Err("Choose `public` (everyone, and other servers) or `members` (members only).".into()),
                ),
            };
            let (Some(title), Some(description), Some(visibility)) =
                (title, description, visibility)
            else {
                return Err(v.into_error());
            };
            let all_accounts = changes
                .all_accounts_are_members
                .unwrap_or(forum.all_accounts_are_members);
            conn.transaction(|conn| {
                let now = db::now();
                forums::update(
                    conn,
                    forum.id,
                    title.as_str(),
                    description.as_str(),
                    (
                        changes.archived.unwrap_or(forum.archived),
                        changes
                            .posting_restricted_to_mods
                            .unwrap_or(forum.posting_restricted_to_mods),
                    ),
                    now,
                )?;
                let told = set_visibility(
                    conn,
                    &forum,
                    &by,
                    visibility == forums::MEMBERS,
                    inner.settings.federation.enabled,
                )?;
                let forum = forums::set_visibility(conn, forum.id, visibility, all_accounts, now)?;
                Ok((forum, told))
            })
        })
        .await
    }

    /// One page of a forum's threads, if `viewer` may read it.
    pub async fn forum_page(
        &self,
        name: String,
        page: Option<u32>,
        viewer: Option<User>,
    ) -> Result<ForumPage, ForumError> {
        let per_page = self.settings().pages.threads_per_page;
        self.blocking(move |_inner, conn| {
            let forum = forums::by_handle(conn, &name)?.ok_or_else(not_found)?;
            require_can_read(conn, &forum, viewer.as_ref(), "forum")?;
            let paging = Paging::new(page, per_page, forum.thread_count);
            let threads = threads::page_in_forum(conn, forum.id, paging.limit(), paging.offset())?;
            let viewer_may_start_thread = match &viewer {
                Some(user) => require_may_start_thread(conn, &forum, user).is_ok(),
                None => false,
            };
            let viewer_read = match &viewer {
                Some(user) => {
                    let ids: Vec<i64> = threads.iter().map(|(t, _)| t.id).collect();
                    crate::db::reads::posts_read_in(conn, user.id, &ids)?
                }
                None => Vec::new(),
            };
            let viewer_watches = match &viewer {
                Some(user) => crate::db::watches::watches(conn, user.id, forum.id)?,
                None => false,
            };
            Ok(ForumPage {
                forum,
                threads,
                paging,
                viewer_may_start_thread,
                viewer_read,
                viewer_watches,
            })
        })
        .await
    }
}

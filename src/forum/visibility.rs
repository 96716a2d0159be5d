//! Who may see what: a members-only forum is read and written only by its members (and its
//! moderators, and our administrators; or everyone with an account here, when the forum says
//! so). To anyone else it does not exist: every way in answers 404, as for a forum that was
//! never made, so its name, threads and posts do not leak. Nothing of it goes to other servers
//! ([`Site::stays_here`]), and nothing from them is taken into it ([`require_federated`]).

use super::outbox::OutboxEvent;
use super::{Forum, Site, User};
use crate::db::{forums, members, posts, reports, threads, Conn};
use crate::error::ForumError;

/// Whether `viewer` (`None`: someone not logged in, or another server) may read `forum`. No
/// query for a public forum or an administrator; one otherwise.
pub(crate) fn can_read(
    conn: &mut Conn<'_>,
    forum: &Forum,
    viewer: Option<&User>,
) -> Result<bool, ForumError> {
    if !forum.members_only() {
        return Ok(true);
    }
    let Some(user) = viewer.filter(|u| u.local && !u.pending) else {
        return Ok(false);
    };
    if user.is_admin || forum.all_accounts_are_members {
        return Ok(true);
    }
    Ok(members::is_member_or_moderator(conn, forum.id, user.id)?)
}

/// Fails with 404 (`what` not found) unless `viewer` may read `forum` ([`can_read`]).
pub(crate) fn require_can_read(
    conn: &mut Conn<'_>,
    forum: &Forum,
    viewer: Option<&User>,
    what: &'static str,
) -> Result<(), ForumError> {
    if can_read(conn, forum, viewer)? {
        Ok(())
    } else {
        Err(ForumError::NotFound { what })
    }
}

/// Fails with 404 (`what` not found) for a members-only forum: for what other servers ask of
/// it or send into it.
pub(crate) fn require_federated(forum: &Forum, what: &'static str) -> Result<(), ForumError> {
    if forum.members_only() {
        Err(ForumError::NotFound { what })
    } else {
        Ok(())
    }
}

/// The members-only forums `viewer` may not read, by id: what lists spanning forums (a
/// person's posts, NodeInfo's count) leave out. One query, two when there are members-only
/// forums and the viewer is logged in.
pub(crate) fn hidden_forums(
    conn: &mut Conn<'_>,
    viewer: Option<&User>,
) -> Result<Vec<i64>, ForumError> {
    let closed = forums::members_only(conn)?;
    hidden_among(conn, viewer, closed.iter())
}

/// [`hidden_forums`] among `closed`, the members-only forums (for a caller that has read
/// every forum already): no query, one when the viewer is logged in and some are closed.
pub(crate) fn hidden_among<'a>(
    conn: &mut Conn<'_>,
    viewer: Option<&User>,
    closed: impl Iterator<Item = &'a Forum>,
) -> Result<Vec<i64>, ForumError> {
    let Some(user) = viewer.filter(|u| u.local && !u.pending) else {
        return Ok(closed.map(|f| f.id).collect());
    };
    if user.is_admin {
        return Ok(Vec::new());
    }
    let asked: Vec<i64> = closed
        .filter(|f| !f.all_accounts_are_members)
        .map(|f| f.id)
        .collect();
    let open_to = members::forums_of(conn, user.id, &asked)?;
    Ok(asked
        .into_iter()
        .filter(|id| !open_to.contains(id))
        .collect())
}

impl Site {
    /// Whether an outbox event concerns a members-only forum, so that nothing of it may leave
    /// this instance. The one exception is the `Reject` that tells a follower elsewhere the
    /// forum is closed to them. One or two queries.
    pub async fn stays_here(&self, event: OutboxEvent) -> Result<bool, ForumError> {
        self.blocking(move |_inner, conn| {
            let forum = match event {
                OutboxEvent::Follow { .. }
                | OutboxEvent::Unfollow { .. }
                | OutboxEvent::RejectFollow { .. }
                | OutboxEvent::FollowThread { .. }
                | OutboxEvent::UnfollowThread { .. }
                | OutboxEvent::DeletePerson { .. }
                | OutboxEvent::Ban { forum_id: None, .. } => None,
                OutboxEvent::Post { post_id, .. }
                | OutboxEvent::Like { post_id, .. }
                | OutboxEvent::Unlike { post_id, .. }
                | OutboxEvent::Removal { post_id, .. } => {
                    posts::with_context(conn, post_id)?.map(|(_, _, _, forum)| forum)
                }
                OutboxEvent::Report { report_id }
                | OutboxEvent::ResolveReport { report_id, .. } => {
                    match reports::by_id(conn, report_id)? {
                        Some(report) => forums::by_id(conn, report.forum_id)?,
                        None => None,
                    }
                }
                OutboxEvent::Lock { thread_id, .. }
                | OutboxEvent::Feature { thread_id, .. }
                | OutboxEvent::AcceptThreadFollow { thread_id, .. } => {
                    match threads::by_id(conn, thread_id)? {
                        Some(thread) => forums::by_id(conn, thread.forum_id)?,
                        None => None,
                    }
                }
                OutboxEvent::Relay { forum_id, .. }
                | OutboxEvent::Moderator { forum_id, .. }
                | OutboxEvent::AcceptFollow { forum_id, .. }
                | OutboxEvent::Ban {
                    forum_id: Some(forum_id),
                    ..
                } => forums::by_id(conn, forum_id)?,
            };
            Ok(forum.is_some_and(|f| f.members_only()))
        })
        .await
    }
}

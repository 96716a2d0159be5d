//! The members of a members-only forum: who its moderators let in, and who they take off.
//! Members are people of this instance only: such a forum is not federated. (Who may read
//! what is decided in `forum::visibility`.)

use super::*;
use crate::db::members::{self, Membership};
use crate::forum::visibility::require_can_read;

/// A members-only forum's members.
#[derive(Debug, Clone)]
pub struct MemberList {
    /// The forum.
    pub forum: Forum,
    /// Its members, in the order they were let in.
    pub members: Vec<(Membership, User)>,
    /// Whether the viewer may add and remove members (they moderate the forum).
    pub viewer_manages: bool,
}

fn local_only() -> ForumError {
    ForumError::invalid(
        "members_local_only",
        "person",
        "Only people with an account on this instance can be members: a members-only forum is not shared with other servers.",
    )
}

impl Site {
    /// A forum's members: of a members-only forum, for those who may read it (404 for anyone
    /// else); of a public one (where membership waits until it is closed), for its moderators.
    pub async fn members(
        &self,
        viewer: Option<User>,
        name: String,
    ) -> Result<MemberList, ForumError> {
        self.blocking(move |_inner, conn| {
            let forum = local_forum(conn, &name)?;
            require_can_read(conn, &forum, viewer.as_ref(), "forum")?;
            let viewer_manages = match &viewer {
                Some(user) => moderates(conn, user, &forum)?,
                None => false,
            };
            if !forum.members_only() && !viewer_manages {
                return Err(ForumError::forbidden(
                    "moderators_only",
                    "This forum is open to everyone: only its moderators see who its members are",
                ));
            }
            Ok(MemberList {
                members: members::of_forum(conn, forum.id)?,
                forum,
                viewer_manages,
            })
        })
        .await
    }

    /// Lets a person (by handle, of this instance) into a forum (its moderators), recorded in
    /// its log. Answers the members.
    pub async fn add_member(
        &self,
        by: User,
        name: String,
        person: String,
    ) -> Result<MemberList, ForumError> {
        let person = self.person_named(&person, None).await?;
        self.change_members(by, name, person, Action::AddMember)
            .await
    }

    /// Takes a person (by handle) off a forum's members (its moderators), recorded in its log.
    /// Answers the members.
    pub async fn remove_member(
        &self,
        by: User,
        name: String,
        person: String,
    ) -> Result<MemberList, ForumError> {
        let person = self.person_named(&person, None).await?;
        self.change_members(by, name, person, Action::RemoveMember)
            .await
    }

    async fn change_members(
        &self,
        by: User,
        name: String,
        person: User,
        action: Action,
    ) -> Result<MemberList, ForumError> {
        self.blocking(move |_inner, conn| {
            let forum = local_forum(conn, &name)?;
            // Someone who may not read the forum is not told it exists.
            require_can_read(conn, &forum, Some(&by), "forum")?;
            require_moderator(conn, &by, &forum)?;
            let adding = action == Action::AddMember;
            if adding && (!person.local || person.pending) {
                return Err(local_only());
            }
            conn.transaction(|conn| {
                let changed = if adding {
                    members::add(conn, forum.id, person.id, Some(by.id), db::now())?
                } else {
                    members::remove(conn, forum.id, person.id)?
                };
                if changed {
                    let target = Target::person(person.id);
                    record(conn, &forum, &by, action, target, &Reason::default())?;
                }
                Ok(MemberList {
                    members: members::of_forum(conn, forum.id)?,
                    forum,
                    viewer_manages: true,
                })
            })
        })
        .await
    }
}

/// Makes `forum` members-only or public again (inside the caller's transaction), recorded in
/// its log. Closing it ends every follow from elsewhere: each follower's server is sent a
/// `Reject` of their `Follow` (as Mastodon takes it: the follow is over), and nothing more of
/// the forum goes out. Whether outbox events were recorded.
pub(crate) fn set_visibility(
    conn: &mut Conn<'_>,
    forum: &Forum,
    by: &User,
    members_only: bool,
    federating: bool,
) -> Result<bool, ForumError> {
    if forum.members_only() == members_only {
        return Ok(false);
    }
    let action = if members_only {
        Action::CloseForum
    } else {
        Action::OpenForum
    };
    record(
        conn,
        forum,
        by,
        action,
        Target::default(),
        &Reason::default(),
    )?;
    if !members_only {
        return Ok(false);
    }
    let follows = crate::db::follows::of_forum(conn, forum.id)?;
    for follow in &follows {
        crate::db::follows::delete(conn, follow.id)?;
        if federating {
            push_event(
                conn,
                &OutboxEvent::RejectFollow {
                    forum_id: forum.id,
                    follower_id: follow.follower_id,
                    follow_ap_id: follow.follow_ap_id.clone(),
                },
            )?;
        }
    }
    Ok(federating && !follows.is_empty())
}

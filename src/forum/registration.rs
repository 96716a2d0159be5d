//! Registration control for administrators: the applications waiting for approval (in
//! `approval` mode), and single-use invitations (for `invite` mode). Registering itself is in
//! [`super::accounts`].

use chrono::NaiveDateTime;

use super::{require_admin, tokens, Site, User};
use crate::db::invites::{self, Invite, NewInvite};
use crate::db::{self, moderation, users};
use crate::error::{ForumError, Validator};

/// An application waiting for approval.
#[derive(Debug, Clone)]
pub struct Application {
    /// The account, waiting.
    pub user: User,
    /// The applicant's answer to the instance's question.
    pub answer: String,
}

/// An invitation with the people it names.
#[derive(Debug, Clone)]
pub struct InviteView {
    /// The invitation.
    pub invite: Invite,
    /// The administrator who made it.
    pub created_by: Option<User>,
    /// Who registered with it.
    pub used_by: Option<User>,
}

/// An invitation just made: the only time its code is known.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    /// The invitation.
    pub invite: Invite,
    /// The code (kept here only as a digest).
    pub code: String,
    /// The link that registers with it.
    pub url: String,
}

impl Site {
    /// The applications waiting for approval, oldest first (administrators).
    pub async fn applications(&self, by: User) -> Result<Vec<Application>, ForumError> {
        require_admin(&by)?;
        self.blocking(|_inner, conn| {
            Ok(users::pending(conn)?
                .into_iter()
                .map(|(user, answer)| Application {
                    user,
                    answer: answer.unwrap_or_default(),
                })
                .collect())
        })
        .await
    }

    /// Approves an application (administrators): the account can log in from now on. 404 when
    /// no application waits under that id.
    pub async fn approve_application(&self, by: User, id: i64) -> Result<User, ForumError> {
        require_admin(&by)?;
        self.blocking(move |_inner, conn| {
            users::approve(conn, id)?.ok_or(ForumError::NotFound {
                what: "application",
            })
        })
        .await
    }

    /// Turns an application down (administrators): the waiting account, which never posted,
    /// is deleted, and its name is free again. 404 when no application waits under that id.
    pub async fn reject_application(&self, by: User, id: i64) -> Result<(), ForumError> {
        require_admin(&by)?;
        self.blocking(move |_inner, conn| {
            if users::reject(conn, id)? {
                Ok(())
            } else {
                Err(ForumError::NotFound {
                    what: "application",
                })
            }
        })
        .await
    }

    /// Makes a single-use invitation (administrators), with a note of whom it is for and an
    /// optional end. The code is answered once, in the link, and kept only as a digest.
    pub async fn create_invite(
        &self,
        by: User,
        note: String,
        expires_at: Option<NaiveDateTime>,
    ) -> Result<NewInvitation, ForumError> {
        require_admin(&by)?;
        let now = db::now();
        let mut v = Validator::new();
        let note = v.check(
            "note",
            super::types::single_line(&note, "A note", 200, false),
        );
        if expires_at.is_some_and(|at| at <= now) {
            v.check::<()>(
                "expires_at",
                Err("An invitation must end in the future; leave the end empty for one that lasts until used.".into()),
            );
        }
        let (Some(note), true) = (note, v.is_empty()) else {
            return Err(v.into_error());
        };
        let code = tokens::new_token();
        let url = self.urls().absolute(&format!("/register?invite={code}"));
        let digest = tokens::digest(&code);
        let invite = self
            .blocking(move |_inner, conn| {
                Ok(invites::insert(
                    conn,
                    &NewInvite {
                        code_hash: &digest,
                        note: &note,
                        created_by_id: Some(by.id),
                        created_at: now,
                        expires_at,
                    },
                )?)
            })
            .await?;
        Ok(NewInvitation { invite, code, url })
    }

    /// Every invitation, newest first, with who made and who used each (administrators).
    pub async fn invites(&self, by: User) -> Result<Vec<InviteView>, ForumError> {
        require_admin(&by)?;
        self.blocking(|_inner, conn| {
            let all = invites::all(conn)?;
            let mut ids: Vec<i64> = all
                .iter()
                .flat_map(|i| [i.created_by_id, i.used_by_id])
                .flatten()
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let people = moderation::people(conn, &ids)?;
            let find =
                |id: Option<i64>| id.and_then(|id| people.iter().find(|u| u.id == id).cloned());
            Ok(all
                .into_iter()
                .map(|invite| InviteView {
                    created_by: find(invite.created_by_id),
                    used_by: find(invite.used_by_id),
                    invite,
                })
                .collect())
        })
        .await
    }

    /// Withdraws an unused invitation (administrators); 404 when there is none unused under
    /// that id.
    pub async fn revoke_invite(&self, by: User, id: i64) -> Result<(), ForumError> {
        require_admin(&by)?;
        self.blocking(move |_inner, conn| {
            if invites::revoke(conn, id)? {
                Ok(())
            } else {
                Err(ForumError::NotFound { what: "invitation" })
            }
        })
        .await
    }
}

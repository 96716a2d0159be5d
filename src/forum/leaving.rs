//! Leaving: a person deletes their own account, choosing what becomes of what they wrote
//! (anonymised: it stays, by "Deleted account"; or removed: placeholders stay so threads still
//! read), their sessions end, and every server that has their posts is told (`Delete` of the
//! person). The account's row stays, renamed, so its posts still have an author and its old
//! name and address are never given to someone else. People elsewhere deleted by their own
//! server are marked so here, and their posts go unless their server says to keep them.

use super::outbox::{push_event, OutboxEvent};
use super::{Site, User};
use crate::db::{
    self, follows, forums, login_failures, members, posts, revisions, sessions, users,
};
use crate::error::{ForumError, Validator};

/// What becomes of a leaving person's posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftPosts {
    /// They stay, shown as by "Deleted account".
    Anonymise,
    /// Their words are erased: each post becomes a "deleted" placeholder.
    Remove,
}

impl LeftPosts {
    /// From the form or the API: `anonymise` (also `anonymize`) or `remove`.
    pub fn parse(input: &str) -> Result<LeftPosts, String> {
        match input.trim() {
            "anonymise" | "anonymize" => Ok(LeftPosts::Anonymise),
            "remove" => Ok(LeftPosts::Remove),
            _ => Err(
                "Choose what becomes of your posts: anonymise them (they stay, by \"Deleted account\") or remove them."
                    .into(),
            ),
        }
    }
}

/// The name a deleted account takes: one nobody can register (usernames have no `-`).
fn retired_name(id: i64) -> String {
    format!("deleted-{id}")
}

impl Site {
    /// Deletes `user`'s own account, once they give their password (counted like a login
    /// against the account's limit: 429 when guessed at). The last administrator cannot leave
    /// (`last_admin`): the instance would have nobody to run it.
    pub async fn delete_account(
        &self,
        user: User,
        password: String,
        posts_become: String,
    ) -> Result<(), ForumError> {
        let (attempt, password_ok) = self.own_password(&user, password).await?;
        let mut v = Validator::new();
        if !password_ok {
            v.check::<()>("password", Err("That is not your password.".into()));
        }
        let choice = v.check("content", LeftPosts::parse(&posts_become));
        let choice = match (choice, v.is_empty()) {
            (Some(choice), true) => choice,
            _ => {
                if password_ok {
                    self.forget_attempt(attempt).await?;
                }
                return Err(v.into_error());
            }
        };
        self.blocking_then_send(move |inner, conn| {
            let old_address = inner.urls.user(&user);
            let now = db::now();
            conn.transaction(|conn| {
                // Counted in the transaction that retires them, so that two administrators
                // leaving at once do not each count on the other staying.
                if user.is_admin && users::count_admins_for_update(conn)? <= 1 {
                    return Err(ForumError::conflict(
                        "last_admin",
                        "account",
                        "You are the only administrator: make someone else an administrator before you delete your account.",
                    ));
                }
                login_failures::delete(conn, &attempt.ids)?;
                sessions::delete_others(conn, user.id, None)?;
                members::forget_person(conn, user.id)?;
                // Their follows of forums elsewhere end; those servers hear of the deletion.
                for follow in follows::of_user(conn, user.id)? {
                    follows::delete(conn, follow.id)?;
                    if !follow.pending {
                        forums::add_local_followers(conn, follow.forum_id, -1)?;
                    }
                }
                let remove_data = choice == LeftPosts::Remove;
                if remove_data {
                    revisions::delete_by_author(conn, user.id)?;
                    posts::erase_by_author(conn, user.id, now)?;
                }
                users::retire(conn, user.id, &retired_name(user.id), &old_address, now)?;
                let told = inner.settings.federation.enabled;
                if told {
                    push_event(
                        conn,
                        &OutboxEvent::DeletePerson {
                            user_id: user.id,
                            remove_data,
                        },
                    )?;
                }
                Ok(((), told))
            })
        })
        .await
    }

    /// A person elsewhere was deleted by their server: marked so here, and what they wrote is
    /// erased unless their server asks to keep it (`remove_data` false, as Lemmy says when the
    /// person chose to keep their posts; Mastodon says nothing and deletes everything).
    pub async fn receive_person_deleted(
        &self,
        person: User,
        remove_data: bool,
    ) -> Result<(), ForumError> {
        if person.local {
            return Err(ForumError::forbidden(
                "not_author",
                "Only a person's own server deletes them",
            ));
        }
        let ap_id = person.ap_id.clone();
        let deleted = self
            .blocking(move |_inner, conn| {
                let now = db::now();
                conn.transaction(|conn| {
                    users::mark_deleted(conn, person.id, now)?;
                    members::forget_person(conn, person.id)?;
                    for follow in follows::of_user(conn, person.id)? {
                        follows::delete(conn, follow.id)?;
                    }
                    if remove_data {
                        revisions::delete_by_author(conn, person.id)?;
                        posts::erase_by_author(conn, person.id, now)?;
                    }
                    Ok(())
                })
            })
            .await;
        self.inner.signers_seen.forget(ap_id.as_deref());
        deleted
    }

    /// The forums a person has posted in (where their deletion must be told).
    pub async fn forums_posted_in(&self, user_id: i64) -> Result<Vec<super::Forum>, ForumError> {
        self.blocking(move |_inner, conn| {
            let mut found = Vec::new();
            for id in posts::forums_of_author(conn, user_id)? {
                found.extend(forums::by_id(conn, id)?);
            }
            Ok(found)
        })
        .await
    }
}

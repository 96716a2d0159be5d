//! Follows in both directions: local people following forums elsewhere (pending until the
//! forum accepts), and people elsewhere following local forums (accepted at once). Each change
//! records its outbox event in the same transaction.

use super::outbox::{new_activity_id, push_event, OutboxEvent};
use super::remote::{domain_of, Resolver};
use super::{Forum, Site, User};
use crate::db::follows::{self, Follow};
use crate::db::{self, forums, users};
use crate::error::ForumError;

/// A forum a local person follows, with the state of the follow.
#[derive(Debug, Clone)]
pub struct Following {
    /// The follow.
    pub follow: Follow,
    /// The forum.
    pub forum: Forum,
}

fn forum_not_found() -> ForumError {
    ForumError::NotFound { what: "forum" }
}

impl Site {
    /// `by` asks to follow the forum a handle or address names (found through `resolver`).
    pub async fn follow_target(
        &self,
        by: User,
        target: &str,
        resolver: &dyn Resolver,
    ) -> Result<Following, ForumError> {
        let forum = resolver.resolve(target).await?.into_forum()?;
        let follow = self.follow_forum(by, forum.id).await?;
        Ok(Following { follow, forum })
    }

    /// `by` asks to follow a remote forum. Until the forum accepts, the follow is pending; asking
    /// again sends the request again.
    pub async fn follow_forum(&self, by: User, forum_id: i64) -> Result<Follow, ForumError> {
        let follow = self
            .blocking(move |inner, conn| {
                let forum = forums::by_id(conn, forum_id)?.ok_or_else(forum_not_found)?;
                if forum.local {
                    return Err(ForumError::invalid(
                        "local_forum",
                        "target",
                        "That forum is on this instance: everyone here reads it already.",
                    ));
                }
                conn.transaction(|conn| {
                    let existing = follows::find(conn, forum.id, by.id)?;
                    if let Some(existing) = existing.as_ref().filter(|f| !f.pending) {
                        return Ok(existing.clone());
                    }
                    let ap_id = new_activity_id(inner, "follow");
                    let follow = follows::upsert(conn, forum.id, by.id, true, &ap_id, db::now())?;
                    push_event(
                        conn,
                        &OutboxEvent::Follow {
                            follow_id: follow.id,
                        },
                    )?;
                    Ok(follow)
                })
            })
            .await?;
        self.outbox_written();
        Ok(follow)
    }

    /// `by` stops following a remote forum (or withdraws a pending request).
    /// When nobody here follows the forum any more, the threads of it that people here watch
    /// are followed one by one, so their new posts still arrive.
    pub async fn unfollow_forum(&self, by: User, forum_id: i64) -> Result<(), ForumError> {
        self.blocking(move |inner, conn| {
            conn.transaction(|conn| {
                let follow = follows::find(conn, forum_id, by.id)?
                    .ok_or(ForumError::NotFound { what: "follow" })?;
                follows::delete(conn, follow.id)?;
                if !follow.pending {
                    forums::add_local_followers(conn, forum_id, -1)?;
                }
                push_event(
                    conn,
                    &OutboxEvent::Unfollow {
                        forum_id,
                        user_id: by.id,
                        follow_ap_id: follow.follow_ap_id,
                    },
                )?;
                super::thread_follows::follow_watched_threads(inner, conn, forum_id)?;
                Ok(())
            })
        })
        .await?;
        self.outbox_written();
        Ok(())
    }

    /// Whether person `user_id` follows (or asked to follow) forum `forum_id`.
    pub async fn follows_forum(&self, user_id: i64, forum_id: i64) -> Result<bool, ForumError> {
        self.blocking(move |_inner, conn| Ok(follows::find(conn, forum_id, user_id)?.is_some()))
            .await
    }

    /// The forums `user` follows.
    pub async fn following(&self, user: User) -> Result<Vec<Following>, ForumError> {
        self.blocking(move |_inner, conn| {
            let mut out = Vec::new();
            for follow in follows::of_user(conn, user.id)? {
                if let Some(forum) = forums::by_id(conn, follow.forum_id)? {
                    out.push(Following { follow, forum });
                }
            }
            Ok(out)
        })
        .await
    }

    /// A remote forum accepted a follow: the one by local person `follower_name` when the
    /// Accept names them, else the one made by the Follow with this id. Returns false when no
    /// such follow exists.
    pub async fn follow_accepted(
        &self,
        forum_ap_id: String,
        follower_name: Option<String>,
        follow_ap_id: Option<String>,
    ) -> Result<bool, ForumError> {
        self.blocking(move |_inner, conn| {
            let Some(forum) = forums::by_ap_id(conn, &forum_ap_id)? else {
                return Ok(false);
            };
            conn.transaction(|conn| {
                let follow = match follower_name.as_deref() {
                    Some(name) => match users::local_by_name(conn, name)? {
                        Some(user) => follows::find(conn, forum.id, user.id)?,
                        None => None,
                    },
                    None => match follow_ap_id.as_deref() {
                        Some(ap_id) => follows::by_follow_ap_id(conn, ap_id)?,
                        None => None,
                    },
                };
                let Some(follow) = follow.filter(|f| f.forum_id == forum.id) else {
                    return Ok(false);
                };
                if follows::accept(conn, follow.id)? {
                    forums::add_local_followers(conn, forum.id, 1)?;
                }
                Ok(true)
            })
        })
        .await
    }

    /// A remote forum refused (or later dropped) the follow with this Follow id.
    pub async fn follow_rejected(
        &self,
        forum_ap_id: String,
        follow_ap_id: String,
    ) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            let Some(forum) = forums::by_ap_id(conn, &forum_ap_id)? else {
                return Ok(());
            };
            conn.transaction(|conn| {
                let Some(follow) = follows::by_follow_ap_id(conn, &follow_ap_id)? else {
                    return Ok(());
                };
                if follow.forum_id != forum.id {
                    return Ok(());
                }
                follows::delete(conn, follow.id)?;
                if !follow.pending {
                    forums::add_local_followers(conn, forum.id, -1)?;
                }
                Ok(())
            })
        })
        .await
    }

    /// A remote person follows the local forum `name`: accepted at once, and an Accept goes
    /// back; refused with a `Reject` when the forum is members-only.
    pub async fn remote_follows(
        &self,
        name: String,
        follower: User,
        follow_ap_id: String,
    ) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            let forum = forums::local_by_name(conn, &name.to_ascii_lowercase())?
                .ok_or_else(forum_not_found)?;
            if forum.members_only() && !follower.local {
                return push_event(
                    conn,
                    &OutboxEvent::RejectFollow {
                        forum_id: forum.id,
                        follower_id: follower.id,
                        follow_ap_id,
                    },
                );
            }
            if !forum.local || follower.local {
                return Err(ForumError::invalid(
                    "not_followable",
                    "object",
                    "Only local forums can be followed here, by remote people.",
                ));
            }
            conn.transaction(|conn| {
                follows::upsert(conn, forum.id, follower.id, false, &follow_ap_id, db::now())?;
                push_event(
                    conn,
                    &OutboxEvent::AcceptFollow {
                        forum_id: forum.id,
                        follower_id: follower.id,
                        follow_ap_id,
                    },
                )
            })
        })
        .await?;
        self.outbox_written();
        Ok(())
    }

    /// A remote person stops following a local forum. Returns false if they did not follow it.
    pub async fn remote_unfollows(
        &self,
        forum_id: i64,
        follower_id: i64,
    ) -> Result<bool, ForumError> {
        self.blocking(move |_inner, conn| {
            Ok(match follows::find(conn, forum_id, follower_id)? {
                Some(follow) => follows::delete(conn, follow.id)? > 0,
                None => false,
            })
        })
        .await
    }

    /// The inboxes of a local forum's followers elsewhere, each with the software its server
    /// runs where that is known: two queries (the inboxes, then their servers' software in
    /// chunks), however many there are.
    pub async fn follower_inboxes_with_software(
        &self,
        forum_id: i64,
    ) -> Result<Vec<(String, Option<String>)>, ForumError> {
        self.blocking(move |_inner, conn| {
            let inboxes = follows::remote_follower_inboxes(conn, forum_id)?;
            let domains: Vec<Option<String>> = inboxes
                .iter()
                .map(|inbox| url::Url::parse(inbox).ok().as_ref().and_then(domain_of))
                .collect();
            let mut wanted: Vec<&str> = domains.iter().flatten().map(String::as_str).collect();
            wanted.sort_unstable();
            wanted.dedup();
            let known: std::collections::HashMap<String, String> =
                crate::db::outbox::software_of(conn, &wanted)?
                    .into_iter()
                    .collect();
            Ok(inboxes
                .into_iter()
                .zip(domains)
                .map(|(inbox, domain)| {
                    let software = domain.and_then(|d| known.get(&d).cloned());
                    (inbox, software)
                })
                .collect())
        })
        .await
    }

    /// How many accepted followers a forum has.
    pub async fn follower_count(&self, forum_id: i64) -> Result<i64, ForumError> {
        self.blocking(move |_inner, conn| Ok(follows::count_followers(conn, forum_id)?))
            .await
    }

    /// The follow row, its forum and its follower (for turning a Follow event into JSON).
    pub async fn follow_parts(
        &self,
        follow_id: i64,
    ) -> Result<Option<(Follow, Forum, User)>, ForumError> {
        self.blocking(move |_inner, conn| {
            let Some(follow) = follows::find_by_id(conn, follow_id)? else {
                return Ok(None);
            };
            let forum = forums::by_id(conn, follow.forum_id)?;
            let user = users::by_id(conn, follow.follower_id)?;
            Ok(forum.zip(user).map(|(f, u)| (follow, f, u)))
        })
        .await
    }
}

//! The domain side of federation: remembering remote people and forums, follows in both
//! directions, and the durable outbox. Every change that other servers must hear about records
//! an [`OutboxEvent`] in the same transaction as the change; the `federation` layer turns events
//! into activities and delivers them. Nothing here knows the ActivityPub wire format.

use chrono::{NaiveDateTime, TimeDelta};
use serde::{Deserialize, Serialize};
use url::Url;

use super::{Site, ForumRow, Inner, User};
use crate::db::follows::{self, Follow};
use crate::db::outbox::{self, Instance, Waiting};
use crate::db::{self, forums, received, users, Conn};
use crate::error::ForumError;

pub use crate::db::forums::RemoteForum;
pub use crate::db::users::RemoteUser;

/// What other servers must hear about. Stored as JSON in `outbox_events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutboxEvent {
    /// A local person asked to follow a remote forum (the follow row holds the rest).
    Follow {
        /// `forum_follows.id`.
        follow_id: i64,
    },
    /// A local person stopped following a remote forum.
    Unfollow {
        /// The remote forum.
        forum_id: i64,
        /// The local person.
        user_id: i64,
        /// The Follow being undone.
        follow_ap_id: String,
    },
    /// A post by a local author was written, edited or deleted.
    Post {
        /// The post.
        post_id: i64,
        /// What happened to it.
        action: PostAction,
    },
    /// A local person marked a post helpful.
    Like {
        /// The post.
        post_id: i64,
        /// The person.
        user_id: i64,
        /// The Like's id.
        like_ap_id: String,
    },
    /// A local person took their helpful mark back.
    Unlike {
        /// The post.
        post_id: i64,
        /// The person.
        user_id: i64,
        /// The Like undone.
        like_ap_id: String,
    },
    /// One of our forums passes on an activity it received (FEP-1b12 `Announce`).
    Relay {
        /// The local forum.
        forum_id: i64,
        /// The activity as received.
        activity: String,
        /// The server it came from.
        origin: String,
    },
    /// A local forum accepted a remote person's follow.
    AcceptFollow {
        /// The local forum.
        forum_id: i64,
        /// The remote person.
        follower_id: i64,
        /// Their Follow activity.
        follow_ap_id: String,
    },
}

/// What happened to a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostAction {
    /// Written.
    Create,
    /// Edited.
    Update,
    /// Deleted.
    Delete,
}

/// Records that a local post changed, when this instance federates (inside the caller's
/// transaction).
pub fn post_event(
    inner: &Inner,
    conn: &mut Conn<'_>,
    post_id: i64,
    action: PostAction,
) -> Result<bool, ForumError> {
    if !inner.settings.federation.enabled {
        return Ok(false);
    }
    push_event(conn, &OutboxEvent::Post { post_id, action })?;
    Ok(true)
}

/// What one event becomes: an activity, who signs it, and the inboxes it goes to.
#[derive(Debug, Clone)]
pub struct PlannedActivity {
    /// The activity's id.
    pub ap_id: String,
    /// Its type, for the log and `/activities/{kind}/...`.
    pub kind: String,
    /// Who signs it.
    pub signer: Signer,
    /// The JSON.
    pub body: String,
    /// Where it goes.
    pub inboxes: Vec<Url>,
}

/// A local actor that signs deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// A local person.
    User(i64),
    /// A local forum.
    Forum(i64),
}

/// The next delivery for an instance.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// `deliveries.id`.
    pub id: i64,
    /// The inbox.
    pub inbox: String,
    /// The activity's id.
    pub activity_ap_id: String,
    /// The JSON.
    pub body: String,
    /// Who signs it.
    pub signer: Signer,
}

/// A forum a local person follows, with the state of the follow.
#[derive(Debug, Clone)]
pub struct Following {
    /// The follow.
    pub follow: Follow,
    /// The forum.
    pub forum: ForumRow,
}

/// The `host[:port]` of a URL: how instances are told apart.
pub fn domain_of(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// How long to wait after `failures` failures in a row: `base × 1.25^failures` seconds, capped at
/// `max_secs` (a day by default).
pub fn retry_delay(base_secs: f64, max_secs: f64, failures: i64) -> TimeDelta {
    let exponent = i32::try_from(failures.clamp(0, 200)).unwrap_or(200);
    let secs = (base_secs * 1.25f64.powi(exponent)).min(max_secs);
    TimeDelta::milliseconds((secs * 1000.0) as i64)
}

/// Writes an event into the outbox (inside the caller's transaction).
pub fn push_event(conn: &mut Conn<'_>, event: &OutboxEvent) -> Result<(), ForumError> {
    let json = serde_json::to_string(event)
        .map_err(|e| ForumError::Internal(format!("outbox event: {e}")))?;
    outbox::push_event(conn, &json, db::now())?;
    Ok(())
}

/// A new activity id of this instance.
pub fn new_activity_id(inner: &Inner, kind: &str) -> String {
    inner
        .urls
        .absolute(&format!("/activities/{kind}/{}", uuid::Uuid::new_v4()))
}

fn forum_not_found() -> ForumError {
    ForumError::NotFound { what: "forum" }
}

impl Site {
    /// Wakes the delivery worker (after a transaction that wrote outbox events).
    pub fn outbox_written(&self) {
        self.inner.outbox_signal.notify_one();
    }

    /// Waits until [`Site::outbox_written`] is called (or returns at once if it was called
    /// since the last wait).
    pub async fn outbox_wait(&self) {
        self.inner.outbox_signal.notified().await;
    }

    /// Stores (or refreshes) a remote person.
    pub async fn remember_remote_user(&self, user: RemoteUser) -> Result<User, ForumError> {
        self.blocking(move |_inner, conn| Ok(users::upsert_remote(conn, &user)?))
            .await
    }

    /// Stores (or refreshes) a remote forum.
    pub async fn remember_remote_forum(&self, forum: RemoteForum) -> Result<ForumRow, ForumError> {
        self.blocking(move |_inner, conn| Ok(forums::upsert_remote(conn, &forum)?))
            .await
    }

    /// A remote person with this actor id and their public key, if known.
    pub async fn remote_user_with_key(
        &self,
        ap_id: String,
    ) -> Result<Option<(User, String)>, ForumError> {
        self.blocking(move |_inner, conn| {
            Ok(users::by_ap_id_with_key(conn, &ap_id)?
                .and_then(|(user, key)| Some((user, key?)))
                .filter(|(user, _)| !user.local))
        })
        .await
    }

    /// A remote forum with this actor id and its public key, if known.
    pub async fn remote_forum_with_key(
        &self,
        ap_id: String,
    ) -> Result<Option<(ForumRow, String)>, ForumError> {
        self.blocking(move |_inner, conn| {
            Ok(forums::by_ap_id_with_key(conn, &ap_id)?
                .and_then(|(forum, key)| Some((forum, key?)))
                .filter(|(forum, _)| !forum.local))
        })
        .await
    }

    /// A person by row id.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, ForumError> {
        self.blocking(move |_inner, conn| Ok(users::by_id(conn, id)?))
            .await
    }

    /// A forum by row id.
    pub async fn forum_by_id(&self, id: i64) -> Result<Option<ForumRow>, ForumError> {
        self.blocking(move |_inner, conn| Ok(forums::by_id(conn, id)?))
            .await
    }

    /// The person with this actor id, if known.
    pub async fn user_by_ap_id(&self, ap_id: String) -> Result<Option<User>, ForumError> {
        self.blocking(move |_inner, conn| Ok(users::by_ap_id(conn, &ap_id)?))
            .await
    }

    /// The forum with this actor id, if known.
    pub async fn forum_by_ap_id(&self, ap_id: String) -> Result<Option<ForumRow>, ForumError> {
        self.blocking(move |_inner, conn| Ok(forums::by_ap_id(conn, &ap_id)?))
            .await
    }

    /// A known remote forum by `name@domain`.
    pub async fn remote_forum(
        &self,
        name: String,
        domain: String,
    ) -> Result<Option<ForumRow>, ForumError> {
        self.blocking(move |_inner, conn| {
            Ok(forums::remote_by_handle(
                conn,
                &name.to_ascii_lowercase(),
                &domain.to_ascii_lowercase(),
            )?)
        })
        .await
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
    pub async fn unfollow_forum(&self, by: User, forum_id: i64) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
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
                )
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

    /// A remote person follows a local forum: accepted at once, and an Accept goes back.
    pub async fn remote_follows(
        &self,
        forum_id: i64,
        follower: User,
        follow_ap_id: String,
    ) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            let forum = forums::by_id(conn, forum_id)?.ok_or_else(forum_not_found)?;
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

    /// Where a local forum's remote followers receive activities.
    pub async fn follower_inboxes(&self, forum_id: i64) -> Result<Vec<String>, ForumError> {
        self.blocking(move |_inner, conn| Ok(follows::remote_follower_inboxes(conn, forum_id)?))
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
    ) -> Result<Option<(Follow, ForumRow, User)>, ForumError> {
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

    /// A forum and a person by row id (for turning events into JSON).
    pub async fn forum_and_user(
        &self,
        forum_id: i64,
        user_id: i64,
    ) -> Result<Option<(ForumRow, User)>, ForumError> {
        self.blocking(move |_inner, conn| {
            Ok(forums::by_id(conn, forum_id)?.zip(users::by_id(conn, user_id)?))
        })
        .await
    }

    /// Records an activity id as received; false when it was received before.
    pub async fn first_receipt(&self, ap_id: String) -> Result<bool, ForumError> {
        self.blocking(move |_inner, conn| Ok(received::record(conn, &ap_id, db::now())?))
            .await
    }

    /// Whether an activity id was received before.
    pub async fn seen_activity(&self, ap_id: String) -> Result<bool, ForumError> {
        self.blocking(move |_inner, conn| Ok(received::seen(conn, &ap_id)?))
            .await
    }

    /// A server sent us something: deliveries to it resume at once.
    pub async fn heard_from(&self, domain: String) -> Result<(), ForumError> {
        let revived = self
            .blocking(move |_inner, conn| Ok(outbox::heard_from(conn, &domain, db::now())?))
            .await?;
        if revived > 0 {
            self.outbox_written();
        }
        Ok(())
    }

    /// The oldest outbox events not yet turned into activities.
    pub async fn pending_events(&self, limit: i64) -> Result<Vec<(i64, OutboxEvent)>, ForumError> {
        self.blocking(move |_inner, conn| {
            let mut out = Vec::new();
            for row in outbox::pending_events(conn, limit)? {
                match serde_json::from_str(&row.event) {
                    Ok(event) => out.push((row.id, event)),
                    Err(e) => {
                        // Written by this code, so only a downgrade can get here; keeping the
                        // row unexpanded would stop the queue behind it.
                        tracing::error!(event = %row.event, error = %e, "unreadable outbox event skipped");
                        outbox::mark_expanded(conn, row.id, db::now())?;
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    /// Turns one event into its activities and their deliveries, in one transaction. False if
    /// another worker expanded it first.
    pub async fn expand_event(
        &self,
        event_id: i64,
        planned: Vec<PlannedActivity>,
    ) -> Result<bool, ForumError> {
        let expanded = self
            .blocking(move |_inner, conn| {
                conn.transaction(|conn| {
                    let now = db::now();
                    if !outbox::mark_expanded(conn, event_id, now)? {
                        return Ok(false);
                    }
                    for activity in &planned {
                        let (signer_user_id, signer_forum_id) = match activity.signer {
                            Signer::User(id) => (Some(id), None),
                            Signer::Forum(id) => (None, Some(id)),
                        };
                        let activity_id = outbox::insert_activity(
                            conn,
                            &outbox::NewActivity {
                                ap_id: &activity.ap_id,
                                kind: &activity.kind,
                                signer_user_id,
                                signer_forum_id,
                                body: &activity.body,
                                created_at: now,
                            },
                        )?;
                        for inbox in &activity.inboxes {
                            let Some(domain) = domain_of(inbox) else {
                                continue;
                            };
                            let instance = outbox::instance_id(conn, &domain, now)?;
                            outbox::insert_delivery(
                                conn,
                                activity_id,
                                instance,
                                inbox.as_str(),
                                now,
                            )?;
                        }
                    }
                    Ok(true)
                })
            })
            .await?;
        Ok(expanded)
    }

    /// A new activity id of this instance (`/activities/{kind}/{uuid}`).
    pub fn new_activity_id(&self, kind: &str) -> String {
        new_activity_id(&self.inner, kind)
    }

    /// A sent activity's JSON, for activities that carry no post: a `Create`, `Update` or
    /// `Announce` holds a post as it was then, which may since have been edited or deleted, so
    /// those are read at the post's own address instead.
    pub async fn sent_activity(&self, ap_id: String) -> Result<String, ForumError> {
        self.blocking(
            move |_inner, conn| match outbox::activity_body(conn, &ap_id)? {
                Some((kind, body))
                    if !matches!(kind.as_str(), "Create" | "Update" | "Announce") =>
                {
                    Ok(body)
                }
                _ => Err(ForumError::NotFound { what: "activity" }),
            },
        )
        .await
    }

    /// Forgets what federation no longer needs: activity ids received over 30 days ago (senders
    /// have stopped retrying by then), outbox events sent on over 7 days ago, and activities
    /// sent over 30 days ago that wait for no delivery.
    pub async fn federation_housekeeping(&self) -> Result<(), ForumError> {
        self.blocking(|_inner, conn| {
            let now = db::now();
            received::prune(conn, now - TimeDelta::days(30))?;
            outbox::prune_events(conn, now - TimeDelta::days(7))?;
            outbox::prune_activities(conn, now - TimeDelta::days(30))?;
            Ok(())
        })
        .await
    }

    /// Instances due for delivery, each claimed by this worker for `lease`.
    pub async fn claim_due_instances(
        &self,
        limit: i64,
        lease: TimeDelta,
    ) -> Result<Vec<Instance>, ForumError> {
        self.blocking(move |_inner, conn| {
            let now = db::now();
            let mut claimed = Vec::new();
            for instance in outbox::due_instances(conn, now, limit)? {
                if outbox::claim(conn, instance.id, now, now + lease)? {
                    claimed.push(instance);
                }
            }
            Ok(claimed)
        })
        .await
    }

    /// The oldest delivery waiting for an instance.
    pub async fn next_delivery(&self, instance_id: i64) -> Result<Option<Delivery>, ForumError> {
        self.blocking(move |_inner, conn| {
            Ok(outbox::next_delivery(conn, instance_id)?.and_then(delivery))
        })
        .await
    }

    /// A delivery was taken (or refused for good): it is done.
    pub async fn delivery_done(
        &self,
        delivery_id: i64,
        instance_id: i64,
    ) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            Ok(outbox::delivered(
                conn,
                delivery_id,
                instance_id,
                db::now(),
            )?)
        })
        .await
    }

    /// A delivery failed: the instance waits `base × 1.25^n` seconds before the next attempt,
    /// and is marked dead once it has failed for `dead_after`.
    pub async fn delivery_failed(
        &self,
        instance: Instance,
        error: String,
    ) -> Result<NaiveDateTime, ForumError> {
        let federation = self.settings().federation.clone();
        self.blocking(move |_inner, conn| {
            let now = db::now();
            let failures = instance.failures + 1;
            let since = instance.failing_since.unwrap_or(now);
            let next = now
                + retry_delay(
                    federation.retry_base_seconds,
                    federation.retry_max_seconds,
                    failures,
                );
            let dead = now - since >= TimeDelta::hours(i64::from(federation.dead_after_hours));
            if dead && !instance.dead {
                tracing::warn!(domain = %instance.domain, %error, "instance marked dead after failing since {since}");
            }
            outbox::failed(conn, instance.id, failures, since, next, dead, &error)?;
            Ok(next)
        })
        .await
    }

    /// Lets go of an instance claimed by [`Site::claim_due_instances`].
    pub async fn release_instance(&self, instance_id: i64) -> Result<(), ForumError> {
        self.blocking(move |_inner, conn| {
            outbox::release(conn, instance_id)?;
            Ok(())
        })
        .await
    }

    /// Lets go of every instance claimed by any worker (at start-up).
    pub async fn release_all_instances(&self) -> Result<(), ForumError> {
        self.blocking(|_inner, conn| {
            outbox::release_all(conn)?;
            Ok(())
        })
        .await
    }

    /// When the next delivery falls due, if any waits.
    pub async fn next_delivery_due(&self) -> Result<Option<Option<NaiveDateTime>>, ForumError> {
        self.blocking(|_inner, conn| {
            let (_, waiting) = outbox::backlog(conn)?;
            if waiting == 0 {
                return Ok(None);
            }
            Ok(Some(outbox::next_due_at(conn)?))
        })
        .await
    }

    /// Outbox events not yet expanded, and deliveries waiting for live instances.
    pub async fn outbox_backlog(&self) -> Result<(i64, i64), ForumError> {
        self.blocking(|_inner, conn| Ok(outbox::backlog(conn)?))
            .await
    }

    /// How many activities of a type (`Follow`, `Accept`, ...) this instance has made.
    pub async fn activities_sent(&self, kind: &'static str) -> Result<i64, ForumError> {
        self.blocking(move |_inner, conn| Ok(outbox::count_activities(conn, kind)?))
            .await
    }

    /// An instance's delivery state.
    pub async fn instance_state(&self, domain: String) -> Result<Option<Instance>, ForumError> {
        self.blocking(move |_inner, conn| Ok(outbox::instance_by_domain(conn, &domain)?))
            .await
    }
}

fn delivery(row: Waiting) -> Option<Delivery> {
    let (id, inbox, activity_ap_id, body, user, forum) = row;
    let signer = match (user, forum) {
        (Some(id), _) => Signer::User(id),
        (None, Some(id)) => Signer::Forum(id),
        (None, None) => return None,
    };
    Some(Delivery {
        id,
        inbox,
        activity_ap_id,
        body,
        signer,
    })
}

#[cfg(test)]
mod tests {
    use super::{domain_of, retry_delay, OutboxEvent};

    #[test]
    fn retry_delays_grow_by_a_quarter_and_stop_at_a_day() {
        const DAY: f64 = 86_400.0;
        assert_eq!(retry_delay(1.0, DAY, 0).num_milliseconds(), 1000);
        assert_eq!(retry_delay(1.0, DAY, 1).num_milliseconds(), 1250);
        assert_eq!(retry_delay(1.0, DAY, 2).num_milliseconds(), 1562);
        assert_eq!(retry_delay(0.05, DAY, 1).num_milliseconds(), 62);
        assert_eq!(retry_delay(1.0, DAY, 60).num_seconds(), 86_400);
        assert_eq!(retry_delay(1.0, DAY, 10_000).num_seconds(), 86_400);
        assert_eq!(retry_delay(0.05, 0.5, 30).num_milliseconds(), 500);
    }

    #[test]
    fn instances_are_told_apart_by_host_and_port() {
        let a = url::Url::parse("http://localhost:8081/inbox").unwrap();
        let b = url::Url::parse("https://school.example/f/maths/inbox").unwrap();
        assert_eq!(domain_of(&a).as_deref(), Some("localhost:8081"));
        assert_eq!(domain_of(&b).as_deref(), Some("school.example"));
    }

    #[test]
    fn events_round_trip_as_json() {
        let e = OutboxEvent::AcceptFollow {
            forum_id: 1,
            follower_id: 2,
            follow_ap_id: "https://a.example/f/1".into(),
        };
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains(r#""type":"accept_follow""#), "{json}");
        assert_eq!(serde_json::from_str::<OutboxEvent>(&json).unwrap(), e);
    }
}

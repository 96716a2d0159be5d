//! The durable outbox: every change that other servers must hear about records an
//! [`OutboxEvent`] in the same transaction as the change. The delivery worker (in
//! `federation`) reads pending events, plans their activities, and stores them here with their
//! deliveries ([`Site::expand_events`]), a round of events in one transaction. Nothing here knows the
//! ActivityPub wire format: a planned activity's body arrives as finished JSON.

use std::collections::HashMap;

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use url::Url;

use super::remote::domain_of;
use super::{Inner, Site};
use crate::db::{self, received, Conn};
use crate::db::{activities, outbox};
use crate::error::ForumError;

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
        /// The thread it concerns, when it concerns one (its followers elsewhere hear of it
        /// too).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread_id: Option<i64>,
    },
    /// A moderator locked or unlocked a thread of one of our forums.
    Lock {
        /// The thread.
        thread_id: i64,
        /// The moderator (here).
        moderator_id: i64,
        /// Locked, or unlocked.
        locked: bool,
        /// Why (may be empty).
        reason: String,
    },
    /// A moderator pinned or unpinned a thread (of one of our forums, or of a forum elsewhere
    /// they moderate): Lemmy's `Add` or `Remove` to the forum's `featured`.
    Feature {
        /// The thread.
        thread_id: i64,
        /// The moderator (here).
        moderator_id: i64,
        /// Pinned, or unpinned.
        featured: bool,
    },
    /// A moderator removed or restored a post (in one of our forums, or in a forum elsewhere
    /// that they moderate).
    Removal {
        /// The post.
        post_id: i64,
        /// The moderator (here).
        moderator_id: i64,
        /// Removed, or restored.
        removed: bool,
        /// Why (may be empty).
        reason: String,
    },
    /// A moderator banned a person from a forum (ours, or one elsewhere they moderate), or an
    /// administrator from the whole instance; or lifted the ban.
    Ban {
        /// The forum; `None`: the instance.
        forum_id: Option<i64>,
        /// Who is banned.
        person_id: i64,
        /// The moderator (here).
        moderator_id: i64,
        /// Banned, or lifted.
        banned: bool,
        /// Why.
        reason: String,
        /// Until when.
        expires_at: Option<chrono::NaiveDateTime>,
        /// Their posts there were removed with it.
        remove_content: bool,
    },
    /// A person here reported a post that lives elsewhere, or is in a forum elsewhere.
    Report {
        /// The report.
        report_id: i64,
    },
    /// A moderator here closed a report that other servers know of (made there, or about a
    /// forum there): Lemmy's `Resolve` of the `Flag`.
    ResolveReport {
        /// The report.
        report_id: i64,
        /// The moderator (here).
        moderator_id: i64,
    },
    /// An administrator appointed or removed a moderator of one of our forums.
    Moderator {
        /// The forum.
        forum_id: i64,
        /// The person appointed or removed.
        person_id: i64,
        /// The administrator.
        by_id: i64,
        /// Appointed, or removed.
        added: bool,
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
    /// A local person deleted their account: every server that has their posts must hear.
    DeletePerson {
        /// The account (renamed; it remembers its old address).
        user_id: i64,
        /// Their posts were removed with it (Lemmy's `removeData`).
        remove_data: bool,
    },
    /// A local forum refused (or stopped taking) a remote person's follow: it is members-only.
    RejectFollow {
        /// The local forum.
        forum_id: i64,
        /// The remote person.
        follower_id: i64,
        /// Their Follow activity.
        follow_ap_id: String,
    },
    /// A local person asked to follow one thread elsewhere (the follow row holds the rest).
    FollowThread {
        /// `thread_follows.id`.
        follow_id: i64,
    },
    /// A local person stopped following a thread elsewhere.
    UnfollowThread {
        /// The remote thread.
        thread_id: i64,
        /// The local person.
        user_id: i64,
        /// The Follow being undone.
        follow_ap_id: String,
    },
    /// A local thread's forum accepted a remote person's follow of that thread.
    AcceptThreadFollow {
        /// The local thread.
        thread_id: i64,
        /// The remote person.
        follower_id: i64,
        /// Their Follow activity.
        follow_ap_id: String,
        /// What their Follow named (the context, the thread or one of its posts), as sent.
        object: String,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signer {
    /// A local person.
    User(i64),
    /// A local forum.
    Forum(i64),
}

/// Writes an event into the outbox (inside the caller's transaction).
pub fn push_event(conn: &mut Conn<'_>, event: &OutboxEvent) -> Result<(), ForumError> {
    outbox::push_event(conn, &event_json(event)?, db::now())?;
    Ok(())
}

/// An event as the outbox stores it.
pub(super) fn event_json(event: &OutboxEvent) -> Result<String, ForumError> {
    serde_json::to_string(event).map_err(|e| ForumError::Internal(format!("outbox event: {e}")))
}

/// A new activity id of this instance.
pub fn new_activity_id(inner: &Inner, kind: &str) -> String {
    inner
        .urls
        .absolute(&format!("/activities/{kind}/{}", uuid::Uuid::new_v4()))
}

impl Site {
    /// Wakes the delivery worker (after a transaction that wrote outbox events).
    pub fn outbox_written(&self) {
        self.inner.outbox_signal.notify_one();
    }

    /// Runs `f` on the blocking pool like [`Site::blocking`]; `f` answers with its result and
    /// whether it recorded outbox events, and when it did the delivery worker is woken once
    /// they are committed.
    pub async fn blocking_then_send<T, F>(&self, f: F) -> Result<T, ForumError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner, &mut Conn<'_>) -> Result<(T, bool), ForumError> + Send + 'static,
    {
        let (value, recorded) = self.blocking(f).await?;
        if recorded {
            self.outbox_written();
        }
        Ok(value)
    }

    /// Waits until [`Site::outbox_written`] is called (or returns at once if it was called
    /// since the last wait).
    pub async fn outbox_wait(&self) {
        self.inner.outbox_signal.notified().await;
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

    /// Turns events into their activities and deliveries, all in one transaction and a few
    /// statements however many there are (on PostgreSQL: the events marked, the servers made
    /// known, the activities stored, and their deliveries queued, one statement each). Events
    /// another worker expanded first are left out; returns how many this one expanded.
    pub async fn expand_events(
        &self,
        events: Vec<(i64, Vec<PlannedActivity>)>,
    ) -> Result<usize, ForumError> {
        self.blocking(move |_inner, conn| {
            conn.transaction(|conn| {
                let now = db::now();
                let ids: Vec<i64> = events.iter().map(|(id, _)| *id).collect();
                let marked: std::collections::HashSet<i64> =
                    outbox::mark_expanded_each(conn, &ids, now)?
                        .into_iter()
                        .collect();
                let planned: Vec<&PlannedActivity> = events
                    .iter()
                    .filter(|(id, _)| marked.contains(id))
                    .flat_map(|(_, planned)| planned)
                    .collect();
                // Every server any of the activities goes to, made known in one go.
                let mut domains: Vec<String> = planned
                    .iter()
                    .flat_map(|a| a.inboxes.iter().filter_map(domain_of))
                    .collect();
                domains.sort();
                domains.dedup();
                let names: Vec<&str> = domains.iter().map(String::as_str).collect();
                let instances: HashMap<String, i64> = outbox::instance_ids(conn, &names, now)?
                    .into_iter()
                    .map(|(id, domain)| (domain, id))
                    .collect();
                let new: Vec<activities::NewActivity<'_>> = planned
                    .iter()
                    .map(|activity| {
                        let (signer_user_id, signer_forum_id) = match activity.signer {
                            Signer::User(id) => (Some(id), None),
                            Signer::Forum(id) => (None, Some(id)),
                        };
                        activities::NewActivity {
                            ap_id: &activity.ap_id,
                            kind: &activity.kind,
                            signer_user_id,
                            signer_forum_id,
                            body: &activity.body,
                            created_at: now,
                        }
                    })
                    .collect();
                let activity_ids = activities::insert_activities(conn, &new)?;
                let deliveries: Vec<outbox::NewDelivery<'_>> = planned
                    .iter()
                    .zip(activity_ids)
                    .flat_map(|(activity, activity_id)| {
                        let instances = &instances;
                        activity.inboxes.iter().filter_map(move |inbox| {
                            Some(outbox::NewDelivery {
                                activity_id,
                                instance_id: *instances.get(&domain_of(inbox)?)?,
                                inbox_url: inbox.as_str(),
                                created_at: now,
                            })
                        })
                    })
                    .collect();
                outbox::insert_deliveries(conn, &deliveries)?;
                Ok(marked.len())
            })
        })
        .await
    }

    /// A new activity id of this instance (`/activities/{kind}/{uuid}`).
    pub fn new_activity_id(&self, kind: &str) -> String {
        new_activity_id(&self.inner, kind)
    }

    /// A sent activity's JSON, for activities that carry no post: a `Create`, `Update` or
    /// `Announce` holds a post as it was then, which may since have been edited or deleted, so
    /// those are read at the post's own address instead. Nor is one that names a forum made
    /// members-only since.
    pub async fn sent_activity(&self, ap_id: String) -> Result<String, ForumError> {
        self.blocking(move |inner, conn| {
            let gone = || ForumError::NotFound { what: "activity" };
            let body = match activities::activity_body(conn, &ap_id)? {
                Some((kind, body))
                    if !matches!(kind.as_str(), "Create" | "Update" | "Announce") =>
                {
                    body
                }
                _ => return Err(gone()),
            };
            for forum in crate::db::forums::members_only(conn)? {
                if body.contains(&format!("\"{}\"", inner.urls.forum(&forum))) {
                    return Err(gone());
                }
            }
            Ok(body)
        })
        .await
    }

    /// How many activities of a type (`Follow`, `Accept`, ...) this instance has made.
    pub async fn activities_sent(&self, kind: &'static str) -> Result<i64, ForumError> {
        self.blocking(move |_inner, conn| Ok(activities::count_activities(conn, kind)?))
            .await
    }

    /// Outbox events not yet expanded, and deliveries waiting for live instances.
    pub async fn outbox_backlog(&self) -> Result<(i64, i64), ForumError> {
        self.blocking(|_inner, conn| Ok(outbox::backlog(conn)?))
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
            activities::prune_activities(conn, now - TimeDelta::days(30))?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::OutboxEvent;

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

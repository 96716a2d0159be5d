//! Planning what other servers must hear: each outbox event becomes activities, their signer
//! and the inboxes they go to ([`plan`]), built by the family that owns them
//! (`activities::following`, `posts`, `announce`, `votes`, `moderation`). The delivery worker stores the plan
//! in the same transaction that marks the event done, then sends.

use activitypub_federation::config::Data;
use serde::Serialize;
use serde_json::Value;
use url::Url;

use crate::federation::activities::{
    accounts, announce, bans, following, moderation, posts, reports, votes,
};
use crate::federation::error::FederationError;
use crate::federation::protocol::context;
use crate::federation::software::Reads;
use crate::forum::outbox::{OutboxEvent, PlannedActivity, Signer};
use crate::forum::remote::domain_of;
use crate::forum::Site;

/// Serialises an activity with our `@context`.
pub fn with_context<T: Serialize>(activity: &T) -> Result<String, FederationError> {
    let mut value = serde_json::to_value(activity)?;
    if let Value::Object(map) = &mut value {
        map.insert("@context".into(), context());
    }
    Ok(serde_json::to_string(&value)?)
}

/// A URL from a stored or received string (400 `invalid_url` if it is not one).
pub(crate) fn url(s: &str) -> Result<Url, FederationError> {
    Ok(Url::parse(s)?)
}

/// A remote forum's id and inbox, for addressing activities to it.
pub(crate) fn remote_forum_address(
    forum: &crate::forum::Forum,
) -> Result<(Url, Url), FederationError> {
    let id = url(forum.ap_id.as_deref().unwrap_or_default())?;
    let inbox = url(forum.inbox_url.as_deref().unwrap_or(id.as_str()))?;
    Ok((id, inbox))
}

/// A new activity id of this instance, as a URL.
pub(crate) fn activity_id(data: &Data<Site>, kind: &str) -> Result<Url, FederationError> {
    url(&data.new_activity_id(kind))
}

/// One activity to send: its id, type, signer, JSON (with our `@context`) and inboxes.
pub(crate) fn planned(
    ap_id: &str,
    kind: &str,
    signer: Signer,
    body: &impl Serialize,
    inboxes: Vec<Url>,
) -> Result<PlannedActivity, FederationError> {
    Ok(PlannedActivity {
        ap_id: ap_id.to_string(),
        kind: kind.into(),
        signer,
        body: with_context(body)?,
        inboxes,
    })
}

/// A local forum's followers' inboxes by the form of announcement their software reads
/// ([`Reads`]): `activities` get `Announce(Create(Page))` and the like, `objects` get a new
/// thread's `Announce(Page)`; a server whose software is not known is in both.
#[derive(Debug, Default, Clone)]
pub(crate) struct Readers {
    pub activities: Vec<Url>,
    pub objects: Vec<Url>,
}

impl Readers {
    /// These, leaving out the server `domain` (the one an activity came from).
    fn except(self, domain: &str) -> Readers {
        let keep = |inboxes: Vec<Url>| {
            inboxes
                .into_iter()
                .filter(|inbox| domain_of(inbox).as_deref() != Some(domain))
                .collect()
        };
        Readers {
            activities: keep(self.activities),
            objects: keep(self.objects),
        }
    }

    /// Every follower's inbox, for announcements every server gets in the one form.
    pub fn all(self) -> Vec<Url> {
        let mut all = self.activities;
        all.extend(self.objects);
        all.sort();
        all.dedup();
        all
    }
}

/// A local forum's followers elsewhere by what they read, leaving out the server `except`
/// (the one an activity came from, which has it already).
pub(crate) async fn follower_readers(
    forum_id: i64,
    except: Option<&str>,
    data: &Data<Site>,
) -> Result<Readers, FederationError> {
    let mut readers = Readers::default();
    for (inbox, software) in data.follower_inboxes_with_software(forum_id).await? {
        let inbox = url(&inbox)?;
        if except.is_some() && domain_of(&inbox).as_deref() == except {
            continue;
        }
        let reads = Reads::of(software.as_deref());
        if reads.objects() {
            readers.objects.push(inbox.clone());
        }
        if reads.activities() {
            readers.activities.push(inbox);
        }
    }
    Ok(readers)
}

/// Who hears of an activity about thread `thread_id` of local forum `forum_id`: the forum's
/// followers elsewhere ([`follower_readers`]) and the people elsewhere who follow just that
/// thread (they read activities, as every server that can follow a thread does), leaving out
/// the server `except`.
pub(crate) async fn thread_readers(
    forum_id: i64,
    thread_id: i64,
    except: Option<&str>,
    data: &Data<Site>,
) -> Result<Readers, FederationError> {
    let mut readers = follower_readers(forum_id, except, data).await?;
    for inbox in data.thread_follower_inboxes(thread_id).await? {
        let inbox = url(&inbox)?;
        if except.is_some() && domain_of(&inbox).as_deref() == except {
            continue;
        }
        if !readers.activities.contains(&inbox) && !readers.objects.contains(&inbox) {
            readers.activities.push(inbox);
        }
    }
    Ok(readers)
}

/// Where an activity about a post in a remote forum goes: the forum's inbox (its server relays
/// it), and the inbox of `also` (the author answered or marked) when they are remote on yet
/// another server.
pub(crate) fn remote_forum_inboxes(
    forum: &crate::forum::Forum,
    forum_url: &Url,
    also: Option<&crate::forum::User>,
) -> Result<Vec<Url>, FederationError> {
    let mut inboxes = vec![url(forum
        .inbox_url
        .as_deref()
        .unwrap_or(forum_url.as_str()))?];
    if let Some(inbox) = also.map(person_inbox).transpose()?.flatten() {
        if domain_of(&inbox) != domain_of(&inboxes[0]) {
            inboxes.push(inbox);
        }
    }
    Ok(inboxes)
}

/// A remote person's inbox (their server's shared one where it has one); `None` for ours.
pub(crate) fn person_inbox(person: &crate::forum::User) -> Result<Option<Url>, FederationError> {
    if person.local {
        return Ok(None);
    }
    person
        .shared_inbox_url
        .as_deref()
        .or(person.inbox_url.as_deref())
        .map(url)
        .transpose()
}

/// What the events of one round of planning share, read once for them all. A busy forum
/// relays every reply it gets, one event each: the forum and the readers of each thread it
/// relays to are read for the first, not again for the rest.
#[derive(Debug, Default)]
pub(crate) struct Round {
    /// By forum and thread: the forum, unless it is gone or members-only (nothing of it leaves
    /// this instance), and who reads what it relays.
    relays: std::collections::HashMap<(i64, Option<i64>), Option<Relaying>>,
}

/// A forum whose relays may leave this instance, and who reads them.
type Relaying = (crate::forum::Forum, Readers);

impl Round {
    /// Our forum `forum_id` and who hears what it relays about thread `thread_id` (or about
    /// the forum, without one); `None` when nothing of it may be sent.
    async fn relay_readers(
        &mut self,
        forum_id: i64,
        thread_id: Option<i64>,
        data: &Data<Site>,
    ) -> Result<Option<Relaying>, FederationError> {
        let key = (forum_id, thread_id);
        if let Some(known) = self.relays.get(&key) {
            return Ok(known.clone());
        }
        let found = match data.forum_by_id(forum_id).await? {
            Some(forum) if !forum.members_only() => {
                let readers = match thread_id {
                    Some(thread_id) => thread_readers(forum.id, thread_id, None, data).await?,
                    None => follower_readers(forum.id, None, data).await?,
                };
                Some((forum, readers))
            }
            _ => None,
        };
        self.relays.insert(key, found.clone());
        Ok(found)
    }
}

/// What an outbox event becomes. Empty when there is nothing to send (the rows it names are
/// gone, nobody elsewhere needs to hear, or it concerns a members-only forum).
pub(crate) async fn plan(
    event: &OutboxEvent,
    data: &Data<Site>,
    round: &mut Round,
) -> Result<Vec<PlannedActivity>, FederationError> {
    // Nothing of a members-only forum leaves this instance (a relay's forum is checked once
    // per round, with its readers).
    let relay = matches!(event, OutboxEvent::Relay { .. });
    if !relay && data.stays_here(event.clone()).await? {
        return Ok(Vec::new());
    }
    match event {
        OutboxEvent::Post { post_id, action } => posts::plan_post(*post_id, *action, data).await,
        OutboxEvent::Like {
            post_id,
            user_id,
            like_ap_id,
        } => votes::plan_vote(*post_id, *user_id, like_ap_id, false, data).await,
        OutboxEvent::Unlike {
            post_id,
            user_id,
            like_ap_id,
        } => votes::plan_vote(*post_id, *user_id, like_ap_id, true, data).await,
        OutboxEvent::Relay {
            forum_id,
            activity,
            origin,
            thread_id,
        } => match round.relay_readers(*forum_id, *thread_id, data).await? {
            Some((forum, readers)) => {
                announce::plan_relay(&forum, activity, readers.except(origin), data)
            }
            None => Ok(Vec::new()),
        },
        OutboxEvent::Follow { follow_id } => following::plan_follow(*follow_id, data).await,
        OutboxEvent::Lock {
            thread_id,
            moderator_id,
            locked,
            reason,
        } => moderation::plan_lock(*thread_id, *moderator_id, *locked, reason, data).await,
        OutboxEvent::Feature {
            thread_id,
            moderator_id,
            featured,
        } => moderation::plan_feature(*thread_id, *moderator_id, *featured, data).await,
        OutboxEvent::Removal {
            post_id,
            moderator_id,
            removed,
            reason,
        } => moderation::plan_removal(*post_id, *moderator_id, *removed, reason, data).await,
        OutboxEvent::Ban {
            forum_id,
            person_id,
            moderator_id,
            banned,
            reason,
            expires_at,
            remove_content,
        } => {
            bans::plan_ban(
                bans::BanSent {
                    forum_id: *forum_id,
                    person_id: *person_id,
                    moderator_id: *moderator_id,
                    banned: *banned,
                    reason,
                    expires_at: *expires_at,
                    remove_content: *remove_content,
                },
                data,
            )
            .await
        }
        OutboxEvent::Report { report_id } => reports::plan_report(*report_id, data).await,
        OutboxEvent::ResolveReport {
            report_id,
            moderator_id,
        } => reports::plan_resolve(*report_id, *moderator_id, data).await,
        OutboxEvent::Moderator {
            forum_id,
            person_id,
            by_id,
            added,
        } => moderation::plan_moderator(*forum_id, *person_id, *by_id, *added, data).await,
        OutboxEvent::Unfollow {
            forum_id,
            user_id,
            follow_ap_id,
        } => following::plan_unfollow(*forum_id, *user_id, follow_ap_id, data).await,
        OutboxEvent::AcceptFollow {
            forum_id,
            follower_id,
            follow_ap_id,
        } => following::plan_answer(*forum_id, *follower_id, follow_ap_id, true, data).await,
        OutboxEvent::DeletePerson {
            user_id,
            remove_data,
        } => accounts::plan_delete_person(*user_id, *remove_data, data).await,
        OutboxEvent::RejectFollow {
            forum_id,
            follower_id,
            follow_ap_id,
        } => following::plan_answer(*forum_id, *follower_id, follow_ap_id, false, data).await,
        OutboxEvent::FollowThread { follow_id } => {
            following::plan_follow_thread(*follow_id, data).await
        }
        OutboxEvent::UnfollowThread {
            thread_id,
            user_id,
            follow_ap_id,
        } => following::plan_unfollow_thread(*thread_id, *user_id, follow_ap_id, data).await,
        OutboxEvent::AcceptThreadFollow {
            thread_id,
            follower_id,
            follow_ap_id,
            object,
        } => {
            following::plan_accept_thread(*thread_id, *follower_id, follow_ap_id, object, data)
                .await
        }
    }
}

//! Activities: the JSON of `Follow`, `Accept`, `Reject` and `Undo`, what receiving each one
//! does, and how outbox events become activities to send ([`plan`]).
//!
//! Incoming activities are parsed leniently where other servers differ (an `Accept` may embed
//! the `Follow` or only name it) and strictly where it matters (the `type` must be the one
//! expected, the actor must be the one the object names).

use activitypub_federation::config::Data;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::{AcceptType, FollowType, RejectType, UndoType};
use activitypub_federation::protocol::verification::verify_urls_match;
use activitypub_federation::traits::Activity;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::error::FederationError;
use super::helpful::{UndoVote, Vote};
use super::posts::{Announce, CreateOrUpdate, Delete};
use super::protocol::context;
use super::remote::{ApForum, ApUser};
use crate::forum::outbox::{OutboxEvent, PlannedActivity, Signer};
use crate::forum::Site;

/// `Follow`: a person asks to follow a forum.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Follow {
    /// `Follow`.
    #[serde(rename = "type")]
    pub kind: FollowType,
    /// Activity id.
    pub id: Url,
    /// The person following.
    pub actor: Url,
    /// The forum followed.
    pub object: Url,
    /// The forum (Lemmy addresses it).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub to: Vec<Url>,
}

/// The `Follow` an `Accept`, `Reject` or `Undo` is about: embedded (Lemmy, Mastodon, Mbin) or
/// only named by its id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FollowRef {
    /// The whole Follow.
    Embedded(Follow),
    /// Its id.
    Id(Url),
}

impl FollowRef {
    fn id(&self) -> &Url {
        match self {
            FollowRef::Embedded(f) => &f.id,
            FollowRef::Id(id) => id,
        }
    }
}

/// `Accept` of a `Follow`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Accept {
    /// `Accept`.
    #[serde(rename = "type")]
    pub kind: AcceptType,
    /// Activity id.
    pub id: Url,
    /// The forum accepting.
    pub actor: Url,
    /// The Follow.
    pub object: FollowRef,
    /// The follower.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub to: Vec<Url>,
}

/// `Reject` of a `Follow`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reject {
    /// `Reject`.
    #[serde(rename = "type")]
    pub kind: RejectType,
    /// Activity id.
    pub id: Url,
    /// The forum refusing.
    pub actor: Url,
    /// The Follow.
    pub object: FollowRef,
}

/// `Undo` of a `Follow`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UndoFollow {
    /// `Undo`.
    #[serde(rename = "type")]
    pub kind: UndoType,
    /// Activity id.
    pub id: Url,
    /// The person who followed.
    pub actor: Url,
    /// The Follow undone (embedded: an Undo naming only an id cannot be checked).
    pub object: Follow,
    /// The forum.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub to: Vec<Url>,
}

/// An activity of a type this server does not take, or of a known type in a shape it cannot
/// read. Parsed only far enough to check its signature, then refused with the reason.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Unrecognised {
    /// Activity id.
    pub id: Url,
    /// Actor.
    pub actor: Url,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: Value,
    /// Everything else.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, Value>,
}

/// Everything an inbox takes. Tried in order; the catch-all is last.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InboxActivity {
    /// Follow.
    Follow(Follow),
    /// Accept.
    Accept(Accept),
    /// Reject.
    Reject(Reject),
    /// Undo Follow.
    UndoFollow(UndoFollow),
    /// A thread or reply, new or edited (boxed: a whole post is much larger than the rest).
    CreateOrUpdate(Box<CreateOrUpdate>),
    /// A post deleted.
    Delete(Delete),
    /// A forum passing something on.
    Announce(Announce),
    /// Helpful (or a dislike, left aside).
    Vote(Vote),
    /// A vote taken back.
    UndoVote(UndoVote),
    /// Anything else.
    Unrecognised(Unrecognised),
}

fn one_or_many<'de, D>(deserializer: D) -> Result<Vec<Url>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    activitypub_federation::protocol::helpers::deserialize_one_or_many(deserializer)
}

/// Serialises an activity with our `@context`.
pub fn with_context<T: Serialize>(activity: &T) -> Result<String, FederationError> {
    let mut value = serde_json::to_value(activity)?;
    if let Value::Object(map) = &mut value {
        map.insert("@context".into(), context());
    }
    Ok(serde_json::to_string(&value)?)
}

#[async_trait]
impl Activity for Follow {
    type DataType = Site;
    type Error = FederationError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, data: &Data<Site>) -> Result<(), FederationError> {
        if !ObjectId::<ApForum>::from(self.object.clone()).is_local(data) {
            return Err(FederationError::refused(
                "not_our_forum",
                format!("{} is not a forum on this instance", self.object),
            ));
        }
        Ok(())
    }

    async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let forum = ObjectId::<ApForum>::from(self.object.clone())
            .dereference_local(data)
            .await
            .map_err(|_| FederationError::Refused {
                status: 404,
                code: "not_found",
                message: format!("No forum here at {}", self.object),
            })?;
        let follower = ObjectId::<ApUser>::from(self.actor.clone())
            .dereference(data)
            .await?;
        data.remote_follows(forum.forum.id, follower.user, self.id.to_string())
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Activity for Accept {
    type DataType = Site;
    type Error = FederationError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        if let FollowRef::Embedded(follow) = &self.object {
            // Only the forum that was followed may accept.
            verify_urls_match(&self.actor, &follow.object)?;
        }
        Ok(())
    }

    async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let follower = match &self.object {
            FollowRef::Embedded(follow) => super::remote::local_name(data, &follow.actor, "/u/"),
            FollowRef::Id(_) => None,
        };
        let known = data
            .follow_accepted(
                self.actor.to_string(),
                follower,
                Some(self.object.id().to_string()),
            )
            .await?;
        if !known {
            return Err(FederationError::refused(
                "unknown_follow",
                format!("No follow of {} is waiting here", self.actor),
            ));
        }
        // Fill the forum in with its recent threads, so it is not empty until someone posts.
        if let Some(forum) = data.forum_by_ap_id(self.actor.to_string()).await? {
            super::posts::backfill(&forum, data).await;
        }
        Ok(())
    }
}

#[async_trait]
impl Activity for Reject {
    type DataType = Site;
    type Error = FederationError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        if let FollowRef::Embedded(follow) = &self.object {
            verify_urls_match(&self.actor, &follow.object)?;
        }
        Ok(())
    }

    async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        data.follow_rejected(self.actor.to_string(), self.object.id().to_string())
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Activity for UndoFollow {
    type DataType = Site;
    type Error = FederationError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        // Only the follower may undo their follow.
        verify_urls_match(&self.actor, &self.object.actor)?;
        Ok(())
    }

    async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let Ok(forum) = ObjectId::<ApForum>::from(self.object.object.clone())
            .dereference_local(data)
            .await
        else {
            return Ok(());
        };
        let Some(follower) = data.user_by_ap_id(self.actor.to_string()).await? else {
            return Ok(());
        };
        data.remote_unfollows(forum.forum.id, follower.id).await?;
        Ok(())
    }
}

#[async_trait]
impl Activity for Unrecognised {
    type DataType = Site;
    type Error = FederationError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        let kind = self.kind.as_str().unwrap_or("(no type)");
        let mut whole = self.rest.clone();
        whole.insert("id".into(), Value::String(self.id.to_string()));
        whole.insert("actor".into(), Value::String(self.actor.to_string()));
        whole.insert("type".into(), self.kind.clone());
        let whole = Value::Object(whole);
        // A type we take in a shape we cannot read: say what is wrong with it.
        let reason = match kind {
            "Follow" => serde_json::from_value::<Follow>(whole).err(),
            "Accept" => serde_json::from_value::<Accept>(whole).err(),
            "Reject" => serde_json::from_value::<Reject>(whole).err(),
            "Undo" => serde_json::from_value::<UndoFollow>(whole.clone())
                .err()
                .and(serde_json::from_value::<UndoVote>(whole).err()),
            "Like" | "Dislike" => serde_json::from_value::<Vote>(whole).err(),
            "Create" | "Update" => serde_json::from_value::<CreateOrUpdate>(whole).err(),
            "Delete" => serde_json::from_value::<Delete>(whole).err(),
            "Announce" => serde_json::from_value::<Announce>(whole).err(),
            _ => None,
        };
        let message = match reason {
            Some(e) => format!("{kind} activity not understood: {e}"),
            None => format!("{kind} activities are not taken here"),
        };
        tracing::info!(id = %self.id, actor = %self.actor, "refused activity: {message}");
        Err(FederationError::refused("unsupported_activity", message))
    }

    async fn receive(self, _data: &Data<Site>) -> Result<(), FederationError> {
        // verify always refuses, so this is never reached.
        Err(FederationError::refused(
            "unsupported_activity",
            "not taken here",
        ))
    }
}

#[async_trait]
impl Activity for InboxActivity {
    type DataType = Site;
    type Error = FederationError;

    fn id(&self) -> &Url {
        match self {
            InboxActivity::Follow(a) => &a.id,
            InboxActivity::Accept(a) => &a.id,
            InboxActivity::Reject(a) => &a.id,
            InboxActivity::UndoFollow(a) => &a.id,
            InboxActivity::CreateOrUpdate(a) => &a.id,
            InboxActivity::Delete(a) => &a.id,
            InboxActivity::Announce(a) => &a.id,
            InboxActivity::Vote(a) => &a.id,
            InboxActivity::UndoVote(a) => &a.id,
            InboxActivity::Unrecognised(a) => &a.id,
        }
    }

    fn actor(&self) -> &Url {
        match self {
            InboxActivity::Follow(a) => &a.actor,
            InboxActivity::Accept(a) => &a.actor,
            InboxActivity::Reject(a) => &a.actor,
            InboxActivity::UndoFollow(a) => &a.actor,
            InboxActivity::CreateOrUpdate(a) => &a.actor,
            InboxActivity::Delete(a) => &a.actor,
            InboxActivity::Announce(a) => &a.actor,
            InboxActivity::Vote(a) => &a.actor,
            InboxActivity::UndoVote(a) => &a.actor,
            InboxActivity::Unrecognised(a) => &a.actor,
        }
    }

    async fn verify(&self, data: &Data<Site>) -> Result<(), FederationError> {
        super::same_origin(self.id(), self.actor())?;
        match self {
            InboxActivity::Follow(a) => a.verify(data).await,
            InboxActivity::Accept(a) => a.verify(data).await,
            InboxActivity::Reject(a) => a.verify(data).await,
            InboxActivity::UndoFollow(a) => a.verify(data).await,
            InboxActivity::CreateOrUpdate(a) => a.verify(data).await,
            InboxActivity::Delete(a) => a.verify(data).await,
            InboxActivity::Announce(a) => a.verify(data).await,
            InboxActivity::Vote(a) => a.verify(data).await,
            InboxActivity::UndoVote(a) => a.verify(data).await,
            InboxActivity::Unrecognised(a) => a.verify(data).await,
        }
    }

    async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let id = self.id().to_string();
        if let Some(domain) = crate::forum::remote::domain_of(self.actor()) {
            data.heard_from(domain).await?;
        }
        // A repeat (retries, relays) is acknowledged and ignored. Recorded only after it was
        // handled, so a failure part-way lets the sender's retry through.
        if data.seen_activity(id.clone()).await? {
            tracing::debug!(%id, "activity seen before; ignored");
            return Ok(());
        }
        match self {
            InboxActivity::Follow(a) => a.receive(data).await?,
            InboxActivity::Accept(a) => a.receive(data).await?,
            InboxActivity::Reject(a) => a.receive(data).await?,
            InboxActivity::UndoFollow(a) => a.receive(data).await?,
            InboxActivity::CreateOrUpdate(a) => a.receive(data).await?,
            InboxActivity::Delete(a) => a.receive(data).await?,
            InboxActivity::Announce(a) => a.receive(data).await?,
            InboxActivity::Vote(a) => a.receive(data).await?,
            InboxActivity::UndoVote(a) => a.receive(data).await?,
            InboxActivity::Unrecognised(a) => a.receive(data).await?,
        }
        data.first_receipt(id).await?;
        Ok(())
    }
}

/// An activity as stored in the outbox, for the crate's signer: its JSON goes out unchanged.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Activity id.
    pub id: Url,
    /// Who signs it.
    pub actor: Url,
    /// The JSON as stored.
    pub body: Value,
}

impl Serialize for Outgoing {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(s)
    }
}

#[async_trait]
impl Activity for Outgoing {
    type DataType = Site;
    type Error = FederationError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        Err(FederationError::refused(
            "outgoing_only",
            "outgoing activities are not received",
        ))
    }

    async fn receive(self, _data: &Data<Site>) -> Result<(), FederationError> {
        Err(FederationError::refused(
            "outgoing_only",
            "outgoing activities are not received",
        ))
    }
}

fn url(s: &str) -> Result<Url, FederationError> {
    Ok(Url::parse(s)?)
}

/// A remote forum's id and inbox, for addressing activities to it.
fn remote_forum_address(forum: &crate::forum::Forum) -> Result<(Url, Url), FederationError> {
    let id = url(forum.ap_id.as_deref().unwrap_or_default())?;
    let inbox = url(forum.inbox_url.as_deref().unwrap_or(id.as_str()))?;
    Ok((id, inbox))
}

fn activity_id(data: &Data<Site>, kind: &str) -> Result<Url, FederationError> {
    url(&data.new_activity_id(kind))
}

/// What an outbox event becomes. Empty when there is nothing to send (the rows it names are
/// gone, or nobody elsewhere needs to hear).
pub async fn plan(
    event: &OutboxEvent,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let urls = data.urls().clone();
    match event {
        OutboxEvent::Post { post_id, action } => {
            super::posts::plan_post(*post_id, *action, data).await
        }
        OutboxEvent::Like {
            post_id,
            user_id,
            like_ap_id,
        } => super::helpful::plan(*post_id, *user_id, like_ap_id, false, data).await,
        OutboxEvent::Unlike {
            post_id,
            user_id,
            like_ap_id,
        } => super::helpful::plan(*post_id, *user_id, like_ap_id, true, data).await,
        OutboxEvent::Relay {
            forum_id,
            activity,
            origin,
        } => super::posts::plan_relay(*forum_id, activity, origin, data).await,
        OutboxEvent::Follow { follow_id } => {
            let Some((follow, forum, user)) = data.follow_parts(*follow_id).await? else {
                return Ok(Vec::new());
            };
            let (group, inbox) = remote_forum_address(&forum)?;
            let activity = Follow {
                kind: FollowType::Follow,
                id: url(&follow.follow_ap_id)?,
                actor: url(&urls.user(&user))?,
                object: group.clone(),
                to: vec![group],
            };
            Ok(vec![PlannedActivity {
                ap_id: activity.id.to_string(),
                kind: "Follow".into(),
                signer: Signer::User(user.id),
                body: with_context(&activity)?,
                inboxes: vec![inbox],
            }])
        }
        OutboxEvent::Unfollow {
            forum_id,
            user_id,
            follow_ap_id,
        } => {
            let Some((forum, user)) = data.forum_and_user(*forum_id, *user_id).await? else {
                return Ok(Vec::new());
            };
            let (group, inbox) = remote_forum_address(&forum)?;
            let actor = url(&urls.user(&user))?;
            let activity = UndoFollow {
                kind: UndoType::Undo,
                id: activity_id(data, "undo")?,
                actor: actor.clone(),
                object: Follow {
                    kind: FollowType::Follow,
                    id: url(follow_ap_id)?,
                    actor,
                    object: group.clone(),
                    to: vec![group.clone()],
                },
                to: vec![group],
            };
            Ok(vec![PlannedActivity {
                ap_id: activity.id.to_string(),
                kind: "Undo".into(),
                signer: Signer::User(user.id),
                body: with_context(&activity)?,
                inboxes: vec![inbox],
            }])
        }
        OutboxEvent::AcceptFollow {
            forum_id,
            follower_id,
            follow_ap_id,
        } => {
            let Some((forum, follower)) = data.forum_and_user(*forum_id, *follower_id).await?
            else {
                return Ok(Vec::new());
            };
            let Some(inbox) = follower.inbox_url.as_deref() else {
                return Ok(Vec::new());
            };
            let forum_id = url(&urls.forum(&forum))?;
            let follower_id = url(&urls.user(&follower))?;
            let activity = Accept {
                kind: AcceptType::Accept,
                id: activity_id(data, "accept")?,
                actor: forum_id.clone(),
                object: FollowRef::Embedded(Follow {
                    kind: FollowType::Follow,
                    id: url(follow_ap_id)?,
                    actor: follower_id.clone(),
                    object: forum_id,
                    to: Vec::new(),
                }),
                to: vec![follower_id],
            };
            Ok(vec![PlannedActivity {
                ap_id: activity.id.to_string(),
                kind: "Accept".into(),
                signer: Signer::Forum(forum.id),
                body: with_context(&activity)?,
                inboxes: vec![url(inbox)?],
            }])
        }
    }
}

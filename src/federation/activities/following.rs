//! Following, received: a person elsewhere follows (or stops following) a local forum, and a
//! forum elsewhere accepts or rejects a local person's follow. Sent: the Follow, its Undo, and
//! the Accept a local forum answers with.

use activitypub_federation::config::Data;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::{AcceptType, FollowType, RejectType, UndoType};
use activitypub_federation::protocol::verification::verify_urls_match;

use crate::federation::actors::{local_name, ApForum, ApUser};
use crate::federation::error::FederationError;
use crate::federation::outgoing::{activity_id, planned, remote_forum_address, url};
use crate::federation::protocol::activities::{Accept, Follow, FollowRef, Reject, UndoFollow};
use crate::forum::outbox::{PlannedActivity, Signer};
use crate::forum::Site;

impl Follow {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, data: &Data<Site>) -> Result<(), FederationError> {
        if !ObjectId::<ApForum>::from(self.object.clone()).is_local(data) {
            return Err(FederationError::refused(
                "not_our_forum",
                format!("{} is not a forum on this instance", self.object),
            ));
        }
        Ok(())
    }

    /// Does what the activity asks.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let no_forum = || FederationError::Refused {
            status: 404,
            code: "not_found",
            message: format!("No forum here at {}", self.object),
        };
        let name = local_name(data, &self.object, "/f/").ok_or_else(no_forum)?;
        let follower = ObjectId::<ApUser>::from(self.actor.clone())
            .dereference(data)
            .await?;
        // A members-only forum answers with a Reject (it is not said why).
        data.remote_follows(name, follower.user, self.id.to_string())
            .await
            .map_err(|e| match e {
                crate::error::ForumError::NotFound { .. } => no_forum(),
                e => e.into(),
            })
    }
}

impl Accept {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        if let FollowRef::Embedded(follow) = &self.object {
            // Only the forum that was followed may accept.
            verify_urls_match(&self.actor, &follow.object)?;
        }
        Ok(())
    }

    /// Does what the activity asks.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let follower = match &self.object {
            FollowRef::Embedded(follow) => local_name(data, &follow.actor, "/u/"),
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
            crate::federation::activities::backfill::backfill(&forum, data).await;
        }
        Ok(())
    }
}

impl Reject {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        if let FollowRef::Embedded(follow) = &self.object {
            verify_urls_match(&self.actor, &follow.object)?;
        }
        Ok(())
    }

    /// Does what the activity asks.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        data.follow_rejected(self.actor.to_string(), self.object.id().to_string())
            .await?;
        Ok(())
    }
}

impl UndoFollow {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        // Only the follower may undo their follow.
        verify_urls_match(&self.actor, &self.object.actor)?;
        Ok(())
    }

    /// Does what the activity asks.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
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

/// The `Follow` a local person sends to a forum elsewhere.
pub(crate) async fn plan_follow(
    follow_id: i64,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let urls = data.urls().clone();
    let Some((follow, forum, user)) = data.follow_parts(follow_id).await? else {
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
    Ok(vec![planned(
        activity.id.as_str(),
        "Follow",
        Signer::User(user.id),
        &activity,
        vec![inbox],
    )?])
}

/// The `Undo` of a local person's `Follow`.
pub(crate) async fn plan_unfollow(
    forum_id: i64,
    user_id: i64,
    follow_ap_id: &str,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let urls = data.urls().clone();
    let Some((forum, user)) = data.forum_and_user(forum_id, user_id).await? else {
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
    Ok(vec![planned(
        activity.id.as_str(),
        "Undo",
        Signer::User(user.id),
        &activity,
        vec![inbox],
    )?])
}

/// The `Accept` (or, `accepted` false, the `Reject`) a local forum answers a follower
/// elsewhere with. A `Reject` of a follow once accepted ends it, as Mastodon takes it
/// (`ActivityPub::Activity::Reject` on an existing follow removes it).
pub(crate) async fn plan_answer(
    forum_id: i64,
    follower_id: i64,
    follow_ap_id: &str,
    accepted: bool,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let urls = data.urls().clone();
    let Some((forum, follower)) = data.forum_and_user(forum_id, follower_id).await? else {
        return Ok(Vec::new());
    };
    let Some(inbox) = follower.inbox_url.as_deref() else {
        return Ok(Vec::new());
    };
    let forum_id = url(&urls.forum(&forum))?;
    let follower_id = url(&urls.user(&follower))?;
    let follow = FollowRef::Embedded(Follow {
        kind: FollowType::Follow,
        id: url(follow_ap_id)?,
        actor: follower_id.clone(),
        object: forum_id.clone(),
        to: Vec::new(),
    });
    let (kind, body) = if accepted {
        let accept = Accept {
            kind: AcceptType::Accept,
            id: activity_id(data, "accept")?,
            actor: forum_id,
            object: follow,
            to: vec![follower_id],
        };
        ("Accept", serde_json::to_value(accept)?)
    } else {
        let reject = Reject {
            kind: RejectType::Reject,
            id: activity_id(data, "reject")?,
            actor: forum_id,
            object: follow,
            to: vec![follower_id],
        };
        ("Reject", serde_json::to_value(reject)?)
    };
    let id = body["id"].as_str().unwrap_or_default().to_string();
    Ok(vec![planned(
        &id,
        kind,
        Signer::Forum(forum.id),
        &body,
        vec![url(inbox)?],
    )?])
}

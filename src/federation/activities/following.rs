//! Following, received: a person elsewhere follows (or stops following) a local forum or one
//! of its threads, and a forum elsewhere accepts or rejects a local person's follow of it or of
//! one of its threads. Sent: those Follows, their Undos, and the Accept (or Reject) a local
//! forum answers with. See FEDERATION.md, "Following a thread".

use activitypub_federation::config::Data;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::{AcceptType, FollowType, RejectType, UndoType};
use activitypub_federation::protocol::verification::{verify_domains_match, verify_urls_match};

use crate::federation::actors::{local_name, ApForum, ApUser};
use crate::federation::error::FederationError;
use crate::federation::outgoing::{activity_id, planned, remote_forum_address, url};
use crate::federation::protocol::activities::{Accept, Follow, FollowRef, Reject, UndoFollow};
use crate::forum::outbox::{PlannedActivity, Signer};
use crate::forum::remote::domain_of;
use crate::forum::Site;
use url::Url;

/// Whether `actor` may answer a follow of `followed`: the forum followed itself, or (for a
/// thread, its context or one of its posts) an actor of the same server.
fn answerable_by(actor: &Url, followed: &Url) -> Result<(), FederationError> {
    if actor == followed {
        return Ok(());
    }
    verify_domains_match(actor, followed)?;
    Ok(())
}

/// The thread of ours a `Follow` names: by its context collection (`/t/{id}/context`), by the
/// thread itself (`/t/{id}`), or by one of its posts (`/p/{id}`, as Friendica follows a
/// conversation). `None` when it names no thread here.
async fn followed_thread(object: &Url, data: &Data<Site>) -> Result<Option<i64>, FederationError> {
    if domain_of(object).as_deref() != Some(data.domain()) || object.query().is_some() {
        return Ok(None);
    }
    let parts: Vec<&str> = object.path().trim_start_matches('/').split('/').collect();
    let id = |s: &str| s.parse::<i64>().ok();
    Ok(match parts.as_slice() {
        ["t", thread] | ["t", thread, "context"] => id(thread),
        ["p", post] => match id(post) {
            Some(post) => match data.post(post, None).await {
                Ok(ctx) => Some(ctx.thread.id),
                Err(crate::error::ForumError::NotFound { .. }) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        },
        _ => None,
    })
}

impl Follow {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, data: &Data<Site>) -> Result<(), FederationError> {
        if !ObjectId::<ApForum>::from(self.object.clone()).is_local(data) {
            return Err(FederationError::refused(
                "not_our_forum",
                format!("{} is not a forum or thread on this instance", self.object),
            ));
        }
        Ok(())
    }

    /// Does what the activity asks: a follow of one of our forums, or of one of our threads
    /// (its context, itself, or one of its posts).
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let no_forum = || FederationError::Refused {
            status: 404,
            code: "not_found",
            message: format!("No forum or thread here at {}", self.object),
        };
        let Some(name) = local_name(data, &self.object, "/f/") else {
            let thread = followed_thread(&self.object, data)
                .await?
                .ok_or_else(no_forum)?;
            let follower = ObjectId::<ApUser>::from(self.actor.clone())
                .dereference(data)
                .await?;
            data.remote_follows_thread(
                thread,
                follower.user,
                self.id.to_string(),
                self.object.to_string(),
            )
            .await
            .map_err(|e| match e {
                crate::error::ForumError::NotFound { .. } => no_forum(),
                e => e.into(),
            })?;
            return Ok(());
        };
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
            // Only the forum that was followed may accept (for a thread, a forum of its server:
            // which one is checked against the thread when it is received).
            answerable_by(&self.actor, &follow.object)?;
        }
        Ok(())
    }

    /// Does what the activity asks.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        // A follow of one thread: its conversation is read in, then arrives as it grows.
        let thread = data
            .thread_follow_answered(self.object.id().to_string(), self.actor.to_string(), true)
            .await?;
        if let Some(thread) = thread {
            crate::federation::activities::backfill::fill_in_thread(thread, true, data).await;
            return Ok(());
        }
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
            answerable_by(&self.actor, &follow.object)?;
        }
        Ok(())
    }

    /// Does what the activity asks.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let thread = data
            .thread_follow_answered(self.object.id().to_string(), self.actor.to_string(), false)
            .await?;
        if thread.is_some() {
            // Its watchers here read it from its context collection instead, now and then.
            return Ok(());
        }
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
        let Some(follower) = data.user_by_ap_id(self.actor.to_string()).await? else {
            return Ok(());
        };
        let followed = &self.object.object;
        if local_name(data, followed, "/f/").is_none() {
            if let Some(thread) = followed_thread(followed, data).await? {
                data.remote_unfollows_thread(thread, follower.id).await?;
            }
            return Ok(());
        }
        let Ok(forum) = ObjectId::<ApForum>::from(followed.clone())
            .dereference_local(data)
            .await
        else {
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
    let Some((follow, forum, user)) = data.follow_parts(follow_id).await? else {
        return Ok(Vec::new());
    };
    let group = remote_forum_address(&forum)?.0;
    sent_follow(&forum, &user, &follow.follow_ap_id, group, false, data)
}

/// The `Undo` of a local person's `Follow`.
pub(crate) async fn plan_unfollow(
    forum_id: i64,
    user_id: i64,
    follow_ap_id: &str,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let Some((forum, user)) = data.forum_and_user(forum_id, user_id).await? else {
        return Ok(Vec::new());
    };
    let group = remote_forum_address(&forum)?.0;
    sent_follow(&forum, &user, follow_ap_id, group, true, data)
}

/// Local person `user`'s `Follow` (with id `follow_ap_id`) of `object`, or its `Undo` when
/// `undo`, addressed and sent to the remote forum `forum`.
fn sent_follow(
    forum: &crate::forum::Forum,
    user: &crate::forum::User,
    follow_ap_id: &str,
    object: Url,
    undo: bool,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let (group, inbox) = remote_forum_address(forum)?;
    let actor = url(&data.urls().user(user))?;
    let follow = Follow {
        kind: FollowType::Follow,
        id: url(follow_ap_id)?,
        actor: actor.clone(),
        object,
        to: vec![group.clone()],
    };
    let (id, kind, body) = if undo {
        let activity = UndoFollow {
            kind: UndoType::Undo,
            id: activity_id(data, "undo")?,
            actor,
            object: follow,
            to: vec![group],
        };
        (activity.id.clone(), "Undo", serde_json::to_value(activity)?)
    } else {
        (follow.id.clone(), "Follow", serde_json::to_value(follow)?)
    };
    Ok(vec![planned(
        id.as_str(),
        kind,
        Signer::User(user.id),
        &body,
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
    let Some((forum, follower)) = data.forum_and_user(forum_id, follower_id).await? else {
        return Ok(Vec::new());
    };
    let object = url(&data.urls().forum(&forum))?;
    answer_body(&forum, &follower, follow_ap_id, object, accepted, data)
}

/// Forum `forum`'s `Accept` (or `Reject`) of `follower`'s `Follow` (with id `follow_ap_id`, of
/// `object`: the forum, or one of its threads as the `Follow` named it), embedding the `Follow`,
/// to the follower's inbox.
fn answer_body(
    forum: &crate::forum::Forum,
    follower: &crate::forum::User,
    follow_ap_id: &str,
    object: Url,
    accepted: bool,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let Some(inbox) = follower.inbox_url.as_deref() else {
        return Ok(Vec::new());
    };
    let forum_id = url(&data.urls().forum(forum))?;
    let follower_id = url(&data.urls().user(follower))?;
    let follow = FollowRef::Embedded(Follow {
        kind: FollowType::Follow,
        id: url(follow_ap_id)?,
        actor: follower_id.clone(),
        object,
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

/// What a thread followed from here is named by in the `Follow` (and its `Undo`): its context
/// collection when its server named one, else the thread itself.
async fn thread_object(
    thread: &crate::forum::Thread,
    data: &Data<Site>,
) -> Result<Url, FederationError> {
    if let Some(context) = data.thread_context_url(thread.id).await? {
        return url(&context);
    }
    url(thread.ap_id.as_deref().unwrap_or_default())
}

/// The `Follow` a local person sends for one thread elsewhere: to its forum's inbox (FEP-efda:
/// the inbox of the context's `attributedTo`), naming the thread's context.
pub(crate) async fn plan_follow_thread(
    follow_id: i64,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let Some((follow, thread, forum, user)) = data.thread_follow_parts(follow_id).await? else {
        return Ok(Vec::new());
    };
    let object = thread_object(&thread, data).await?;
    sent_follow(&forum, &user, &follow.follow_ap_id, object, false, data)
}

/// The `Undo` of a local person's `Follow` of one thread elsewhere.
pub(crate) async fn plan_unfollow_thread(
    thread_id: i64,
    user_id: i64,
    follow_ap_id: &str,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let Some((thread, forum, user)) = data.thread_forum_and_user(thread_id, user_id).await? else {
        return Ok(Vec::new());
    };
    let object = thread_object(&thread, data).await?;
    sent_follow(&forum, &user, follow_ap_id, object, true, data)
}

/// The `Accept` a local forum answers a follow of one of its threads with: from the forum,
/// embedding the `Follow` as it was sent.
pub(crate) async fn plan_accept_thread(
    thread_id: i64,
    follower_id: i64,
    follow_ap_id: &str,
    object: &str,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let Some((_, forum, follower)) = data.thread_forum_and_user(thread_id, follower_id).await?
    else {
        return Ok(Vec::new());
    };
    answer_body(&forum, &follower, follow_ap_id, url(object)?, true, data)
}

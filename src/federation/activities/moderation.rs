//! Moderation on the wire, in Lemmy's forms. `Lock` and `Undo(Lock)` of a thread (`object` the
//! opening post, `summary` the reason, `audience` and `cc` the forum): received from a
//! moderator of one of our forums (then relayed to its followers), or passed on by a forum
//! elsewhere for its own threads; sent by a moderator here to the followers of our forum
//! through the forum's `Announce`, or to a forum elsewhere that they moderate. `Add` and
//! `Remove` of a person to a forum's `moderators` collection: sent to our forum's followers when
//! an administrator appoints or removes a moderator, and taken from a forum elsewhere about
//! itself.

use activitypub_federation::config::Data;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::protocol::verification::verify_urls_match;
use serde_json::{json, Value};
use url::Url;

use crate::federation::activities::announce::{announce, relay_of};
use crate::federation::activities::posts::known_post;
use crate::federation::actors::local_name;
use crate::federation::actors::ApUser;
use crate::federation::error::FederationError;
use crate::federation::outgoing::{
    follower_readers, planned, remote_forum_inboxes, thread_readers, url,
};
use crate::federation::protocol::activities::{
    AddOrRemove, CollectionChange, Lock, UndoDelete, UndoLock,
};
use crate::federation::protocol::PUBLIC;
use crate::forum::incoming::Relay;
use crate::forum::outbox::{PlannedActivity, Signer};
use crate::forum::Site;

/// Locks or unlocks the thread `lock.object` opens, as `lock.actor`.
async fn apply(
    lock: &Lock,
    locked: bool,
    why: Option<String>,
    relay: Option<Relay>,
    announced_by: Option<&Url>,
    data: &Data<Site>,
) -> Result<(), FederationError> {
    let post = known_post(&lock.object, data).await?;
    let announced_by = match announced_by {
        Some(forum) => {
            // A forum vouches only for its own threads.
            let forum_of_post = url(&data.urls().forum(&post.forum))?;
            verify_urls_match(forum, &forum_of_post)?;
            Some(post.forum.id)
        }
        None => None,
    };
    let moderator = ObjectId::<ApUser>::from(lock.actor.clone())
        .dereference(data)
        .await?;
    let thread = data
        .receive_lock(
            moderator.user,
            post.post.id,
            locked,
            why,
            announced_by,
            relay,
        )
        .await?;
    if !thread {
        tracing::info!(id = %lock.id, object = %lock.object, "lock of a reply left aside: only threads are locked here");
    }
    Ok(())
}

impl Lock {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        Ok(())
    }

    /// Does what the activity asks.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let relay = relay_of(&self, &self.actor)?;
        apply(&self, true, self.summary.clone(), Some(relay), None, data).await
    }
}

impl UndoLock {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        // Lemmy lets any moderator unlock what another locked; the Undo's actor is the one
        // checked, so its Lock is taken as the Undo's.
        Ok(())
    }

    /// Does what the activity asks.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let relay = relay_of(&self, &self.actor)?;
        let lock = Lock {
            actor: self.actor.clone(),
            ..self.object.clone()
        };
        apply(&lock, false, self.summary.clone(), Some(relay), None, data).await
    }
}

/// A lock (or its undoing) that a forum passed on.
pub async fn announced(
    inner: Value,
    forum: &Url,
    data: &Data<Site>,
) -> Result<(), FederationError> {
    match inner.get("type").and_then(Value::as_str) {
        Some("Undo") => {
            let undo: UndoLock = serde_json::from_value(inner)?;
            let lock = Lock {
                actor: undo.actor.clone(),
                ..undo.object
            };
            apply(&lock, false, undo.summary, None, Some(forum), data).await
        }
        _ => {
            let lock: Lock = serde_json::from_value(inner)?;
            apply(&lock, true, lock.summary.clone(), None, Some(forum), data).await
        }
    }
}

/// What a lock (or unlock) by a moderator here of a thread in one of our forums becomes: the
/// moderator's `Lock` (or `Undo` of one), kept and announced by the forum to its followers.
pub async fn plan_lock(
    thread_id: i64,
    moderator_id: i64,
    locked: bool,
    reason: &str,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let Some(ctx) = opening(thread_id, data).await? else {
        return Ok(Vec::new());
    };
    let object = data.urls().post(&ctx.post);
    let act = ("Lock", object, None);
    moderators_act(&ctx, moderator_id, act, !locked, reason, data).await
}

/// A thread's opening post in context, or none when the thread is gone (or members-only).
async fn opening(
    thread_id: i64,
    data: &Data<Site>,
) -> Result<Option<crate::forum::threads::PostContext>, FederationError> {
    match data.opening_post(thread_id).await {
        Ok(ctx) => Ok(Some(ctx)),
        Err(crate::error::ForumError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// What a pin (or unpin) by a moderator here becomes: Lemmy's `Add` (or `Remove`) of the
/// thread's `Page` to the forum's `featured` collection, kept and announced by our forum to
/// its followers, or sent to the forum elsewhere that `moderator_id` moderates.
pub async fn plan_feature(
    thread_id: i64,
    moderator_id: i64,
    featured: bool,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let Some(ctx) = opening(thread_id, data).await? else {
        return Ok(Vec::new());
    };
    let object = data.urls().post(&ctx.post);
    let featured_url = match &ctx.forum.ap_id {
        Some(id) if !ctx.forum.local => format!("{id}/featured"),
        _ => format!("{}/featured", data.urls().forum(&ctx.forum)),
    };
    let kind = if featured { "Add" } else { "Remove" };
    let act = (kind, object, Some(featured_url));
    moderators_act(&ctx, moderator_id, act, false, "", data).await
}

/// What a moderator does to a post (`Lock` or `Delete` of `object`, or an `Add` or `Remove` of
/// it to the collection `target`), or its `Undo` when
/// `undo`: by the moderator, the reason as `summary` on the activity that acts (as Lemmy sends
/// it), addressed to the forum. For one of our forums it is kept and announced by the forum to
/// its followers; a forum elsewhere (that `moderator_id` moderates) is sent it, and checks,
/// applies and passes it on itself.
async fn moderators_act(
    ctx: &crate::forum::threads::PostContext,
    moderator_id: i64,
    (kind, object, target): (&str, String, Option<String>),
    undo: bool,
    reason: &str,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let Some(moderator) = data.user_by_id(moderator_id).await? else {
        return Ok(Vec::new());
    };
    let urls = data.urls();
    let actor = url(&urls.user(&moderator))?;
    let forum_url = url(&urls.forum(&ctx.forum))?;
    let act_id = data.new_activity_id(&kind.to_ascii_lowercase());
    let mut act = json!({
        "type": kind,
        "id": act_id,
        "actor": actor,
        "object": object,
        "to": [PUBLIC],
        "cc": [forum_url],
        "audience": forum_url,
    });
    if let Some(target) = target {
        act["target"] = Value::String(target);
    }
    let (id, kind, mut body) = if undo {
        let id = data.new_activity_id("undo");
        let body = json!({
            "type": "Undo",
            "id": id,
            "actor": actor,
            "object": act,
            "to": [PUBLIC],
            "cc": [forum_url],
            "audience": forum_url,
        });
        (id, "Undo", body)
    } else {
        (act_id, kind, act)
    };
    if !reason.is_empty() {
        body["summary"] = Value::String(reason.to_string());
    }
    let signer = Signer::User(moderator.id);
    if !ctx.forum.local {
        let inboxes = remote_forum_inboxes(&ctx.forum, &forum_url, None)?;
        return Ok(vec![planned(&id, kind, signer, &body, inboxes)?]);
    }
    let inboxes = thread_readers(ctx.forum.id, ctx.thread.id, None, data)
        .await?
        .all();
    Ok(vec![
        planned(&id, kind, signer, &body, Vec::new())?,
        announce(ctx.forum.id, &forum_url, body.clone(), inboxes, data)?,
    ])
}

/// What an administrator's appointment (or removal) of a moderator of one of our forums
/// becomes: an `Add` (or `Remove`) of the person to the forum's `moderators`, announced by the
/// forum to its followers, so that their copies of the forum know who moderates it.
pub async fn plan_moderator(
    forum_id: i64,
    person_id: i64,
    by_id: i64,
    added: bool,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let (Some(forum), Some(person), Some(by)) = (
        data.forum_by_id(forum_id).await?,
        data.user_by_id(person_id).await?,
        data.user_by_id(by_id).await?,
    ) else {
        return Ok(Vec::new());
    };
    if !forum.local {
        return Ok(Vec::new());
    }
    let urls = data.urls();
    let forum_url = url(&urls.forum(&forum))?;
    let kind = if added { "Add" } else { "Remove" };
    let id = data.new_activity_id(&kind.to_ascii_lowercase());
    let body = json!({
        "type": kind,
        "id": id,
        "actor": url(&urls.user(&by))?,
        "object": url(&urls.user(&person))?,
        "target": format!("{forum_url}/moderators"),
        "to": [PUBLIC],
        "cc": [forum_url],
        "audience": forum_url,
    });
    let inboxes = follower_readers(forum.id, None, data).await?.all();
    Ok(vec![
        planned(&id, kind, Signer::User(by.id), &body, Vec::new())?,
        announce(forum.id, &forum_url, body.clone(), inboxes, data)?,
    ])
}

impl CollectionChange {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        Ok(())
    }

    /// Does what the activity asks, sent straight by a moderator: a pin or unpin in one of
    /// our forums (relayed to its followers) when they moderate it. Our forums' moderators
    /// are appointed here only.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let relay = relay_of(&self, &self.actor)?;
        if self.target.path().ends_with("/featured") {
            return featured_change(&self, Some(relay), None, data).await;
        }
        Err(FederationError::forbidden(
            "admin_only",
            format!(
                "{} is not a collection changed here from elsewhere",
                self.target
            ),
        ))
    }
}

/// A pin or unpin: `change.object` (a thread's `Page`) added to or removed from the `featured`
/// collection of its forum, by a moderator (vouched for like a lock, see `receive_pin`).
async fn featured_change(
    change: &CollectionChange,
    relay: Option<Relay>,
    announced_by: Option<&Url>,
    data: &Data<Site>,
) -> Result<(), FederationError> {
    let post = known_post(&change.object, data).await?;
    let forum_of_post = url(&data.urls().forum(&post.forum))?;
    // The collection is the thread's own forum's.
    verify_urls_match(&change.target, &url(&format!("{forum_of_post}/featured"))?)?;
    let announced_by = match announced_by {
        Some(forum) => {
            verify_urls_match(forum, &forum_of_post)?;
            Some(post.forum.id)
        }
        None => None,
    };
    let moderator = ObjectId::<ApUser>::from(change.actor.clone())
        .dereference(data)
        .await?;
    let pinned = change.kind == AddOrRemove::Add;
    let opens = data
        .receive_pin(moderator.user, post.post.id, pinned, announced_by, relay)
        .await?;
    if !opens {
        tracing::info!(id = %change.id, object = %change.object, "pin of a reply left aside: only threads are pinned here");
    }
    Ok(())
}

/// An `Add` or `Remove` a forum passed on: of a person to its own `moderators`, or of one of
/// its threads to its `featured` (pinned); to anything else, acknowledged and left aside.
pub async fn announced_collection_change(
    inner: Value,
    forum: &Url,
    data: &Data<Site>,
) -> Result<(), FederationError> {
    let change: CollectionChange = serde_json::from_value(inner)?;
    if change.target == url(&format!("{forum}/featured"))? {
        return featured_change(&change, None, Some(forum), data).await;
    }
    let moderators = url(&format!("{forum}/moderators"))?;
    if change.target != moderators {
        tracing::info!(%forum, target = %change.target, "change to a forum's collection left aside: only its moderators and featured threads are taken");
        return Ok(());
    }
    let Some(forum_row) = data.forum_by_ap_id(forum.to_string()).await? else {
        return Err(FederationError::forbidden(
            "not_followed",
            format!("Nobody here follows {forum}"),
        ));
    };
    let person = person_at(&change.object, data).await?;
    data.receive_moderator_change(forum_row.id, person, change.kind == AddOrRemove::Add)
        .await?;
    Ok(())
}

/// Whether a `Delete` by `actor` of `target` is a moderator's removal: the post is known here
/// and `actor` is not its author. (A post unknown here is left to the deletion path, which
/// ignores it.)
pub(crate) async fn is_removal(actor: &Url, target: &Url, data: &Data<Site>) -> bool {
    match known_post(target, data).await {
        Ok(post) => data.urls().user(&post.author) != actor.as_str(),
        Err(_) => false,
    }
}

/// A moderator's removal (`removed`) or restoring of the post `target`, received straight from
/// them (`relay` for our forum's followers) or passed on by the forum `announced_by`.
pub(crate) async fn removal(
    actor: &Url,
    target: &Url,
    why: Option<String>,
    removed: bool,
    relay: Option<Relay>,
    announced_by: Option<&Url>,
    data: &Data<Site>,
) -> Result<(), FederationError> {
    let post = known_post(target, data).await?;
    let announced_by = match announced_by {
        Some(forum) => {
            let forum_of_post = url(&data.urls().forum(&post.forum))?;
            verify_urls_match(forum, &forum_of_post)?;
            Some(post.forum.id)
        }
        None => None,
    };
    let moderator = ObjectId::<ApUser>::from(actor.clone())
        .dereference(data)
        .await?;
    data.receive_removal(
        moderator.user,
        post.post.id,
        removed,
        why,
        announced_by,
        relay,
    )
    .await?;
    Ok(())
}

impl UndoDelete {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        Ok(())
    }

    /// Does what the activity asks: restores a post a moderator removed.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let relay = relay_of(&self, &self.actor)?;
        let target = self.object.object.id().clone();
        removal(
            &self.actor,
            &target,
            self.summary.clone(),
            false,
            Some(relay),
            None,
            data,
        )
        .await
    }
}

/// What a moderator's removal (or restoring) of a post becomes: a `Delete` of it by the
/// moderator with the reason as `summary` (or an `Undo` of one), announced by our forum to its
/// followers, or sent to the forum elsewhere that they moderate.
pub async fn plan_removal(
    post_id: i64,
    moderator_id: i64,
    removed: bool,
    reason: &str,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let ctx = match data.post(post_id, None).await {
        Ok(ctx) => ctx,
        Err(crate::error::ForumError::NotFound { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let object = data.urls().post(&ctx.post);
    moderators_act(
        &ctx,
        moderator_id,
        ("Delete", object, None),
        !removed,
        reason,
        data,
    )
    .await
}

/// The person a URL names: one of ours, or someone elsewhere (fetched when not known).
pub(crate) async fn person_at(
    person: &Url,
    data: &Data<Site>,
) -> Result<crate::forum::User, FederationError> {
    Ok(match local_name(data, person, "/u/") {
        Some(name) => data.local_user(name).await?,
        None => {
            ObjectId::<ApUser>::from(person.clone())
                .dereference(data)
                .await?
                .user
        }
    })
}

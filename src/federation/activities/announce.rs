//! A forum passing on what it accepted (FEP-1b12 `Announce`): received, the announced
//! activity is handled as if sent to us directly, its object fetched again from its own
//! origin; sent, a local forum relays to its followers what people elsewhere wrote in it.

use activitypub_federation::config::Data;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::protocol::verification::verify_urls_match;
use serde::Serialize;
use serde_json::{json, Value};
use url::Url;

use crate::federation::activities::moderation;
use crate::federation::activities::posts::{
    delete_post, fetch_post, from_origin, refused, store_post, Reach, PARENT_DEPTH,
};
use crate::federation::actors::ApForum;
use crate::federation::error::FederationError;
use crate::federation::outgoing::{planned, url, Readers};
use crate::federation::protocol::activities::{
    Announce, CreateOrUpdate, CreateOrUpdateKind, Delete, UndoDelete,
};
use crate::federation::protocol::{PostObject, PUBLIC};
use crate::federation::same_origin;
use crate::forum::incoming::Relay;
use crate::forum::outbox::{PlannedActivity, Signer};
use crate::forum::remote::domain_of;
use crate::forum::Site;

pub(crate) fn relay_of<T: Serialize>(activity: &T, actor: &Url) -> Result<Relay, FederationError> {
    Ok(Relay {
        activity: serde_json::to_string(activity)?,
        origin: domain_of(actor).unwrap_or_default(),
    })
}

impl Announce {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        Ok(())
    }

    /// Does what the activity asks.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let forum = ObjectId::<ApForum>::from(self.actor.clone())
            .dereference(data)
            .await
            .map_err(|_| refused("not_a_forum", format!("{} is not a forum", self.actor)))?;
        // Taken from a forum someone here follows, or one with a thread someone here follows
        // (what lands must then answer a thread already here: a new thread of that forum
        // finds no forum followed to land in).
        let followed = forum.forum.local_followers > 0
            || (!forum.forum.local && data.thread_followed_in_forum(forum.forum.id).await?);
        if forum.forum.local || !followed {
            return Err(FederationError::forbidden(
                "not_followed",
                format!("Nobody here follows {}", self.actor),
            ));
        }
        match &self.object {
            Value::String(id) => {
                let object = fetch_post(&Url::parse(id)?, data).await?;
                store_post(object, None, false, PARENT_DEPTH, Reach::Followed, data).await?;
            }
            Value::Object(map) if map.contains_key("actor") => {
                announced_activity(self.object.clone(), &self.actor, data).await?;
            }
            Value::Object(_) => {
                let object: PostObject = serde_json::from_value(self.object.clone())?;
                let object = from_origin(object, &self.actor, data).await?;
                store_post(object, None, false, PARENT_DEPTH, Reach::Followed, data).await?;
            }
            _ => return Err(refused("invalid_activity", "Announce of nothing")),
        }
        Ok(())
    }
}

/// An activity a forum passed on: posts and their edits and deletions, votes, locks and
/// changes of moderators are taken; other kinds are acknowledged and left aside, with a log
/// line.
async fn announced_activity(
    inner: Value,
    forum: &Url,
    data: &Data<Site>,
) -> Result<(), FederationError> {
    let kind = inner
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match kind.as_str() {
        "Create" | "Update" => {
            let activity: CreateOrUpdate = serde_json::from_value(inner)?;
            verify_urls_match(&activity.actor, &activity.object.attributed_to)?;
            let object = from_origin(activity.object, forum, data).await?;
            verify_urls_match(&activity.actor, &object.attributed_to)?;
            store_post(
                object,
                None,
                activity.kind == CreateOrUpdateKind::Update,
                PARENT_DEPTH,
                Reach::Followed,
                data,
            )
            .await?;
        }
        "Delete" => {
            let activity: Delete = serde_json::from_value(inner)?;
            let target = activity.object.id().clone();
            if moderation::is_removal(&activity.actor, &target, data).await {
                return moderation::removal(
                    &activity.actor,
                    &target,
                    activity.summary,
                    true,
                    None,
                    Some(forum),
                    data,
                )
                .await;
            }
            if same_origin(&target, forum).is_err() {
                // Only the post's own server can say it is gone: ask it.
                match fetch_post(&target, data).await {
                    Err(FederationError::Protocol(
                        activitypub_federation::error::Error::ObjectDeleted(_)
                        | activitypub_federation::error::Error::NotFound,
                    )) => {}
                    Ok(_) => {
                        return Err(FederationError::forbidden(
                            "not_deleted",
                            format!("{target} still exists where it lives"),
                        ))
                    }
                    Err(e) => return Err(e),
                }
            }
            delete_post(&activity.actor, &target, None, data).await?;
        }
        "Lock" => crate::federation::activities::moderation::announced(inner, forum, data).await?,
        "Add" | "Remove" => {
            crate::federation::activities::moderation::announced_collection_change(
                inner, forum, data,
            )
            .await?
        }
        "Block" => crate::federation::activities::bans::announced_ban(inner, forum, data).await?,
        "Undo" if inner["object"]["type"] == "Block" => {
            crate::federation::activities::bans::announced_ban(inner, forum, data).await?
        }
        "Undo" if inner["object"]["type"] == "Lock" => {
            crate::federation::activities::moderation::announced(inner, forum, data).await?
        }
        "Undo" if inner["object"]["type"] == "Delete" => {
            let undo: UndoDelete = serde_json::from_value(inner)?;
            let target = undo.object.object.id().clone();
            moderation::removal(
                &undo.actor,
                &target,
                undo.summary,
                false,
                None,
                Some(forum),
                data,
            )
            .await?
        }
        "Like" | "Dislike" | "Undo" => {
            crate::federation::activities::votes::announced(inner, forum, data).await?
        }
        other => {
            tracing::info!(%forum, kind = other, "announced activity left aside: not taken here");
        }
    }
    Ok(())
}

/// Our forum passes on an activity it received to `readers`, its followers (and the
/// thread's) but for the server the activity came from.
pub(crate) fn plan_relay(
    forum: &crate::forum::Forum,
    activity: &str,
    readers: Readers,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let forum_url = url(&data.urls().forum(forum))?;
    let object: Value = serde_json::from_str(activity)?;
    // A new thread also goes as the post itself (by its id: we are not where it lives) to the
    // servers that show only that (see federation::software).
    let thread = (object["type"] == "Create" && object["object"]["inReplyTo"].is_null())
        .then(|| object["object"]["id"].clone())
        .filter(Value::is_string);
    let Some(thread) = thread else {
        return Ok(vec![announce(
            forum.id,
            &forum_url,
            object,
            readers.all(),
            data,
        )?]);
    };
    let mut out = vec![announce(
        forum.id,
        &forum_url,
        object,
        readers.activities,
        data,
    )?];
    if !readers.objects.is_empty() {
        out.push(announce(
            forum.id,
            &forum_url,
            thread,
            readers.objects,
            data,
        )?);
    }
    Ok(out)
}

/// Our forum `forum_id` (at `forum_url`) passing `object` on to `inboxes` (FEP-1b12).
pub(crate) fn announce(
    forum_id: i64,
    forum_url: &Url,
    object: Value,
    inboxes: Vec<Url>,
    data: &Data<Site>,
) -> Result<PlannedActivity, FederationError> {
    let id = data.new_activity_id("announce");
    let body = json!({
        "type": "Announce",
        "id": id,
        "actor": forum_url,
        "object": object,
        "to": [PUBLIC],
        "cc": [format!("{forum_url}/followers")],
        "audience": forum_url,
    });
    planned(&id, "Announce", Signer::Forum(forum_id), &body, inboxes)
}

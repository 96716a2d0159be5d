//! Bans on the wire, in Lemmy's form: `Block` of a person by a moderator, `target` the forum
//! or a whole instance, `summary` the reason, `removeData`, the end as `endTime` (Lemmy) or
//! `expires` (Mbin); `Undo(Block)` lifts it. Taken from a forum's moderators (then relayed to
//! our forum's followers) or as the forum's announcement; a ban from a whole instance only from
//! the banned person's own server. Sent by moderators here as [`plan_ban`] says.

use activitypub_federation::config::Data;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::protocol::verification::verify_urls_match;
use serde_json::{json, Value};
use url::Url;

use crate::federation::activities::announce::{announce, relay_of};
use crate::federation::activities::moderation::person_at;
use crate::federation::actors::{local_name, ApUser};
use crate::federation::error::FederationError;
use crate::federation::outgoing::{
    follower_readers, person_inbox, planned, remote_forum_inboxes, url,
};
use crate::federation::protocol::activities::{Block, UndoBlock};
use crate::federation::protocol::PUBLIC;
use crate::forum::incoming::Relay;
use crate::forum::moderation::ReceivedBan;
use crate::forum::outbox::{PlannedActivity, Signer};
use crate::forum::Site;

/// A ban (`banned`) or its lifting, received straight from the moderator (`relay` for our
/// forum's followers) or passed on by the forum `announced_by`. A ban from a forum known here
/// is taken from its moderators; a ban from a whole instance only from the banned person's own
/// server (actor, person and target on one domain), which then holds here too; anything else
/// (another server's ban from itself) is acknowledged and left aside.
async fn apply_block(
    block: &Block,
    banned: bool,
    relay: Option<Relay>,
    announced_by: Option<&Url>,
    data: &Data<Site>,
) -> Result<(), FederationError> {
    let forum = match local_name(data, &block.target, "/f/") {
        Some(name) => Some(data.forum(name).await?),
        None => data.forum_by_ap_id(block.target.to_string()).await?,
    };
    let forum_id = match &forum {
        Some(forum) => Some(forum.id),
        None => {
            let domain = crate::forum::remote::domain_of;
            let home = domain(&block.target);
            if home.is_none() || home != domain(&block.actor) || home != domain(&block.object) {
                tracing::info!(id = %block.id, target = %block.target, "ban from somewhere not known here left aside");
                return Ok(());
            }
            None
        }
    };
    let announced_by = match (announced_by, &forum) {
        (Some(by), Some(forum)) => {
            verify_urls_match(by, &url(&data.urls().forum(forum))?)?;
            Some(forum.id)
        }
        _ => None,
    };
    let person = person_at(&block.object, data).await?;
    let moderator = ObjectId::<ApUser>::from(block.actor.clone())
        .dereference(data)
        .await?;
    data.receive_ban(
        moderator.user,
        ReceivedBan {
            forum_id,
            person,
            banned,
            reason: block.summary.clone(),
            expires_at: block.ends().map(|at| at.naive_utc()),
            remove_content: banned && block.remove_data == Some(true),
        },
        announced_by,
        relay,
    )
    .await?;
    Ok(())
}

impl Block {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        Ok(())
    }

    /// Does what the activity asks.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let relay = relay_of(&self, &self.actor)?;
        apply_block(&self, true, Some(relay), None, data).await
    }
}

impl UndoBlock {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        Ok(())
    }

    /// Does what the activity asks: lifts the ban, as the Undo's actor (any moderator may
    /// lift what another imposed).
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let relay = relay_of(&self, &self.actor)?;
        let block = Block {
            actor: self.actor.clone(),
            ..self.object.clone()
        };
        apply_block(&block, false, Some(relay), None, data).await
    }
}

/// A ban (or its lifting) that a forum passed on.
pub async fn announced_ban(
    inner: Value,
    forum: &Url,
    data: &Data<Site>,
) -> Result<(), FederationError> {
    if inner.get("type").and_then(Value::as_str) == Some("Undo") {
        let undo: UndoBlock = serde_json::from_value(inner)?;
        let block = Block {
            actor: undo.actor.clone(),
            ..undo.object
        };
        apply_block(&block, false, None, Some(forum), data).await
    } else {
        let block: Block = serde_json::from_value(inner)?;
        apply_block(&block, true, None, Some(forum), data).await
    }
}

/// A ban (or its lifting) made here, to tell elsewhere.
#[derive(Debug)]
pub struct BanSent<'a> {
    /// The forum; `None`: the instance.
    pub forum_id: Option<i64>,
    /// Who.
    pub person_id: i64,
    /// The moderator.
    pub moderator_id: i64,
    /// Banned, or lifted.
    pub banned: bool,
    /// Why.
    pub reason: &'a str,
    /// Until when.
    pub expires_at: Option<chrono::NaiveDateTime>,
    /// Their posts there were removed with it.
    pub remove_content: bool,
}

/// What a ban (or its lifting) becomes: the moderator's `Block` (or `Undo` of one) of the
/// person, `target` the forum or our instance actor, the reason as `summary`, the end as both
/// `endTime` and `expires`. From one of our forums it is announced by the forum to its
/// followers and sent to the person's server; to a forum elsewhere that the moderator
/// moderates it is sent, for that forum to apply and pass on; from the whole instance it goes
/// to the person's server, or for one of our people to every server following our forums.
pub async fn plan_ban(
    ban: BanSent<'_>,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let (Some(person), Some(moderator)) = (
        data.user_by_id(ban.person_id).await?,
        data.user_by_id(ban.moderator_id).await?,
    ) else {
        return Ok(Vec::new());
    };
    let forum = match ban.forum_id {
        Some(id) => match data.forum_by_id(id).await? {
            Some(forum) => Some(forum),
            None => return Ok(Vec::new()),
        },
        None => None,
    };
    let urls = data.urls();
    let actor = url(&urls.user(&moderator))?;
    let target = match &forum {
        Some(forum) => url(&urls.forum(forum))?,
        None => url(&urls.absolute("/actor"))?,
    };
    let block_id = data.new_activity_id("block");
    let mut block = json!({
        "type": "Block",
        "id": block_id,
        "actor": actor,
        "object": url(&urls.user(&person))?,
        "target": target,
        "to": [PUBLIC],
        "cc": [target],
        "removeData": ban.remove_content,
    });
    if forum.is_some() {
        block["audience"] = json!(target);
    }
    if !ban.reason.is_empty() {
        block["summary"] = json!(ban.reason);
    }
    if let Some(at) = ban.expires_at {
        let at = at
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        block["endTime"] = json!(at);
        block["expires"] = json!(at);
    }
    let (id, kind, body) = if ban.banned {
        (block_id, "Block", block)
    } else {
        let id = data.new_activity_id("undo");
        let mut undo = json!({
            "type": "Undo",
            "id": id,
            "actor": actor,
            "object": block,
            "to": [PUBLIC],
            "cc": [target],
        });
        if forum.is_some() {
            undo["audience"] = json!(target);
        }
        (id, "Undo", undo)
    };
    let signer = Signer::User(moderator.id);
    let persons_inbox = person_inbox(&person)?;
    match forum {
        Some(forum) if !forum.local => {
            let inboxes = remote_forum_inboxes(&forum, &target, Some(&person))?;
            Ok(vec![planned(&id, kind, signer, &body, inboxes)?])
        }
        Some(forum) => {
            let inboxes = follower_readers(forum.id, None, data).await?.all();
            Ok(vec![
                planned(
                    &id,
                    kind,
                    signer,
                    &body,
                    persons_inbox.into_iter().collect(),
                )?,
                announce(forum.id, &target, body.clone(), inboxes, data)?,
            ])
        }
        None => {
            let inboxes = match persons_inbox {
                Some(inbox) => vec![inbox],
                None => {
                    let mut all = Vec::new();
                    for forum in data.forums(None).await?.into_iter().filter(|f| f.local) {
                        all.extend(follower_readers(forum.id, None, data).await?.all());
                    }
                    all.sort();
                    all.dedup();
                    all
                }
            };
            Ok(vec![planned(&id, kind, signer, &body, inboxes)?])
        }
    }
}

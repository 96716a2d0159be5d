//! Receiving activities, one file per family: [`following`] (Follow, Accept, Reject, Undo),
//! [`posts`] (Create, Update, Delete of threads and replies), [`announce`] (a forum passing
//! on what it accepted, FEP-1b12), [`votes`] (Like and its Undo), [`moderation`] (Lock and
//! its Undo, removals, moderators), [`bans`] (Block), [`reports`] (Flag) and [`accounts`]
//! (the Delete of a person). Each family also builds
//! what it sends; `outgoing` says which family plans which event.
//!
//! The families need not implement the crate's `Activity` trait: only [`InboxActivity`] is
//! received through it, and it calls each family's `verify` and `receive`.
//!
//! Here: what every incoming activity goes through ([`InboxActivity`]: its id and actor must
//! share a server, a repeat is acknowledged and ignored), and the refusal of anything else.

pub mod accounts;
pub mod announce;
pub mod backfill;
pub mod bans;
pub mod following;
pub mod moderation;
pub mod posts;
pub mod reports;
pub mod votes;

use activitypub_federation::config::Data;
use activitypub_federation::traits::Activity;
use async_trait::async_trait;
use serde_json::Value;
use url::Url;

use crate::federation::error::FederationError;
use crate::federation::protocol::activities::{
    Accept, Announce, Block, CollectionChange, CreateOrUpdate, Delete, Flag, Follow, InboxActivity,
    Lock, Reject, Resolve, UndoBlock, UndoDelete, UndoFollow, UndoLock, UndoVote, Unrecognised,
    Vote,
};
use crate::federation::same_origin;
use crate::forum::Site;

impl Unrecognised {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
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
                .and(serde_json::from_value::<UndoVote>(whole.clone()).err())
                .and(serde_json::from_value::<UndoLock>(whole.clone()).err())
                .and(serde_json::from_value::<UndoBlock>(whole.clone()).err())
                .and(serde_json::from_value::<UndoDelete>(whole).err()),
            "Lock" => serde_json::from_value::<Lock>(whole).err(),
            "Block" => serde_json::from_value::<Block>(whole).err(),
            "Flag" => serde_json::from_value::<Flag>(whole).err(),
            "Add" | "Remove" => serde_json::from_value::<CollectionChange>(whole).err(),
            "Resolve" => serde_json::from_value::<Resolve>(whole).err(),
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

    /// Does what the activity asks.
    pub(crate) async fn receive(self, _data: &Data<Site>) -> Result<(), FederationError> {
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
        self.id_and_actor().0
    }

    fn actor(&self) -> &Url {
        self.id_and_actor().1
    }

    async fn verify(&self, data: &Data<Site>) -> Result<(), FederationError> {
        same_origin(self.id(), self.actor())?;
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
            InboxActivity::Lock(a) => a.verify(data).await,
            InboxActivity::UndoLock(a) => a.verify(data).await,
            InboxActivity::UndoDelete(a) => a.verify(data).await,
            InboxActivity::Block(a) => a.verify(data).await,
            InboxActivity::UndoBlock(a) => a.verify(data).await,
            InboxActivity::Flag(a) => a.verify(data).await,
            InboxActivity::CollectionChange(a) => a.verify(data).await,
            InboxActivity::Resolve(a) => a.verify(data).await,
            InboxActivity::Unrecognised(a) => a.verify(data).await,
        }
    }

    async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        self.receive_signed(None, data).await
    }
}

impl InboxActivity {
    /// Does what the activity asks, `signer` being its actor as read when its signature was
    /// checked, when that is a person stored here (so that it need not be read again).
    pub(crate) async fn receive_signed(
        self,
        signer: Option<crate::forum::User>,
        data: &Data<Site>,
    ) -> Result<(), FederationError> {
        let id = self.id().to_string();
        if let Some(domain) = crate::forum::remote::domain_of(self.actor()) {
            data.heard_from(domain).await?;
        }
        // The most common activity by far, a reply from the server it lives on, takes one step
        // that checks for a repeat and records its receipt itself.
        if let InboxActivity::CreateOrUpdate(a) = &self {
            if a.receive_at_once(signer, data).await? {
                return Ok(());
            }
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
            InboxActivity::Lock(a) => a.receive(data).await?,
            InboxActivity::UndoLock(a) => a.receive(data).await?,
            InboxActivity::UndoDelete(a) => a.receive(data).await?,
            InboxActivity::Block(a) => a.receive(data).await?,
            InboxActivity::UndoBlock(a) => a.receive(data).await?,
            InboxActivity::Flag(a) => a.receive(data).await?,
            InboxActivity::CollectionChange(a) => a.receive(data).await?,
            InboxActivity::Resolve(a) => a.receive(data).await?,
            InboxActivity::Unrecognised(a) => a.receive(data).await?,
        }
        data.first_receipt(id).await?;
        Ok(())
    }
}

impl InboxActivity {
    /// The activity's id and actor, whatever its type.
    fn id_and_actor(&self) -> (&Url, &Url) {
        match self {
            InboxActivity::Follow(a) => (&a.id, &a.actor),
            InboxActivity::Accept(a) => (&a.id, &a.actor),
            InboxActivity::Reject(a) => (&a.id, &a.actor),
            InboxActivity::UndoFollow(a) => (&a.id, &a.actor),
            InboxActivity::CreateOrUpdate(a) => (&a.id, &a.actor),
            InboxActivity::Delete(a) => (&a.id, &a.actor),
            InboxActivity::Announce(a) => (&a.id, &a.actor),
            InboxActivity::Vote(a) => (&a.id, &a.actor),
            InboxActivity::UndoVote(a) => (&a.id, &a.actor),
            InboxActivity::Lock(a) => (&a.id, &a.actor),
            InboxActivity::UndoLock(a) => (&a.id, &a.actor),
            InboxActivity::UndoDelete(a) => (&a.id, &a.actor),
            InboxActivity::Block(a) => (&a.id, &a.actor),
            InboxActivity::UndoBlock(a) => (&a.id, &a.actor),
            InboxActivity::Flag(a) => (&a.id, &a.actor),
            InboxActivity::CollectionChange(a) => (&a.id, &a.actor),
            InboxActivity::Resolve(a) => (&a.id, &a.actor),
            InboxActivity::Unrecognised(a) => (&a.id, &a.actor),
        }
    }
}

//! "Helpful" on the wire: `Like` (and its `Undo`) of a post, sent to the post's forum and
//! relayed by it like any other activity. `Dislike` (Lemmy's downvote) is acknowledged and
//! left aside: Staffroom has no such thing, and a dislike must never count as a like.

use activitypub_federation::config::Data;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::protocol::verification::verify_urls_match;
use serde_json::{json, Value};
use url::Url;

use crate::federation::activities::announce::{announce, relay_of};
use crate::federation::activities::posts::known_post;
use crate::federation::actors::ApUser;
use crate::federation::error::FederationError;
use crate::federation::outgoing::{planned, remote_forum_inboxes, thread_readers, url};
use crate::federation::protocol::activities::{UndoVote, Vote, VoteKind};
use crate::federation::protocol::PUBLIC;
use crate::forum::incoming::Relay;
use crate::forum::outbox::{PlannedActivity, Signer};
use crate::forum::Site;

async fn apply(
    vote: &Vote,
    undo: bool,
    relay: Option<Relay>,
    announced_by: Option<&Url>,
    data: &Data<Site>,
) -> Result<(), FederationError> {
    if vote.kind == VoteKind::Dislike {
        tracing::info!(id = %vote.id, "dislike left aside: not counted here");
        return Ok(());
    }
    let post = known_post(&vote.object, data).await?;
    if let Some(forum) = announced_by {
        // A forum vouches only for marks on posts in itself.
        let forum_of_post = url(&data.urls().forum(&post.forum))?;
        verify_urls_match(forum, &forum_of_post)?;
    }
    let person = ObjectId::<ApUser>::from(vote.actor.clone())
        .dereference(data)
        .await?;
    if undo {
        data.receive_unhelpful(person.user, post.post.id, relay)
            .await?;
    } else {
        data.receive_helpful(person.user, post.post.id, vote.id.to_string(), relay)
            .await?;
    }
    Ok(())
}

impl Vote {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        Ok(())
    }

    /// Does what the activity asks.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let relay = relay_of(&self, &self.actor)?;
        apply(&self, false, Some(relay), None, data).await
    }
}

impl UndoVote {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        // Only the voter may take a vote back.
        verify_urls_match(&self.actor, &self.object.actor)?;
        Ok(())
    }

    /// Does what the activity asks.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let relay = relay_of(&self, &self.actor)?;
        apply(&self.object, true, Some(relay), None, data).await
    }
}

/// A vote (or its undoing) that a forum passed on.
pub async fn announced(
    inner: Value,
    forum: &Url,
    data: &Data<Site>,
) -> Result<(), FederationError> {
    match inner.get("type").and_then(Value::as_str) {
        Some("Undo") => {
            let undo: UndoVote = serde_json::from_value(inner)?;
            verify_urls_match(&undo.actor, &undo.object.actor)?;
            apply(&undo.object, true, None, Some(forum), data).await
        }
        _ => {
            let vote: Vote = serde_json::from_value(inner)?;
            apply(&vote, false, None, Some(forum), data).await
        }
    }
}

/// What a local person's mark (or unmark) becomes: a `Like` (or `Undo` of it) to the post's
/// forum, which relays it; announced straight to the followers when the forum is ours.
pub async fn plan_vote(
    post_id: i64,
    user_id: i64,
    like_ap_id: &str,
    undo: bool,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let ctx = match data.post(post_id, None).await {
        Ok(ctx) => ctx,
        Err(crate::error::ForumError::NotFound { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let Some(user) = data.user_by_id(user_id).await? else {
        return Ok(Vec::new());
    };
    let urls = data.urls();
    let actor = url(&urls.user(&user))?;
    let forum_url = url(&urls.forum(&ctx.forum))?;
    let like = json!({
        "type": "Like",
        "id": like_ap_id,
        "actor": actor,
        "object": urls.post(&ctx.post),
        "to": [forum_url, PUBLIC],
        "audience": forum_url,
    });
    let (id, kind, body) = if undo {
        let id = data.new_activity_id("undo");
        let body = json!({
            "type": "Undo",
            "id": id,
            "actor": actor,
            "object": like,
            "to": [forum_url, PUBLIC],
            "audience": forum_url,
        });
        (id, "Undo", body)
    } else {
        (like_ap_id.to_string(), "Like", like)
    };
    if !ctx.forum.local {
        let inboxes = remote_forum_inboxes(&ctx.forum, &forum_url, Some(&ctx.author))?;
        return Ok(vec![planned(
            &id,
            kind,
            Signer::User(user.id),
            &body,
            inboxes,
        )?]);
    }
    let inboxes = thread_readers(ctx.forum.id, ctx.thread.id, None, data)
        .await?
        .all();
    Ok(vec![
        planned(&id, kind, Signer::User(user.id), &body, Vec::new())?,
        announce(ctx.forum.id, &forum_url, body.clone(), inboxes, data)?,
    ])
}

//! Threads and replies on the wire: `Create`, `Update` and `Delete` of posts, in both directions,
//! and posts found by address or read from a followed forum's outbox.
//!
//! Incoming, an object is trusted only from its own origin: a `Create` must come from the
//! object's author, and an object embedded by another server (a forum announcing a post
//! written elsewhere) is fetched again from where it lives. A reply's thread is found by
//! walking `inReplyTo` (Lemmy gives every post its own `context`), fetching unknown parents up
//! to a few levels. Mastodon replies addressed only to the author land the same way.

use activitypub_federation::config::Data;
use activitypub_federation::fetch::fetch_object_http;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::protocol::verification::verify_urls_match;
use serde_json::json;
use url::Url;

use crate::error::ForumError;
use crate::federation::activities::announce::{announce, relay_of};
use crate::federation::actors::{local_name, ApForum, ApUser};
use crate::federation::error::FederationError;
use crate::federation::objects::{note_json, page_json, parent_of};
use crate::federation::outgoing::{
    person_inbox, planned, remote_forum_inboxes, thread_readers, url,
};
use crate::federation::protocol::activities::{CreateOrUpdate, CreateOrUpdateKind, Delete};
use crate::federation::protocol::{PostKind, PostObject, PUBLIC};
use crate::federation::same_origin;
use crate::forum::incoming::{
    Answered, DirectOutcome, DirectReply, IncomingPost, Placement, Relay,
};
use crate::forum::outbox::{PlannedActivity, PostAction, Signer};
use crate::forum::remote::domain_of;
use crate::forum::threads::PostContext;
use crate::forum::Site;

/// Which forums a new thread from elsewhere may be stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach<'a> {
    /// Ours, and remote forums someone here follows (what forums announce, and what is read
    /// from their outboxes).
    Followed,
    /// Sent straight to one of our inboxes by this actor, not announced by any forum: like
    /// `Followed`, but a post may land in a remote forum only when the sender is that forum's
    /// own server. Anyone else must go through the forum, which announces what it accepts.
    Direct(&'a Url),
    /// Any forum, fetched if need be (what a person looks up on purpose).
    Any,
}

/// How far up a chain of unknown replies is fetched to find the thread.
pub(crate) const PARENT_DEPTH: u32 = 5;

pub(crate) fn refused(code: &'static str, message: impl Into<String>) -> FederationError {
    FederationError::refused(code, message)
}

/// Fetches a post from where it lives. An answer that is not such a post (a 404 page, the
/// wrong id) is a refusal the sender must not retry; a server that cannot be reached is a 502,
/// which it should.
pub(crate) async fn fetch_post(
    url: &Url,
    data: &Data<Site>,
) -> Result<PostObject, FederationError> {
    use activitypub_federation::error::Error as ApError;
    match fetch_object_http::<Site, PostObject>(url, data).await {
        Ok(res) => Ok(res.object),
        Err(
            ApError::ParseFetchedObject(..)
            | ApError::FetchInvalidContentType(_)
            | ApError::FetchWrongId(_),
        ) => Err(refused(
            "unverifiable_object",
            format!("{url} is not a post where it claims to live"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// `object` as its origin serves it: kept when it comes from the server that sent it to us,
/// fetched again from its own origin otherwise.
pub(crate) async fn from_origin(
    object: PostObject,
    sender: &Url,
    data: &Data<Site>,
) -> Result<PostObject, FederationError> {
    if same_origin(&object.id, sender).is_ok() {
        return Ok(object);
    }
    let fetched = fetch_post(&object.id, data).await?;
    verify_urls_match(&fetched.id, &object.id)?;
    Ok(fetched)
}

impl CreateOrUpdate {
    /// Checks what can be checked before anything is stored.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        // People write their own posts only.
        verify_urls_match(&self.actor, &self.object.attributed_to).map_err(|_| {
            FederationError::forbidden(
                "not_author",
                format!("{} did not write {}", self.actor, self.object.id),
            )
        })?;
        Ok(())
    }

    /// The usual case in one step (one database hop, with the check for a repeat and the record
    /// of receipt in it): a new reply, sent by its author from the server where it lives,
    /// answering a post already here in one of our forums. False when it is not that case, or
    /// something turned out to need the long way ([`CreateOrUpdate::receive`]).
    pub(crate) async fn receive_at_once(
        &self,
        signer: Option<crate::forum::User>,
        data: &Data<Site>,
    ) -> Result<bool, FederationError> {
        let object = &self.object;
        let Some(parent) = &object.in_reply_to else {
            return Ok(false);
        };
        let ours = |url: &Url| domain_of(url).as_deref() == Some(data.domain());
        if self.kind != CreateOrUpdateKind::Create
            || same_origin(&object.id, &self.actor).is_err()
            || !matches!(object.id.scheme(), "http" | "https")
            || ours(&object.id)
        {
            return Ok(false);
        }
        let answers = if ours(parent) {
            let mut parts = parent.path().trim_start_matches('/').splitn(2, '/');
            match (
                parts.next(),
                parts.next().and_then(|s| s.parse::<i64>().ok()),
            ) {
                (Some("t"), Some(id)) => Answered::OurThread(id),
                (Some("p"), Some(id)) => Answered::OurPost(id),
                _ => return Ok(false),
            }
        } else {
            Answered::Elsewhere(parent.to_string())
        };
        let outcome = data
            .receive_direct_reply(DirectReply {
                activity_id: self.id.to_string(),
                author: self.actor.to_string(),
                signer,
                answers,
                incoming: incoming_of(object, data),
                relay: relay_of(self, &self.actor)?,
            })
            .await?;
        Ok(outcome != DirectOutcome::LongWay)
    }

    /// Does what the activity asks.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let relay = relay_of(&self, &self.actor)?;
        let object = from_origin(self.object.clone(), &self.actor, data).await?;
        verify_urls_match(&self.actor, &object.attributed_to)?;
        let update = self.kind == CreateOrUpdateKind::Update;
        store_post(
            object,
            Some(relay),
            update,
            PARENT_DEPTH,
            Reach::Direct(&self.actor),
            data,
        )
        .await?;
        Ok(())
    }
}

impl Delete {
    /// Checks what can be checked before anything is stored. A `Delete` from another server
    /// than the post's can only be a moderator's removal, checked when it is received.
    pub(crate) async fn verify(&self, _data: &Data<Site>) -> Result<(), FederationError> {
        Ok(())
    }

    /// Does what the activity asks: its author deletes a post; anyone else is a moderator
    /// removing it.
    pub(crate) async fn receive(self, data: &Data<Site>) -> Result<(), FederationError> {
        let target = self.object.id();
        if target == &self.actor {
            // A person deleting themselves (their account is gone).
            return super::accounts::person_deleted(&self.actor, self.remove_data, data).await;
        }
        let relay = relay_of(&self, &self.actor)?;
        if crate::federation::activities::moderation::is_removal(&self.actor, target, data).await {
            return crate::federation::activities::moderation::removal(
                &self.actor,
                target,
                self.summary.clone(),
                true,
                Some(relay),
                None,
                data,
            )
            .await;
        }
        same_origin(target, &self.actor)?;
        delete_post(&self.actor, target, Some(relay), data).await
    }
}

/// A thread's forum among the addresses of a new post: one of ours, or a remote forum someone
/// here follows; or, for a thread sent to us because it mentions someone here, its forum
/// wherever it is (fetched; [`store_post`] then takes it only from that forum's own server).
async fn forum_addressed(
    object: &PostObject,
    reach: Reach<'_>,
    data: &Data<Site>,
) -> Result<crate::forum::Forum, FederationError> {
    let mentions_ours = object
        .tag
        .iter()
        .any(|m| local_name(data, &m.href, "/u/").is_some());
    let reach = match reach {
        Reach::Direct(_) if mentions_ours => Reach::Any,
        other => other,
    };
    let candidates = object
        .audience
        .iter()
        .chain(object.to.iter())
        .chain(object.cc.iter());
    for url in candidates {
        if url.as_str() == PUBLIC {
            continue;
        }
        let id = ObjectId::<ApForum>::from(url.clone());
        let found = match reach {
            Reach::Followed | Reach::Direct(_) => id.dereference_local(data).await,
            Reach::Any => id.dereference(data).await,
        };
        if let Ok(forum) = found {
            if forum.forum.local || forum.forum.local_followers > 0 || reach == Reach::Any {
                return Ok(forum.forum);
            }
        }
    }
    Err(refused(
        "no_forum",
        format!("{} is addressed to no forum here", object.id),
    ))
}

/// The local id of the post at `url`: ours, one stored already, or fetched (with its own
/// parents) from where it lives.
async fn locate(
    url: &Url,
    depth: u32,
    reach: Reach<'_>,
    data: &Data<Site>,
) -> Result<PostContext, FederationError> {
    if domain_of(url).as_deref() == Some(data.domain()) {
        let mut parts = url.path().trim_start_matches('/').splitn(2, '/');
        let (kind, id) = (
            parts.next(),
            parts.next().and_then(|s| s.parse::<i64>().ok()),
        );
        return match (kind, id) {
            (Some("t"), Some(id)) => Ok(data.opening_post(id).await?),
            (Some("p"), Some(id)) => Ok(data.post(id, None).await?),
            _ => Err(refused(
                "unknown_parent",
                format!("{url} is not a post here"),
            )),
        };
    }
    if let Some(ctx) = data.post_by_ap_id(url.to_string()).await? {
        return Ok(ctx);
    }
    if depth == 0 {
        return Err(refused(
            "unknown_parent",
            format!("{url} is too far up a chain of posts unknown here"),
        ));
    }
    let object = fetch_post(url, data).await?;
    // A parent is fetched from where it lives, so it is as good as announced.
    let reach = match reach {
        Reach::Direct(_) => Reach::Followed,
        other => other,
    };
    let ctx = Box::pin(store_post(object, None, false, depth - 1, reach, data)).await?;
    if ctx.post.is_opening && !ctx.thread.local {
        // A thread never seen here, reached through a reply or looked up by a person: its
        // whole conversation is read in from its context collection, in the background.
        data.fill_in_thread(ctx.thread.id, true);
    }
    Ok(ctx)
}

/// A post as the forum layer takes it, with the people of this instance it mentions.
fn incoming_of(object: &PostObject, data: &Data<Site>) -> IncomingPost {
    let markdown = object
        .source
        .as_ref()
        .filter(|s| s.media_type == "text/markdown")
        .map(|s| s.content.clone());
    IncomingPost {
        ap_id: object.id.to_string(),
        title: object.name.clone(),
        markdown,
        html: object.content.clone().unwrap_or_default(),
        published: object
            .published
            .map(|t| t.naive_utc())
            .unwrap_or_else(crate::forum::now),
        updated: object.updated.map(|t| t.naive_utc()),
        mentions: object
            .tag
            .iter()
            .filter_map(|m| local_name(data, &m.href, "/u/"))
            .collect(),
        context: object.context.as_ref().map(Url::to_string),
        quiet: false,
    }
}

/// Stores (or, for an update, edits) a post from elsewhere.
pub(crate) async fn store_post(
    object: PostObject,
    relay: Option<Relay>,
    update: bool,
    depth: u32,
    reach: Reach<'_>,
    data: &Data<Site>,
) -> Result<PostContext, FederationError> {
    store_post_with(object, relay, update, depth, reach, false, data).await
}

/// [`store_post`], telling the thread's watchers of a new post only unless `quiet` (an old
/// post read in while a conversation is filled in for the first time).
pub(crate) async fn store_post_with(
    object: PostObject,
    relay: Option<Relay>,
    update: bool,
    depth: u32,
    reach: Reach<'_>,
    quiet: bool,
    data: &Data<Site>,
) -> Result<PostContext, FederationError> {
    same_origin(&object.id, &object.attributed_to)?;
    // Its id becomes the "original" link under it: only a web address will do.
    if !matches!(object.id.scheme(), "http" | "https") {
        return Err(refused(
            "invalid_url",
            format!("{} is not an http or https address", object.id),
        ));
    }
    if domain_of(&object.id).as_deref() == Some(data.domain()) {
        // One of ours, coming back (a forum elsewhere announcing it): we have it.
        return locate(&object.id, 0, reach, data).await;
    }
    let author = ObjectId::<ApUser>::from(object.attributed_to.clone())
        .dereference(data)
        .await?;
    let incoming = IncomingPost {
        quiet,
        ..incoming_of(&object, data)
    };
    if let Some(existing) = data.post_by_ap_id(object.id.to_string()).await? {
        if update {
            data.receive_edit(author.user, incoming, relay).await?;
            return Ok(data.post(existing.post.id, None).await?);
        }
        return Ok(existing);
    }
    let (placement, forum) = match &object.in_reply_to {
        Some(parent) => {
            // A reply sent to us because it names someone here brings its thread along, as a
            // thread that does ([`forum_addressed`]).
            let parent_reach = match reach {
                Reach::Direct(_) if !incoming.mentions.is_empty() => Reach::Any,
                other => other,
            };
            let parent = locate(parent, depth, parent_reach, data).await?;
            (
                Placement::Reply {
                    parent_id: parent.post.id,
                },
                parent.forum,
            )
        }
        None => {
            if object.kind == PostKind::Note && object.name.is_none() {
                return Err(refused(
                    "not_a_thread",
                    format!("{} answers nothing and has no title", object.id),
                ));
            }
            let forum = forum_addressed(&object, reach, data).await?;
            (Placement::NewThread { forum_id: forum.id }, forum)
        }
    };
    if let Reach::Direct(sender) = reach {
        let forum_home = forum.ap_id.as_deref().and_then(|id| Url::parse(id).ok());
        let from_its_server = forum_home.is_some_and(|home| same_origin(&home, sender).is_ok());
        if !forum.local && !from_its_server {
            return Err(FederationError::forbidden(
                "not_from_forum",
                format!(
                    "{} would land in {}, which lives on another server: it must come announced \
                     by that forum",
                    object.id,
                    forum.ap_id.as_deref().unwrap_or("a remote forum")
                ),
            ));
        }
    }
    Ok(data
        .receive_post(author.user, placement, incoming, relay)
        .await?)
}

/// Deletes a post from elsewhere at its author's word.
pub(crate) async fn delete_post(
    actor: &Url,
    target: &Url,
    relay: Option<Relay>,
    data: &Data<Site>,
) -> Result<(), FederationError> {
    let Some(author) = data.user_by_ap_id(actor.to_string()).await? else {
        return Ok(());
    };
    match data.receive_delete(author, target.to_string(), relay).await {
        Ok(_) => Ok(()),
        Err(ForumError::Forbidden { code, message }) => {
            Err(FederationError::forbidden(code, message))
        }
        Err(e) => Err(e.into()),
    }
}

/// What a local post's creation, edit or deletion becomes.
pub async fn plan_post(
    post_id: i64,
    action: PostAction,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let ctx = match data.post(post_id, None).await {
        Ok(ctx) => ctx,
        Err(ForumError::NotFound { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    // Gone before it was announced: nothing of it may leave now.
    if !ctx.post.local || (ctx.post.deleted_at.is_some() && action != PostAction::Delete) {
        return Ok(Vec::new());
    }
    let urls = data.urls();
    let author = url(&urls.user(&ctx.author))?;
    let forum_url = url(&urls.forum(&ctx.forum))?;
    // The post a reply answers: read once, for the Note and for addressing.
    let parent = if ctx.post.is_opening {
        None
    } else {
        Some(parent_of(data, &ctx).await?)
    };
    let mentioned = data
        .mentioned(vec![ctx.post.id])
        .await?
        .remove(&ctx.post.id)
        .unwrap_or_default();
    let object = match &parent {
        None => serde_json::to_value(page_json(data, &ctx, &mentioned)?)?,
        Some(parent) => serde_json::to_value(note_json(data, &ctx, parent, &mentioned)?)?,
    };
    let object_id = object["id"].clone();
    let (kind, object) = match action {
        PostAction::Create => ("Create", object),
        PostAction::Update => ("Update", object),
        PostAction::Delete => (
            "Delete",
            json!({"type": "Tombstone", "id": object_id.clone()}),
        ),
    };
    let inner_id = data.new_activity_id(&kind.to_ascii_lowercase());
    let cc = if action == PostAction::Delete {
        json!([])
    } else {
        object["cc"].clone()
    };
    let inner = json!({
        "type": kind,
        "id": inner_id,
        "actor": author,
        "object": object,
        "to": [forum_url, PUBLIC],
        "cc": cc,
        "audience": forum_url,
    });
    if !ctx.forum.local {
        // To the forum's server, which relays it; and to the author answered, when they live
        // on yet another server.
        let answered = parent.as_ref().map(|p| &p.author);
        let mut inboxes = remote_forum_inboxes(&ctx.forum, &forum_url, answered)?;
        add_mentioned(&mut inboxes, &mentioned)?;
        return Ok(vec![planned(
            &inner_id,
            kind,
            Signer::User(ctx.author.id),
            &inner,
            inboxes,
        )?]);
    }
    // Our own forum: it announces the activity to every follower's server, and a new thread
    // also as the post itself to the servers that show only that (see federation::software).
    let readers = thread_readers(ctx.forum.id, ctx.thread.id, None, data).await?;
    let new_thread = action == PostAction::Create && ctx.post.is_opening;
    let (to_activity, to_object) = if new_thread {
        (readers.activities, readers.objects)
    } else {
        (readers.all(), Vec::new())
    };
    // The people it mentions elsewhere hear of it from its author, unless their server
    // follows the forum (and hears of it from the forum).
    let mut to_mentioned: Vec<Url> = to_activity.iter().chain(&to_object).cloned().collect();
    let following = to_mentioned.len();
    add_mentioned(&mut to_mentioned, &mentioned)?;
    let to_mentioned = to_mentioned.split_off(following);
    let mut out = vec![planned(
        &inner_id,
        kind,
        Signer::User(ctx.author.id),
        &inner,
        to_mentioned,
    )?];
    out.push(announce(
        ctx.forum.id,
        &forum_url,
        inner.clone(),
        to_activity,
        data,
    )?);
    if !to_object.is_empty() {
        out.push(announce(
            ctx.forum.id,
            &forum_url,
            inner["object"].clone(),
            to_object,
            data,
        )?);
    }
    Ok(out)
}

/// Adds to `inboxes` those of the people mentioned elsewhere whose servers are not among them
/// yet (one inbox a server).
fn add_mentioned(
    inboxes: &mut Vec<Url>,
    mentioned: &[crate::forum::User],
) -> Result<(), FederationError> {
    for person in mentioned {
        if let Some(inbox) = person_inbox(person)? {
            if !inboxes.iter().any(|i| domain_of(i) == domain_of(&inbox)) {
                inboxes.push(inbox);
            }
        }
    }
    Ok(())
}

/// The post at `url` (here or elsewhere), fetched and stored with its thread and forum if it is
/// not known yet: what `GET /api/v1/resolve` does with the address of a thread or reply.
pub async fn resolve_post(url: &Url, data: &Data<Site>) -> Result<PostContext, FederationError> {
    locate(url, PARENT_DEPTH, Reach::Any, data).await
}

/// A post already here (ours, or stored from elsewhere): what a `Like` may name.
pub(crate) async fn known_post(
    url: &Url,
    data: &Data<Site>,
) -> Result<PostContext, FederationError> {
    locate(url, 0, Reach::Followed, data).await
}

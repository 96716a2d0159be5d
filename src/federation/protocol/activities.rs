//! Every activity on the wire, in and out: following (`Follow`, `Accept`, `Reject`, `Undo`),
//! posts (`Create`, `Update`, `Delete`, and a forum's `Announce` of them, FEP-1b12) and votes
//! (`Like`, `Dislike` and their `Undo`), moderation (`Lock`, a moderator's `Delete`, and their
//! `Undo`s), with
//! [`InboxActivity`], everything an inbox takes.
//! What receiving each one does is in `federation::activities`, by family.
//!
//! Incoming activities are parsed leniently where other servers differ (an `Accept` may embed
//! the `Follow` or only name it) and strictly where it matters (the `type` must be the one
//! expected).

use activitypub_federation::kinds::activity::{
    AcceptType, AnnounceType, DeleteType, FollowType, RejectType, UndoType,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::PostObject;

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
    /// The Follow's id.
    pub fn id(&self) -> &Url {
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
    /// The follower.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub to: Vec<Url>,
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

/// `Lock`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum LockType {
    /// The only value.
    Lock,
}

/// `Lock` of a thread's opening post by a moderator (Lemmy's form; Lemmy 1.0 also locks a
/// reply, which has no meaning here). `summary` is the reason: PieFed and Mbin send none.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lock {
    /// `Lock`.
    #[serde(rename = "type")]
    pub kind: LockType,
    /// Activity id.
    pub id: Url,
    /// The moderator.
    pub actor: Url,
    /// The post locked.
    pub object: Url,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The public.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub to: Vec<Url>,
    /// The forum.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub cc: Vec<Url>,
    /// The forum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Url>,
}

/// `Undo` of a `Lock`: the thread unlocked (the reason, if any, in the Undo's `summary`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UndoLock {
    /// `Undo`.
    #[serde(rename = "type")]
    pub kind: UndoType,
    /// Activity id.
    pub id: Url,
    /// The moderator.
    pub actor: Url,
    /// The Lock undone.
    pub object: Lock,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The public.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub to: Vec<Url>,
    /// The forum.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub cc: Vec<Url>,
    /// The forum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Url>,
}

/// `Block`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum BlockType {
    /// The only value.
    Block,
}

/// `Block` of a person by a moderator: a ban from `target`, a forum or a whole instance
/// (Lemmy's form). `summary` is the reason, `removeData` asks for their posts there to be
/// removed too; the end is `endTime` (Lemmy) or `expires` (Mbin), PieFed sends both.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Block {
    /// `Block`.
    #[serde(rename = "type")]
    pub kind: BlockType,
    /// Activity id.
    pub id: Url,
    /// The moderator.
    pub actor: Url,
    /// The person banned.
    pub object: Url,
    /// The forum or instance they are banned from.
    pub target: Url,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Remove their posts there too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_data: Option<bool>,
    /// When the ban ends (Lemmy, PieFed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<chrono::DateTime<chrono::Utc>>,
    /// When the ban ends (Mbin, PieFed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<chrono::DateTime<chrono::Utc>>,
    /// The public.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub to: Vec<Url>,
    /// The forum.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub cc: Vec<Url>,
}

impl Block {
    /// When the ban ends, whichever way it is said (`expires` first, as PieFed reads it).
    pub fn ends(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.expires.or(self.end_time)
    }
}

/// `Undo` of a `Block`: the ban lifted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UndoBlock {
    /// `Undo`.
    #[serde(rename = "type")]
    pub kind: UndoType,
    /// Activity id.
    pub id: Url,
    /// The moderator.
    pub actor: Url,
    /// The Block undone.
    pub object: Block,
    /// The public.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub to: Vec<Url>,
    /// The forum.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub cc: Vec<Url>,
}

/// `Flag`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum FlagType {
    /// The only value.
    Flag,
}

/// `Flag`: a report of a post to its forum's moderators. Lemmy names one post in `object` and
/// puts the reason in `summary`; Mastodon names the person and posts in an array and puts the
/// reason in `content`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flag {
    /// `Flag`.
    #[serde(rename = "type")]
    pub kind: FlagType,
    /// Activity id.
    pub id: Url,
    /// Who reports (a person, or a server's own actor).
    pub actor: Url,
    /// What is reported.
    #[serde(deserialize_with = "one_or_many")]
    pub object: Vec<Url>,
    /// Why (Lemmy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Why (Mastodon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The forum (Lemmy), or the person reported (Mastodon).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub to: Vec<Url>,
}

/// The type `Resolve` (Lemmy's, not ActivityStreams').
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub enum ResolveType {
    /// `Resolve`.
    #[default]
    Resolve,
}

/// `Resolve` of a report (Lemmy): a moderator dealt with the `Flag` it names.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolve {
    /// `Resolve`.
    #[serde(rename = "type")]
    pub kind: ResolveType,
    /// Activity id.
    pub id: Url,
    /// The moderator.
    pub actor: Url,
    /// The `Flag` (whole, as Lemmy sends it, or its id).
    pub object: ObjectRef,
}

/// `Add` or `Remove`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum AddOrRemove {
    /// Into the collection.
    Add,
    /// Out of it.
    Remove,
}

/// `Add` or `Remove` of something to a forum's collection, as Lemmy sends them: a person to its
/// `moderators`, a post to its `featured` (pinned) threads. Taken as a forum's announcement.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionChange {
    /// Which.
    #[serde(rename = "type")]
    pub kind: AddOrRemove,
    /// Activity id.
    pub id: Url,
    /// Who changed it (a moderator).
    pub actor: Url,
    /// What is added or removed.
    pub object: Url,
    /// The collection.
    pub target: Url,
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
    /// A thread locked by a moderator.
    Lock(Lock),
    /// A thread unlocked (boxed: it carries its Lock whole).
    UndoLock(Box<UndoLock>),
    /// A removed post restored.
    UndoDelete(Box<UndoDelete>),
    /// A person banned.
    Block(Box<Block>),
    /// A ban lifted (boxed: it carries its Block whole).
    UndoBlock(Box<UndoBlock>),
    /// A report.
    Flag(Flag),
    /// A thread pinned (`Add` to a forum's `featured`), or a moderator appointed.
    CollectionChange(CollectionChange),
    /// A report dealt with (Lemmy).
    Resolve(Resolve),
    /// Anything else.
    Unrecognised(Unrecognised),
}

fn one_or_many<'de, D>(deserializer: D) -> Result<Vec<Url>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    activitypub_federation::protocol::helpers::deserialize_one_or_many(deserializer)
}

/// `Create` or `Update`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum CreateOrUpdateKind {
    /// New.
    Create,
    /// Edited.
    Update,
}

/// `Create` or `Update` of a thread or reply.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrUpdate {
    /// Which.
    #[serde(rename = "type")]
    pub kind: CreateOrUpdateKind,
    /// Activity id.
    pub id: Url,
    /// The author.
    pub actor: Url,
    /// The post.
    pub object: PostObject,
}

/// The object of a `Delete`: its id, or a `Tombstone` (or the object) carrying it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ObjectRef {
    /// Just the id.
    Id(Url),
    /// An object with an id.
    Object {
        /// The id.
        id: Url,
    },
}

impl ObjectRef {
    /// The object's id.
    pub fn id(&self) -> &Url {
        match self {
            ObjectRef::Id(id) | ObjectRef::Object { id } => id,
        }
    }
}

/// `Delete` of a post.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delete {
    /// `Delete`.
    #[serde(rename = "type")]
    pub kind: DeleteType,
    /// Activity id.
    pub id: Url,
    /// Who deletes: its author, or a moderator removing it.
    pub actor: Url,
    /// What.
    pub object: ObjectRef,
    /// Why (a moderator's removal, as Lemmy sends it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// For the `Delete` of a person: whether their posts go too (Lemmy's `removeData`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_data: Option<bool>,
}

/// `Undo` of a `Delete`: a moderator restoring a post they removed (Lemmy's form).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UndoDelete {
    /// `Undo`.
    #[serde(rename = "type")]
    pub kind: UndoType,
    /// Activity id.
    pub id: Url,
    /// The moderator.
    pub actor: Url,
    /// The removal undone.
    pub object: Delete,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// A forum passing on an activity or object (FEP-1b12).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Announce {
    /// `Announce`.
    #[serde(rename = "type")]
    pub kind: AnnounceType,
    /// Activity id.
    pub id: Url,
    /// The forum.
    pub actor: Url,
    /// An activity, an object, or an id.
    pub object: Value,
}

/// `Like` or `Dislike`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum VoteKind {
    /// Helpful.
    Like,
    /// Not taken (Lemmy's downvote).
    Dislike,
}

/// A vote on a post.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vote {
    /// Which.
    #[serde(rename = "type")]
    pub kind: VoteKind,
    /// Activity id.
    pub id: Url,
    /// Who.
    pub actor: Url,
    /// The post.
    pub object: Url,
}

/// `Undo` of a vote.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UndoVote {
    /// `Undo`.
    #[serde(rename = "type")]
    pub kind: UndoType,
    /// Activity id.
    pub id: Url,
    /// Who.
    pub actor: Url,
    /// The vote undone.
    pub object: Vote,
}

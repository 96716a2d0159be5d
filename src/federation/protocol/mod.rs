//! The ActivityPub JSON Staffroom serves: every wire type in one place, apart from the database
//! rows they are made from. Shapes follow `FEDERATION.md`, which follows what Lemmy and NodeBB
//! send (forums as `Group`, threads as `Page`, replies as `Note`, FEP-1b12 `audience`, FEP-7888
//! `context`).

pub mod activities;

use activitypub_federation::kinds::actor::{ApplicationType, GroupType, PersonType};
use activitypub_federation::kinds::collection::OrderedCollectionType;
use activitypub_federation::kinds::link::MentionType;
use activitypub_federation::kinds::object::{NoteType, PageType, TombstoneType};
use activitypub_federation::protocol::public_key::PublicKey;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use url::Url;

/// The public audience.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// `@context` of everything served: ActivityStreams, the security vocabulary (without it
/// JSON-LD processors do not see `publicKey`, and Fedify-based servers refuse our signatures),
/// and the few extension terms used.
pub fn context() -> Value {
    json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "sensitive": "as:sensitive",
            "lemmy": "https://join-lemmy.org/ns#",
            "postingRestrictedToMods": "lemmy:postingRestrictedToMods"
        }
    ])
}

/// `endpoints` of an actor.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    /// The instance's shared inbox.
    pub shared_inbox: Url,
}

/// Markdown source of an object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// The Markdown.
    pub content: String,
    /// `text/markdown`.
    pub media_type: String,
}

impl Source {
    /// Markdown source.
    pub fn markdown(content: &str) -> Source {
        Source {
            content: content.to_string(),
            media_type: "text/markdown".into(),
        }
    }
}

/// An educator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    /// `Person`.
    #[serde(rename = "type")]
    pub kind: PersonType,
    /// `/u/{name}`.
    pub id: Url,
    /// Username.
    pub preferred_username: String,
    /// Display name.
    pub name: String,
    /// Personal inbox.
    pub inbox: Url,
    /// Outbox.
    pub outbox: Url,
    /// Followers collection.
    pub followers: Url,
    /// Shared inbox.
    pub endpoints: Endpoints,
    /// Key that signs this person's activities.
    pub public_key: PublicKey,
    /// The profile page.
    pub url: Url,
    /// Account creation.
    pub published: DateTime<Utc>,
    /// Follows are accepted without review.
    pub manually_approves_followers: bool,
}

/// A forum.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// `Group`.
    #[serde(rename = "type")]
    pub kind: GroupType,
    /// `/f/{name}`.
    pub id: Url,
    /// The forum's name.
    pub preferred_username: String,
    /// Title.
    pub name: String,
    /// Description as HTML.
    pub summary: String,
    /// Description as written.
    pub source: Source,
    /// The forum's inbox.
    pub inbox: Url,
    /// Outbox.
    pub outbox: Url,
    /// Followers collection.
    pub followers: Url,
    /// Pinned threads.
    pub featured: Url,
    /// Moderators collection (Lemmy's use of `attributedTo` on a `Group`).
    pub attributed_to: Url,
    /// Shared inbox.
    pub endpoints: Endpoints,
    /// Key that signs the forum's announcements.
    pub public_key: PublicKey,
    /// The forum page.
    pub url: Url,
    /// Creation.
    pub published: DateTime<Utc>,
    /// Last change.
    pub updated: DateTime<Utc>,
    /// Anyone may post (Lemmy's term).
    pub posting_restricted_to_mods: bool,
    /// Follows are accepted without review.
    pub manually_approves_followers: bool,
}

/// The instance actor, which signs fetches.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// `Application`.
    #[serde(rename = "type")]
    pub kind: ApplicationType,
    /// `/actor`.
    pub id: Url,
    /// The domain.
    pub preferred_username: String,
    /// `server.instance_name`.
    pub name: String,
    /// The shared inbox.
    pub inbox: Url,
    /// Outbox.
    pub outbox: Url,
    /// Its key.
    pub public_key: PublicKey,
    /// The front page.
    pub url: Url,
}

/// A thread: its title and opening post.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    /// `Page`.
    #[serde(rename = "type")]
    pub kind: PageType,
    /// `/t/{id}`.
    pub id: Url,
    /// Author.
    pub attributed_to: Url,
    /// The forum and the public.
    pub to: Vec<Url>,
    /// The author's followers.
    pub cc: Vec<Url>,
    /// The people it mentions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag: Vec<Mention>,
    /// The forum (FEP-1b12).
    pub audience: Url,
    /// The thread's context collection (FEP-7888), for threads started here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Url>,
    /// Title.
    pub name: String,
    /// Sanitized HTML.
    pub content: String,
    /// `text/html`.
    pub media_type: String,
    /// The Markdown.
    pub source: Source,
    /// The thread page.
    pub url: Url,
    /// Written.
    pub published: DateTime<Utc>,
    /// Last edited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
}

/// A `Mention` tag.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mention {
    /// `Mention`.
    #[serde(rename = "type")]
    pub kind: MentionType,
    /// The person mentioned.
    pub href: Url,
    /// `@name@domain`.
    pub name: String,
}

/// A reply.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    /// `Note`.
    #[serde(rename = "type")]
    pub kind: NoteType,
    /// `/p/{id}`.
    pub id: Url,
    /// Author.
    pub attributed_to: Url,
    /// The forum and the public.
    pub to: Vec<Url>,
    /// The author of the post answered, and the people it mentions.
    pub cc: Vec<Url>,
    /// The forum (FEP-1b12).
    pub audience: Url,
    /// The thread's context collection (FEP-7888), for threads started here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<Url>,
    /// The post answered (the thread itself when it answers no one post).
    pub in_reply_to: Url,
    /// Sanitized HTML.
    pub content: String,
    /// `text/html`.
    pub media_type: String,
    /// The Markdown.
    pub source: Source,
    /// The author of the post answered, and the people it mentions.
    pub tag: Vec<Mention>,
    /// Where it reads on the web.
    pub url: Url,
    /// Written.
    pub published: DateTime<Utc>,
    /// Last edited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
}

/// A thread's context: every post, oldest first (FEP-7888, FEP-f228).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadContext {
    /// `OrderedCollection`.
    #[serde(rename = "type")]
    pub kind: OrderedCollectionType,
    /// `/t/{id}/context`.
    pub id: Url,
    /// The forum.
    pub attributed_to: Url,
    /// The forum.
    pub audience: Url,
    /// `/t/{id}/context/followers`: it can be followed (FEP-7888; the `Follow` goes to the
    /// forum's inbox, its `attributedTo`).
    pub followers: Url,
    /// Posts in the thread.
    pub total_items: usize,
    /// Their ids, oldest first.
    pub ordered_items: Vec<Url>,
}

/// What stands where a deleted object was.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tombstone {
    /// `Tombstone`.
    #[serde(rename = "type")]
    pub kind: TombstoneType,
    /// The deleted object's id.
    pub id: Url,
    /// `Page` or `Note`.
    pub former_type: String,
    /// When it was deleted.
    pub deleted: DateTime<Utc>,
}

/// The types of actor stored as people: anything that can sign an activity and is not a forum.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum PersonKind {
    /// A person.
    Person,
    /// A bot (Lemmy, Mastodon).
    Service,
    /// An instance actor (Mastodon, Lemmy, Mbin).
    Application,
    /// An organisation.
    Organization,
}

/// `endpoints` as others send it: the shared inbox may be missing.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RemoteEndpoints {
    /// The instance's shared inbox.
    #[serde(default)]
    pub shared_inbox: Option<Url>,
}

/// A person from another server, read leniently: Mastodon, Lemmy, Pleroma, NodeBB, Discourse
/// and GoToSocial all send `id`, `preferredUsername`, `inbox` and `publicKey`; everything else
/// is optional, and a field of an unexpected shape is ignored rather than refusing the actor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemotePerson {
    /// `Person`, `Service`, `Application` or `Organization`.
    #[serde(rename = "type")]
    pub kind: PersonKind,
    /// Actor id.
    pub id: Url,
    /// Username.
    pub preferred_username: String,
    /// Display name.
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub name: Option<String>,
    /// Personal inbox.
    pub inbox: Url,
    /// Shared inbox.
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub endpoints: Option<RemoteEndpoints>,
    /// Signing key.
    pub public_key: PublicKey,
    /// Profile page.
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub url: Option<Url>,
}

/// A forum (or Lemmy community, NodeBB category, Discourse category) from another server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteGroup {
    /// `Group`.
    #[serde(rename = "type")]
    pub kind: GroupType,
    /// Actor id.
    pub id: Url,
    /// The forum's name.
    pub preferred_username: String,
    /// Title.
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub name: Option<String>,
    /// Description as HTML.
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub summary: Option<String>,
    /// Inbox.
    pub inbox: Url,
    /// Outbox.
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub outbox: Option<Url>,
    /// Shared inbox.
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub endpoints: Option<RemoteEndpoints>,
    /// Signing key.
    pub public_key: PublicKey,
    /// Its page.
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub url: Option<Url>,
    /// Its moderators collection (Lemmy's use of `attributedTo` on a `Group`).
    #[serde(
        default,
        deserialize_with = "deserialize_skip_error",
        skip_serializing_if = "Option::is_none"
    )]
    pub attributed_to: Option<Url>,
    /// Only its moderators start threads (Lemmy).
    #[serde(
        default,
        deserialize_with = "deserialize_skip_error",
        skip_serializing_if = "Option::is_none"
    )]
    pub posting_restricted_to_mods: Option<bool>,
}

pub use activitypub_federation::protocol::helpers::deserialize_skip_error;

/// The types of object taken as posts: threads arrive as `Page` (Lemmy, Staffroom), `Article`
/// (NodeBB) or `Note` with a `name` (Discourse); replies as `Note`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum PostKind {
    /// A thread.
    Page,
    /// A thread (NodeBB).
    Article,
    /// A reply, or a thread when it has a `name`.
    Note,
}

/// A thread or reply from another server, read leniently.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostObject {
    /// `Page`, `Article` or `Note`.
    #[serde(rename = "type")]
    pub kind: PostKind,
    /// Its id.
    pub id: Url,
    /// Its author (the first, when several are given).
    #[serde(deserialize_with = "first_of_one_or_many")]
    pub attributed_to: Url,
    /// A thread's title.
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub name: Option<String>,
    /// HTML.
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub content: Option<String>,
    /// The Markdown it was written in, when given.
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub source: Option<Source>,
    /// The post answered.
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub in_reply_to: Option<Url>,
    /// Addressed to.
    #[serde(default, deserialize_with = "lenient_urls")]
    pub to: Vec<Url>,
    /// Copied to.
    #[serde(default, deserialize_with = "lenient_urls")]
    pub cc: Vec<Url>,
    /// The forum (FEP-1b12).
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub audience: Option<Url>,
    /// The thread's context collection (FEP-7888).
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub context: Option<Url>,
    /// Where it reads on the web.
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub url: Option<Url>,
    /// Written.
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub published: Option<DateTime<Utc>>,
    /// Last edited.
    #[serde(default, deserialize_with = "deserialize_skip_error")]
    pub updated: Option<DateTime<Utc>>,
    /// The people it mentions (its other tags, hashtags and emoji, are not kept).
    #[serde(
        default,
        deserialize_with = "lenient_mentions",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tag: Vec<Mention>,
}

/// The `Mention`s among tags: one tag or many, each kept when it has a `type` of `Mention`
/// and an `href` that is a URL (its `name` may be missing); other tags and malformed ones are
/// skipped.
fn lenient_mentions<'de, D>(deserializer: D) -> Result<Vec<Mention>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(one_or_many(Value::deserialize(deserializer)?)
        .iter()
        .filter(|item| item.get("type").and_then(Value::as_str) == Some("Mention"))
        .filter_map(|item| {
            let href = Url::parse(item.get("href")?.as_str()?).ok()?;
            let name = item
                .get("name")
                .and_then(Value::as_str)
                .map_or_else(|| href.to_string(), str::to_string);
            Some(Mention {
                kind: MentionType::Mention,
                href,
                name,
            })
        })
        .collect())
}

/// A URL, or the first of a list of them (`attributedTo` may be either).
fn first_of_one_or_many<'de, D>(deserializer: D) -> Result<Url, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let urls = activitypub_federation::protocol::helpers::deserialize_one_or_many(deserializer)?;
    urls.into_iter()
        .next()
        .ok_or_else(|| serde::de::Error::custom("attributedTo is empty"))
}

/// One URL or many; entries that are not URLs (objects, nulls) are skipped.
fn lenient_urls<'de, D>(deserializer: D) -> Result<Vec<Url>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(one_or_many(Value::deserialize(deserializer)?)
        .into_iter()
        .filter_map(|v| v.as_str().and_then(|s| Url::parse(s).ok()))
        .collect())
}

/// The items of a property that may hold one value, a list of them, or null.
fn one_or_many(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        one => vec![one],
    }
}

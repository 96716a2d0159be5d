//! Actors as the `activitypub_federation` crate sees them: [`ApUser`] (people, local or remote),
//! [`ApForum`] (forums, local or remote) and [`ApInstance`] (this instance's `/actor`, which
//! signs fetches). Fetching a remote actor stores it (upsert by actor id) and refreshes it when
//! the crate finds it stale; the rows stay `forum` types, these wrappers only add what signing
//! and verifying need (ids, keys, inboxes).

use activitypub_federation::config::Data;
use activitypub_federation::kinds::actor::ApplicationType;
use activitypub_federation::traits::{Actor, Object};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use url::Url;

use crate::federation::error::FederationError;
use crate::federation::protocol::{Application, RemoteEndpoints, RemoteGroup, RemotePerson};
use crate::federation::same_origin;
use crate::forum::actors::KeyOwner;
use crate::forum::remote::{domain_of, RemoteForum, RemoteUser};
use crate::forum::{types, Forum, Site, User};

/// What signing and verifying need of a person or forum: its id, keys and inboxes.
#[derive(Debug, Clone)]
pub struct Signing {
    id: Url,
    public_key: String,
    private_key: Option<String>,
    inbox: Url,
    shared_inbox: Option<Url>,
}

impl Signing {
    /// A local actor at `id`, with the keys of `owner` (made if needed).
    async fn local(site: &Site, owner: KeyOwner, id: &str) -> Result<Signing, FederationError> {
        let keys = crate::federation::keys(site, owner).await?;
        let id = parse(id)?;
        Ok(Signing {
            inbox: parse(&format!("{id}/inbox"))?,
            shared_inbox: Some(parse(&site.urls().absolute("/inbox"))?),
            id,
            public_key: keys.public_key,
            private_key: Some(keys.private_key),
        })
    }

    /// A remote actor as stored.
    fn remote(
        ap_id: Option<&str>,
        inbox: Option<&str>,
        shared_inbox: Option<&str>,
        public_key: String,
    ) -> Result<Signing, FederationError> {
        let id = parse(ap_id.unwrap_or_default())?;
        Ok(Signing {
            inbox: parse(inbox.unwrap_or(id.as_str()))?,
            shared_inbox: shared_inbox.map(parse).transpose()?,
            id,
            public_key,
            private_key: None,
        })
    }
}

/// A person, with what signing and verifying need.
#[derive(Debug, Clone)]
pub struct ApUser {
    /// The row.
    pub user: User,
    signing: Signing,
}

/// A forum, with what signing and verifying need.
#[derive(Debug, Clone)]
pub struct ApForum {
    /// The row.
    pub forum: Forum,
    signing: Signing,
}

/// This instance's actor (`/actor`).
#[derive(Debug, Clone)]
pub struct ApInstance {
    id: Url,
    public_key: String,
    private_key: String,
    inbox: Url,
    name: String,
    domain: String,
    home: Url,
}

pub(crate) fn parse(s: &str) -> Result<Url, FederationError> {
    Ok(Url::parse(s)?)
}

/// The name in a local actor URL such as `/u/{name}`, if `url` is one of ours of that kind.
pub fn local_name(data: &Data<Site>, url: &Url, prefix: &str) -> Option<String> {
    if domain_of(url).as_deref() != Some(data.domain()) {
        return None;
    }
    let name = url.path().strip_prefix(prefix)?;
    (!name.is_empty() && !name.contains('/')).then(|| name.to_string())
}

pub(crate) fn is_local(data: &Data<Site>, url: &Url) -> bool {
    domain_of(url).as_deref() == Some(data.domain())
}

pub(crate) fn refreshed(at: Option<chrono::NaiveDateTime>) -> Option<DateTime<Utc>> {
    at.map(|t| t.and_utc())
}

impl ApUser {
    /// A local person, with their keys (made if needed).
    pub async fn local(site: &Site, user: User) -> Result<ApUser, FederationError> {
        // A deleted account signs (its `Delete`) as the address other servers knew it by.
        let id = match (&user.ap_id, user.deleted_at) {
            (Some(old), Some(_)) => old.clone(),
            _ => site.urls().user(&user),
        };
        let signing = Signing::local(site, KeyOwner::User(user.id), &id).await?;
        Ok(ApUser { user, signing })
    }

    fn remote(user: User, public_key: String) -> Result<ApUser, FederationError> {
        let signing = Signing::remote(
            user.ap_id.as_deref(),
            user.inbox_url.as_deref(),
            user.shared_inbox_url.as_deref(),
            public_key,
        )?;
        Ok(ApUser { user, signing })
    }
}

impl ApForum {
    /// A local forum, with its keys (made if needed).
    pub async fn local(site: &Site, row: Forum) -> Result<ApForum, FederationError> {
        let id = site.urls().forum(&row);
        let signing = Signing::local(site, KeyOwner::Forum(row.id), &id).await?;
        Ok(ApForum {
            forum: row,
            signing,
        })
    }

    fn remote(row: Forum, public_key: String) -> Result<ApForum, FederationError> {
        let signing = Signing::remote(
            row.ap_id.as_deref(),
            row.inbox_url.as_deref(),
            row.shared_inbox_url.as_deref(),
            public_key,
        )?;
        Ok(ApForum {
            forum: row,
            signing,
        })
    }
}

impl ApInstance {
    /// This instance's actor, with its keys (made if needed).
    pub async fn load(site: &Site) -> Result<ApInstance, FederationError> {
        let keys = crate::federation::keys(site, KeyOwner::Instance).await?;
        let urls = site.urls();
        Ok(ApInstance {
            id: parse(&urls.absolute("/actor"))?,
            public_key: keys.public_key,
            private_key: keys.private_key,
            inbox: parse(&urls.absolute("/inbox"))?,
            name: site.settings().server.instance_name.clone(),
            domain: site.settings().federation_domain(),
            home: parse(&urls.absolute("/"))?,
        })
    }

    /// The instance actor's JSON.
    pub fn to_json(&self) -> Result<Application, FederationError> {
        Ok(Application {
            kind: ApplicationType::Application,
            id: self.id.clone(),
            preferred_username: self.domain.clone(),
            name: self.name.clone(),
            inbox: self.inbox.clone(),
            outbox: parse(&format!("{}/outbox", self.id))?,
            public_key: self.public_key(),
            url: self.home.clone(),
        })
    }
}

/// A URL another server gave for people to open: kept only when it is `http` or `https` (a
/// `javascript:` or `data:` URL is dropped, never made a link).
pub fn web_link(url: Option<&Url>) -> Option<String> {
    url.filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(Url::to_string)
}

/// An actor's shared inbox, kept only when it is on the actor's own server: a person cannot
/// have deliveries for others sent to a third server.
fn own_shared_inbox(id: &Url, endpoints: Option<&RemoteEndpoints>) -> Option<String> {
    endpoints
        .and_then(|e| e.shared_inbox.as_ref())
        .filter(|inbox| domain_of(inbox).is_some() && domain_of(inbox) == domain_of(id))
        .map(Url::to_string)
}

/// The longest display name (as for local accounts).
const DISPLAY_NAME_MAX: usize = 50;
/// The longest forum title (as for local forums).
const FORUM_TITLE_MAX: usize = 100;
/// The longest forum description, in characters (as for local forums).
const DESCRIPTION_MAX: usize = 1000;

/// An actor's handle (refused unless plausible) and the name it shows, one line of at most
/// `max` characters (its handle when it gives none).
pub(crate) fn names(
    preferred_username: &str,
    shown: Option<&str>,
    max: usize,
) -> Result<(String, String), FederationError> {
    let name = types::remote_username(preferred_username)
        .map_err(|why| FederationError::refused("invalid_remote_object", why))?;
    let shown = shown
        .map(|n| types::remote_line(n, max))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| name.clone());
    Ok((name, shown))
}

/// The `RemoteUser` row a fetched person becomes: held to the limits our own accounts have
/// (a plausible handle, a one-line display name of at most 50 characters without control or
/// invisible characters) and with links only to the web.
pub fn remote_user_row(json: &RemotePerson) -> Result<RemoteUser, FederationError> {
    let now = crate::forum::now();
    let (name, display_name) = names(
        &json.preferred_username,
        json.name.as_deref(),
        DISPLAY_NAME_MAX,
    )?;
    Ok(RemoteUser {
        display_name,
        name,
        local: false,
        domain: domain_of(&json.id),
        ap_id: Some(json.id.to_string()),
        public_key: Some(json.public_key.public_key_pem.clone()),
        inbox_url: Some(json.inbox.to_string()),
        shared_inbox_url: own_shared_inbox(&json.id, json.endpoints.as_ref()),
        profile_url: web_link(json.url.as_ref()),
        last_refreshed_at: Some(now),
        updated_at: now,
    })
}

/// The `RemoteForum` row a fetched group becomes, held to the limits of our own forums.
pub fn remote_forum_row(json: &RemoteGroup) -> Result<RemoteForum, FederationError> {
    let now = crate::forum::now();
    let (name, title) = names(
        &json.preferred_username,
        json.name.as_deref(),
        FORUM_TITLE_MAX,
    )?;
    let description = json
        .summary
        .as_deref()
        .map(crate::forum::markdown::plain_text)
        .map(|d| {
            let (text, _) = types::remote_text(&d, DESCRIPTION_MAX * 4);
            text.chars().take(DESCRIPTION_MAX).collect()
        })
        .unwrap_or_default();
    Ok(RemoteForum {
        name,
        title,
        description,
        local: false,
        domain: domain_of(&json.id),
        ap_id: Some(json.id.to_string()),
        public_key: Some(json.public_key.public_key_pem.clone()),
        inbox_url: Some(json.inbox.to_string()),
        shared_inbox_url: own_shared_inbox(&json.id, json.endpoints.as_ref()),
        outbox_url: json.outbox.as_ref().map(Url::to_string),
        profile_url: web_link(json.url.as_ref()),
        posting_restricted_to_mods: json.posting_restricted_to_mods.unwrap_or(false),
        last_refreshed_at: Some(now),
        updated_at: now,
    })
}

/// The most moderators read from a forum's collection.
const MODERATORS_READ: usize = 100;

/// Reads who moderates a forum elsewhere from its `moderators` collection (each time the forum
/// is fetched), so that the people of this instance among them can moderate it from here.
/// Best effort: a collection that cannot be read leaves the moderators as they were.
pub(crate) async fn read_moderators(forum: &Forum, collection: &Url, data: &Data<Site>) {
    let fetched = activitypub_federation::fetch::fetch_object_http::<Site, serde_json::Value>(
        collection, data,
    )
    .await;
    let collection_json = match fetched {
        Ok(res) => res.object,
        Err(e) => {
            tracing::info!(%collection, error = %e, "could not read a forum's moderators");
            return;
        }
    };
    let ids: Vec<String> = collection_json
        .get("orderedItems")
        .or_else(|| collection_json.get("items"))
        .and_then(serde_json::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().or_else(|| item.get("id")?.as_str()))
                .take(MODERATORS_READ)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if let Err(e) = data.set_remote_moderators(forum.id, ids).await {
        tracing::warn!(%collection, error = %e, "could not store a forum's moderators");
    }
}

/// Checks that an actor's key and inbox are its own: same origin as its id.
fn verify_actor_urls(id: &Url, key_owner: &Url, inbox: &Url) -> Result<(), FederationError> {
    same_origin(id, key_owner)?;
    same_origin(id, inbox)?;
    Ok(())
}

#[async_trait]
impl Object for ApUser {
    type DataType = Site;
    type Kind = RemotePerson;
    type Error = FederationError;

    fn id(&self) -> &Url {
        &self.signing.id
    }

    fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        refreshed(self.user.last_refreshed_at)
    }

    async fn read_from_id(id: Url, data: &Data<Site>) -> Result<Option<Self>, FederationError> {
        if let Some(name) = local_name(data, &id, "/u/") {
            return match data.local_user(name).await {
                Ok(user) => Ok(Some(ApUser::local(data, user).await?)),
                Err(crate::error::ForumError::NotFound { .. }) => Ok(None),
                Err(e) => Err(e.into()),
            };
        }
        if is_local(data, &id) {
            return Ok(None);
        }
        match data.remote_user_with_key(id.to_string()).await? {
            Some((user, key)) => Ok(Some(ApUser::remote(user, key)?)),
            None => Ok(None),
        }
    }

    async fn into_json(self, _data: &Data<Site>) -> Result<RemotePerson, FederationError> {
        Ok(RemotePerson {
            kind: crate::federation::protocol::PersonKind::Person,
            public_key: self.public_key(),
            id: self.signing.id,
            preferred_username: self.user.name,
            name: Some(self.user.display_name),
            inbox: self.signing.inbox,
            endpoints: Some(crate::federation::protocol::RemoteEndpoints {
                shared_inbox: self.signing.shared_inbox,
            }),
            url: self
                .user
                .profile_url
                .as_deref()
                .and_then(|u| Url::parse(u).ok()),
        })
    }

    async fn verify(
        json: &RemotePerson,
        expected_domain: &Url,
        _data: &Data<Site>,
    ) -> Result<(), FederationError> {
        same_origin(&json.id, expected_domain)?;
        verify_actor_urls(&json.id, &json.public_key.owner, &json.inbox)
    }

    async fn from_json(json: RemotePerson, data: &Data<Site>) -> Result<Self, FederationError> {
        let user = data.remember_remote_user(remote_user_row(&json)?).await?;
        ApUser::remote(user, json.public_key.public_key_pem)
    }
}

impl Actor for ApUser {
    fn public_key_pem(&self) -> &str {
        &self.signing.public_key
    }

    fn private_key_pem(&self) -> Option<String> {
        self.signing.private_key.clone()
    }

    fn inbox(&self) -> Url {
        self.signing.inbox.clone()
    }

    fn shared_inbox(&self) -> Option<Url> {
        self.signing.shared_inbox.clone()
    }
}

#[async_trait]
impl Object for ApForum {
    type DataType = Site;
    type Kind = RemoteGroup;
    type Error = FederationError;

    fn id(&self) -> &Url {
        &self.signing.id
    }

    fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        refreshed(self.forum.last_refreshed_at)
    }

    async fn read_from_id(id: Url, data: &Data<Site>) -> Result<Option<Self>, FederationError> {
        if let Some(name) = local_name(data, &id, "/f/") {
            return match data.forum(name).await {
                Ok(row) => Ok(Some(ApForum::local(data, row).await?)),
                Err(crate::error::ForumError::NotFound { .. }) => Ok(None),
                Err(e) => Err(e.into()),
            };
        }
        if is_local(data, &id) {
            return Ok(None);
        }
        match data.remote_forum_with_key(id.to_string()).await? {
            Some((row, key)) => Ok(Some(ApForum::remote(row, key)?)),
            None => Ok(None),
        }
    }

    async fn into_json(self, _data: &Data<Site>) -> Result<RemoteGroup, FederationError> {
        Ok(RemoteGroup {
            kind: Default::default(),
            public_key: self.public_key(),
            id: self.signing.id,
            preferred_username: self.forum.name,
            name: Some(self.forum.title),
            summary: None,
            inbox: self.signing.inbox,
            outbox: self
                .forum
                .outbox_url
                .as_deref()
                .and_then(|u| Url::parse(u).ok()),
            endpoints: Some(crate::federation::protocol::RemoteEndpoints {
                shared_inbox: self.signing.shared_inbox,
            }),
            url: self
                .forum
                .profile_url
                .as_deref()
                .and_then(|u| Url::parse(u).ok()),
            attributed_to: None,
            posting_restricted_to_mods: Some(self.forum.posting_restricted_to_mods),
        })
    }

    async fn verify(
        json: &RemoteGroup,
        expected_domain: &Url,
        _data: &Data<Site>,
    ) -> Result<(), FederationError> {
        same_origin(&json.id, expected_domain)?;
        verify_actor_urls(&json.id, &json.public_key.owner, &json.inbox)
    }

    async fn from_json(json: RemoteGroup, data: &Data<Site>) -> Result<Self, FederationError> {
        let row = data.remember_remote_forum(remote_forum_row(&json)?).await?;
        if let Some(moderators) = &json.attributed_to {
            if same_origin(moderators, &json.id).is_ok() {
                read_moderators(&row, moderators, data).await;
            }
        }
        ApForum::remote(row, json.public_key.public_key_pem)
    }
}

impl Actor for ApForum {
    fn public_key_pem(&self) -> &str {
        &self.signing.public_key
    }

    fn private_key_pem(&self) -> Option<String> {
        self.signing.private_key.clone()
    }

    fn inbox(&self) -> Url {
        self.signing.inbox.clone()
    }

    fn shared_inbox(&self) -> Option<Url> {
        self.signing.shared_inbox.clone()
    }
}

#[async_trait]
impl Object for ApInstance {
    type DataType = Site;
    type Kind = Application;
    type Error = FederationError;

    fn id(&self) -> &Url {
        &self.id
    }

    async fn read_from_id(id: Url, data: &Data<Site>) -> Result<Option<Self>, FederationError> {
        let me = ApInstance::load(data).await?;
        Ok((me.id == id).then_some(me))
    }

    async fn into_json(self, _data: &Data<Site>) -> Result<Application, FederationError> {
        self.to_json()
    }

    async fn verify(
        json: &Application,
        expected_domain: &Url,
        _data: &Data<Site>,
    ) -> Result<(), FederationError> {
        same_origin(&json.id, expected_domain)
    }

    async fn from_json(_json: Application, _data: &Data<Site>) -> Result<Self, FederationError> {
        // Other instances' actors are stored as people (PersonKind::Application), never as this.
        Err(FederationError::refused(
            "not_this_instance",
            "Only this instance's own actor is an ApInstance",
        ))
    }
}

impl Actor for ApInstance {
    fn public_key_pem(&self) -> &str {
        &self.public_key
    }

    fn private_key_pem(&self) -> Option<String> {
        Some(self.private_key.clone())
    }

    fn inbox(&self) -> Url {
        self.inbox.clone()
    }
}

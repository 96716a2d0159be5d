//! Actors: people (`Person`), forums (`Group`), the instance (`Application`), and WebFinger.

use activitypub_federation::fetch::webfinger::{
    build_webfinger_response_with_type, extract_webfinger_name,
};
use activitypub_federation::kinds::actor::{ApplicationType, GroupType, PersonType};
use activitypub_federation::protocol::public_key::PublicKey;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use url::Url;

use crate::federation::error::FederationError;
use crate::federation::protocol::{Application, Endpoints, Group, Person, Source};
use crate::federation::{keys, own_url, respond};
use crate::forum::actors::KeyOwner;
use crate::state::AppState;

fn public_key(owner: &Url, pem: String) -> PublicKey {
    PublicKey {
        id: format!("{owner}#main-key"),
        owner: owner.clone(),
        public_key_pem: pem,
    }
}

/// The addresses every local actor has beside its id: `{id}/inbox`, `{id}/outbox` and
/// `{id}/followers`.
struct ActorAddresses {
    inbox: Url,
    outbox: Url,
    followers: Url,
}

impl ActorAddresses {
    fn of(id: &Url) -> Result<ActorAddresses, FederationError> {
        Ok(ActorAddresses {
            inbox: own_url(&format!("{id}/inbox"))?,
            outbox: own_url(&format!("{id}/outbox"))?,
            followers: own_url(&format!("{id}/followers"))?,
        })
    }
}

fn shared_inbox(state: &AppState) -> Result<Endpoints, FederationError> {
    Ok(Endpoints {
        shared_inbox: own_url(&state.site.urls().absolute("/inbox"))?,
    })
}

/// GET /u/{name} as ActivityPub: a `Person`.
pub async fn person(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, FederationError> {
    let user = state.site.local_user(path.into_inner()).await?;
    let keys = keys(&state.site, KeyOwner::User(user.id)).await?;
    let id = own_url(&state.site.urls().user(&user))?;
    let ActorAddresses {
        inbox,
        outbox,
        followers,
    } = ActorAddresses::of(&id)?;
    respond(Person {
        kind: PersonType::Person,
        inbox,
        outbox,
        followers,
        endpoints: shared_inbox(&state)?,
        public_key: public_key(&id, keys.public_key),
        url: id.clone(),
        preferred_username: user.name,
        name: user.display_name,
        published: user.created_at.and_utc(),
        manually_approves_followers: false,
        id,
    })
}

/// GET /f/{name} as ActivityPub: a `Group`.
pub async fn group(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, FederationError> {
    let forum = state.site.forum(path.into_inner()).await?;
    let keys = keys(&state.site, KeyOwner::Forum(forum.id)).await?;
    let id = own_url(&state.site.urls().forum(&forum))?;
    let summary = if forum.description.is_empty() {
        String::new()
    } else {
        format!(
            "<p>{}</p>",
            crate::forum::markdown::escape_text(&forum.description)
        )
    };
    let ActorAddresses {
        inbox,
        outbox,
        followers,
    } = ActorAddresses::of(&id)?;
    respond(Group {
        kind: GroupType::Group,
        inbox,
        outbox,
        followers,
        featured: own_url(&format!("{id}/featured"))?,
        attributed_to: own_url(&format!("{id}/moderators"))?,
        endpoints: shared_inbox(&state)?,
        public_key: public_key(&id, keys.public_key),
        url: id.clone(),
        preferred_username: forum.name,
        name: forum.title,
        summary,
        source: Source {
            content: forum.description,
            media_type: "text/plain".into(),
        },
        published: forum.created_at.and_utc(),
        updated: forum.updated_at.and_utc(),
        posting_restricted_to_mods: forum.posting_restricted_to_mods,
        manually_approves_followers: false,
        id,
    })
}

/// GET /actor: the instance's `Application` actor.
pub async fn instance(state: web::Data<AppState>) -> Result<HttpResponse, FederationError> {
    let keys = keys(&state.site, KeyOwner::Instance).await?;
    let urls = state.site.urls();
    let id = own_url(&urls.absolute("/actor"))?;
    let settings = state.site.settings();
    respond(Application {
        kind: ApplicationType::Application,
        preferred_username: settings.federation_domain(),
        name: settings.server.instance_name.clone(),
        inbox: own_url(&urls.absolute("/inbox"))?,
        outbox: own_url(&urls.absolute("/actor/outbox"))?,
        public_key: public_key(&id, keys.public_key),
        url: own_url(&urls.absolute("/"))?,
        id,
    })
}

/// `?resource=acct:name@domain`
#[derive(Debug, Deserialize)]
pub struct WebfingerQuery {
    resource: Option<String>,
}

/// GET /.well-known/webfinger: finds people and forums by `acct:name@domain`. When a person and
/// a forum share a name, both links are given, each with its `type`.
pub async fn webfinger(
    state: web::Data<AppState>,
    q: web::Query<WebfingerQuery>,
) -> Result<HttpResponse, FederationError> {
    let Some(resource) = q.resource.as_deref() else {
        return Err(FederationError::new(
            400,
            "invalid_query",
            "WebFinger needs ?resource=acct:name@domain",
        ));
    };
    let config = state
        .federation
        .as_ref()
        .ok_or_else(|| FederationError::new(404, "not_found", "Federation is not enabled here."))?;
    let data = config.to_request_data();
    let name = extract_webfinger_name(resource, &data).map_err(|_| {
        FederationError::new(
            404,
            "not_found",
            format!("No such account here: {resource}"),
        )
    })?;
    let (user, forum) = state.site.actors_named(name.to_string()).await?;
    let urls = state.site.urls();
    let mut links = Vec::new();
    if let Some(user) = &user {
        links.push((own_url(&urls.user(user))?, Some("Person")));
    }
    if let Some(forum) = &forum {
        links.push((own_url(&urls.forum(forum))?, Some("Group")));
    }
    if links.is_empty() {
        return Err(FederationError::new(
            404,
            "not_found",
            format!("No such account here: {resource}"),
        ));
    }
    let subject = format!("acct:{}@{}", name.to_ascii_lowercase(), data.domain());
    Ok(HttpResponse::Ok()
        .content_type("application/jrd+json")
        .json(build_webfinger_response_with_type(subject, links)))
}

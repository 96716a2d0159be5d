//! Finding people and forums anywhere from what a person types: a handle (`teachers@a.example`,
//! `@teachers@a.example`, `acct:teachers@a.example`) or a URL. Handles go through WebFinger;
//! URLs are fetched directly. What is found is stored (or refreshed) and returned as a row.
//! [`Finder`] is the domain's `Resolver`, which `app` hands to the pages and the API.

use activitypub_federation::config::{Data, FederationConfig};
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::fetch::webfinger::webfinger_resolve_actor;
use either::Either;
use url::Url;

use activitypub_federation::error::Error as ApError;

use super::actors::{ApForum, ApUser};
use super::error::FederationError;
use crate::error::ForumError;
use crate::forum::remote::{Resolved, Resolver};
use crate::forum::Site;

/// Whether the document at `url` is a post rather than an actor: read from its `type`.
async fn is_post(url: &Url, data: &Data<Site>) -> Result<bool, FederationError> {
    let doc =
        activitypub_federation::fetch::fetch_object_http::<Site, serde_json::Value>(url, data)
            .await?
            .object;
    Ok(matches!(
        doc.get("type").and_then(serde_json::Value::as_str),
        Some("Page" | "Article" | "Note")
    ))
}

/// What was typed, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `name@domain`.
    Handle {
        /// The name.
        name: String,
        /// The domain (with port in development).
        domain: String,
    },
    /// A URL.
    Url(Url),
}

fn invalid(q: &str) -> FederationError {
    ForumError::invalid(
        "invalid_target",
        "target",
        format!("“{q}” is neither a handle like forum@school.example nor an http(s) address"),
    )
    .into()
}

fn nobody(q: &str) -> FederationError {
    ForumError::invalid(
        "not_found",
        "target",
        format!("Nothing called {q} was found"),
    )
    .into()
}

/// Reads a handle or URL.
pub fn parse_target(q: &str) -> Result<Target, FederationError> {
    let q = q.trim();
    if q.starts_with("https://") || q.starts_with("http://") {
        return Url::parse(q).map(Target::Url).map_err(|_| invalid(q));
    }
    let handle = q.strip_prefix("acct:").unwrap_or(q).trim_start_matches('@');
    let (name, domain) = handle.split_once('@').ok_or_else(|| invalid(q))?;
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    let domain_ok = !domain.is_empty()
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':'));
    if !name_ok || !domain_ok {
        return Err(invalid(q));
    }
    Ok(Target::Handle {
        name: name.to_ascii_lowercase(),
        domain: domain.to_ascii_lowercase(),
    })
}

/// Finds the person or forum a handle or URL names, fetching it if it is elsewhere.
pub async fn resolve(data: &Data<Site>, q: &str) -> Result<Resolved, FederationError> {
    let found: Either<ApForum, ApUser> = match parse_target(q)? {
        Target::Handle { name, domain } if domain == data.domain() => {
            let (user, forum) = data.actors_named(name).await?;
            return match (forum, user) {
                (Some(forum), _) => Ok(Resolved::Forum(forum)),
                (None, Some(user)) => Ok(Resolved::User(user)),
                (None, None) => Err(nobody(q)),
            };
        }
        Target::Handle { name, domain } => {
            // A forum already known and fetched within the day needs no round trip (and can
            // be followed while its server is briefly down: the Follow waits in the outbox).
            if let Some(forum) = data.remote_forum(name.clone(), domain.clone()).await? {
                let fresh = forum
                    .last_refreshed_at
                    .is_some_and(|at| crate::forum::now() - at < chrono::TimeDelta::days(1));
                if fresh {
                    return Ok(Resolved::Forum(forum));
                }
            }
            let handle = format!("{name}@{domain}");
            webfinger_resolve_actor::<Site, Either<ApForum, ApUser>>(&handle, data)
                .await
                .map_err(|e| match e {
                    // A WebFinger answer that is not a JRD (a 404 page or error body) means
                    // there is no such account.
                    FederationError::Protocol(ApError::ParseFetchedObject(_, url, _))
                        if url.path() == "/.well-known/webfinger" =>
                    {
                        nobody(&handle)
                    }
                    other => other,
                })?
        }
        Target::Url(url) => {
            let local = crate::forum::remote::domain_of(&url).as_deref() == Some(data.domain());
            let post_path = url.path().starts_with("/t/") || url.path().starts_with("/p/");
            if (local && post_path) || data.post_by_ap_id(url.to_string()).await?.is_some() {
                return Ok(Resolved::of_post(
                    super::activities::posts::resolve_post(&url, data).await?,
                ));
            }
            let known_actor = data.forum_by_ap_id(url.to_string()).await?.is_some()
                || data.user_by_ap_id(url.to_string()).await?.is_some();
            if !local && !known_actor && is_post(&url, data).await? {
                return Ok(Resolved::of_post(
                    super::activities::posts::resolve_post(&url, data).await?,
                ));
            }
            ObjectId::<Either<ApForum, ApUser>>::from(url)
                .dereference(data)
                .await?
        }
    };
    Ok(match found {
        Either::Left(forum) => Resolved::Forum(forum.forum),
        Either::Right(user) => Resolved::User(user.user),
    })
}

/// The [`Resolver`] the HTTP layers use: resolving through this instance's federation
/// configuration.
pub struct Finder {
    config: FederationConfig<Site>,
}

impl Finder {
    /// A resolver that fetches as this instance.
    pub fn new(config: FederationConfig<Site>) -> Finder {
        Finder { config }
    }
}

#[async_trait::async_trait]
impl Resolver for Finder {
    async fn resolve(&self, target: &str) -> Result<Resolved, ForumError> {
        let data = self.config.to_request_data();
        resolve(&data, target)
            .await
            .map_err(FederationError::into_forum)
    }

    fn fill_in(&self, thread_id: i64, fresh: bool) {
        let data = self.config.to_request_data();
        tokio::spawn(async move {
            crate::federation::activities::backfill::fill_in_thread(thread_id, fresh, &data).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_target, Target};

    #[test]
    fn handles_and_urls_are_read() {
        let h = |name: &str, domain: &str| Target::Handle {
            name: name.into(),
            domain: domain.into(),
        };
        assert_eq!(
            parse_target("teachers@a.example").unwrap(),
            h("teachers", "a.example")
        );
        assert_eq!(
            parse_target(" @Teachers@A.example ").unwrap(),
            h("teachers", "a.example")
        );
        assert_eq!(
            parse_target("acct:maths@localhost:8080").unwrap(),
            h("maths", "localhost:8080")
        );
        assert!(matches!(
            parse_target("https://a.example/f/maths").unwrap(),
            Target::Url(_)
        ));
        for bad in [
            "",
            "maths",
            "@a.example",
            "a@",
            "a b@c",
            "ftp://x/y",
            "a@b/c",
        ] {
            assert!(parse_target(bad).is_err(), "{bad:?} should be refused");
        }
    }
}

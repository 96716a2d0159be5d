//! What software other servers run, and so which form of a forum's announcements each reads.
//!
//! A forum announces what happens in it to its followers (FEP-1b12): a new thread as
//! `Announce(Create(Page))`. Software built around groups reads that form. Microblogging
//! software reads only an `Announce` of a post (a boost): Mastodon's `Announce` handler turns
//! the announced object into a status and rejects anything that is not one, so an announced
//! `Create` shows nothing there (Mastodon, `app/lib/activitypub/activity/announce.rb`).
//! Each follower's server gets the one form its software reads; a server whose software is not
//! known (yet) gets both, as every server did before, and deduplicates.
//!
//! The software is what the server's NodeInfo says (`software.name`, NodeInfo 2.0 and 2.1,
//! <https://nodeinfo.diaspora.software/protocol>): the delivery worker looks it up in the
//! background for servers it has deliveries for, and again each day.

use std::time::Duration;

use activitypub_federation::config::Data;
use serde_json::Value;
use url::Url;

use super::error::FederationError;
use super::InstancePolicy;
use crate::error::ForumError;
use crate::forum::Site;

/// Software that reads a group's `Announce` of an activity (FEP-1b12): forums and link
/// aggregators. Names as their NodeInfo gives them.
const READS_ANNOUNCED_ACTIVITIES: &[&str] = &[
    "staffroom",
    "lemmy",
    "mbin",
    "kbin",
    "piefed",
    "nodebb",
    "discourse",
];

/// Microblogging software that shows an announced post (a boost) and nothing of an announced
/// activity.
const READS_ANNOUNCED_OBJECTS_ONLY: &[&str] = &[
    "mastodon",
    "hometown",
    "pleroma",
    "akkoma",
    "misskey",
    "sharkey",
    "firefish",
    "iceshrimp",
    "calckey",
    "foundkey",
    "gotosocial",
    "pixelfed",
    "takahe",
    "snac",
];

/// The largest NodeInfo document (or list of links to it) read.
const MOST_BYTES: usize = 64 * 1024;
/// Servers looked up at once (one that hangs holds its place to the request time-out).
const LOOKUPS_AT_ONCE: usize = 16;
/// How often the delivery worker looks for servers to identify, once the last are done.
pub(crate) const LOOKUP_EVERY: Duration = Duration::from_secs(2);

/// Which announcements a follower's server reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// `Announce(Create(Page))` and the like: the activity.
    Activities,
    /// `Announce(Page)` only: the post.
    ObjectsOnly,
    /// Not known: send both.
    Unknown,
}

impl Reads {
    /// What software of this name (NodeInfo's `software.name`) reads.
    pub fn of(software: Option<&str>) -> Reads {
        let Some(name) = software else {
            return Reads::Unknown;
        };
        if READS_ANNOUNCED_ACTIVITIES.contains(&name) {
            Reads::Activities
        } else if READS_ANNOUNCED_OBJECTS_ONLY.contains(&name) {
            Reads::ObjectsOnly
        } else {
            Reads::Unknown
        }
    }

    /// Whether it needs a forum's `Announce` of an activity.
    pub fn activities(self) -> bool {
        self != Reads::ObjectsOnly
    }

    /// Whether it needs a forum's `Announce` of a new thread's post itself.
    pub fn objects(self) -> bool {
        self != Reads::Activities
    }
}

/// Looks up what every server due runs (those never looked up, or not for a day), at most
/// [`LOOKUPS_AT_ONCE`] at a time, and records it; a server that cannot tell is recorded as
/// unknown and asked again in a day. Runs beside delivery, never in its way; returns when
/// none is left.
pub(crate) async fn identify_due(
    data: &Data<Site>,
    client: &reqwest::Client,
    policy: &InstancePolicy,
) -> Result<(), FederationError> {
    let mut lookups = tokio::task::JoinSet::new();
    loop {
        let free = LOOKUPS_AT_ONCE.saturating_sub(lookups.len());
        let due = if free > 0 {
            data.software_due(free as i64).await?
        } else {
            Vec::new()
        };
        for (id, domain) in due {
            let (data, client, policy) =
                (data.reset_request_count(), client.clone(), policy.clone());
            lookups.spawn(async move {
                let software = match software_of(&domain, &data, &client, &policy).await {
                    Ok(name) => Some(name),
                    Err(e) => {
                        tracing::debug!(%domain, error = %e, "could not tell what software a server runs");
                        None
                    }
                };
                data.record_software(id, software).await
            });
        }
        match lookups.join_next().await {
            None => return Ok(()),
            Some(Ok(Err(e))) => return Err(e.into()),
            Some(_) => {}
        }
    }
}

/// The software the server at `domain` runs, from its NodeInfo.
async fn software_of(
    domain: &str,
    data: &Data<Site>,
    client: &reqwest::Client,
    policy: &InstancePolicy,
) -> Result<String, FederationError> {
    let scheme = if data.settings().federation.debug {
        "http"
    } else {
        "https"
    };
    let well_known = Url::parse(&format!("{scheme}://{domain}/.well-known/nodeinfo"))?;
    let links = get_json(&well_known, data, client, policy).await?;
    let href = nodeinfo_href(&links)
        .ok_or_else(|| failed(format!("{well_known} links to no NodeInfo 2.x")))?;
    let document = get_json(&Url::parse(href)?, data, client, policy).await?;
    software_name(&document).ok_or_else(|| failed(format!("{href} names no software")))
}

fn failed(message: String) -> FederationError {
    ForumError::Internal(message).into()
}

/// The address of the newest NodeInfo 2.x document among a server's links.
fn nodeinfo_href(links: &Value) -> Option<&str> {
    const SCHEMA: &str = "http://nodeinfo.diaspora.software/ns/schema/2.";
    links
        .get("links")?
        .as_array()?
        .iter()
        .filter_map(|link| {
            let version = link.get("rel")?.as_str()?.strip_prefix(SCHEMA)?;
            Some((version, link.get("href")?.as_str()?))
        })
        .max_by(|a, b| a.0.cmp(b.0))
        .map(|(_, href)| href)
}

/// NodeInfo's `software.name`, as the protocol defines it: lower-case letters, digits and
/// `-`, at most 64 of them. Anything else is not a name.
fn software_name(document: &Value) -> Option<String> {
    let name = document.get("software")?.get("name")?.as_str()?.trim();
    let name = name.to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    valid.then_some(name)
}

/// A JSON document from another server, through the federation client (no private
/// addresses outside debug, time-outs as configured), to an address delivery could go to, at
/// most [`MOST_BYTES`] long.
async fn get_json(
    url: &Url,
    data: &Data<Site>,
    client: &reqwest::Client,
    policy: &InstancePolicy,
) -> Result<Value, FederationError> {
    policy
        .deliverable(url, data.domain())
        .map_err(|why| failed(format!("{url}: {why}")))?;
    let mut response = client
        .get(url.as_str())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| failed(format!("{url}: {e}")))?;
    if !response.status().is_success() {
        return Err(failed(format!("{url} answered {}", response.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| failed(format!("{url}: {e}")))?
    {
        if body.len() + chunk.len() > MOST_BYTES {
            return Err(failed(format!("{url} is larger than {MOST_BYTES} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(serde_json::from_slice(&body)?)
}

#[cfg(test)]
mod tests {
    use super::{nodeinfo_href, software_name, Reads};
    use serde_json::json;

    #[test]
    fn each_software_gets_the_form_it_reads() {
        assert_eq!(Reads::of(Some("lemmy")), Reads::Activities);
        assert_eq!(Reads::of(Some("mastodon")), Reads::ObjectsOnly);
        assert_eq!(Reads::of(Some("somethingnew")), Reads::Unknown);
        assert_eq!(Reads::of(None), Reads::Unknown);
        assert!(Reads::Activities.activities() && !Reads::Activities.objects());
        assert!(!Reads::ObjectsOnly.activities() && Reads::ObjectsOnly.objects());
        assert!(Reads::Unknown.activities() && Reads::Unknown.objects());
    }

    #[test]
    fn the_newest_nodeinfo_is_read_and_its_name_checked() {
        let links = json!({"links": [
            {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": "https://a/2.0"},
            {"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": "https://a/2.1"},
            {"rel": "https://example.org/other", "href": "https://a/other"},
        ]});
        assert_eq!(nodeinfo_href(&links), Some("https://a/2.1"));
        assert_eq!(nodeinfo_href(&json!({"links": []})), None);
        assert_eq!(nodeinfo_href(&json!([])), None);
        let named = |name: serde_json::Value| software_name(&json!({"software": {"name": name}}));
        assert_eq!(named(json!("Mastodon")).as_deref(), Some("mastodon"));
        assert_eq!(named(json!("glitch-soc")).as_deref(), Some("glitch-soc"));
        assert_eq!(named(json!("")), None);
        assert_eq!(named(json!("<script>")), None);
        assert_eq!(named(json!("x".repeat(65))), None);
        assert_eq!(named(json!(7)), None);
    }
}

//! Accounts that end: a person here deleted their account (a `Delete` whose object is the
//! person, to every server that has their posts), and a person elsewhere deleted by their own
//! server. The `removeData` flag says whether their posts go too: Lemmy sends it (true when the
//! person chose to delete their content); Mastodon sends none and deletes everything
//! (`DeleteAccountService`), so without it their posts go here too.

use activitypub_federation::config::Data;
use serde_json::json;
use url::Url;

use crate::federation::error::FederationError;
use crate::federation::outgoing::{
    activity_id, follower_readers, planned, remote_forum_inboxes, url,
};
use crate::federation::protocol::PUBLIC;
use crate::forum::outbox::{PlannedActivity, Signer};
use crate::forum::Site;

/// A person elsewhere deleted themselves (`actor` and `object` are the person, so only their
/// own server, which signed it, can say it).
pub(crate) async fn person_deleted(
    actor: &Url,
    remove_data: Option<bool>,
    data: &Data<Site>,
) -> Result<(), FederationError> {
    let Some(person) = data.user_by_ap_id(actor.to_string()).await? else {
        // Never seen here: nothing to forget.
        return Ok(());
    };
    data.receive_person_deleted(person, remove_data.unwrap_or(true))
        .await?;
    Ok(())
}

/// The `Delete` of a person here who deleted their account, signed as them (at the address
/// other servers knew), to every server that has their posts: the followers of each of our
/// forums they posted in, and each forum elsewhere they posted in (whose server relays it).
pub(crate) async fn plan_delete_person(
    user_id: i64,
    remove_data: bool,
    data: &Data<Site>,
) -> Result<Vec<PlannedActivity>, FederationError> {
    let Some(user) = data.user_by_id(user_id).await? else {
        return Ok(Vec::new());
    };
    let Some(address) = user.ap_id.clone().filter(|_| user.local) else {
        return Ok(Vec::new());
    };
    let mut inboxes = Vec::new();
    for forum in data.forums_posted_in(user.id).await? {
        if forum.members_only() {
            continue;
        }
        if forum.local {
            inboxes.extend(follower_readers(forum.id, None, data).await?.all());
        } else {
            let forum_url = url(forum.ap_id.as_deref().unwrap_or_default())?;
            inboxes.extend(remote_forum_inboxes(&forum, &forum_url, None)?);
        }
    }
    inboxes.sort();
    inboxes.dedup();
    if inboxes.is_empty() {
        return Ok(Vec::new());
    }
    let id = activity_id(data, "delete")?;
    let delete = json!({
        "type": "Delete",
        "id": id,
        "actor": address,
        "object": address,
        "to": [PUBLIC],
        "removeData": remove_data,
    });
    Ok(vec![planned(
        id.as_str(),
        "Delete",
        Signer::User(user.id),
        &delete,
        inboxes,
    )?])
}

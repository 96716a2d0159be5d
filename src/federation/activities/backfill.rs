//! Filling in a forum just followed: its newest threads, read from its outbox and stored as
//! if they had been announced.

use activitypub_federation::config::Data;
use activitypub_federation::fetch::fetch_object_http;
use serde_json::Value;
use url::Url;

use crate::federation::activities::posts::{fetch_post, from_origin, store_post, Reach};
use crate::federation::error::FederationError;
use crate::federation::protocol::PostObject;
use crate::forum::Site;

/// Fills in a forum just followed from its outbox: its newest threads (at most 20), each
/// stored as if it had been announced. Best effort: an item that cannot be read or verified is
/// logged and skipped, and the rest still arrive.
pub async fn backfill(forum: &crate::forum::Forum, data: &Data<Site>) {
    let Some(outbox) = forum.outbox_url.as_deref().and_then(|u| Url::parse(u).ok()) else {
        return;
    };
    let Some(forum_id) = forum.ap_id.as_deref().and_then(|u| Url::parse(u).ok()) else {
        return;
    };
    let data = data.reset_request_count();
    let collection: Value = match fetch_object_http::<Site, Value>(&outbox, &data).await {
        Ok(res) => res.object,
        Err(e) => {
            tracing::info!(%outbox, error = %e, "could not read a followed forum's outbox");
            return;
        }
    };
    let items = collection
        .get("orderedItems")
        .or_else(|| collection.get("items"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Oldest first, so threads keep their order.
    for item in items.into_iter().take(20).rev() {
        let data = data.reset_request_count();
        let result = async {
            // Announce(Create(Page)) from Lemmy, Create(Page) from us, or a bare object.
            let mut object = item;
            for _ in 0..2 {
                match object.get("type").and_then(Value::as_str) {
                    Some("Announce" | "Create") => {
                        object = object.get("object").cloned().unwrap_or(Value::Null)
                    }
                    _ => break,
                }
            }
            let object = match object {
                Value::String(id) => fetch_post(&Url::parse(&id)?, &data).await?,
                other => {
                    let post: PostObject = serde_json::from_value(other)?;
                    from_origin(post, &forum_id, &data).await?
                }
            };
            if object.in_reply_to.is_some() {
                return Ok(());
            }
            store_post(object, None, false, 0, Reach::Followed, &data)
                .await
                .map(|_| ())
        }
        .await;
        if let Err(e) = result {
            let e: FederationError = e;
            tracing::info!(forum = %forum_id, error = %e, "skipped an outbox item while filling in a forum");
        }
    }
}

//! Filling in: a forum just followed (its newest threads, read from its outbox and stored as
//! if they had been announced), and a thread's whole conversation, read from its context
//! collection (FEP-7888, FEP-f228) when a person here opens or watches a thread from elsewhere,
//! when a reply arrives for a thread never seen here, when its forum accepts a follow of the
//! thread, and now and then for watched threads whose server sends nothing here.

use std::collections::HashSet;
use std::time::Duration;

use activitypub_federation::config::{Data, FederationConfig};
use activitypub_federation::fetch::fetch_object_http;
use serde_json::Value;
use url::Url;

use crate::federation::activities::posts::{
    fetch_post, from_origin, store_post, store_post_with, Reach, PARENT_DEPTH,
};
use crate::federation::error::FederationError;
use crate::federation::protocol::PostObject;
use crate::federation::same_origin;
use crate::forum::thread_follows::FillIn;
use crate::forum::Site;

/// At most this many posts not here yet are read in from one conversation at a time (a longer
/// one is read in over several passes: those already here cost no fetch).
pub const FILL_IN_MOST_POSTS: usize = 500;
/// At most this many items of a context collection are looked at.
pub const FILL_IN_MOST_ITEMS: usize = 20_000;
/// At most this many pages of a context collection are read at a time.
pub const FILL_IN_MOST_PAGES: usize = 100;
/// How long one conversation may take to read in.
const FILL_IN_TIME: Duration = Duration::from_secs(60);
/// How many watched threads one pass of the refresh reads in, at most.
const REFRESH_BATCH: i64 = 20;

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

/// Reads the conversation of thread `thread_id` (from elsewhere) in from its context
/// collection: at once when `fresh`, else only if that was not done within
/// `federation.context_refresh_seconds`. Best effort, bounded by [`FILL_IN_MOST_POSTS`],
/// [`FILL_IN_MOST_PAGES`] and a minute: a page or post that cannot be read or verified is
/// logged and skipped, and the rest still arrive. Posts already here cost no fetch.
pub async fn fill_in_thread(thread_id: i64, fresh: bool, data: &Data<Site>) {
    let claim = match data.claim_fill_in(thread_id, fresh).await {
        Ok(Some(claim)) => claim,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(thread_id, error = %e, "could not claim a thread for filling in");
            return;
        }
    };
    match tokio::time::timeout(FILL_IN_TIME, read_in(thread_id, claim, data)).await {
        Ok(Ok(stored)) => {
            tracing::info!(thread_id, stored, "conversation filled in from its context")
        }
        Ok(Err(e)) => tracing::info!(thread_id, error = %e, "could not fill a conversation in"),
        Err(_) => tracing::info!(thread_id, "filling a conversation in ran out of time"),
    }
}

/// Reads thread `thread_id`'s context collection and stores the replies not here yet;
/// returns how many were stored.
async fn read_in(
    thread_id: i64,
    claim: FillIn,
    data: &Data<Site>,
) -> Result<usize, FederationError> {
    let data = data.reset_request_count();
    let opening = data.opening_post(thread_id).await?;
    let Some(thread_url) = opening
        .thread
        .ap_id
        .as_deref()
        .map(Url::parse)
        .transpose()?
    else {
        return Ok(0);
    };
    let context = match claim.context_url {
        Some(url) => Url::parse(&url)?,
        None => {
            // Stored before its context was kept: its opening post names it.
            let object = fetch_post(&thread_url, &data).await?;
            let Some(context) = object.context else {
                return Ok(0);
            };
            data.set_thread_context_url(thread_id, context.to_string())
                .await?;
            context
        }
    };
    // The conversation's owner is the thread's server: a context elsewhere is not taken.
    same_origin(&context, &thread_url)?;
    let items = context_items(&context, &data).await?;
    // Those here already are passed over without a fetch (one query for all of them).
    let ids: Vec<String> = items.iter().filter_map(item_id).map(String::from).collect();
    let known = data.known_posts(ids).await?;
    let new = items
        .into_iter()
        .filter(|item| item_id(item).is_some_and(|id| !known.contains(id)))
        .take(FILL_IN_MOST_POSTS);
    let mut stored = 0;
    for item in new {
        let data = data.reset_request_count();
        match read_item(item, &context, claim.first, &data).await {
            Ok(Some(landed)) => {
                stored += 1;
                if landed != thread_id {
                    tracing::info!(%context, thread_id, landed, "a post of a context belongs to another thread");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::info!(%context, error = %e, "skipped an item of a context"),
        }
    }
    Ok(stored)
}

/// The id of the post an item of a context collection names: the item itself, its `id`, or
/// (for a `Create` or `Update`) its object's.
fn item_id(item: &Value) -> Option<&str> {
    let object = match item.get("type").and_then(Value::as_str) {
        Some("Create" | "Update") => item.get("object")?,
        _ => item,
    };
    object
        .as_str()
        .or_else(|| object.get("id").and_then(Value::as_str))
}

/// The items of a context collection, oldest first: its own `orderedItems` (or `items`), then
/// those of its pages from `first` along `next`, on its own server, at most
/// [`FILL_IN_MOST_PAGES`] pages and [`FILL_IN_MOST_ITEMS`] items.
async fn context_items(context: &Url, data: &Data<Site>) -> Result<Vec<Value>, FederationError> {
    let collection: Value = fetch_object_http::<Site, Value>(context, data)
        .await?
        .object;
    let mut items = Vec::new();
    let take = |items: &mut Vec<Value>, page: &Value| {
        let listed = page
            .get("orderedItems")
            .or_else(|| page.get("items"))
            .and_then(Value::as_array);
        for item in listed.into_iter().flatten() {
            if items.len() < FILL_IN_MOST_ITEMS {
                items.push(item.clone());
            }
        }
    };
    take(&mut items, &collection);
    let mut next = collection.get("first").cloned();
    let mut seen = HashSet::new();
    for _ in 0..FILL_IN_MOST_PAGES {
        if items.len() >= FILL_IN_MOST_ITEMS {
            break;
        }
        let page = match next.take() {
            Some(Value::String(url)) => {
                let url = Url::parse(&url)?;
                same_origin(&url, context)?;
                if !seen.insert(url.clone()) {
                    break;
                }
                let data = data.reset_request_count();
                fetch_object_http::<Site, Value>(&url, &data).await?.object
            }
            // An embedded page: its items are checked one by one like any other.
            Some(page @ Value::Object(_)) => page,
            _ => break,
        };
        take(&mut items, &page);
        next = page.get("next").cloned().map(|n| match n {
            Value::Object(ref map)
                if !map.contains_key("orderedItems") && !map.contains_key("items") =>
            {
                map.get("id").cloned().unwrap_or(Value::Null)
            }
            other => other,
        });
    }
    Ok(items)
}

/// Stores one item of a context collection (a post by id or embedded, or the `Create` or
/// `Update` of one; other activities are passed over) when it is a reply not here yet, from
/// where it lives. Returns the thread it landed in.
async fn read_item(
    item: Value,
    context: &Url,
    quiet: bool,
    data: &Data<Site>,
) -> Result<Option<i64>, FederationError> {
    let object = match item.get("type").and_then(Value::as_str) {
        Some("Create" | "Update") => item.get("object").cloned().unwrap_or(Value::Null),
        Some("Note" | "Page" | "Article" | "Question") | None => item,
        Some(_) => return Ok(None),
    };
    let id = match &object {
        Value::String(id) => Url::parse(id)?,
        Value::Object(map) => match map.get("id").and_then(Value::as_str) {
            Some(id) => Url::parse(id)?,
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    if crate::forum::remote::domain_of(&id).as_deref() == Some(data.domain()) {
        return Ok(None);
    }
    let post = match object {
        Value::String(_) => fetch_post(&id, data).await?,
        other => from_origin(serde_json::from_value::<PostObject>(other)?, context, data).await?,
    };
    // The opening post is here already; a post answering nothing is not part of it.
    if post.in_reply_to.is_none() {
        return Ok(None);
    }
    let ctx = store_post_with(
        post,
        None,
        false,
        PARENT_DEPTH,
        Reach::Followed,
        quiet,
        data,
    )
    .await?;
    Ok(Some(ctx.thread.id))
}

/// Starts the refresh of watched threads whose server sends nothing here (nobody here follows
/// their forum, and no follow of the thread was accepted): each is read again from its context
/// collection every `federation.context_refresh_seconds`.
pub fn spawn_refresh(config: FederationConfig<Site>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let seconds = config
            .to_request_data()
            .settings()
            .federation
            .context_refresh_seconds;
        let every = Duration::from_secs_f64((seconds / 4.0).clamp(1.0, 60.0));
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            let data = config.to_request_data();
            let due = match data.threads_to_refresh(REFRESH_BATCH).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(error = %e, "could not list the watched threads to refresh");
                    continue;
                }
            };
            for thread_id in due {
                fill_in_thread(thread_id, false, &data).await;
            }
        }
    })
}

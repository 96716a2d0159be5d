//! The delivery worker: turns outbox events into activities and sends them, durably.
//!
//! - Events are expanded oldest first, each in one transaction with the activities and
//!   deliveries it makes, so a crash never half-expands one.
//! - Each destination instance gets its deliveries one at a time, in the order they were
//!   made (a `Create` before its `Update` before its `Delete`). Up to
//!   `federation.delivery_workers` sends are in flight at once, over all instances, and a
//!   quarter as many again for instances that have been failing, which never take the
//!   others' places. A send still unanswered after `connect_timeout_seconds` gives its place
//!   to another instance and is waited for to `request_timeout_seconds`, so servers that
//!   hang only delay themselves.
//! - Instances are claimed fairly: those that have not been failing come first, then the
//!   ones failing least; events are expanded in small batches between claims, so sending
//!   goes on while a large backlog of events (heavy inbound traffic) is expanded.
//! - Activities are signed when sent, by the local person or forum that is their actor (keys
//!   read once per worker, signed with `ring`: see [`super::signing`]), and only to inboxes
//!   the protocol crate would send to ([`super::InstancePolicy::deliverable`]).
//! - A failure holds that instance's queue and retries after `retry_base_seconds × 1.25^n`
//!   (capped at a day: the policy is the domain's, `forum::delivery::retry_delay`, applied by
//!   `Site::delivery_failed`); an instance failing for `dead_after_hours` is skipped until it sends us
//!   something. A 4xx other than 408 and 429 is a refusal for good: the delivery is dropped
//!   (logged), as retrying cannot change it.
//! - Instances are claimed with a lease in the database, held in the name of this worker (its
//!   machine, port and process id, and a token drawn when it starts) and renewed every third
//!   of `delivery_lease_seconds` while it sends, so several processes sharing one PostgreSQL
//!   never deliver to the same instance at the same time; when one dies, the others take its
//!   instances over as its leases end, and when it starts again on its port it frees them.
//!
//! - What software each server runs (so which announcements it reads: [`super::software`]) is
//!   looked up from its NodeInfo by a task beside sending, never in its way.
//!
//! Nothing is kept only in memory: after a restart the worker picks up where the database says.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use activitypub_federation::config::{Data, FederationConfig};
use chrono::TimeDelta;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use url::Url;

use super::actors::{ApForum, ApUser};
use super::error::FederationError;
use super::outgoing::{plan, Round};
use super::signing::{self, SigningKey};
use super::software::{self, LOOKUP_EVERY};
use super::InstancePolicy;
use crate::forum::delivery::Delivery;
use crate::forum::delivery::Instance;
use crate::forum::outbox::Signer;
use crate::forum::Site;
use activitypub_federation::traits::{Actor, Object};

/// Deliveries sent to one instance per claim before others get a turn.
const BATCH: usize = 20;
/// Outbox events expanded per round, so that sending starts (and goes on) while a large
/// backlog of events is still being expanded.
const EXPAND_BATCH: i64 = 50;
/// Deliveries queued per round at the most (give or take one event's): a round's expansion is
/// one transaction, which on SQLite holds the only writer while it lasts, so replies coming in
/// wait for it; a thousand rows are a few milliseconds.
const EXPAND_DELIVERIES: usize = 1000;
/// The places for retrying servers that have been failing: one for every this many places
/// (at least one), apart from the others.
const RETRY_SHARE: usize = 4;
/// How many servers may be waited on at once, as a multiple of `delivery_workers`: sends that
/// gave their place up still hold a connection until their time-out.
const WAITING_FACTOR: usize = 4;
/// The longest the worker sleeps without looking at the database (a second process may have
/// written events this one was not told about).
const IDLE_POLL: Duration = Duration::from_secs(5);
/// The shortest pause between rounds, so instances leased elsewhere are not polled in a spin.
const MIN_SLEEP: Duration = Duration::from_millis(50);

/// Starts the worker on the current runtime. It runs until the runtime stops.
pub fn spawn(config: FederationConfig<Site>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let data = config.to_request_data();
        let owner = LeaseOwner::of(&data.settings().server);
        // Leases left by this process before it stopped (or by the one before it on this
        // machine and port: never a live one, which would hold the port) would hold those
        // instances until they end: they are freed at once.
        if let Err(e) = data.release_earlier_leases(owner.place.clone()).await {
            tracing::error!(error = %e, "could not release delivery leases");
        }
        run(data, owner.name).await;
    })
}

/// One round after another: expand a batch of events, claim as many due instances as there
/// are free places, start serving each, sleep until something is due or written.
async fn run(data: Data<Site>, owner: Arc<str>) {
    let federation = data.settings().federation.clone();
    let places = usize::try_from(federation.delivery_workers.max(1)).unwrap_or(1);
    let slots = Arc::new(Semaphore::new(places));
    // Servers that have been failing are retried in places of their own, so that however
    // many of them hang, the servers that answer keep every place in `slots`.
    let retry_places = (places / RETRY_SHARE).max(1);
    let retry_slots = Arc::new(Semaphore::new(retry_places));
    let slow_after = Duration::from_secs_f64(federation.connect_timeout_seconds);
    // Leases are renewed every third of a lease while this worker sends.
    let lease = TimeDelta::milliseconds((federation.delivery_lease_seconds * 1000.0) as i64);
    let renew_every = Duration::from_secs_f64(federation.delivery_lease_seconds / 3.0);
    let mut renewed = Instant::now();
    let sender = match super::client(&data.settings().federation) {
        Ok(client) => Sender {
            client,
            signers: Signers::default(),
            policy: InstancePolicy::of(&data),
        },
        Err(e) => {
            tracing::error!(error = %e, "the delivery worker cannot start");
            return;
        }
    };
    let mut busy: HashSet<i64> = HashSet::new();
    let mut tasks: JoinSet<i64> = JoinSet::new();
    let mut lookup: Option<(tokio::task::JoinHandle<()>, Instant)> = None;
    loop {
        // What software servers run (which announcements they read), looked up beside
        // delivery, one round at a time.
        if lookup
            .as_ref()
            .is_none_or(|(task, at)| task.is_finished() && at.elapsed() >= LOOKUP_EVERY)
        {
            let (data, sender) = (data.reset_request_count(), sender.clone());
            let task = tokio::spawn(async move {
                if let Err(e) = software::identify_due(&data, &sender.client, &sender.policy).await
                {
                    tracing::error!(error = %e, "looking up what software servers run failed");
                }
            });
            lookup = Some((task, Instant::now()));
        }
        let more_events = match expand_events(&data).await {
            Ok(more) => more,
            Err(e) => {
                tracing::error!(error = %e, "expanding outbox events failed");
                false
            }
        };
        // Forget finished workers first, so their instances can be claimed again.
        while let Some(done) = tasks.try_join_next() {
            if let Ok(id) = done {
                busy.remove(&id);
            }
        }
        if !busy.is_empty() && renewed.elapsed() >= renew_every {
            let held: Vec<i64> = busy.iter().copied().collect();
            match data.renew_instances(held, owner.clone(), lease).await {
                Ok(n) if n < busy.len() => {
                    tracing::warn!(held = n, serving = busy.len(), "some delivery leases ran out before they were renewed (the database was too slow?); another process may send to those servers too");
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "renewing delivery leases failed"),
            }
            renewed = Instant::now();
        }
        let free = (slots.available_permits() + retry_slots.available_permits())
            .min((places * WAITING_FACTOR).saturating_sub(tasks.len()));
        if free > 0 {
            match data
                .claim_due_instances(free as i64, owner.clone(), lease)
                .await
            {
                Ok(instances) => {
                    for instance in instances {
                        let pool = if instance.failures == 0 {
                            &slots
                        } else {
                            &retry_slots
                        };
                        let place = pool.clone().try_acquire_owned().ok();
                        match place.filter(|_| busy.insert(instance.id)) {
                            Some(place) => {
                                let data = data.reset_request_count();
                                let sender = sender.clone();
                                let owner = owner.clone();
                                tasks.spawn(async move {
                                    let id = instance.id;
                                    let held = Held {
                                        instance,
                                        owner,
                                        place,
                                    };
                                    serve_instance(&data, &sender, held, slow_after).await;
                                    id
                                });
                            }
                            // A worker here has just let go of it and not yet finished (or no
                            // place is left): give the claim back, or it would hold the
                            // instance for the lease.
                            None => {
                                let release =
                                    data.release_instance(instance.id, owner.clone(), false);
                                if let Err(e) = release.await {
                                    tracing::error!(error = %e, "releasing an instance failed");
                                }
                            }
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "claiming instances for delivery failed"),
            }
        }
        let sleep = if more_events {
            Duration::ZERO
        } else {
            match data.next_delivery_due().await {
                Ok(Some(Some(at))) => (at - crate::forum::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(IDLE_POLL),
                Ok(Some(None)) if busy.is_empty() => Duration::ZERO,
                // Due, but every instance waiting is being served (here or by another process).
                Ok(Some(None)) => IDLE_POLL,
                _ => IDLE_POLL,
            }
        };
        // While sending, awake in time to renew the leases.
        let sleep = if busy.is_empty() {
            sleep
        } else {
            sleep.min(renew_every.saturating_sub(renewed.elapsed()))
        };
        tokio::select! {
            _ = data.outbox_wait() => {}
            done = tasks.join_next(), if !tasks.is_empty() => {
                if let Some(Ok(id)) = done {
                    busy.remove(&id);
                }
            }
            _ = tokio::time::sleep(sleep.max(MIN_SLEEP)) => {}
        }
    }
}

/// Expands up to [`EXPAND_BATCH`] pending events (or as many as make [`EXPAND_DELIVERIES`]
/// deliveries) into activities and deliveries, oldest first; true when more are waiting.
async fn expand_events(data: &Data<Site>) -> Result<bool, FederationError> {
    let events = data.pending_events(EXPAND_BATCH).await?;
    let mut more = events.len() as i64 == EXPAND_BATCH;
    let mut expanded = Vec::with_capacity(events.len());
    let mut round = Round::default();
    let mut deliveries = 0;
    for (id, event) in events {
        if deliveries >= EXPAND_DELIVERIES {
            // The rest wait for the next round.
            more = true;
            break;
        }
        let planned = match plan(&event, data, &mut round).await {
            Ok(planned) => planned,
            Err(e) => {
                // The event names something that cannot be sent (a row without an inbox, an
                // unparsable URL): retrying cannot fix it, and holding it would stop every
                // event behind it.
                tracing::error!(?event, error = %e, "outbox event could not be turned into activities; skipped");
                Vec::new()
            }
        };
        deliveries += planned.iter().map(|a| a.inboxes.len()).sum::<usize>();
        expanded.push((id, planned));
    }
    if !expanded.is_empty() {
        data.expand_events(expanded).await?;
    }
    Ok(more)
}

/// The name this worker's leases are held in: `HOST:PORT/PID-RANDOM` (the machine, the port
/// the process listens on and its id, for an operator to tell which process holds a server;
/// the random part tells apart two runs of one process id).
struct LeaseOwner {
    name: Arc<str>,
    /// `HOST:PORT/`, the prefix of every name a process listening here has had, when the
    /// machine's name and the port are known.
    place: Option<String>,
}

impl LeaseOwner {
    fn of(server: &crate::config::ServerSettings) -> LeaseOwner {
        // Linux says the machine's name here; elsewhere the variable most shells set.
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty());
        let place = host
            .filter(|_| server.port != 0)
            .map(|host| format!("{host}:{}/", server.port));
        let name = format!(
            "{}{}-{}",
            place.as_deref().unwrap_or("?/"),
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        LeaseOwner {
            name: name.into(),
            place,
        }
    }
}

/// An instance claimed by this worker (`owner`), and the place it sends in.
struct Held {
    instance: Instance,
    owner: Arc<str>,
    place: OwnedSemaphorePermit,
}

/// Sends an instance's deliveries in order until its queue is empty, a delivery fails, or
/// [`BATCH`] have gone; then lets go of it. It holds one of the worker's places while it
/// sends; a send still unanswered after `slow_after` gives the place back (another server
/// gets it) and is waited for to its end, after which the instance is let go.
async fn serve_instance(data: &Data<Site>, sender: &Sender, held: Held, slow_after: Duration) {
    let Held {
        instance,
        owner,
        place,
    } = held;
    let id = instance.id;
    let mut place = Some(place);
    let mut delivered = false;
    let queue = match data.next_deliveries(id, BATCH as i64).await {
        Ok(queue) => queue,
        Err(e) => {
            tracing::error!(error = %e, "reading the delivery queue failed");
            Vec::new()
        }
    };
    for next in queue {
        let sending = send(data, sender, &next);
        tokio::pin!(sending);
        let sent = tokio::select! {
            sent = &mut sending => sent,
            _ = tokio::time::sleep(slow_after) => {
                tracing::debug!(domain = %instance.domain, "slow to answer; its place goes to another server");
                place = None;
                data.outbox_written();
                sending.await
            }
        };
        match sent {
            Ok(()) => {
                // The first success of a claim clears a failing record; later ones need not.
                delivered = true;
                if let Err(e) = data.delivery_done(next.id).await {
                    tracing::error!(error = %e, "recording a delivery failed");
                    break;
                }
            }
            Err(e) => {
                let error = crate::error::cause_chain(&e);
                tracing::info!(domain = %instance.domain, activity = %next.activity_ap_id, %error, "delivery failed; will retry");
                // A failure after a success leaves the instance failing, not healthy.
                delivered = false;
                if let Err(e) = data.delivery_failed(instance.clone(), error).await {
                    tracing::error!(error = %e, "recording a failed delivery failed");
                }
                break;
            }
        }
        if place.is_none() {
            // A slow server gets one delivery per claim: the next waits for a place again.
            break;
        }
    }
    drop(place);
    if let Err(e) = data.release_instance(id, owner, delivered).await {
        tracing::error!(error = %e, "releasing an instance failed");
    }
    // More may be waiting (the batch ran out): wake the loop.
    data.outbox_written();
}

/// The keys of the local people and forums that sign deliveries, each read from the database
/// and parsed once (an actor's keys never change once made).
#[derive(Clone, Default)]
struct Signers(Arc<Mutex<HashMap<Signer, Arc<SigningKey>>>>);

impl Signers {
    /// At most this many are kept; past it the cache starts afresh.
    const MOST: usize = 10_000;

    async fn get(
        &self,
        data: &Data<Site>,
        signer: Signer,
    ) -> Result<Arc<SigningKey>, FederationError> {
        let lock = || self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = lock().get(&signer) {
            return Ok(key.clone());
        }
        let (id, pem) = match signer {
            Signer::User(user_id) => {
                let user = data.user_by_id(user_id).await?;
                let user = user.ok_or(crate::error::ForumError::NotFound { what: "user" })?;
                let actor = ApUser::local(data, user).await?;
                (actor.id().clone(), actor.private_key_pem())
            }
            Signer::Forum(forum_id) => {
                let forum = data.forum_by_id(forum_id).await?;
                let forum = forum.ok_or(crate::error::ForumError::NotFound { what: "forum" })?;
                let actor = ApForum::local(data, forum).await?;
                (actor.id().clone(), actor.private_key_pem())
            }
        };
        let pem = pem.ok_or_else(|| {
            crate::error::ForumError::Internal(format!("{id} has no private key"))
        })?;
        let key = Arc::new(SigningKey::from_pem(&id, &pem)?);
        let mut cache = lock();
        if cache.len() >= Self::MOST {
            cache.clear();
        }
        cache.insert(signer, key.clone());
        Ok(key)
    }
}

/// What the worker needs to send: the client, the signing keys, and which inboxes it may
/// send to at all.
#[derive(Clone)]
struct Sender {
    client: reqwest::Client,
    signers: Signers,
    policy: InstancePolicy,
}

/// Signs and posts one delivery. Ok when the inbox took it or refused it for good.
async fn send(
    data: &Data<Site>,
    sender: &Sender,
    delivery: &Delivery,
) -> Result<(), FederationError> {
    let inbox = Url::parse(&delivery.inbox)?;
    if let Err(why) = sender.policy.deliverable(&inbox, data.domain()) {
        // Nothing can ever be sent there (a local, invalid or refused address).
        tracing::warn!(inbox = %delivery.inbox, why, "inbox refused by URL checks; delivery dropped");
        return Ok(());
    }
    let key = sender.signers.get(data, delivery.signer).await?;
    signing::post(
        &sender.client,
        key,
        &inbox,
        delivery.body.clone().into_bytes(),
    )
    .await
}

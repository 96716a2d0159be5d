//! `--scenario inbound` (replies from many servers) and `--scenario relays` (replies from
//! many follower servers, each relayed to the others).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use url::Url;

use staffroom::federation::signing::{self, SigningKey};

use crate::stand_ins::{delivered, stand_ins, Known, Seen};
use crate::{follow_from_stand_in, listeners, wait, Args, Instance};

/// The thread the stand-ins reply to, and its opening post.
async fn number_bonds(
    instance: &Instance,
) -> anyhow::Result<(staffroom::forum::Thread, staffroom::forum::Post)> {
    let (_, thread, opening) = instance
        .site
        .start_thread(
            instance.head.clone(),
            "maths".into(),
            "Number bonds".into(),
            "How do you teach bonds to ten?".into(),
        )
        .await?;
    Ok((thread, opening))
}

/// Signed `Create(Note)`s from the person `/u/writer` of each stand-in on `ports`, replying to
/// `thread_url` in `forum`: `per_server` each, signed before the clock starts so that the
/// signing (the senders' work, not the server's) is not measured. They carry no `published`
/// time, so the server dates each as it arrives: a real server stamps a reply as it is written
/// and sends it at once, so replies arrive in the order they were written. (Stamped as they
/// are signed, all before the first is sent, they would arrive hundreds of places out of that
/// order as the stand-ins drift apart, and each would move every reply stored after its date.)
async fn presigned_replies(
    client: &reqwest::Client,
    ports: &[u16],
    private_key: &str,
    per_server: usize,
    forum: &Url,
    thread_url: &str,
    inbox: &Url,
) -> anyhow::Result<Vec<Vec<reqwest::Request>>> {
    let mut signers = tokio::task::JoinSet::new();
    for (index, port) in ports.iter().enumerate() {
        let base = format!("http://localhost:{port}");
        let actor = Url::parse(&format!("{base}/u/writer"))?;
        let key = Arc::new(SigningKey::from_pem(&actor, private_key)?);
        let (client, inbox, forum) = (client.clone(), inbox.clone(), forum.clone());
        let thread_url = thread_url.to_string();
        signers.spawn(async move {
            let mut requests = Vec::with_capacity(per_server);
            for n in 1..=per_server {
                let note = format!("{base}/notes/{n}");
                let create = serde_json::json!({
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": format!("{note}/create"),
                    "type": "Create",
                    "actor": actor,
                    "to": [forum, "https://www.w3.org/ns/activitystreams#Public"],
                    "object": {
                        "id": note,
                        "type": "Note",
                        "attributedTo": actor,
                        "content": format!("<p>Reply {n}: pairs that make <em>ten</em>.</p>"),
                        "inReplyTo": thread_url,
                        "to": [forum, "https://www.w3.org/ns/activitystreams#Public"],
                        "audience": forum,
                    },
                });
                let body = serde_json::to_vec(&create)?;
                requests.push(signing::signed_request(&client, key.clone(), &inbox, body).await?);
            }
            anyhow::Ok((index, requests))
        });
    }
    let mut all: Vec<Vec<reqwest::Request>> = (0..ports.len()).map(|_| Vec::new()).collect();
    while let Some(done) = signers.join_next().await {
        let (index, requests) = done??;
        all[index] = requests;
    }
    Ok(all)
}

/// Sends each stand-in's requests, one after another per stand-in, all stand-ins at once;
/// returns how many were taken (2xx, or refused for good) and how many failed.
async fn send_all(
    client: &reqwest::Client,
    inbox: &Url,
    requests: Vec<Vec<reqwest::Request>>,
) -> (usize, usize) {
    let taken = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut senders = tokio::task::JoinSet::new();
    for queue in requests {
        let (client, inbox, taken, failed) =
            (client.clone(), inbox.clone(), taken.clone(), failed.clone());
        senders.spawn(async move {
            for request in queue {
                match signing::send(&client, request, &inbox).await {
                    Ok(()) => taken.fetch_add(1, Ordering::SeqCst),
                    Err(_) => failed.fetch_add(1, Ordering::SeqCst),
                };
            }
        });
    }
    while senders.join_next().await.is_some() {}
    (taken.load(Ordering::SeqCst), failed.load(Ordering::SeqCst))
}

pub async fn inbound(args: &Args, instance: &Instance, backend: &str) -> anyhow::Result<()> {
    let site = &instance.site;
    let servers = args.servers.unwrap_or(50);
    let replies = args.replies.unwrap_or(20_000);
    let (thread, opening) = number_bonds(instance).await?;
    let thread_url = site.urls().post(&opening);
    let inbox = Url::parse(&site.urls().absolute("/inbox"))?;
    let keys = activitypub_federation::http_signatures::generate_actor_keypair()?;
    let (listeners, ports) = listeners(servers)?;
    let seen = Arc::new(Seen {
        per_port: HashMap::new(),
        refused: AtomicUsize::new(0),
        software: None,
    });
    stand_ins(
        listeners,
        Known(Arc::new(HashMap::new())),
        seen,
        keys.public_key.clone(),
    )
    .await?;

    let client = reqwest::Client::builder().build()?;
    let requests = presigned_replies(
        &client,
        &ports,
        &keys.private_key,
        replies.div_ceil(servers),
        &instance.forum_id,
        &thread_url,
        &inbox,
    )
    .await?;
    let statements = site.db().query_count();
    if args.statements {
        site.db().start_recording();
    }
    let started = Instant::now();
    let (taken, failed) = send_all(&client, &inbox, requests).await;
    let elapsed = started.elapsed().as_secs_f64();
    let statements = site.db().query_count() - statements;
    if args.statements {
        print_shapes(&site.db().stop_recording(), taken);
    }
    let stored = site.thread_page(thread.id, None).await?.paging.total;
    println!(
        "{backend}: {servers} servers sending signed replies as fast as they are answered: {:.0} a second taken over {elapsed:.1} s ({taken} in all, {failed} failed), {stored} stored, {:.1} statements each (issue 14's target: 2,000 a second on SQLite, 1,500 on PostgreSQL, every one stored)",
        taken as f64 / elapsed,
        statements as f64 / taken.max(1) as f64,
    );
    Ok(())
}

/// Statements by shape (their SQL without the bound values, cut to a line), most run first,
/// each with how many ran per reply taken.
fn print_shapes(recorded: &[String], taken: usize) {
    let mut shapes = HashMap::<String, usize>::new();
    for statement in recorded {
        let sql = statement.split("-- binds").next().unwrap_or(statement);
        let shape: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        *shapes.entry(shape.chars().take(110).collect()).or_default() += 1;
    }
    let mut shapes: Vec<(String, usize)> = shapes.into_iter().collect();
    shapes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (shape, count) in shapes {
        println!("{:>8.2}  {shape}", count as f64 / taken.max(1) as f64);
    }
}

pub async fn relays(args: &Args, instance: &Instance, backend: &str) -> anyhow::Result<()> {
    let site = &instance.site;
    let servers = args.servers.unwrap_or(50);
    let replies = args.replies.unwrap_or(5_000);
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let keys = activitypub_federation::http_signatures::generate_actor_keypair()?;
    let (listeners, ports) = listeners(servers)?;
    let seen = Arc::new(Seen {
        per_port: ports.iter().map(|p| (*p, AtomicUsize::new(0))).collect(),
        refused: AtomicUsize::new(0),
        software: None,
    });
    let known = Known::forum_of(instance);
    stand_ins(listeners, known, seen.clone(), keys.public_key.clone()).await?;
    // Each stand-in's writer follows the forum.
    for (n, port) in ports.iter().enumerate() {
        follow_from_stand_in(instance, n, *port, "writer", Some(keys.public_key.clone())).await?;
    }
    let (thread, opening) = number_bonds(instance).await?;
    // The Accept, and the thread (two forms: the stand-ins have no NodeInfo).
    let everyone = servers * 3;
    wait(site, deadline, "the Accepts and the thread", || {
        delivered(&seen) >= everyone
    })
    .await?;

    // With nothing coming in: local replies, each announced to every follower.
    let local = 100;
    let before = delivered(&seen);
    let started = Instant::now();
    for n in 0..local {
        site.reply(
            instance.head.clone(),
            thread.id,
            format!("Local reply {n}: try a rekenrek."),
            None,
        )
        .await?;
    }
    let quiet_target = before + local * servers;
    wait(site, deadline, "the local replies to be relayed", || {
        delivered(&seen) >= quiet_target
    })
    .await?;
    let quiet_rate = (local * servers) as f64 / started.elapsed().as_secs_f64();

    // Every stand-in sends replies as fast as it is answered; each is relayed to the others.
    let client = reqwest::Client::builder().build()?;
    let inbox = Url::parse(&site.urls().absolute("/inbox"))?;
    let requests = presigned_replies(
        &client,
        &ports,
        &keys.private_key,
        replies.div_ceil(servers),
        &instance.forum_id,
        &site.urls().post(&opening),
        &inbox,
    )
    .await?;
    let before = delivered(&seen);
    let started = Instant::now();
    let (taken, failed) = send_all(&client, &inbox, requests).await;
    let busy = started.elapsed().as_secs_f64();
    let during = delivered(&seen) - before;
    let busy_rate = during as f64 / busy;

    // What is left afterwards drains at the full rate.
    let owed = quiet_target + taken * (servers - 1);
    let (events, waiting) = site.outbox_backlog().await?;
    let before = delivered(&seen);
    let started = Instant::now();
    let drain_for = Duration::from_secs(args.seconds);
    while delivered(&seen) < owed && started.elapsed() < drain_for {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drained = delivered(&seen) - before;
    let drain_rate = drained as f64 / started.elapsed().as_secs_f64();
    println!("{backend}: {servers} follower servers; relays with nothing coming in: {quiet_rate:.0} deliveries a second");
    println!(
        "{backend}: while they sent {taken} replies in {busy:.1} s ({:.0} a second, {failed} failed): {busy_rate:.0} deliveries a second went out ({:.0}% of the quiet rate; target: at least 50%)",
        taken as f64 / busy,
        100.0 * busy_rate / quiet_rate
    );
    println!(
        "{backend}: afterwards {events} events and {waiting} deliveries were waiting; {drained} went out in {:.1} s: {drain_rate:.0} a second, target 1,500 ({} of {} owed delivered, {} refused)",
        started.elapsed().as_secs_f64(),
        delivered(&seen),
        owed,
        seen.refused.load(Ordering::SeqCst)
    );
    Ok(())
}

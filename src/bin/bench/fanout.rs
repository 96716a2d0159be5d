//! `--scenario fanout`: a new thread to many follower servers, some of which may hang.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use staffroom::federation::software::Reads;

use crate::stand_ins::{stand_ins, Known, Seen};
use crate::{follow_from_stand_in, wait, Args, Instance};

pub async fn fanout(args: &Args, instance: &Instance, backend: &str) -> anyhow::Result<()> {
    let site = &instance.site;
    let servers = args.servers.unwrap_or(1000);
    let known = Known::forum_of(instance);

    // The follower servers.
    let hanging = servers * args.hanging / 100;
    let mut healthy_listeners = Vec::new();
    let mut held = Vec::new();
    let mut ports = Vec::new();
    for n in 0..servers {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        ports.push(listener.local_addr()?.port());
        if n < hanging {
            // Takes connections (the kernel's backlog does) and never reads or answers.
            held.push(listener);
        } else {
            healthy_listeners.push(listener);
        }
    }
    let seen = Arc::new(Seen {
        per_port: healthy_listeners
            .iter()
            .map(|l| {
                (
                    l.local_addr().map(|a| a.port()).unwrap_or(0),
                    AtomicUsize::new(0),
                )
            })
            .collect(),
        refused: AtomicUsize::new(0),
        software: args.software.clone(),
    });
    stand_ins(healthy_listeners, known, seen.clone(), String::new()).await?;

    // Every follower server has a person following the forum; their Accepts go first.
    for (n, port) in ports.iter().enumerate() {
        follow_from_stand_in(instance, n, *port, "follower", None).await?;
    }
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let all_have = |count: usize| {
        seen.per_port
            .values()
            .all(|n| n.load(Ordering::SeqCst) >= count)
    };
    wait(
        site,
        deadline,
        "every healthy follower to have its Accept",
        || all_have(1),
    )
    .await?;
    // The hanging servers are ones already known to hang (the scenario is peers that hang, not
    // peers met for the first time): wait until each has timed out once.
    for port in &ports[..hanging] {
        let domain = format!("localhost:{port}");
        loop {
            if Instant::now() > deadline {
                anyhow::bail!("gave up waiting for the hanging servers to time out once");
            }
            let instance = site.instance_state(domain.clone()).await?;
            if instance.is_some_and(|i| i.failures > 0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // What the followers run is looked up beside delivery (once a day per server): wait until
    // every healthy one was asked, so that the measurement is of delivery alone.
    let reads = Reads::of(args.software.as_deref());
    let healthy: Vec<String> = seen
        .per_port
        .keys()
        .map(|port| format!("localhost:{port}"))
        .collect();
    let mut left = healthy.len();
    while left > 0 {
        if Instant::now() > deadline {
            anyhow::bail!("gave up waiting for the followers' software to be looked up");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = 0;
        for domain in &healthy {
            let instance = site.instance_state(domain.clone()).await?;
            let done = instance.is_some_and(|i| {
                i.software.is_some() || (reads == Reads::Unknown && i.software_checked_at.is_some())
            });
            if !done {
                left += 1;
            }
        }
    }
    // A look-up taken just now may not have been written yet.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // The measurement: a new thread, until the last healthy follower has all it sends.
    let started = Instant::now();
    site.start_thread(
        instance.head.clone(),
        "maths".into(),
        "Fractions on a number line".into(),
        "Where does 3/4 go, and why?".into(),
    )
    .await?;
    let per_thread = usize::from(reads.activities()) + usize::from(reads.objects());
    // When each tenth of the healthy followers had it, to show where time goes.
    let healthy_count = seen.per_port.len();
    let mut tenths = Vec::new();
    while !all_have(1 + per_thread) {
        if Instant::now() > deadline {
            let backlog = site.outbox_backlog().await?;
            anyhow::bail!("gave up waiting for every healthy follower to have the thread (outbox backlog: {backlog:?})");
        }
        let have = seen
            .per_port
            .values()
            .filter(|n| n.load(Ordering::SeqCst) > per_thread)
            .count();
        while tenths.len() < 10 * have / healthy_count.max(1) {
            tenths.push(started.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let tenths: Vec<String> = tenths.iter().map(|t| format!("{t:.2}")).collect();
    println!(
        "  tenths of the healthy followers had it after (s): {}",
        tenths.join(" ")
    );
    println!(
        "{backend}: {servers} follower servers ({hanging} hanging, software {}): the last healthy one had the thread ({per_thread} POST each) after {:.2} s ({} deliveries refused by the stand-ins; issue 14's target: 1,000 servers within 2 s, and with 10% hanging within 1.5 times the figure without)",
        args.software.as_deref().unwrap_or("unknown"),
        elapsed.as_secs_f64(),
        seen.refused.load(Ordering::SeqCst)
    );
    drop(held);
    Ok(())
}

//! `--scenario search`: how long a search takes over many posts. `--posts` posts (100,000
//! unless given; a thread of 100 for every 100) of about 60 words each, drawn from a
//! vocabulary of 2,000 words with a few common and many rare (as words in text are), are
//! written through the forum's own code, so the index is kept as it is in use (on PostgreSQL
//! the tables are then analyzed, as autovacuum keeps them on a server in use). Then 300
//! searches (single words common and rare, two words, a phrase, an exclusion, with and without
//! a forum filter) are timed one after another through `Site::search`, as a page or the API
//! calls it, and the bench prints p50, p95 and p99.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use staffroom::forum::search::SearchRequest;

use super::{Args, Instance};

/// A made-up word for each number: pronounceable, and the same every run.
fn word(n: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qui", "do", "fe", "gu", "ho",
        "ja",
    ];
    let mut w = String::new();
    let mut n = n + 16;
    while n > 0 {
        w.push_str(SYLLABLES[n % 16]);
        n /= 16;
    }
    w
}

/// A word index: low numbers much more often (a Zipf-like draw).
fn draw(rng: &mut StdRng, vocabulary: usize) -> usize {
    let x: f64 = rng.random();
    ((vocabulary as f64).powf(x) as usize).saturating_sub(1)
}

fn text(rng: &mut StdRng, vocabulary: usize, words: usize) -> String {
    (0..words)
        .map(|_| word(draw(rng, vocabulary)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The kinds of search timed, in turn.
const KINDS: [&str; 6] = [
    "a common word",
    "a rare word",
    "two words",
    "a phrase",
    "a word without another",
    "a word of middling use",
];

pub async fn search(args: &Args, instance: &Instance, backend: &str) -> anyhow::Result<()> {
    const VOCABULARY: usize = 2000;
    const PER_THREAD: usize = 100;
    let total = args.posts.unwrap_or(100_000);
    let site = &instance.site;
    let mut rng = StdRng::seed_from_u64(7);
    let started = Instant::now();
    let mut written = 0;
    while written < total {
        let (_, thread, _) = site
            .start_thread(
                instance.head.clone(),
                "maths".into(),
                text(&mut rng, VOCABULARY, 6),
                text(&mut rng, VOCABULARY, 60),
            )
            .await?;
        written += 1;
        for _ in 1..PER_THREAD.min(total - written + 1) {
            site.reply(
                instance.head.clone(),
                thread.id,
                text(&mut rng, VOCABULARY, 60),
                None,
            )
            .await?;
            written += 1;
        }
    }
    let seeding = started.elapsed();
    // The planner's statistics, as PostgreSQL's autovacuum keeps them on a server that has run
    // a while (it would have analyzed these tables many times over while they grew; this
    // machine's server has autovacuum off, and a fresh database has none at all).
    site.db().with_conn(|conn| -> anyhow::Result<()> {
        if let staffroom::db::Conn::Pg(c) = conn {
            diesel::RunQueryDsl::execute(diesel::sql_query("ANALYZE"), &mut **c)?;
        }
        Ok(())
    })?;
    let mut queries = Vec::new();
    for n in 0..300 {
        let kind = KINDS[n % 6];
        let q = match n % 6 {
            0 => word(draw(&mut rng, 20)),
            1 => word(rng.random_range(500..VOCABULARY)),
            2 => format!(
                "{} {}",
                word(draw(&mut rng, 200)),
                word(draw(&mut rng, 200))
            ),
            3 => format!(
                "\"{} {}\"",
                word(draw(&mut rng, 50)),
                word(draw(&mut rng, 50))
            ),
            4 => format!(
                "{} -{}",
                word(draw(&mut rng, 100)),
                word(draw(&mut rng, 30))
            ),
            _ => word(draw(&mut rng, 300)),
        };
        let forum = if n % 5 == 0 { "maths" } else { "" };
        queries.push((
            kind,
            SearchRequest {
                q,
                forum: forum.into(),
                ..SearchRequest::default()
            },
        ));
    }
    let mut times: Vec<Duration> = Vec::new();
    let mut by_kind: Vec<(&str, Duration)> = Vec::new();
    let mut found = 0_i64;
    for (kind, request) in queries {
        let t = Instant::now();
        let results = site.search(None, request).await?;
        times.push(t.elapsed());
        by_kind.push((kind, t.elapsed()));
        found += results.paging.total;
    }
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    // Which kind of search is slow, when one is.
    for kind in KINDS {
        let mut these: Vec<Duration> = by_kind
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, d)| *d)
            .collect();
        these.sort();
        let p = |q: f64| these[((these.len() as f64 * q) as usize).min(these.len() - 1)];
        println!(
            "  {kind}: p50 {:.1} ms, p95 {:.1} ms",
            p(0.50).as_secs_f64() * 1000.0,
            p(0.95).as_secs_f64() * 1000.0
        );
    }
    println!(
        "{backend}: {total} posts written in {:.1} s; {} searches (a page of results each, {} matches on average): p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, slowest {:.1} ms",
        seeding.as_secs_f64(),
        times.len(),
        found / times.len() as i64,
        at(0.50).as_secs_f64() * 1000.0,
        at(0.95).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        times.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
    );
    Ok(())
}

//! Load from `wrk` (installed from Debian's packages when missing): one run against one page
//! (or with a Lua script, against the API), its report read into a table row with the server's
//! peak memory beside it, and tables of several builds set side by side.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::server::rss_mb;

/// One line of the table.
pub struct Row {
    pub scenario: String,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    pub errors: u64,
    /// The server's peak resident memory during the load, in MB.
    pub rss_mb: f64,
    /// What the issue that set one asks of this scenario (empty when none does).
    pub target: &'static str,
}

/// Runs `wrk` (with `script`, a Lua file, when given) while sampling the memory of the
/// server, process `pid`.
#[allow(clippy::too_many_arguments)]
pub fn wrk(
    pid: u32,
    scenario: &str,
    url: &str,
    connections: usize,
    duration: u64,
    headers: &[String],
    script: Option<&Path>,
) -> anyhow::Result<Row> {
    let mut command = Command::new("wrk");
    command.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{duration}s"),
        "--latency",
    ]);
    for header in headers {
        command.args(["-H", header]);
    }
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    command.arg(url);
    let running = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (running, peak) = (running.clone(), peak.clone());
        std::thread::spawn(move || {
            while running.load(Ordering::Relaxed) {
                let kb = (rss_mb(pid) * 1024.0) as u64;
                peak.fetch_max(kb, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let output = command.output().context("running wrk")?;
    running.store(false, Ordering::Relaxed);
    let _ = sampler.join();
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    anyhow::ensure!(
        output.status.success(),
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut row = parse_wrk(&text).with_context(|| format!("reading wrk's report:\n{text}"))?;
    row.scenario = scenario.to_string();
    row.rss_mb = peak.load(Ordering::Relaxed) as f64 / 1024.0;
    println!(
        "  {scenario}: {:.0} requests/s, p99 {:.1} ms, {} errors",
        row.requests_per_second, row.p99_ms, row.errors
    );
    Ok(row)
}

/// The rows as a table under `heading`, each ending with its target.
pub fn table(heading: &str, rows: &[Row]) -> String {
    let mut table = format!("# {heading}\n");
    table.push_str(&format!(
        "{:<34} {:>10} {:>9} {:>9} {:>9} {:>7} {:>8}  {}\n",
        "scenario", "req/s", "p50 ms", "p99 ms", "requests", "errors", "RSS MB", "target"
    ));
    for r in rows {
        table.push_str(
            format!(
                "{:<34} {:>10.0} {:>9.2} {:>9.2} {:>9} {:>7} {:>8.1}  {}",
                r.scenario,
                r.requests_per_second,
                r.p50_ms,
                r.p99_ms,
                r.requests,
                r.errors,
                r.rss_mb,
                r.target
            )
            .trim_end(),
        );
        table.push('\n');
    }
    table
}

/// A latency as wrk writes it (`812.00us`, `3.21ms`, `1.02s`), in milliseconds.
fn millis(text: &str) -> Option<f64> {
    let (number, unit) = text
        .find(|c: char| c.is_ascii_alphabetic())
        .map(|at| text.split_at(at))?;
    let n: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

/// Requests/s, p50, p99, requests and errors (non-2xx/3xx answers and socket errors) from
/// wrk's report.
fn parse_wrk(text: &str) -> Option<Row> {
    let mut row = Row {
        scenario: String::new(),
        requests_per_second: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        requests: 0,
        errors: 0,
        rss_mb: 0.0,
        target: "",
    };
    let mut seen_rate = false;
    for line in text.lines().map(str::trim) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["50%", at] => row.p50_ms = millis(at)?,
            ["99%", at] => row.p99_ms = millis(at)?,
            ["Requests/sec:", rate] => {
                row.requests_per_second = rate.parse().ok()?;
                seen_rate = true;
            }
            [count, "requests", "in", ..] => row.requests = count.parse().ok()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => {
                row.errors += count.parse::<u64>().ok()?
            }
            ["Socket", "errors:", rest @ ..] => {
                // "connect 0, read 0, write 0, timeout 12"
                for pair in rest.chunks(2) {
                    if let [_, n] = pair {
                        row.errors += n.trim_end_matches(',').parse::<u64>().ok()?;
                    }
                }
            }
            _ => {}
        }
    }
    seen_rate.then_some(row)
}

/// A Lua script for wrk: each request a reply to `thread` as the holder of `token`, each body
/// different.
pub fn writers_script(dir: &Path, thread: i64, token: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join("writers.lua");
    let mut file = std::fs::File::create(&path)?;
    write!(
        file,
        "local n = 0\n\
         wrk.method = \"POST\"\n\
         wrk.headers[\"Content-Type\"] = \"application/json\"\n\
         wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n\
         request = function()\n\
         \x20 n = n + 1\n\
         \x20 return wrk.format(nil, \"/api/v1/threads/{thread}/posts\", nil,\n\
         \x20   '{{\"body\": \"Reply ' .. n .. ' from a writer: we tried **bar models** in Year 5 too, see https://school.example/plans.\"}}')\n\
         end\n"
    )?;
    Ok(path)
}

/// Installs `wrk` from Debian's packages when it is missing (as root, or through sudo).
pub fn ensure_wrk() -> anyhow::Result<()> {
    match Command::new("wrk").arg("--version").output() {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        Err(_) => {}
    }
    println!("installing wrk (the load generator) from Debian's packages");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let script = "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk";
    let status = if root {
        Command::new("sh").args(["-c", script]).status()?
    } else {
        Command::new("sudo").args(["sh", "-c", script]).status()?
    };
    anyhow::ensure!(
        status.success(),
        "could not install wrk: install it (Debian: apt-get install wrk) and run again"
    );
    Ok(())
}

/// Each scenario's requests/s for every server, each after the first with its ratio to the
/// first's.
pub fn comparison(backend: &str, binaries: &[PathBuf], tables: &[Vec<Row>]) -> String {
    let mut out = format!("# {backend}: requests/s side by side (ratio to the first)\n");
    out.push_str(&format!("{:<34}", "scenario"));
    for binary in binaries {
        // The end of its path, which tells builds apart.
        let name: Vec<char> = binary.display().to_string().chars().collect();
        let short: String = name[name.len().saturating_sub(24)..].iter().collect();
        out.push_str(&format!(" {short:>24}"));
    }
    out.push('\n');
    for (i, row) in tables[0].iter().enumerate() {
        out.push_str(&format!(
            "{:<34} {:>24.0}",
            row.scenario, row.requests_per_second
        ));
        for table in &tables[1..] {
            let other = table.get(i).map_or(0.0, |r| r.requests_per_second);
            let ratio = other / row.requests_per_second.max(f64::MIN_POSITIVE);
            out.push_str(&format!(" {:>16.0} ({ratio:>4.2}x)", other));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrks_report() {
        let report = "Running 10s test @ http://127.0.0.1:1/\n  2 threads and 64 connections\n  \
            Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency    33.1ms   12.0ms 210.00ms   80.00%\n  \
            Latency Distribution\n     50%   31.20ms\n     75%   40.00ms\n     90%   50.00ms\n     99%  113.00ms\n  \
            18300 requests in 10.00s, 100.00MB read\n  Socket errors: connect 0, read 2, write 0, timeout 3\n  \
            Non-2xx or 3xx responses: 4\nRequests/sec:   1830.00\nTransfer/sec:     10.00MB\n";
        let row = parse_wrk(report).unwrap();
        assert_eq!(row.requests, 18300);
        assert_eq!(row.errors, 9);
        assert!((row.p50_ms - 31.2).abs() < 1e-9);
        assert!((row.p99_ms - 113.0).abs() < 1e-9);
        assert!((row.requests_per_second - 1830.0).abs() < 1e-9);
        assert_eq!(millis("812.00us"), Some(0.812));
        assert_eq!(millis("1.50s"), Some(1500.0));
        assert!(parse_wrk("unable to connect").is_none());
    }

    #[test]
    fn compares_builds_by_ratio() {
        let row = |scenario: &str, rate: f64| Row {
            scenario: scenario.into(),
            requests_per_second: rate,
            p50_ms: 1.0,
            p99_ms: 2.0,
            requests: 10,
            errors: 0,
            rss_mb: 20.0,
            target: if scenario == "front page" {
                ">= 8,000/s"
            } else {
                ""
            },
        };
        let binaries = [
            PathBuf::from("/tmp/ältere-bauten/staffroom-3eaeb2f"),
            // Its last 24 characters start inside a two-byte character's bytes.
            PathBuf::from(format!("/builds/{}x", "é".repeat(30))),
        ];
        let tables = [
            vec![row("front page", 1000.0), row("forum page", 500.0)],
            vec![row("front page", 2500.0), row("forum page", 250.0)],
        ];
        let targets = table("SQLite", &tables[0]);
        let lines: Vec<&str> = targets.lines().collect();
        assert!(lines[2].starts_with("front page") && lines[2].ends_with("  >= 8,000/s"));
        assert!(lines[3].starts_with("forum page") && lines[3].ends_with("20.0"));
        let table = comparison("SQLite", &binaries, &tables);
        assert!(table.contains("staffroom-3eaeb2f"), "{table}");
        assert!(table.contains(&format!("{}x", "é".repeat(23))), "{table}");
        let front = table.lines().find(|l| l.starts_with("front page")).unwrap();
        assert!(
            front.contains("1000") && front.contains("2500 (2.50x)"),
            "{front}"
        );
        let forum = table.lines().find(|l| l.starts_with("forum page")).unwrap();
        assert!(forum.contains("(0.50x)"), "{forum}");
    }
}

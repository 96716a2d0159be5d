//! `--scenario reads`: what readers and writers get from a server, measured from outside. The
//! server is the `staffroom` binary (`--server PATH`, else the one beside this bench) run as
//! its own process on a fresh database, so its memory is its own and any build that has the
//! same API can be measured the same way (an older commit's, side by side). It is filled
//! through its API as educators would: 40 people, 20 forums of 30 threads, a thread of 50
//! replies under a 5 KB opening post with links and references, one of 500; then 32 writers
//! post replies into one thread for `--duration` seconds (the writers' scenario), and the
//! thread is topped up to 16,000 replies so that its page 500 and its writer's profile page
//! 300 can be read. Each read scenario is `wrk -t2 -c64 -d{duration}s` against one page;
//! the bench prints requests/s, p50, p99, errors and the server's resident memory (idle and
//! the most seen under each load) and writes the table to `--out`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

use super::Args;

const PASSWORD: &str = "a long bench password";
/// Readers' connections, as issue 10 measures.
const READERS: usize = 64;
/// Writers' connections.
const WRITERS: usize = 32;
/// Replies in the deep thread, and so posts by its writer.
const DEEP_REPLIES: usize = 16_000;

/// The server under measurement, stopped when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Resident memory, in MB, from `/proc`.
    fn rss_mb(&self) -> f64 {
        rss_mb(self.child.id())
    }
}

fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find_map(|l| {
                l.strip_prefix("VmRSS:")
                    .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// One line of the table.
pub struct Row {
    scenario: String,
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    errors: u64,
    rss_mb: f64,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn start_server(binary: &Path, db_url: &str) -> anyhow::Result<Server> {
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let env = [
        ("STAFFROOM__DATABASE__URL", db_url.to_string()),
        ("STAFFROOM__SERVER__HOST", "127.0.0.1".into()),
        ("STAFFROOM__SERVER__PORT", port.to_string()),
        ("STAFFROOM__SERVER__PUBLIC_URL", base.clone()),
        ("STAFFROOM__LOG__FILTER", "warn".into()),
    ];
    let created = Command::new(binary)
        .args(["admin", "create-user", "head", "--admin"])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("STAFFROOM_PASSWORD", PASSWORD)
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    anyhow::ensure!(
        created.status.success(),
        "creating the administrator failed: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    let child = Command::new(binary)
        .arg("serve")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .spawn()?;
    Ok(Server { child, base })
}

/// The API as one person (or nobody), failing on anything but success.
#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "{path}: {status} {text}");
        Ok(if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        })
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn login(&self, username: &str) -> anyhow::Result<Api> {
        let session = self
            .post(
                "/api/v1/sessions",
                json!({"username": username, "password": PASSWORD}),
            )
            .await?;
        Ok(Api {
            token: session["token"].as_str().map(str::to_string),
            ..self.clone()
        })
    }

    async fn thread(&self, forum: &str, title: &str, body: &str) -> anyhow::Result<i64> {
        let created = self
            .post(
                &format!("/api/v1/forums/{forum}/threads"),
                json!({"title": title, "body": body}),
            )
            .await?;
        created["thread"]["id"]
            .as_i64()
            .context("no thread id in the answer")
    }

    async fn reply(&self, thread: i64, body: &str) -> anyhow::Result<()> {
        self.post(
            &format!("/api/v1/threads/{thread}/posts"),
            json!({"body": body}),
        )
        .await
        .map(drop)
    }
}

/// A web login's cookies, as a browser would send them: through the login form.
async fn web_cookie(api: &Api, username: &str) -> anyhow::Result<String> {
    let form = api.client.get(format!("{}/login", api.base)).send().await?;
    let csrf_cookie = cookies(&form)
        .into_iter()
        .find(|c| c.starts_with("staffroom_csrf="))
        .context("no CSRF cookie")?;
    let page = form.text().await?;
    let token = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("no CSRF token on the login form")?;
    let answer = api
        .client
        .post(format!("{}/login", api.base))
        .header("Cookie", &csrf_cookie)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("csrf_token", token)
                .append_pair("username", username)
                .append_pair("password", PASSWORD)
                .append_pair("next", "/")
                .finish(),
        )
        .send()
        .await?;
    let session = cookies(&answer)
        .into_iter()
        .find(|c| c.starts_with("staffroom_session="))
        .with_context(|| format!("the login answered {} without a session", answer.status()))?;
    Ok(format!("{session}; {csrf_cookie}"))
}

/// The `name=value` of each cookie a response sets.
fn cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_string)
        .collect()
}

/// About 5 KB of Markdown as a long opening post is: headings, a list, links, a quotation and
/// references.
fn long_opening_post() -> String {
    let mut body = String::from(
        "## Where we started\n\nOur Year 4 classes met fractions as **shaded pizzas** and little \
         else. Following the [NCETM guidance](https://www.ncetm.org.uk/) we tried bar models \
         for a term; here is what happened, what we would keep, and what we would change.\n\n",
    );
    for week in 1..=8 {
        body.push_str(&format!(
            "### Week {week}\n\n- Started with a *concrete* task: folding paper strips into equal \
             parts and naming them.\n- Moved to drawn bars, then to bars with numbers only \
             ([worksheet {week}](https://school.example/materials/fractions-{week}.pdf)).\n- \
             Exit ticket: three questions, one of them a comparison such as 3/4 and 5/8.\n\n\
             > The children who drew bars without being asked did better on the comparison \
             question than those who did not.\n\n"
        ));
    }
    body.push_str(
        "## References\n\n1. Watanabe, T. (2002). Representations in teaching and learning \
         fractions. *Teaching Children Mathematics*, 8(8), 457-463.\n2. Siegler, R. et al. \
         (2010). [Developing effective fractions instruction](https://ies.ed.gov/ncee/wwc/).\n3. \
         Our own notes: <https://school.example/notes/bar-models>.\n",
    );
    body
}

fn reply_text(n: usize) -> String {
    format!(
        "> Moved to drawn bars, then to bars with numbers only\n\nWe did the same in Year 5 \
         (reply {n}), and found that the step from drawn bars to numbers needs **two** lessons, \
         not one: the first with the bars drawn for them, the second with blank strips. See \
         [our plan](https://school.example/plans/{n}) for the details, and the comparison \
         questions we used at the end of each week."
    )
}

/// `count` replies to `thread` by `api`, `parallel` at a time.
async fn replies(api: &Api, thread: i64, count: usize, parallel: usize) -> anyhow::Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..parallel {
        let (api, next) = (api.clone(), next.clone());
        tasks.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                if n >= count {
                    return anyhow::Ok(());
                }
                api.reply(thread, &reply_text(n)).await?;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// Runs `wrk` (with `script`, a Lua file, when given) while sampling the server's memory.
fn wrk(
    server: &Server,
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
        let (running, peak, pid) = (running.clone(), peak.clone(), server.child.id());
        std::thread::spawn(move || {
            while running.load(Ordering::Relaxed) {
                let kb = (rss_mb(pid) * 1024.0) as u64;
                peak.fetch_max(kb, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let output = command
        .output()
        .context("running wrk (bench/run installs it)")?;
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
fn writers_script(dir: &Path, thread: i64, token: &str) -> anyhow::Result<PathBuf> {
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

/// The servers to measure: `--server` (each, in turn), else the `staffroom` beside this
/// bench, built first when the bench runs under `cargo run` (so it is never stale).
pub fn binaries(args: &Args) -> anyhow::Result<Vec<PathBuf>> {
    if !args.server.is_empty() {
        return Ok(args.server.clone());
    }
    let beside = std::env::current_exe()?.with_file_name("staffroom");
    if let (Ok(cargo), Ok(dir)) = (std::env::var("CARGO"), std::env::var("CARGO_MANIFEST_DIR")) {
        let status = Command::new(cargo)
            .args(["build", "--release", "--bin", "staffroom"])
            .current_dir(dir)
            .status()?;
        anyhow::ensure!(status.success(), "building the server failed");
    }
    anyhow::ensure!(
        beside.exists(),
        "no server at {}: build it (cargo build --release --bin staffroom) or give --server",
        beside.display()
    );
    Ok(vec![beside])
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

/// Fills a server started from `binary` on `db_url` and measures it: the table's rows.
pub async fn reads(
    args: &Args,
    binary: &Path,
    db_url: &str,
    backend: &str,
    dir: &Path,
) -> anyhow::Result<Vec<Row>> {
    let binary = binary.to_path_buf();
    let duration = args.duration;
    let server = start_server(&binary, db_url)?;
    // A fresh connection for each call: the server may close one kept idle while wrk runs.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()?;
    let nobody = Api {
        client,
        base: server.base.clone(),
        token: None,
    };
    let started = Instant::now();
    loop {
        if let Ok(r) = nobody
            .client
            .get(format!("{}/api/v1/forums", server.base))
            .send()
            .await
        {
            if r.status().is_success() {
                break;
            }
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let idle_fresh = server.rss_mb();

    // Fill it.
    let seeding = Instant::now();
    let head = nobody.login("head").await?;
    let mut people = Vec::new();
    for n in 0..40 {
        let name = format!("teacher{n}");
        head.post(
            "/api/v1/accounts",
            json!({"username": name, "display_name": format!("Teacher {n}"), "password": PASSWORD}),
        )
        .await?;
        people.push(nobody.login(&name).await?);
    }
    let forums: Vec<String> = (0..20)
        .map(|n| {
            if n == 0 {
                "maths".to_string()
            } else {
                format!("forum{n}")
            }
        })
        .collect();
    for name in &forums {
        head.post(
            "/api/v1/forums",
            json!({"name": name, "title": format!("Forum {name}"), "description": "Discussions of practice."}),
        )
        .await?;
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (n, name) in forums.iter().enumerate() {
        let (author, name) = (people[n % people.len()].clone(), name.clone());
        tasks.spawn(async move {
            for t in 0..30 {
                author
                    .thread(&name, &format!("Thread {t} of {name}"), &reply_text(t))
                    .await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let fifty = people[1]
        .thread("maths", "Fractions with bar models", &long_opening_post())
        .await?;
    replies(&people[2], fifty, 50, 8).await?;
    let five_hundred = people[3]
        .thread("maths", "Assessment without levels", &long_opening_post())
        .await?;
    replies(&people[4], five_hundred, 500, 8).await?;
    let deep = people[5]
        .thread(
            "maths",
            "Daily maths meetings",
            "Share what you do each morning.",
        )
        .await?;
    let writer = &people[6];
    println!(
        "{backend}: seeded in {:.1} s; idle memory {idle_fresh:.1} MB fresh, {:.1} MB now",
        seeding.elapsed().as_secs_f64(),
        server.rss_mb()
    );

    let mut rows = Vec::new();
    // 32 writers reply into the deep thread.
    let script = writers_script(dir, deep, writer.token.as_deref().unwrap_or_default())?;
    let url = |path: &str| format!("{}{path}", server.base);
    rows.push(wrk(
        &server,
        "32 writers replying (API)",
        &url("/"),
        WRITERS,
        duration,
        &[],
        Some(&script),
    )?);
    let page = nobody
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/threads/{deep}"),
            None,
        )
        .await?;
    let have = page["thread"]["reply_count"].as_u64().unwrap_or(0) as usize;
    if have < DEEP_REPLIES {
        replies(writer, deep, DEEP_REPLIES - have, 16).await?;
    }
    if db_url.starts_with("postgres") {
        // Dead rows cleared and the planner's statistics made, as autovacuum does on a server
        // that has run a while (a fresh database has no statistics, and this machine's server
        // has autovacuum off).
        use diesel::{Connection, RunQueryDsl};
        let mut pg = diesel::PgConnection::establish(db_url)?;
        diesel::sql_query("VACUUM ANALYZE").execute(&mut pg)?;
    }
    let idle = server.rss_mb();

    let reader = &people[7];
    let cookie = format!("Cookie: {}", web_cookie(&nobody, "teacher7").await?);
    let bearer = format!(
        "Authorization: Bearer {}",
        reader.token.as_deref().unwrap_or_default()
    );
    let writer_name = "teacher6";
    let reads: Vec<(&str, String, Vec<String>)> = vec![
        ("thread of 50, page", format!("/t/{fifty}"), vec![]),
        (
            "thread of 50, JSON",
            format!("/api/v1/threads/{fifty}"),
            vec![],
        ),
        (
            "thread of 50, page, logged in",
            format!("/t/{fifty}"),
            vec![cookie.clone()],
        ),
        (
            "thread of 50, JSON, logged in",
            format!("/api/v1/threads/{fifty}"),
            vec![bearer.clone()],
        ),
        ("thread of 500, page", format!("/t/{five_hundred}"), vec![]),
        ("front page", "/".into(), vec![]),
        ("forum page", "/f/maths".into(), vec![]),
        ("thread of 16,000, page 1", format!("/t/{deep}"), vec![]),
        (
            "thread of 16,000, page 500",
            format!("/t/{deep}?page=500"),
            vec![],
        ),
        ("profile, page 1", format!("/u/{writer_name}"), vec![]),
        (
            "profile, page 300",
            format!("/u/{writer_name}?page=300"),
            vec![],
        ),
    ];
    for (scenario, path, headers) in reads {
        // Each page answers before it is loaded.
        let check = nobody.client.get(url(&path));
        let check = headers.iter().fold(check, |r, h| {
            let (k, v) = h.split_once(": ").unwrap_or((h, ""));
            r.header(k, v)
        });
        let status = check.send().await?.status();
        anyhow::ensure!(status.is_success(), "{path}: {status}");
        rows.push(wrk(
            &server,
            scenario,
            &url(&path),
            READERS,
            duration,
            &headers,
            None,
        )?);
    }
    let version = Command::new(&binary)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut table = format!(
        "# {backend}, server {} ({version}), wrk -t2, {duration} s each; idle memory {idle_fresh:.1} MB fresh, {idle:.1} MB filled\n",
        binary.display()
    );
    table.push_str(&format!(
        "{:<34} {:>10} {:>9} {:>9} {:>9} {:>7} {:>8}\n",
        "scenario", "req/s", "p50 ms", "p99 ms", "requests", "errors", "RSS MB"
    ));
    for r in &rows {
        table.push_str(&format!(
            "{:<34} {:>10.0} {:>9.2} {:>9.2} {:>9} {:>7} {:>8.1}\n",
            r.scenario, r.requests_per_second, r.p50_ms, r.p99_ms, r.requests, r.errors, r.rss_mb
        ));
    }
    print!("{table}");
    if let Some(out) = &args.out {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(out)?;
        writeln!(file, "{table}")?;
        println!("(added to {})", out.display());
    }
    Ok(rows)
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

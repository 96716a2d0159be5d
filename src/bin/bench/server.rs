//! The server under measurement: the `staffroom` binary run as its own process on a fresh
//! database (so its memory is its own, and any build with the same API can be measured the
//! same way), and filled through its API as educators would.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

use super::Args;

const PASSWORD: &str = "a long bench password";

/// The server under measurement, stopped when dropped.
pub struct Server {
    child: Child,
    /// Its address, `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Resident memory, in MB, from `/proc`.
    pub fn rss_mb(&self) -> f64 {
        rss_mb(self.child.id())
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The resident memory of process `pid`, in MB, from `/proc`.
pub fn rss_mb(pid: u32) -> f64 {
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

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Starts `binary` on `db_url` with the administrator `head`.
pub fn start_server(binary: &Path, db_url: &str) -> anyhow::Result<Server> {
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
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    /// Who it is, and their bearer token: `None` for nobody.
    pub login: Option<(String, String)>,
}

impl Api {
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some((_, token)) = &self.login {
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

    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn login(&self, username: &str) -> anyhow::Result<Api> {
        let session = self
            .post(
                "/api/v1/sessions",
                json!({"username": username, "password": PASSWORD}),
            )
            .await?;
        let token = session["token"]
            .as_str()
            .context("no token in the session")?;
        Ok(Api {
            login: Some((username.to_string(), token.to_string())),
            ..self.clone()
        })
    }

    pub async fn thread(&self, forum: &str, title: &str, body: &str) -> anyhow::Result<i64> {
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

    pub async fn reply(&self, thread: i64, body: &str) -> anyhow::Result<()> {
        self.post(
            &format!("/api/v1/threads/{thread}/posts"),
            json!({"body": body}),
        )
        .await
        .map(drop)
    }
}

/// A web login's cookies, as a browser would send them: through the login form.
pub async fn web_cookie(api: &Api, username: &str) -> anyhow::Result<String> {
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
pub fn long_opening_post() -> String {
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

pub fn reply_text(n: usize) -> String {
    format!(
        "> Moved to drawn bars, then to bars with numbers only\n\nWe did the same in Year 5 \
         (reply {n}), and found that the step from drawn bars to numbers needs **two** lessons, \
         not one: the first with the bars drawn for them, the second with blank strips. See \
         [our plan](https://school.example/plans/{n}) for the details, and the comparison \
         questions we used at the end of each week."
    )
}

/// `count` replies to `thread` by `api`, `parallel` at a time.
pub async fn replies(api: &Api, thread: i64, count: usize, parallel: usize) -> anyhow::Result<()> {
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

impl Api {
    /// Nobody, at `base`: a fresh connection for each call (the server may close one kept
    /// idle while wrk runs).
    pub fn nobody(base: &str) -> anyhow::Result<Api> {
        Ok(Api {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .build()?,
            base: base.to_string(),
            login: None,
        })
    }

    /// The username of who it is.
    pub fn name(&self) -> &str {
        self.login.as_ref().map_or("", |(name, _)| name)
    }

    /// Their bearer token.
    pub fn token(&self) -> &str {
        self.login.as_ref().map_or("", |(_, token)| token)
    }

    /// Waits until the server answers, for at most a minute.
    pub async fn answering(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Ok(r) = self
                .client
                .get(format!("{}/api/v1/forums", self.base))
                .send()
                .await
            {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "the server did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// What [`fill`] made: the people (logged in), and the threads of 50 and 500 replies and the
/// one to be written into at length (empty yet).
pub struct Filled {
    pub people: Vec<Api>,
    pub fifty: i64,
    pub five_hundred: i64,
    pub deep: i64,
}

/// Fills the server as educators would: 40 people, 20 forums of 30 threads, a thread of 50
/// replies under a 5 KB opening post with links and references, one of 500, and one not yet
/// replied to.
pub async fn fill(nobody: &Api) -> anyhow::Result<Filled> {
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
    Ok(Filled {
        people,
        fifty,
        five_hundred,
        deep,
    })
}

//! The test harness: a real server on a free port with its own database, and typed helpers.
//!
//! Every scenario runs on SQLite. With `STAFFROOM_TEST_POSTGRES_URL` set (any database on the
//! server; it is used only to create and drop a fresh database per test) it runs on PostgreSQL
//! too. Logs print only when `TEST_LOG` is set.

use std::io::Write;
use std::net::TcpListener;
use std::sync::Once;

use staffroom::config::Settings;
use staffroom::db::Backend;

mod app;
pub mod smtp;

pub use app::{TestApp, TestDatabase};

/// The password every test account gets.
pub const PASSWORD: &str = "correct horse battery";

/// Runs each named scenario `async fn name(backend: Backend)` as `name::sqlite` and
/// `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(staffroom::db::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::support::postgres_url().is_none() {
                        $crate::support::report_postgres_skipped();
                        return;
                    }
                    super::$name(staffroom::db::Backend::Postgres).await;
                }
            }
        )*
    };
}

/// The PostgreSQL server to test against, if configured.
pub fn postgres_url() -> Option<String> {
    std::env::var("STAFFROOM_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// Says once per run, past the test harness's output capture, why PostgreSQL was skipped.
pub fn report_postgres_skipped() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\nPostgreSQL tests skipped: STAFFROOM_TEST_POSTGRES_URL is not set \
             (e.g. postgres://postgres@127.0.0.1:5432/postgres). Only SQLite was tested.\n"
        );
    });
}

/// Every error-level log line of the servers this test binary started (all of them, with
/// `TEST_LOG` also printed), so a test can check what reached the log.
static LOGGED: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if std::env::var("TEST_LOG").is_ok() {
            std::io::stdout().write_all(buf)?;
        }
        if let Ok(mut log) = LOGGED.lock() {
            log.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn init_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let level = if std::env::var("TEST_LOG").is_ok() {
            "debug"
        } else {
            "error"
        };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(level))
            .with_ansi(false)
            .with_writer(|| LogWriter)
            .try_init();
    });
}

/// The log lines (error level and above) that contain `needle`.
pub fn logged_lines(needle: &str) -> Vec<String> {
    let log = LOGGED.lock().map(|l| l.clone()).unwrap_or_default();
    String::from_utf8_lossy(&log)
        .lines()
        .filter(|line| line.contains(needle))
        .map(str::to_string)
        .collect()
}

/// Several federating instances in one process (alpha, beta, gamma, ...), each on its own
/// `localhost` port with its own database, with fast delivery retries.
pub async fn network(backend: Backend, size: usize) -> Vec<TestApp> {
    let mut apps = Vec::new();
    for _ in 0..size {
        apps.push(TestApp::spawn_with(backend, federating).await);
    }
    apps
}

/// The settings change that makes a test instance federate: `federation.debug` (http and
/// ports on localhost), and retries after 50 ms growing by 1.25 each time up to half a second
/// (so an instance that comes back is reached within the tests' patience however long it was
/// down).
pub fn federating(s: &mut Settings) {
    s.federation.enabled = true;
    s.federation.debug = true;
    s.federation.retry_base_seconds = 0.05;
    s.federation.retry_max_seconds = 0.5;
}

/// Waits (up to 20 s, looking every 20 ms) until `check` holds; fails naming `what` otherwise.
pub async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Waits until every instance has drained its outbox.
pub async fn drain_all(apps: &[&TestApp]) {
    // Deliveries cause deliveries (a Follow brings back an Accept): go round until a round
    // finds every instance idle.
    loop {
        let mut idle = true;
        for app in apps {
            if app.site.outbox_backlog().await.expect("outbox backlog") != (0, 0) {
                idle = false;
                app.drained().await;
            }
        }
        if idle {
            return;
        }
    }
}

/// An actor of a stand-in server (another fediverse server played by a test), signing with its
/// keys for the `activitypub_federation` crate's sender and request signer.
#[derive(Debug)]
pub struct Signer {
    /// Its actor id.
    pub id: url::Url,
    /// Its public and private key (PEM).
    pub keys: (String, String),
}

#[async_trait::async_trait]
impl activitypub_federation::traits::Object for Signer {
    type DataType = ();
    type Kind = serde_json::Value;
    type Error = activitypub_federation::error::Error;

    fn id(&self) -> &url::Url {
        &self.id
    }

    async fn read_from_id(
        _: url::Url,
        _: &activitypub_federation::config::Data<()>,
    ) -> Result<Option<Self>, Self::Error> {
        Ok(None)
    }

    async fn into_json(
        self,
        _: &activitypub_federation::config::Data<()>,
    ) -> Result<serde_json::Value, Self::Error> {
        Ok(serde_json::json!({"id": self.id}))
    }

    async fn verify(
        _: &serde_json::Value,
        _: &url::Url,
        _: &activitypub_federation::config::Data<()>,
    ) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn from_json(
        _: serde_json::Value,
        _: &activitypub_federation::config::Data<()>,
    ) -> Result<Self, Self::Error> {
        Err(activitypub_federation::error::Error::NotFound)
    }
}

impl activitypub_federation::traits::Actor for Signer {
    fn public_key_pem(&self) -> &str {
        &self.keys.0
    }

    fn private_key_pem(&self) -> Option<String> {
        Some(self.keys.1.clone())
    }

    fn inbox(&self) -> url::Url {
        url::Url::parse(&format!("{}/inbox", self.id)).unwrap()
    }
}

/// An activity as a stand-in wrote it, for the protocol crate's signer to send unchanged.
#[derive(Debug)]
struct Outgoing {
    id: url::Url,
    actor: url::Url,
    body: serde_json::Value,
}

impl serde::Serialize for Outgoing {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(s)
    }
}

#[async_trait::async_trait]
impl activitypub_federation::traits::Activity for Outgoing {
    type DataType = ();
    type Error = activitypub_federation::error::Error;

    fn id(&self) -> &url::Url {
        &self.id
    }

    fn actor(&self) -> &url::Url {
        &self.actor
    }

    async fn verify(
        &self,
        _: &activitypub_federation::config::Data<()>,
    ) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn receive(
        self,
        _: &activitypub_federation::config::Data<()>,
    ) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Starts a stand-in server (another fediverse server played by a test) on `listener`, its
/// routes and state set by `routes`; returns a handle that stops it, and the protocol crate's
/// request data for signing as its actors ([`send_signed`]).
pub async fn serve_stand_in(
    listener: TcpListener,
    routes: impl Fn(&mut actix_web::web::ServiceConfig) + Clone + Send + 'static,
) -> (
    actix_web::dev::ServerHandle,
    activitypub_federation::config::Data<()>,
) {
    // The crate's default client is built with the config below: TLS needs its provider first.
    staffroom::federation::install_tls_provider();
    let port = listener.local_addr().unwrap().port();
    let server =
        actix_web::HttpServer::new(move || actix_web::App::new().configure(routes.clone()))
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
    let handle = server.handle();
    tokio::spawn(server);
    let config = activitypub_federation::config::FederationConfig::builder()
        .domain(format!("localhost:{port}"))
        .app_data(())
        .debug(true)
        .build()
        .await
        .unwrap();
    (handle, config.to_request_data())
}

/// Sends `activity` (its `actor` one of a stand-in's, signing with `keys`: public and private
/// PEM) to `inbox`, as the stand-in's server would.
pub async fn send_signed(
    keys: (&str, &str),
    data: &activitypub_federation::config::Data<()>,
    activity: serde_json::Value,
    inbox: &str,
) {
    use activitypub_federation::activity_sending::SendActivityTask;
    let signer = Signer {
        id: url::Url::parse(activity["actor"].as_str().unwrap()).unwrap(),
        keys: (keys.0.to_string(), keys.1.to_string()),
    };
    let outgoing = Outgoing {
        id: url::Url::parse(activity["id"].as_str().unwrap()).unwrap(),
        actor: signer.id.clone(),
        body: activity,
    };
    let tasks = SendActivityTask::prepare(
        &outgoing,
        &signer,
        vec![url::Url::parse(inbox).unwrap()],
        data,
    )
    .await
    .unwrap();
    assert_eq!(tasks.len(), 1);
    tasks[0].sign_and_send(data).await.unwrap();
}

/// An API call to the server at `base` (a fresh connection each time); returns (status,
/// JSON, or null for an empty answer).
pub async fn api_at(
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new().request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let json = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
    };
    (status, json)
}

/// "alice" -> "Alice".
pub fn capitalised(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Rows of `sql` (one text column named `v`) in `app`'s database.
pub fn column(app: &TestApp, sql: &str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    app.site
        .db()
        .with_conn(
            |conn| -> Result<Vec<String>, staffroom::error::ForumError> {
                let rows: Vec<Row> = staffroom::dispatch!(conn, |c| diesel::RunQueryDsl::load(
                    diesel::sql_query(sql),
                    c
                ))?;
                Ok(rows.into_iter().map(|r| r.v).collect())
            },
        )
        .unwrap()
}

/// Checks that an API answer is the error `code` with `status`.
#[track_caller]
pub fn expect_error(status: u16, json: &serde_json::Value, expected: u16, code: &str) {
    assert_eq!(
        (status, json["error"].as_str()),
        (expected, Some(code)),
        "expected {expected} {code}, got {status} {json}"
    );
}

/// The value of the first `csrf_token` field in `html`.
pub fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// The value of the `Location` header.
pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The text between `<main` and `</main>` (the page's own content, without the header).
pub fn main_of(html: &str) -> &str {
    let start = html.find("<main").unwrap_or(0);
    let end = html.find("</main>").unwrap_or(html.len());
    &html[start..end]
}

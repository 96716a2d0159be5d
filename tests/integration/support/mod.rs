//! The test harness: a real server on a free port with its own database, and typed helpers.
//!
//! Every scenario runs on SQLite. With `STAFFROOM_TEST_POSTGRES_URL` set (any database on the
//! server; it is used only to create and drop a fresh database per test) it runs on PostgreSQL
//! too. Logs print only when `TEST_LOG` is set.

use std::io::Write;
use std::net::TcpListener;
use std::sync::Once;

use diesel::{Connection, RunQueryDsl};
use reqwest::redirect::Policy;
use staffroom::app::Application;
use staffroom::config::Settings;
use staffroom::db::Backend;
use staffroom::forum::accounts::{Registrar, Registration};
use staffroom::forum::{Site, User};

pub mod smtp;

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

/// A database of its own for one test: a temporary SQLite file, or a fresh PostgreSQL
/// database that is dropped when this is dropped.
pub struct TestDatabase {
    /// The URL to put in `database.url`.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDatabase {
    /// Creates one for `backend`.
    pub fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let path = dir.path().join("staffroom.db");
                TestDatabase {
                    url: format!("sqlite://{}", path.display()),
                    _dir: Some(dir),
                    pg: None,
                }
            }
            Backend::Postgres => {
                let admin_url = postgres_url().expect("STAFFROOM_TEST_POSTGRES_URL");
                let name = format!(
                    "staffroom_test_{}",
                    staffroom::forum::tokens::new_token()
                        .to_ascii_lowercase()
                        .chars()
                        .filter(char::is_ascii_alphanumeric)
                        .take(20)
                        .collect::<String>()
                );
                let mut conn = diesel::PgConnection::establish(&admin_url)
                    .expect("connect to STAFFROOM_TEST_POSTGRES_URL");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("postgres URL");
                url.set_path(&format!("/{name}"));
                TestDatabase {
                    url: url.to_string(),
                    _dir: None,
                    pg: Some((admin_url, name)),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.pg {
            if let Ok(mut conn) = diesel::PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

/// A running Staffroom.
pub struct TestApp {
    /// `http://localhost:PORT`
    pub address: String,
    /// The site service behind the server, for setting up data.
    pub site: Site,
    /// The settings it runs with (restarts reuse them).
    pub settings: Settings,
    handle: actix_web::dev::ServerHandle,
    background: Vec<tokio::task::AbortHandle>,
    db: Option<TestDatabase>,
}

/// A stopped Staffroom: its database and settings, ready to start again on the same port.
pub struct StoppedApp {
    settings: Settings,
    db: TestDatabase,
}

impl TestApp {
    /// Settings for a test: small pages so pagination shows with few posts.
    pub fn settings(db_url: &str, port: u16) -> Settings {
        let mut s = Settings::defaults().expect("default settings");
        s.server.host = "127.0.0.1".into();
        s.server.port = port;
        s.server.public_url = url::Url::parse(&format!("http://localhost:{port}")).unwrap();
        s.server.workers = 1;
        s.database.url = db_url.to_string();
        s.database.pool_size = 4;
        s.pages.threads_per_page = 5;
        s.pages.posts_per_page = 5;
        s
    }

    /// Starts a server on `backend` with the test settings.
    pub async fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_with(backend, |_| {}).await
    }

    /// Starts a server on `backend`, letting the test change settings first.
    pub async fn spawn_with(backend: Backend, change: impl FnOnce(&mut Settings)) -> TestApp {
        init_logging();
        let db = TestDatabase::new(backend);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let port = listener.local_addr().unwrap().port();
        let mut settings = TestApp::settings(&db.url, port);
        change(&mut settings);
        TestApp::start(settings, listener, Some(db)).await
    }

    /// A second server on this one's database, as another process sharing it would be (its own
    /// port, pool and page cache), with `change` made to its settings.
    pub async fn beside(&self, change: impl FnOnce(&mut Settings)) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let port = listener.local_addr().unwrap().port();
        let mut settings = TestApp::settings(&self.settings.database.url, port);
        change(&mut settings);
        TestApp::start(settings, listener, None).await
    }

    async fn start(settings: Settings, listener: TcpListener, db: Option<TestDatabase>) -> TestApp {
        let port = listener.local_addr().unwrap().port();
        let app = Application::from_listener(settings.clone(), listener)
            .await
            .expect("the application builds");
        let site = app.site().clone();
        let handle = app.handle();
        let background = app.background_tasks();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address: format!("http://localhost:{port}"),
            site,
            settings,
            handle,
            background,
            db,
        }
    }

    /// Stops the server and its background work (delivery, housekeeping), as a killed process
    /// would stop; the database stays for [`StoppedApp::restart`].
    pub async fn stop(mut self) -> StoppedApp {
        for task in &self.background {
            task.abort();
        }
        self.handle.stop(false).await;
        StoppedApp {
            settings: self.settings.clone(),
            db: self.db.take().expect("a running app has its database"),
        }
    }

    /// The `host:port` other instances know this one by.
    pub fn domain(&self) -> String {
        self.address.trim_start_matches("http://").to_string()
    }

    /// Waits (up to 30 s) until this instance has nothing left to send: every outbox event
    /// expanded and every delivery to a live instance made.
    pub async fn drained(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let (events, deliveries) = self.site.outbox_backlog().await.expect("outbox backlog");
            if events == 0 && deliveries == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{}: outbox not drained after 30 s ({events} events, {deliveries} deliveries)",
                self.address
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// A fresh browser with its own cookie jar.
    pub fn browser() -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .expect("HTTP client")
    }

    /// An absolute URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Creates an account directly (as `staffroom admin create-user` does).
    pub async fn create_user(&self, name: &str, admin: bool) -> User {
        self.site
            .register(
                Registration {
                    username: name.into(),
                    display_name: capitalised(name),
                    password: PASSWORD.into(),
                    ..Default::default()
                },
                Registrar::Console { admin },
            )
            .await
            .expect("create user")
    }

    /// Logs in through the API and returns the bearer token.
    pub async fn token(&self, name: &str) -> String {
        let res = reqwest::Client::new()
            .post(self.url("/api/v1/sessions"))
            .json(&serde_json::json!({"username": name, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "API login for {name}");
        let body: serde_json::Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    /// GETs `path` in `browser` and returns (status, body).
    pub async fn get(&self, browser: &reqwest::Client, path: &str) -> (u16, String) {
        let res = browser.get(self.url(path)).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.text().await.unwrap())
    }

    /// The CSRF token in the forms of the page at `path`.
    pub async fn csrf(&self, browser: &reqwest::Client, path: &str) -> String {
        let (_, body) = self.get(browser, path).await;
        csrf_in(&body).unwrap_or_else(|| panic!("no CSRF token on {path}"))
    }

    /// Submits a form the way the page at `form_page` would: with its CSRF token.
    pub async fn submit(
        &self,
        browser: &reqwest::Client,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.csrf(browser, form_page).await;
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        browser
            .post(self.url(action))
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    /// Logs `browser` in through the login form.
    pub async fn web_login(&self, browser: &reqwest::Client, name: &str) {
        let res = self
            .submit(
                browser,
                "/login",
                "/login",
                &[("username", name), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status(), 303, "web login for {name}");
    }

    /// A browser already logged in as `name`.
    pub async fn logged_in(&self, name: &str) -> reqwest::Client {
        let b = TestApp::browser();
        self.web_login(&b, name).await;
        b
    }

    /// Registers through the form at `/register`, as a visitor would.
    pub async fn register_on_web(
        &self,
        browser: &reqwest::Client,
        username: &str,
        display_name: &str,
        password: &str,
    ) -> reqwest::Response {
        self.submit(
            browser,
            "/register",
            "/register",
            &[
                ("username", username),
                ("display_name", display_name),
                ("password", password),
            ],
        )
        .await
    }

    /// Changes the password through the form at `/settings/password`.
    pub async fn change_password_on_web(
        &self,
        browser: &reqwest::Client,
        current: &str,
        new: &str,
        confirm: &str,
    ) -> reqwest::Response {
        self.submit(
            browser,
            "/settings/password",
            "/settings/password",
            &[
                ("current_password", current),
                ("new_password", new),
                ("confirm_password", confirm),
            ],
        )
        .await
    }

    /// Edits a post through its form at `/p/{post}/edit`.
    pub async fn edit_on_web(
        &self,
        browser: &reqwest::Client,
        post: i64,
        body: &str,
    ) -> reqwest::Response {
        let page = format!("/p/{post}/edit");
        self.submit(browser, &page, &page, &[("body", body)]).await
    }

    /// Deletes a post through its form at `/p/{post}/delete`.
    pub async fn delete_on_web(&self, browser: &reqwest::Client, post: i64) -> reqwest::Response {
        let page = format!("/p/{post}/delete");
        self.submit(browser, &page, &page, &[]).await
    }

    /// Remembers `{base}/u/{name}` (`base` like `http://localhost:8081`) as a person of
    /// another server, as if fetched just now (no key: it never signs anything here).
    pub async fn remember_remote_person(&self, base: &str, name: &str) -> staffroom::forum::User {
        let now = staffroom::forum::now();
        let domain = base
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .to_string();
        let ap_id = format!("{base}/u/{name}");
        self.site
            .remember_remote_user(staffroom::forum::remote::RemoteUser {
                name: name.into(),
                display_name: capitalised(name),
                local: false,
                domain: Some(domain),
                inbox_url: Some(format!("{ap_id}/inbox")),
                ap_id: Some(ap_id),
                public_key: None,
                shared_inbox_url: None,
                profile_url: None,
                last_refreshed_at: Some(now),
                updated_at: now,
            })
            .await
            .unwrap()
    }

    /// `GET` an API path without a token; returns (status, JSON).
    pub async fn read(&self, path: &str) -> (u16, serde_json::Value) {
        self.api(reqwest::Method::GET, path, None, None).await
    }

    /// Edits a post through `PATCH /api/v1/posts/{post}`; returns (status, JSON).
    pub async fn edit_post(
        &self,
        token: Option<&str>,
        post: i64,
        body: &str,
    ) -> (u16, serde_json::Value) {
        self.api(
            reqwest::Method::PATCH,
            &format!("/api/v1/posts/{post}"),
            token,
            Some(serde_json::json!({ "body": body })),
        )
        .await
    }

    /// Deletes a post through `DELETE /api/v1/posts/{post}`; returns (status, JSON).
    pub async fn delete_post(&self, token: Option<&str>, post: i64) -> (u16, serde_json::Value) {
        self.api(
            reqwest::Method::DELETE,
            &format!("/api/v1/posts/{post}"),
            token,
            None,
        )
        .await
    }

    /// An API call with a bearer token and a JSON body; returns (status, JSON).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        api_at(&self.address, method, path, token, body).await
    }

    /// Follows a remote forum (`target`: handle or address) through the API; returns (status,
    /// JSON).
    pub async fn follow(&self, token: &str, target: impl AsRef<str>) -> (u16, serde_json::Value) {
        self.api(
            reqwest::Method::POST,
            "/api/v1/follows",
            Some(token),
            Some(serde_json::json!({"target": target.as_ref()})),
        )
        .await
    }

    /// Creates a forum through the API as administrator `admin_token`.
    pub async fn forum_named(&self, admin_token: &str, name: &str) {
        let (status, body) = self
            .api(
                reqwest::Method::POST,
                "/api/v1/forums",
                Some(admin_token),
                Some(serde_json::json!({"name": name, "title": capitalised(name), "description": format!("About {name}.")})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }

    /// Starts a thread through the API; returns its id.
    pub async fn thread(&self, token: &str, forum: &str, title: &str, body: &str) -> i64 {
        let (status, json) = self
            .api(
                reqwest::Method::POST,
                &format!("/api/v1/forums/{forum}/threads"),
                Some(token),
                Some(serde_json::json!({"title": title, "body": body})),
            )
            .await;
        assert_eq!(status, 201, "{json}");
        json["thread"]["id"].as_i64().unwrap()
    }

    /// Replies through the API; returns the post id.
    pub async fn reply(
        &self,
        token: &str,
        thread: i64,
        body: &str,
        in_reply_to: Option<i64>,
    ) -> i64 {
        let (status, json) = self
            .api(
                reqwest::Method::POST,
                &format!("/api/v1/threads/{thread}/posts"),
                Some(token),
                Some(serde_json::json!({"body": body, "in_reply_to": in_reply_to})),
            )
            .await;
        assert_eq!(status, 201, "{json}");
        json["id"].as_i64().unwrap()
    }
}

impl StoppedApp {
    /// The stopped instance's database, to change while nothing runs on it.
    pub fn db(&self) -> staffroom::db::Db {
        staffroom::db::Db::connect(&self.db.url, 1, std::time::Duration::ZERO)
            .expect("the database opens")
    }

    /// Starts the instance again on its old port with its old database.
    pub async fn restart(self) -> TestApp {
        let address = format!("127.0.0.1:{}", self.settings.server.port);
        // The old listener closes as the server stops; wait for the port to be free.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(&address) {
                Ok(l) => break l,
                Err(e) if std::time::Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot bind {address} again: {e}"),
            }
        };
        TestApp::start(self.settings, listener, Some(self.db)).await
    }
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

impl Drop for TestApp {
    fn drop(&mut self) {
        for task in &self.background {
            task.abort();
        }
        let handle = self.handle.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { handle.stop(false).await });
        }
    }
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

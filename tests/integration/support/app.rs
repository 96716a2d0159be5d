//! Test servers: a running Staffroom on a free port ([`TestApp`]) with a database of its own
//! ([`TestDatabase`]), the typed calls tests make on it, and stopping and starting it again.

use std::net::TcpListener;

use diesel::{Connection, RunQueryDsl};
use reqwest::redirect::Policy;
use staffroom::app::Application;
use staffroom::config::Settings;
use staffroom::db::Backend;
use staffroom::forum::accounts::{Registrar, Registration};
use staffroom::forum::{Site, User};

use super::{api_at, capitalised, csrf_in, init_logging, postgres_url, PASSWORD};

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

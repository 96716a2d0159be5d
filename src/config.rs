//! Settings: `config/default.toml` (compiled in) <- `--config FILE` <- `STAFFROOM__SECTION__KEY`.
//!
//! Every field is documented here and in `config/default.toml`; unknown keys are refused. There is
//! no global settings static: [`Settings`] is passed to [`crate::app::Application::build`], so
//! several instances can live in one test process.

use std::path::Path;

use serde::Deserialize;

/// The defaults, compiled in so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// All of Staffroom's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Listening address, public URL and instance name.
    pub server: ServerSettings,
    /// Where the data lives.
    pub database: DatabaseSettings,
    /// Who may create an account.
    pub registration: RegistrationSettings,
    /// Sessions and login throttling.
    pub accounts: AccountSettings,
    /// Size limits enforced on every input.
    pub limits: LimitSettings,
    /// Page sizes.
    pub pages: PageSettings,
    /// Moderation.
    pub moderation: ModerationSettings,
    /// ActivityPub.
    pub federation: FederationSettings,
    /// Sending e-mail.
    pub email: EmailSettings,
    /// Logging.
    pub log: LogSettings,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Name of this instance, shown in the header and feeds.
    pub instance_name: String,
    /// Address to listen on.
    pub host: String,
    /// Port to listen on; 0 picks a free one.
    pub port: u16,
    /// Base of every absolute link.
    pub public_url: url::Url,
    /// Read client addresses from proxy headers.
    pub behind_proxy: bool,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Where visitors get the source code (AGPL-3.0 section 13); empty hides the link.
    pub source_url: String,
    /// Seconds an anonymous visitor's page may be served again to others while nothing is
    /// written in this process (see `page_cache`); 0 turns the cache off.
    pub page_cache_seconds: u64,
    /// Megabytes of such pages kept at most.
    pub page_cache_megabytes: u64,
}

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://...`.
    pub url: String,
    /// Connections kept in the pool.
    pub pool_size: u32,
    /// Seconds a PostgreSQL connection may wait in the pool before it is tested (one
    /// `SELECT 1`) as it is handed out again (see `db::pool`).
    pub idle_check_seconds: f64,
}

impl DatabaseSettings {
    /// [`Self::idle_check_seconds`] as a duration.
    pub fn idle_check(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.idle_check_seconds)
    }
}

/// `[registration]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationSettings {
    /// Who may register.
    pub mode: RegistrationMode,
    /// What applicants are asked (`approval` mode); their answer goes to the administrators.
    #[serde(default = "default_question")]
    pub question: String,
    /// When not empty, visitors register only with an e-mail address at one of these domains
    /// (a school's own, say).
    #[serde(default)]
    pub allowed_email_domains: Vec<String>,
}

fn default_question() -> String {
    "Why would you like to join, and which school are you from?".into()
}

/// Who may create an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationMode {
    /// Anyone may register.
    Open,
    /// Anyone may apply; an administrator approves each account before it can log in.
    Approval,
    /// Only with an invitation made by an administrator (single use).
    Invite,
    /// Only administrators create accounts.
    Closed,
}

/// `[accounts]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSettings {
    /// Session lifetime in days.
    pub session_days: u32,
    /// Failed logins per account within the window before 429.
    pub max_failures_per_account: u32,
    /// Failed logins per client address within the window before 429.
    pub max_failures_per_address: u32,
    /// The throttling window in minutes.
    pub failure_window_minutes: u32,
}

/// `[limits]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Longest thread title in characters.
    pub title_max_chars: usize,
    /// Longest post body in bytes.
    pub body_max_bytes: usize,
}

impl LimitSettings {
    /// Largest request body accepted: room for a form-encoded post body at the limit (every byte
    /// percent-encoded is three) plus the other fields.
    pub fn request_max_bytes(&self) -> usize {
        self.body_max_bytes * 3 + 16 * 1024
    }
}

/// `[pages]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageSettings {
    /// Threads on one page of a forum.
    pub threads_per_page: u32,
    /// Replies on one page of a thread.
    pub posts_per_page: u32,
}

/// `[moderation]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationSettings {
    /// The moderation log (public to everyone) names the moderator who acted; when false,
    /// only moderators and administrators see who did what.
    pub log_shows_moderators: bool,
}

/// `[federation]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationSettings {
    /// Serve WebFinger, NodeInfo and ActivityPub documents.
    pub enabled: bool,
    /// Allow http:// and ports (tests and local development only).
    pub debug: bool,
    /// Seconds before the first retry of a failed delivery; each further failure waits 1.25
    /// times longer, up to a day.
    pub retry_base_seconds: f64,
    /// The longest wait between retries (a day by default).
    pub retry_max_seconds: f64,
    /// An instance failing for this many hours is marked dead and skipped until it is heard
    /// from again.
    pub dead_after_hours: u32,
    /// Deliveries sent at the same time over all servers (each server's stay in order, one at
    /// a time); a send unanswered after `connect_timeout_seconds` gives its place up.
    pub delivery_workers: u32,
    /// Seconds to wait for another server to accept a connection.
    pub connect_timeout_seconds: f64,
    /// Seconds a whole request to another server may take.
    pub request_timeout_seconds: f64,
    /// Seconds a delivery worker's hold on a server lasts unless renewed (it is renewed while
    /// the worker sends): how soon processes sharing a database take over the servers of one
    /// that died.
    pub delivery_lease_seconds: f64,
    /// Servers refused in both directions (a domain covers its subdomains).
    pub blocked_instances: Vec<String>,
    /// When not empty, the only servers talked to (allowlist mode).
    pub allowed_instances: Vec<String>,
    /// Seconds an incoming activity may wait on other servers (fetching its actor, its object,
    /// the thread it answers) before it is answered 503 for the sender to retry later.
    pub inbox_timeout_seconds: f64,
    /// A thread elsewhere that someone here watches, whose server delivers nothing here (its
    /// forum is not followed and it did not accept a follow of the thread), is read again from
    /// its context collection this often, in seconds.
    pub context_refresh_seconds: f64,
}

/// `[email]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// `smtp://HOST:PORT` (plain), `smtp://HOST:PORT?tls=required` (STARTTLS) or
    /// `smtps://HOST:PORT` (TLS), optionally with `USER:PASS@`; empty: e-mail is off.
    pub smtp_url: String,
    /// SMTP user name (wins over one in the URL).
    pub smtp_username: String,
    /// SMTP password (wins over one in the URL).
    pub smtp_password: String,
    /// A PEM file of certificate authorities trusted for the SMTP server's certificate besides
    /// the public ones (a school's own mail server with its own authority); empty: none.
    pub smtp_ca_file: String,
    /// The sender, as `Name <address>`; empty: the instance's name at `noreply@` its host.
    pub from: String,
    /// The hour (UTC) daily digests go out.
    pub digest_hour: u32,
    /// Minutes before a notification is e-mailed (reading it first cancels the e-mail).
    pub notify_after_minutes: f64,
    /// Seconds between the mailer's looks at what is due.
    pub poll_seconds: f64,
    /// Seconds before a failed message is tried again (four times longer after each failure,
    /// at most six hours).
    pub retry_seconds: f64,
}

impl EmailSettings {
    /// Whether mail can be sent at all.
    pub fn enabled(&self) -> bool {
        !self.smtp_url.trim().is_empty()
    }
}

/// `[log]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// tracing EnvFilter directive.
    pub filter: String,
}

/// The cores this machine gives the process (2 when it cannot tell): what `0` means for
/// `server.workers`, and how many password hashes run at once.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

impl Settings {
    /// Loads the compiled-in defaults, then `file` if given, then `STAFFROOM__*` variables.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        Self::load_with_env(file, config::Environment::with_prefix("STAFFROOM"))
    }

    /// The compiled-in defaults alone (tests build on these and change fields in code).
    pub fn defaults() -> anyhow::Result<Settings> {
        let settings = config::Config::builder()
            .add_source(config::File::from_str(
                DEFAULT_TOML,
                config::FileFormat::Toml,
            ))
            .build()?
            .try_deserialize::<Settings>()?;
        settings.validate()?;
        Ok(settings)
    }

    fn load_with_env(file: Option<&Path>, env: config::Environment) -> anyhow::Result<Settings> {
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            DEFAULT_TOML,
            config::FileFormat::Toml,
        ));
        if let Some(path) = file {
            if !path.exists() {
                anyhow::bail!("configuration file {} does not exist", path.display());
            }
            builder = builder.add_source(config::File::from(path).format(config::FileFormat::Toml));
        }
        let settings = builder
            .add_source(env.prefix_separator("__").separator("__").try_parsing(true))
            .build()?
            .try_deserialize::<Settings>()?;
        settings.validate()?;
        Ok(settings)
    }

    /// Refuses settings that cannot work, with a message naming the key.
    pub fn validate(&self) -> anyhow::Result<()> {
        let scheme = self.server.public_url.scheme();
        if scheme != "http" && scheme != "https" {
            anyhow::bail!("server.public_url must start with http:// or https://");
        }
        if self.server.public_url.host_str().is_none() {
            anyhow::bail!("server.public_url must name a host");
        }
        if self.database.pool_size == 0 {
            anyhow::bail!("database.pool_size must be at least 1");
        }
        let idle = self.database.idle_check_seconds;
        if !(idle.is_finite() && (0.0..=3600.0).contains(&idle)) {
            anyhow::bail!("database.idle_check_seconds must be from 0 to 3600");
        }
        if self.limits.title_max_chars == 0 || self.limits.body_max_bytes == 0 {
            anyhow::bail!("limits.title_max_chars and limits.body_max_bytes must be positive");
        }
        if self.pages.threads_per_page == 0 || self.pages.posts_per_page == 0 {
            anyhow::bail!("pages.threads_per_page and pages.posts_per_page must be positive");
        }
        if self.accounts.session_days == 0 || self.accounts.failure_window_minutes == 0 {
            anyhow::bail!(
                "accounts.session_days and accounts.failure_window_minutes must be positive"
            );
        }
        let f = &self.federation;
        for (key, seconds) in [
            ("inbox_timeout_seconds", f.inbox_timeout_seconds),
            ("connect_timeout_seconds", f.connect_timeout_seconds),
            ("request_timeout_seconds", f.request_timeout_seconds),
        ] {
            if !(seconds.is_finite() && seconds > 0.0 && seconds <= 300.0) {
                anyhow::bail!("federation.{key} must be more than 0 and at most 300");
            }
        }
        if !(f.delivery_lease_seconds.is_finite()
            && (1.0..=3600.0).contains(&f.delivery_lease_seconds))
        {
            anyhow::bail!("federation.delivery_lease_seconds must be from 1 to 3600");
        }
        if !(f.context_refresh_seconds.is_finite() && f.context_refresh_seconds >= 1.0) {
            anyhow::bail!("federation.context_refresh_seconds must be at least 1");
        }
        if f.connect_timeout_seconds > f.request_timeout_seconds {
            anyhow::bail!(
                "federation.connect_timeout_seconds must not be more than request_timeout_seconds"
            );
        }
        let e = &self.email;
        if e.enabled() {
            let url = url::Url::parse(e.smtp_url.trim())
                .map_err(|err| anyhow::anyhow!("email.smtp_url is not a URL: {err}"))?;
            if !matches!(url.scheme(), "smtp" | "smtps") || url.host_str().is_none() {
                anyhow::bail!(
                    "email.smtp_url must be smtp://HOST:PORT (with ?tls=required for STARTTLS) \
                     or smtps://HOST:PORT"
                );
            }
            let tls = url.scheme() == "smtps" || url.query_pairs().any(|(k, _)| k == "tls");
            if !e.smtp_ca_file.trim().is_empty() && !tls {
                anyhow::bail!(
                    "email.smtp_ca_file is for a mail server reached over TLS: use smtps:// or \
                     ?tls=required in email.smtp_url"
                );
            }
        }
        if e.digest_hour > 23 {
            anyhow::bail!("email.digest_hour must be an hour of the day, 0 to 23");
        }
        if !(e.notify_after_minutes.is_finite() && e.notify_after_minutes >= 0.0) {
            anyhow::bail!("email.notify_after_minutes must be 0 or more");
        }
        for (key, seconds) in [
            ("poll_seconds", e.poll_seconds),
            ("retry_seconds", e.retry_seconds),
        ] {
            if !(seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0) {
                anyhow::bail!("email.{key} must be more than 0 and at most 3600");
            }
        }
        Ok(())
    }

    /// The sender of e-mail: `email.from`, or the instance's name at `noreply@` its host.
    pub fn mail_from(&self) -> String {
        if !self.email.from.trim().is_empty() {
            return self.email.from.trim().to_string();
        }
        let host = self.server.public_url.host_str().unwrap_or("localhost");
        let name: String = self
            .server
            .instance_name
            .chars()
            .filter(|c| !matches!(c, '"' | '\\' | '<' | '>') && !c.is_control())
            .collect();
        format!("\"{name}\" <noreply@{host}>")
    }

    /// The public URL without a trailing slash, for joining paths onto.
    pub fn base_url(&self) -> String {
        self.server
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_string()
    }

    /// The federation domain: the public URL's host, with its port when it has one
    /// (`localhost:8080` in local runs, `school.example` in production).
    pub fn federation_domain(&self) -> String {
        let url = &self.server.public_url;
        let host = url.host_str().unwrap_or("localhost");
        match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }

    /// Whether cookies must carry `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.server.public_url.scheme() == "https"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> config::Environment {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        config::Environment::with_prefix("STAFFROOM").source(Some(map))
    }

    #[test]
    fn defaults_load_and_match_the_documented_values() {
        let s = Settings::defaults().unwrap();
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.database.url, "sqlite://data/staffroom.db");
        assert_eq!(s.registration.mode, RegistrationMode::Open);
        assert_eq!(s.limits.body_max_bytes, 65536);
        assert_eq!(s.limits.title_max_chars, 200);
        assert!(!s.secure_cookies());
        assert!(!s.federation.enabled && !s.federation.debug);
        assert_eq!(s.federation_domain(), "localhost:8080");
    }

    #[test]
    fn environment_overrides_nested_keys() {
        let s = Settings::load_with_env(
            None,
            env(&[
                ("STAFFROOM__SERVER__PORT", "9100"),
                ("STAFFROOM__REGISTRATION__MODE", "closed"),
                ("STAFFROOM__SERVER__PUBLIC_URL", "https://school.example"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.port, 9100);
        assert_eq!(s.registration.mode, RegistrationMode::Closed);
        assert!(s.secure_cookies());
        assert_eq!(s.base_url(), "https://school.example");
        assert_eq!(s.federation_domain(), "school.example");
    }

    #[test]
    fn an_idle_check_out_of_range_is_refused() {
        let var = "STAFFROOM__DATABASE__IDLE_CHECK_SECONDS";
        for bad in ["-1", "3601", "NaN", "inf"] {
            let result = Settings::load_with_env(None, env(&[(var, bad)]));
            let error = result.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains("idle_check_seconds"), "{bad}: {error}");
        }
        let s = Settings::load_with_env(None, env(&[(var, "0")])).unwrap();
        assert_eq!(s.database.idle_check(), std::time::Duration::ZERO);
        let s = Settings::load_with_env(None, env(&[])).unwrap();
        assert_eq!(s.database.idle_check(), std::time::Duration::from_secs(1));
    }

    #[test]
    fn a_delivery_lease_out_of_range_is_refused() {
        let var = "STAFFROOM__FEDERATION__DELIVERY_LEASE_SECONDS";
        for bad in ["0", "0.5", "3601", "NaN"] {
            let result = Settings::load_with_env(None, env(&[(var, bad)]));
            let error = result.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains("delivery_lease_seconds"), "{bad}: {error}");
        }
        let s = Settings::load_with_env(None, env(&[(var, "2")])).unwrap();
        assert_eq!(s.federation.delivery_lease_seconds, 2.0);
    }

    #[test]
    fn a_timeout_that_cannot_work_is_refused() {
        for key in ["INBOX", "CONNECT", "REQUEST"] {
            let var = format!("STAFFROOM__FEDERATION__{key}_TIMEOUT_SECONDS");
            for bad in ["0", "-1", "301", "NaN"] {
                let result = Settings::load_with_env(None, env(&[(var.as_str(), bad)]));
                let error = result.err().map(|e| e.to_string()).unwrap_or_default();
                let expected = format!("{}_timeout_seconds", key.to_ascii_lowercase());
                assert!(error.contains(&expected), "{var}={bad}: {error}");
            }
        }
        let result = Settings::load_with_env(
            None,
            env(&[
                ("STAFFROOM__FEDERATION__CONNECT_TIMEOUT_SECONDS", "20"),
                ("STAFFROOM__FEDERATION__REQUEST_TIMEOUT_SECONDS", "10"),
            ]),
        );
        assert!(
            result.is_err(),
            "a connect time-out longer than the whole request"
        );
        let s = Settings::load_with_env(
            None,
            env(&[("STAFFROOM__FEDERATION__INBOX_TIMEOUT_SECONDS", "2.5")]),
        )
        .unwrap();
        assert_eq!(s.federation.inbox_timeout_seconds, 2.5);
    }

    #[test]
    fn single_underscore_variables_are_not_settings() {
        // STAFFROOM_PASSWORD is read by `admin create-user`; it must not be taken as a key.
        let s = Settings::load_with_env(None, env(&[("STAFFROOM_PASSWORD", "x")])).unwrap();
        assert_eq!(s.server.port, 8080);
    }

    #[test]
    fn config_file_overrides_defaults_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.toml");
        std::fs::write(&good, "[pages]\nposts_per_page = 7\n").unwrap();
        let s = Settings::load_with_env(Some(&good), env(&[])).unwrap();
        assert_eq!(s.pages.posts_per_page, 7);
        assert_eq!(s.pages.threads_per_page, 30);

        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[pages]\npost_per_page = 7\n").unwrap();
        let err = Settings::load_with_env(Some(&bad), env(&[])).unwrap_err();
        assert!(format!("{err:#}").contains("post_per_page"), "{err:#}");
    }

    #[test]
    fn a_missing_config_file_is_an_error() {
        let err =
            Settings::load_with_env(Some(Path::new("/nonexistent/x.toml")), env(&[])).unwrap_err();
        assert!(err.to_string().contains("does not exist"));
    }

    #[test]
    fn bad_values_are_refused_with_the_key_named() {
        let err =
            Settings::load_with_env(None, env(&[("STAFFROOM__SERVER__PUBLIC_URL", "ftp://x")]))
                .unwrap_err();
        assert!(err.to_string().contains("server.public_url"));
    }
}

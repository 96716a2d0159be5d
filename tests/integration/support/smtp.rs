//! A real SMTP server process for the tests: `smtp_sink.py` on aiosmtpd, which the tests
//! install from PyPI into `target/smtp-sink` on first use (as the browser tests fetch axe-core),
//! so `cargo test` needs nothing installed by hand but Python 3.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The aiosmtpd release the sink runs on.
const AIOSMTPD: &str = "aiosmtpd==1.4.6";

/// Where aiosmtpd is installed, installing it the first time (once per machine: the install
/// goes to a directory of its own, renamed into place when complete, so test processes
/// running at once never see half of it).
fn packages() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/smtp-sink");
        if dir.join("aiosmtpd").exists() {
            return dir;
        }
        let staging = dir.with_extension(format!("tmp-{}", std::process::id()));
        let status = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg("--target")
            .arg(&staging)
            .arg(AIOSMTPD)
            .status()
            .expect("python3 runs (the SMTP sink needs Python 3 with pip)");
        assert!(status.success(), "pip could not install {AIOSMTPD}");
        if std::fs::rename(&staging, &dir).is_err() {
            // Another test process installed it first.
            let _ = std::fs::remove_dir_all(&staging);
        }
        assert!(
            dir.join("aiosmtpd").exists(),
            "{AIOSMTPD} is not in {dir:?}"
        );
        dir
    })
}

/// A running SMTP sink: every message it takes is kept, parsed, for the test to read.
pub struct SmtpSink {
    child: Option<Child>,
    /// The port it listens on.
    pub port: u16,
    dir: tempfile::TempDir,
    tls: Option<SinkTls>,
}

/// How a sink speaks TLS: with a certificate for `localhost` signed by a certificate
/// authority made for the test (its certificate in `ca_file`, for the mailer to trust), from
/// the first byte (`implicit`, smtps) or after STARTTLS, taking mail only from `login`.
struct SinkTls {
    implicit: bool,
    ca_file: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    login: (String, String),
}

/// Makes a certificate authority and a certificate for `localhost` signed by it, written as
/// PEM into `dir`: (authority's certificate, server's certificate, server's key).
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("a key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("the authority");
    let key = KeyPair::generate().expect("a key");
    let server = CertificateParams::new(vec!["localhost".to_string()])
        .expect("parameters")
        .signed_by(&key, &ca, &ca_key)
        .expect("the server's certificate");
    std::fs::create_dir_all(dir).expect("a directory for the certificates");
    let paths = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, server.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl SmtpSink {
    /// Starts a sink on a free port that refuses the first `refuse` messages for now (451).
    pub fn start(refuse: u32) -> SmtpSink {
        let mut sink = SmtpSink::down();
        sink.listen(refuse, 0);
        sink
    }

    /// Starts a sink that speaks TLS for `localhost` (from the first byte when `implicit`,
    /// else after STARTTLS, which it requires) and takes mail only after the login
    /// `user`:`password`.
    pub fn start_tls(implicit: bool, user: &str, password: &str) -> SmtpSink {
        let mut sink = SmtpSink::down();
        let (ca_file, cert, key) = certificates(&sink.dir.path().join("tls"));
        sink.tls = Some(SinkTls {
            implicit,
            ca_file,
            cert,
            key,
            login: (user.into(), password.into()),
        });
        sink.listen(0, 0);
        sink
    }

    /// The certificate of the authority that signed a TLS sink's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.tls.as_ref().expect("a TLS sink").ca_file.clone()
    }

    /// A sink not started yet, with its port chosen (for a server that is down).
    pub fn down() -> SmtpSink {
        SmtpSink {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().expect("a temporary directory"),
            tls: None,
        }
    }

    /// Starts (again) listening, keeping the messages taken so far: the first `refuse`
    /// messages are refused for now (451), the `drop` after them cut off mid-send.
    pub fn listen(&mut self, refuse: u32, drop: u32) {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/support/smtp_sink.py");
        let mut command = Command::new("python3");
        command
            .arg(script)
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--refuse")
            .arg(refuse.to_string())
            .arg("--drop")
            .arg(drop.to_string());
        if let Some(tls) = &self.tls {
            command
                .arg("--cert")
                .arg(&tls.cert)
                .arg("--key")
                .arg(&tls.key)
                .arg("--tls")
                .arg(if tls.implicit { "implicit" } else { "starttls" })
                .arg("--login")
                .arg(format!("{}:{}", tls.login.0, tls.login.1));
        }
        let mut child = command
            .env("PYTHONPATH", packages())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP sink starts");
        let mut ready = String::new();
        let stdout = child.stdout.take().expect("its output");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut ready)
            .expect("the SMTP sink says it is ready");
        assert_eq!(ready.trim(), "ready", "the SMTP sink did not start");
        self.child = Some(child);
    }

    /// Stops listening (the server goes away), keeping the messages taken.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `smtp://127.0.0.1:PORT`; for a TLS sink `smtps://localhost:PORT` or
    /// `smtp://localhost:PORT?tls=required` (the name its certificate is for).
    pub fn url(&self) -> String {
        match &self.tls {
            Some(tls) if tls.implicit => format!("smtps://localhost:{}", self.port),
            Some(_) => format!("smtp://localhost:{}?tls=required", self.port),
            None => format!("smtp://127.0.0.1:{}", self.port),
        }
    }

    /// Every message taken so far, oldest first.
    pub fn messages(&self) -> Vec<Value> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "json"));
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// Waits (up to 30 s) until at least `n` messages were taken, and gives them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{} messages after 30 s, waiting for {n}: {got:#?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

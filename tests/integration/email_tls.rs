//! E-mail over TLS to a real SMTP server process that insists on it: STARTTLS on a submission
//! port and TLS from the first byte (smtps), each with a login, the server's certificate signed
//! by a certificate authority of the school's own (`email.smtp_ca_file`), and never sent to a
//! server whose certificate cannot be verified.

use reqwest::Method;
use serde_json::{json, Value};
use staffroom::db::Backend;

use crate::both_backends;
use crate::support::smtp::SmtpSink;
use crate::support::{column, wait_until, TestApp};

both_backends!(mail_goes_over_tls_to_a_verified_server_with_a_login,);

/// An instance mailing through `url` (trusting `ca_file` when given), with alice.
async fn mailing(backend: Backend, url: String, ca_file: Option<String>, login: bool) -> TestApp {
    let app = TestApp::spawn_with(backend, move |s| {
        s.email.smtp_url = url;
        s.email.smtp_ca_file = ca_file.unwrap_or_default();
        if login {
            s.email.smtp_username = "staffroom".into();
            s.email.smtp_password = "s3cret word".into();
        }
        s.email.from = "Staffroom <staffroom@school.example>".into();
        s.email.poll_seconds = 0.2;
        s.email.retry_seconds = 0.3;
    })
    .await;
    app.create_user("alice", false).await;
    app
}

/// alice gives an address on `app`: the confirmation message goes out.
async fn give_address(app: &TestApp) {
    let token = app.token("alice").await;
    let (status, body) = app
        .api(
            Method::PATCH,
            "/api/v1/accounts/current",
            Some(&token),
            Some(json!({"email": "alice@school.example"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

fn check(message: &Value) {
    assert_eq!(message["tls"], true, "{message}");
    assert_eq!(message["login"], "staffroom", "{message}");
    assert_eq!(message["rcpt_tos"], json!(["alice@school.example"]));
    assert!(message["text"]
        .as_str()
        .unwrap()
        .contains("/email/verify?token="));
}

async fn mail_goes_over_tls_to_a_verified_server_with_a_login(backend: Backend) {
    // STARTTLS, the login in its own keys.
    let sink = SmtpSink::start_tls(false, "staffroom", "s3cret word");
    assert!(sink.url().ends_with("?tls=required"));
    let ca = sink.ca_file().display().to_string();
    let app = mailing(backend, sink.url(), Some(ca.clone()), true).await;
    give_address(&app).await;
    check(&sink.wait_for(1).await[0]);

    // TLS from the first byte, the login in the URL (its space written %20).
    let implicit = SmtpSink::start_tls(true, "staffroom", "s3cret word");
    let url = implicit
        .url()
        .replace("smtps://", "smtps://staffroom:s3cret%20word@");
    let app = mailing(
        backend,
        url,
        Some(implicit.ca_file().display().to_string()),
        false,
    )
    .await;
    give_address(&app).await;
    check(&implicit.wait_for(1).await[0]);

    // Without the school's authority the certificate cannot be verified: nothing is sent, and
    // the message waits (it is not lost, nor sent in the clear).
    let strict = SmtpSink::start_tls(false, "staffroom", "s3cret word");
    let app = mailing(backend, strict.url(), None, true).await;
    give_address(&app).await;
    wait_until(
        "the mailer to try twice and be refused the server's certificate",
        || async {
            !column(
                &app,
                "SELECT last_error AS v FROM mail_outbox WHERE attempts >= 2 AND sent_at IS NULL \
             AND last_error IS NOT NULL",
            )
            .is_empty()
        },
    )
    .await;
    let error = column(&app, "SELECT last_error AS v FROM mail_outbox")[0].to_lowercase();
    assert!(
        error.contains("certificate") || error.contains("tls"),
        "{error}"
    );
    assert!(strict.messages().is_empty());
    assert_eq!(app.site.mail_waiting().await.unwrap(), 1);
}

//! Sending e-mail: the mailer takes what the domain wrote to the mail outbox, composes each
//! message (a plain-text part and an HTML part, from templates), and sends it over SMTP with
//! lettre. A message the mail server cannot take now (it refuses with a 4xx, is down, or goes
//! away mid-send) is tried again later; one it refuses for good (5xx) is marked so and not
//! tried again. Notification mail carries a one-click unsubscribe (RFC 8058:
//! `List-Unsubscribe` with an https link and `List-Unsubscribe-Post:
//! List-Unsubscribe=One-Click`).
//!
//! `mail` calls `forum` (never `db`, `web`, `api` or `federation`), like the HTTP layers.

use std::time::Duration;

use askama::Template;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Settings;
use crate::forum::email::{MailKind, Outgoing, RESET_MINUTES, VERIFY_HOURS};
use crate::forum::markdown;
use crate::forum::notifications::{Kind, Notice};
use crate::forum::Site;

/// How much of a post a message shows.
const EXCERPT_CHARS: usize = 400;
/// Messages sent in one pass.
const BATCH: i64 = 20;

/// The SMTP client for `email.smtp_url`, with the credentials of `email.smtp_username` and
/// `email.smtp_password` when given, trusting the authorities in `email.smtp_ca_file` as well
/// as the public ones.
pub fn transport(settings: &Settings) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let email = &settings.email;
    let url = email.smtp_url.trim();
    let mut builder =
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.timeout(Some(Duration::from_secs(30)));
    if !email.smtp_ca_file.trim().is_empty() {
        builder = builder.tls(tls_trusting(url, email.smtp_ca_file.trim())?);
    }
    if !email.smtp_username.is_empty() {
        builder = builder.credentials(Credentials::new(
            email.smtp_username.clone(),
            email.smtp_password.clone(),
        ));
    }
    Ok(builder.build())
}

/// The TLS of `url` (STARTTLS, or TLS from the start for `smtps://`) trusting the
/// certificate authorities in the PEM file `ca_file` besides the public ones.
fn tls_trusting(url: &str, ca_file: &str) -> anyhow::Result<Tls> {
    let parsed = url::Url::parse(url)?;
    let host = parsed
        .host_str()
        .ok_or_else(|| anyhow::anyhow!("email.smtp_url names no host"))?;
    let pem =
        std::fs::read(ca_file).map_err(|e| anyhow::anyhow!("email.smtp_ca_file {ca_file}: {e}"))?;
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
        anyhow::bail!("email.smtp_ca_file {ca_file} holds no PEM certificate");
    }
    // Every certificate in the file (lettre reads them all from one PEM).
    let authorities = Certificate::from_pem(&pem)
        .map_err(|e| anyhow::anyhow!("email.smtp_ca_file {ca_file}: {e}"))?;
    let parameters = TlsParameters::builder(host.to_string()).add_root_certificate(authorities);
    let parameters = parameters.build_rustls()?;
    let mode = parsed
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.to_string());
    Ok(match (parsed.scheme(), mode.as_deref()) {
        ("smtps", _) => Tls::Wrapper(parameters),
        (_, Some("opportunistic")) => Tls::Opportunistic(parameters),
        _ => Tls::Required(parameters),
    })
}

/// Starts the mailer, when e-mail is configured.
pub fn spawn(site: Site) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    if !site.settings().email.enabled() {
        return Ok(None);
    }
    let smtp = transport(site.settings())?;
    let from: Mailbox = site
        .settings()
        .mail_from()
        .parse()
        .map_err(|e| anyhow::anyhow!("email.from is not an address: {e}"))?;
    Ok(Some(tokio::spawn(async move {
        let poll = Duration::from_secs_f64(site.settings().email.poll_seconds);
        loop {
            if let Err(e) = pass(&site, &smtp, &from).await {
                tracing::warn!(error = %e, "the mailer failed; it tries again shortly");
            }
            // Sleep until the next message is due, mail is written, or the poll comes round.
            let wait = match site.next_mail_due().await {
                Ok(Some(at)) => (at - crate::forum::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(poll),
                _ => poll,
            };
            if !wait.is_zero() {
                site.mail_wait(wait).await;
            }
        }
    })))
}

/// One pass: writes what is due to the outbox, then sends what waits, a batch at a time.
async fn pass(
    site: &Site,
    smtp: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
) -> anyhow::Result<()> {
    site.collect_mail().await?;
    loop {
        let due = site.due_mail(BATCH).await?;
        if due.is_empty() {
            return Ok(());
        }
        for mail in due {
            let id = mail.id;
            let attempts = mail.attempts;
            let message = match compose(site, from, mail).await {
                Ok(Some(message)) => message,
                Ok(None) => {
                    // Nothing left to tell (the posts went, the person left): done.
                    site.mail_sent(id).await?;
                    continue;
                }
                Err(e) => {
                    site.mail_refused(id, format!("cannot be composed: {e}"))
                        .await?;
                    continue;
                }
            };
            match smtp.send(message).await {
                Ok(_) => site.mail_sent(id).await?,
                Err(e) if e.is_permanent() => {
                    tracing::warn!(error = %e, mail = id, "the mail server refused a message");
                    site.mail_refused(id, e.to_string()).await?;
                }
                Err(e) => {
                    tracing::info!(error = %e, mail = id, "sending failed; it is tried again later");
                    site.mail_failed_for_now(id, attempts, e.to_string())
                        .await?;
                    // The server is failing: leave the rest for the next pass.
                    return Ok(());
                }
            }
        }
    }
}

#[derive(Template)]
#[template(path = "mail_verify.txt")]
struct VerifyText<'a> {
    instance: &'a str,
    name: &'a str,
    link: &'a str,
    hours: i64,
}

#[derive(Template)]
#[template(path = "mail_verify.html")]
struct VerifyHtml<'a> {
    instance: &'a str,
    name: &'a str,
    link: &'a str,
    hours: i64,
}

#[derive(Template)]
#[template(path = "mail_reset.txt")]
struct ResetText<'a> {
    instance: &'a str,
    name: &'a str,
    link: &'a str,
    minutes: i64,
}

#[derive(Template)]
#[template(path = "mail_reset.html")]
struct ResetHtml<'a> {
    instance: &'a str,
    name: &'a str,
    link: &'a str,
    minutes: i64,
}

/// One notification in a message.
struct Line {
    who: String,
    why: &'static str,
    thread: String,
    forum: String,
    excerpt: String,
    link: String,
    /// A link that stops watching the thread, when they watch it.
    unwatch: Option<String>,
}

#[derive(Template)]
#[template(path = "mail_notices.txt")]
struct NoticesText<'a> {
    instance: &'a str,
    intro: &'a str,
    lines: &'a [Line],
    settings: &'a str,
    unsubscribe: &'a str,
}

#[derive(Template)]
#[template(path = "mail_notices.html")]
struct NoticesHtml<'a> {
    instance: &'a str,
    intro: &'a str,
    lines: &'a [Line],
    settings: &'a str,
    unsubscribe: &'a str,
}

fn why(notice: &Notice) -> &'static str {
    match (notice.kind, notice.context.post.is_opening) {
        (Kind::Reply, _) => "replied to your post in",
        (Kind::Quote, _) => "quoted you in",
        (Kind::Mention, _) => "mentioned you in",
        (Kind::Watched, true) => "started",
        (Kind::Watched, false) => "replied in",
    }
}

/// A subject line: one line, at most 150 characters.
fn subject(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out: String = line.chars().take(150).collect();
    if line.chars().count() > 150 {
        out.push('…');
    }
    out
}

/// The message an outbox row stands for (`None`: nothing is left to say).
async fn compose(site: &Site, from: &Mailbox, mail: Outgoing) -> anyhow::Result<Option<Message>> {
    let instance = site.settings().server.instance_name.clone();
    let to: Mailbox = mail.to.parse()?;
    let name = mail
        .user
        .as_ref()
        .map(|u| u.display_name.clone())
        .unwrap_or_default();
    let builder = Message::builder().from(from.clone()).to(to);
    let (title, text, html, unsubscribe) = match &mail.kind {
        MailKind::Verify { token } => {
            let link = site
                .urls()
                .absolute(&format!("/email/verify?token={token}"));
            (
                format!("Confirm your e-mail address for {instance}"),
                VerifyText {
                    instance: &instance,
                    name: &name,
                    link: &link,
                    hours: VERIFY_HOURS,
                }
                .render()?,
                VerifyHtml {
                    instance: &instance,
                    name: &name,
                    link: &link,
                    hours: VERIFY_HOURS,
                }
                .render()?,
                None,
            )
        }
        MailKind::Reset { token } => {
            let link = site.urls().absolute(&format!("/password-reset/{token}"));
            (
                format!("Reset your password on {instance}"),
                ResetText {
                    instance: &instance,
                    name: &name,
                    link: &link,
                    minutes: RESET_MINUTES,
                }
                .render()?,
                ResetHtml {
                    instance: &instance,
                    name: &name,
                    link: &link,
                    minutes: RESET_MINUTES,
                }
                .render()?,
                None,
            )
        }
        MailKind::Notification { id } => {
            match notices_message(site, &mail, vec![*id], false).await? {
                Some(parts) => parts,
                None => return Ok(None),
            }
        }
        MailKind::Digest { ids } => match notices_message(site, &mail, ids.clone(), true).await? {
            Some(parts) => parts,
            None => return Ok(None),
        },
    };
    let mut builder = builder.subject(subject(&title));
    if let Some(link) = unsubscribe {
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{link}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_string(),
            ));
    }
    Ok(Some(builder.multipart(
        MultiPart::alternative_plain_html(text, html),
    )?))
}

/// The title, plain text, HTML and unsubscribe link of a message about the notifications
/// `ids` (one, or a day's in a `digest`); `None` when none of them is left to tell of.
async fn notices_message(
    site: &Site,
    mail: &Outgoing,
    ids: Vec<i64>,
    digest: bool,
) -> anyhow::Result<Option<(String, String, String, Option<String>)>> {
    let Some(user) = mail.user.clone() else {
        return Ok(None);
    };
    let notices = site.notices_for_mail(user.clone(), ids).await?;
    let Some(first) = notices.first() else {
        return Ok(None);
    };
    let instance = site.settings().server.instance_name.clone();
    let (title, intro) = match (digest, notices.len()) {
        (false, _) => (
            format!(
                "{} {} “{}”",
                first.context.author.display_name,
                why(first),
                first.context.thread.title
            ),
            "",
        ),
        (true, 1) => (
            format!("1 new post for you on {instance}"),
            "What is new since your last digest.",
        ),
        (true, n) => (
            format!("{n} new posts for you on {instance}"),
            "What is new since your last digest, newest first.",
        ),
    };
    let lines = lines(site, &user, &notices).await?;
    let unsubscribe = site.unsubscribe_url(&user).await?;
    let settings = site.urls().absolute("/settings/notifications");
    let text = NoticesText {
        instance: &instance,
        intro,
        lines: &lines,
        settings: &settings,
        unsubscribe: &unsubscribe,
    }
    .render()?;
    let html = NoticesHtml {
        instance: &instance,
        intro,
        lines: &lines,
        settings: &settings,
        unsubscribe: &unsubscribe,
    }
    .render()?;
    Ok(Some((title, text, html, Some(unsubscribe))))
}

/// The lines of a message about `notices`.
async fn lines(
    site: &Site,
    user: &crate::forum::User,
    notices: &[Notice],
) -> anyhow::Result<Vec<Line>> {
    let mut out = Vec::with_capacity(notices.len());
    for n in notices {
        let ctx = &n.context;
        let text = markdown::plain_text(&ctx.post.body_html);
        let mut excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
        if text.chars().nth(EXCERPT_CHARS).is_some() {
            excerpt.push('…');
        }
        let unwatch = if n.watching_thread {
            Some(site.unwatch_url(user, &ctx.thread).await?)
        } else {
            None
        };
        out.push(Line {
            who: ctx.author.display_name.clone(),
            why: why(n),
            thread: ctx.thread.title.clone(),
            forum: ctx.forum.title.clone(),
            excerpt,
            link: site.notice_url(ctx),
            unwatch,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_url(url: &str) -> Settings {
        let mut settings = Settings::defaults().unwrap();
        settings.email.smtp_url = url.into();
        settings
    }

    #[test]
    fn the_three_ways_to_reach_a_mail_server_are_understood() {
        // Plain (a relay close by), STARTTLS required, and TLS from the start; credentials in
        // the URL or in their own keys.
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://mail.school.example:587?tls=required",
            "smtps://user:secret@mail.school.example:465",
        ] {
            let settings = with_url(url);
            settings.validate().unwrap();
            transport(&settings).unwrap_or_else(|e| panic!("{url}: {e}"));
        }
        let mut settings = with_url("smtp://mail.school.example:587?tls=required");
        settings.email.smtp_username = "staffroom".into();
        settings.email.smtp_password = "secret".into();
        transport(&settings).unwrap();
        for wrong in [
            "http://mail.school.example",
            "mail.school.example:25",
            "smtp://",
        ] {
            assert!(with_url(wrong).validate().is_err(), "{wrong}");
        }
        // A certificate authority of one's own is for TLS, and must be a readable PEM file.
        let mut plain = with_url("smtp://127.0.0.1:25");
        plain.email.smtp_ca_file = "/etc/ssl/school-ca.pem".into();
        assert!(plain.validate().is_err());
        let mut missing = with_url("smtps://mail.school.example:465");
        missing.email.smtp_ca_file = "/nonexistent/school-ca.pem".into();
        missing.validate().unwrap();
        let Err(err) = transport(&missing) else {
            panic!("a missing file is an error");
        };
        assert!(err.to_string().contains("school-ca.pem"), "{err}");
    }

    #[test]
    fn subjects_are_one_line_of_bounded_length() {
        assert_eq!(subject("A\r\nBcc: x"), "A  Bcc: x");
        let long = "x".repeat(400);
        assert_eq!(subject(&long).chars().count(), 151);
    }

    #[test]
    fn the_sender_defaults_to_the_instance_at_its_host() {
        let mut settings = with_url("smtp://127.0.0.1:25");
        settings.server.instance_name = "Maple \"School\" <Staff>".into();
        let from: Mailbox = settings.mail_from().parse().unwrap();
        assert_eq!(from.email.to_string(), "noreply@localhost");
        settings.email.from = "Staff <staff@school.example>".into();
        assert_eq!(settings.mail_from(), "Staff <staff@school.example>");
    }
}

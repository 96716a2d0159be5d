//! What the links in e-mail open: confirming an address, unsubscribing (one click, RFC 8058),
//! stopping watching a thread, and resetting a forgotten password.
//!
//! Opening a link (`GET`) never changes anything by itself but confirming an address: mail
//! scanners open links to look at them. Unsubscribing and stopping watching ask first, with a
//! button; the signed token in the link is what allows the change, so those forms carry no
//! CSRF token (a mail program's one-click `POST` has none to give).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::session::{redirect_with_notice, Viewer};
use super::super::views::FormErrors;
use super::super::{html, invalid_status, ok, Layout, PageError};
use crate::error::{FieldError, ForumError};

#[derive(Template)]
#[template(path = "link_action.html")]
struct LinkAction<'a> {
    layout: &'a Layout,
    heading: &'a str,
    text: &'a str,
    /// Where the button posts (none: no button).
    action: &'a str,
    token: &'a str,
    button: &'a str,
    next_link: &'a str,
    next_label: &'a str,
}

/// `?token=...`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenQuery {
    token: String,
}

fn said(viewer: &Viewer, status: StatusCode, heading: &str, text: &str) -> HttpResponse {
    let layout = viewer.layout(heading);
    html(
        status,
        &LinkAction {
            layout: &layout,
            heading,
            text,
            action: "",
            token: "",
            button: "",
            next_link: "/",
            next_label: "Go to the forums",
        },
    )
}

/// GET /email/verify?token=...: the address the link was sent to is confirmed.
pub async fn verify(viewer: Viewer, q: web::Query<TokenQuery>) -> Result<HttpResponse, PageError> {
    let user = viewer
        .site
        .verify_email(q.token.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    let text = format!(
        "{} is confirmed as your address. Notifications are e-mailed as your settings say.",
        user.email.unwrap_or_default()
    );
    Ok(said(&viewer, StatusCode::OK, "Address confirmed", &text))
}

/// GET /unsubscribe?token=...: asks before unsubscribing.
pub async fn unsubscribe_form(
    viewer: Viewer,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    let layout = viewer.layout("Unsubscribe");
    ok(&LinkAction {
        layout: &layout,
        heading: "Unsubscribe",
        text: "Stop all e-mail about notifications? You can turn it back on in your settings. \
               Password reset messages, which you ask for yourself, still come.",
        action: "/unsubscribe",
        token: &q.token,
        button: "Unsubscribe",
        next_link: "/settings/notifications",
        next_label: "Your notification settings",
    })
}

/// The unsubscribe or stop-watching button, or a mail program's one-click request (RFC 8058:
/// `List-Unsubscribe=One-Click`, the token in the link's query).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    token: String,
}

/// The token of the button's form, or else of the link's query (a one-click request).
fn token_of(q: &TokenQuery, form: &TokenForm) -> String {
    if form.token.is_empty() {
        q.token.clone()
    } else {
        form.token.clone()
    }
}

/// POST /unsubscribe: no more notification e-mail.
pub async fn unsubscribe(
    viewer: Viewer,
    q: web::Query<TokenQuery>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, PageError> {
    viewer
        .site
        .unsubscribe(token_of(&q, &form))
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(said(
        &viewer,
        StatusCode::OK,
        "Unsubscribed",
        "You will get no more e-mail about notifications. Your settings can turn it back on.",
    ))
}

/// GET /unwatch?token=...: asks before stopping watching.
pub async fn unwatch_form(
    viewer: Viewer,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    let layout = viewer.layout("Stop watching");
    ok(&LinkAction {
        layout: &layout,
        heading: "Stop watching",
        text: "Stop being told of new replies in this thread?",
        action: "/unwatch",
        token: &q.token,
        button: "Stop watching",
        next_link: "/notifications",
        next_label: "Your notifications",
    })
}

/// POST /unwatch: the thread no longer notifies them.
pub async fn unwatch(
    viewer: Viewer,
    q: web::Query<TokenQuery>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, PageError> {
    let thread = viewer
        .site
        .unwatch_by_link(token_of(&q, &form))
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(redirect_with_notice(
        &viewer.site,
        &format!("/t/{}", thread.id),
        "You stopped watching the thread.",
    ))
}

#[derive(Template)]
#[template(path = "password_reset_request.html")]
struct ResetRequestPage<'a> {
    layout: &'a Layout,
    enabled: bool,
    typed: &'a str,
}

/// GET /password-reset
pub async fn reset_request_form(viewer: Viewer) -> Result<HttpResponse, PageError> {
    let layout = viewer.layout("Forgotten password");
    ok(&ResetRequestPage {
        layout: &layout,
        enabled: viewer.site.email_enabled(),
        typed: "",
    })
}

/// The forgotten-password form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResetRequestForm {
    csrf_token: String,
    username_or_email: String,
}

/// POST /password-reset: the same answer whether or not there is such an account.
pub async fn request_reset(
    viewer: Viewer,
    form: web::Form<ResetRequestForm>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    viewer
        .site
        .request_password_reset(form.username_or_email.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    Ok(redirect_with_notice(
        &viewer.site,
        "/login",
        "If there is an account with that name or confirmed address, a link to choose a new \
         password is on its way to it.",
    ))
}

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetPage<'a> {
    layout: &'a Layout,
    name: &'a str,
    token: &'a str,
    errors: FormErrors,
}

/// GET /password-reset/{token}: the new-password form, while the link works.
pub async fn reset_form(
    viewer: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let token = path.into_inner();
    let user = viewer
        .site
        .reset_link(token.clone())
        .await
        .map_err(|e| viewer.error(e))?;
    let layout = viewer.layout("Choose a new password");
    ok(&ResetPage {
        layout: &layout,
        name: &user.name,
        token: &token,
        errors: FormErrors::default(),
    })
}

/// The new-password form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResetForm {
    csrf_token: String,
    new_password: String,
    confirm_password: String,
}

/// POST /password-reset/{token}: sets the password and goes to the login page.
pub async fn reset(
    viewer: Viewer,
    path: web::Path<String>,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let token = path.into_inner();
    let show_again = |name: &str, status: StatusCode, errors: Vec<FieldError>| {
        let layout = viewer.layout("Choose a new password");
        html(
            status,
            &ResetPage {
                layout: &layout,
                name,
                token: &token,
                errors: FormErrors(errors),
            },
        )
    };
    if form.new_password != form.confirm_password {
        let user = viewer
            .site
            .reset_link(token.clone())
            .await
            .map_err(|e| viewer.error(e))?;
        return Ok(show_again(
            &user.name,
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![FieldError {
                field: "confirm_password",
                message: "The two new passwords are not the same.".into(),
            }],
        ));
    }
    match viewer
        .site
        .reset_password(token.clone(), form.new_password.clone())
        .await
    {
        Ok(_) => Ok(redirect_with_notice(
            &viewer.site,
            "/login",
            "Your password is changed. Log in with it.",
        )),
        Err(ForumError::Invalid(invalid)) => {
            let user = viewer
                .site
                .reset_link(token.clone())
                .await
                .map_err(|e| viewer.error(e))?;
            Ok(show_again(
                &user.name,
                invalid_status(&invalid),
                invalid.fields,
            ))
        }
        Err(e) => Err(viewer.error(e)),
    }
}

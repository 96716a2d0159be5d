//! Register, log in, log out, change password.
//!
//! A reply or thread sent after the session expired is not thrown away: the login page carries
//! the text along, and after logging in the educator gets it back in a form ready to post.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::session::{end_session, redirect_with_notice, start_session, Viewer};
use super::super::views::FormErrors;
use super::super::{html, invalid_status, ok, safe_next, Layout, PageError};
use crate::config::RegistrationMode;
use crate::error::{FieldError, ForumError};
use crate::forum::accounts::{Registrar, Registration, SessionKind};
use crate::forum::tokens::new_token;

/// Text written while logged out, carried through the login page.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Draft {
    /// Where the form was going (`/t/{id}/reply` or `/f/{name}/new`).
    pub draft_action: String,
    /// Thread title, for a new thread.
    pub draft_title: String,
    /// The text.
    pub draft_body: String,
    /// The post being answered.
    pub draft_in_reply_to: String,
}

impl Draft {
    /// Whether it carries anything, and goes somewhere it may.
    pub fn is_usable(&self) -> bool {
        !self.draft_body.trim().is_empty()
            && safe_next(&self.draft_action).is_some()
            && (self.draft_action.starts_with("/t/") || self.draft_action.starts_with("/f/"))
    }
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage<'a> {
    layout: &'a Layout,
    form: &'a RegisterForm,
    errors: FormErrors,
    /// `open`, `approval`, `invite` or `closed`.
    mode: &'static str,
    /// Asked of applicants.
    question: &'a str,
    /// The e-mail domains allowed, "a.example or b.example"; empty: any.
    domains: String,
    /// The application is in: it waits for approval.
    applied: bool,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    layout: &'a Layout,
    username: &'a str,
    next: &'a str,
    error: Option<&'a str>,
    draft: Option<&'a Draft>,
}

#[derive(Template)]
#[template(path = "draft.html")]
struct DraftPage<'a> {
    layout: &'a Layout,
    draft: &'a Draft,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage<'a> {
    layout: &'a Layout,
    errors: FormErrors,
}

/// The registration form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RegisterForm {
    csrf_token: String,
    username: String,
    display_name: String,
    password: String,
    email: String,
    answer: String,
    invite: String,
}

/// `?invite=CODE`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InviteQuery {
    invite: String,
}

fn register_page(
    viewer: &Viewer,
    status: StatusCode,
    form: &RegisterForm,
    errors: FormErrors,
    applied: bool,
) -> HttpResponse {
    let rules = &viewer.site.settings().registration;
    let mode = match rules.mode {
        RegistrationMode::Open => "open",
        RegistrationMode::Approval => "approval",
        RegistrationMode::Invite => "invite",
        RegistrationMode::Closed => "closed",
    };
    let layout = viewer.layout(if applied {
        "Application received"
    } else {
        "Register"
    });
    html(
        status,
        &RegisterPage {
            layout: &layout,
            form,
            errors,
            mode,
            question: &rules.question,
            domains: rules.allowed_email_domains.join(" or "),
            applied,
        },
    )
}

/// GET /register (`?invite=CODE` from an invitation link)
pub async fn register_form(
    viewer: Viewer,
    q: web::Query<InviteQuery>,
) -> Result<HttpResponse, PageError> {
    let form = RegisterForm {
        invite: q.into_inner().invite,
        ..RegisterForm::default()
    };
    Ok(register_page(
        &viewer,
        StatusCode::OK,
        &form,
        FormErrors::default(),
        false,
    ))
}

/// POST /register
pub async fn register(
    viewer: Viewer,
    form: web::Form<RegisterForm>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let site = viewer.site.clone();
    let registration = Registration {
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        password: form.password.clone(),
        email: form.email.clone(),
        answer: form.answer.clone(),
        invite: form.invite.clone(),
    };
    match site.register(registration, Registrar::Visitor).await {
        Ok(user) if user.pending => Ok(register_page(
            &viewer,
            StatusCode::ACCEPTED,
            &form,
            FormErrors::default(),
            true,
        )),
        Ok(user) => {
            let session = site
                .open_session(user, SessionKind::Web)
                .await
                .map_err(|e| viewer.error(e))?;
            let mut res = redirect_with_notice(
                &site,
                "/",
                &format!(
                    "Welcome, {}! Your account is ready.",
                    session.user.display_name
                ),
            );
            start_session(&site, &mut res, session.token, new_token())
                .map_err(|_| internal(&viewer))?;
            Ok(res)
        }
        Err(ForumError::Invalid(invalid)) => Ok(register_page(
            &viewer,
            invalid_status(&invalid),
            &form,
            FormErrors(invalid.fields),
            false,
        )),
        Err(e) => Err(viewer.error(e)),
    }
}

fn internal(viewer: &Viewer) -> PageError {
    PageError::new(viewer, 500, "Something went wrong", "Please try again.")
}

/// `?next=/path`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

/// GET /login
pub async fn login_form(
    viewer: Viewer,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    let layout = viewer.layout("Log in");
    let next = safe_next(&q.next).unwrap_or_default();
    ok(&LoginPage {
        layout: &layout,
        username: "",
        next: &next,
        error: None,
        draft: None,
    })
}

/// The login form (with any draft carried along).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    csrf_token: String,
    username: String,
    password: String,
    next: String,
    #[serde(flatten)]
    draft: Draft,
}

/// The login page shown instead of losing a draft written after the session ended.
pub fn login_to_keep(viewer: &Viewer, draft: Draft) -> HttpResponse {
    let mut layout = viewer.layout("Log in to post");
    layout.notice =
        Some("Your session has ended. Log in and your text will be waiting for you.".into());
    html(
        StatusCode::UNAUTHORIZED,
        &LoginPage {
            layout: &layout,
            username: "",
            next: "",
            error: None,
            draft: Some(&draft),
        },
    )
}

/// POST /login
pub async fn login(viewer: Viewer, form: web::Form<LoginForm>) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let draft = form.draft.is_usable().then_some(&form.draft);
    if let Err(e) = viewer.check_csrf(&form.csrf_token) {
        return Err(match draft {
            Some(d) => e.keeping(&d.draft_body),
            None => e,
        });
    }
    let forum = viewer.site.clone();
    let result = forum
        .login(
            form.username.clone(),
            form.password.clone(),
            viewer.address.clone(),
            SessionKind::Web,
        )
        .await;
    match result {
        Ok(session) => {
            let user = session.user.clone();
            let csrf = new_token();
            if let Some(draft) = draft {
                let mut layout = viewer.layout("Your text is waiting");
                layout.user = Some((&user).into());
                layout.csrf = crate::forum::tokens::mask(&csrf);
                let mut res = html(
                    StatusCode::OK,
                    &DraftPage {
                        layout: &layout,
                        draft,
                    },
                );
                start_session(&forum, &mut res, session.token, csrf)
                    .map_err(|_| internal(&viewer))?;
                return Ok(res);
            }
            let next = safe_next(&form.next).unwrap_or_else(|| "/".into());
            let mut res = redirect_with_notice(
                &forum,
                &next,
                &format!("Welcome back, {}.", user.display_name),
            );
            start_session(&forum, &mut res, session.token, csrf).map_err(|_| internal(&viewer))?;
            Ok(res)
        }
        Err(
            e @ (ForumError::InvalidCredentials
            | ForumError::RateLimited { .. }
            | ForumError::Forbidden {
                code: "awaiting_approval",
                ..
            }),
        ) => {
            let status = e.status();
            let message = e.public_message();
            let layout = viewer.layout("Log in");
            let mut res = html(
                StatusCode::from_u16(status).unwrap_or(StatusCode::UNAUTHORIZED),
                &LoginPage {
                    layout: &layout,
                    username: &form.username,
                    next: &safe_next(&form.next).unwrap_or_default(),
                    error: Some(&message),
                    draft,
                },
            );
            if let ForumError::RateLimited { retry_after_secs } = e {
                if let Ok(v) =
                    actix_web::http::header::HeaderValue::from_str(&retry_after_secs.to_string())
                {
                    res.headers_mut()
                        .insert(actix_web::http::header::RETRY_AFTER, v);
                }
            }
            Ok(res)
        }
        Err(e) => Err(viewer.error(e)),
    }
}

/// A form that carries only its CSRF token.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfOnly {
    /// The token.
    pub csrf_token: String,
}

/// POST /logout
pub async fn logout(viewer: Viewer, form: web::Form<CsrfOnly>) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    if let Some(token) = viewer.session_token.clone() {
        viewer
            .site
            .logout(token)
            .await
            .map_err(|e| viewer.error(e))?;
    }
    let mut res = redirect_with_notice(&viewer.site, "/", "You are logged out.");
    end_session(&viewer.site, &mut res).map_err(|_| internal(&viewer))?;
    Ok(res)
}

/// GET /settings/password
pub async fn password_form(viewer: Viewer) -> Result<HttpResponse, PageError> {
    viewer.require_user("/settings/password")?;
    let layout = viewer.layout("Change password");
    ok(&PasswordPage {
        layout: &layout,
        errors: FormErrors::default(),
    })
}

/// The password form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    csrf_token: String,
    current_password: String,
    new_password: String,
    confirm_password: String,
}

/// POST /settings/password
pub async fn change_password(
    viewer: Viewer,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(&form.csrf_token)?;
    let user = viewer.require_user("/settings/password")?;
    let show_again = |status: StatusCode, errors: Vec<FieldError>| {
        let layout = viewer.layout("Change password");
        html(
            status,
            &PasswordPage {
                layout: &layout,
                errors: FormErrors(errors),
            },
        )
    };
    if form.new_password != form.confirm_password {
        return Ok(show_again(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![FieldError {
                field: "confirm_password",
                message: "The two new passwords are not the same.".into(),
            }],
        ));
    }
    let result = viewer
        .site
        .change_password(
            user,
            viewer.session_id,
            form.current_password.clone(),
            form.new_password.clone(),
        )
        .await;
    match result {
        Ok(()) => Ok(redirect_with_notice(
            &viewer.site,
            "/settings/password",
            "Your password is changed. Every other session has been logged out.",
        )),
        Err(ForumError::Invalid(invalid)) => {
            Ok(show_again(StatusCode::UNPROCESSABLE_ENTITY, invalid.fields))
        }
        Err(ForumError::RateLimited { retry_after_secs }) => Ok(show_again(
            StatusCode::TOO_MANY_REQUESTS,
            vec![FieldError {
                field: "current_password",
                message: format!(
                    "Too many wrong passwords. Try again in {} minutes.",
                    retry_after_secs.div_ceil(60)
                ),
            }],
        )),
        Err(e) => Err(viewer.error(e)),
    }
}

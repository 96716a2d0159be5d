//! HTML pages: handlers, templates, forms, sessions and the embedded stylesheet.
//!
//! `web` calls `forum` (one method per request) and renders askama templates; it never touches
//! `db`, `api` or `federation` (what it shares with them is in `state` and `error`; following a
//! forum elsewhere goes through the domain's `Resolver`). Pages work without JavaScript: every action is a link or a form, every form carries a
//! CSRF token, and a rejected form comes back filled in with the message beside the field.

pub mod feeds;
pub mod pages;
pub mod session;
pub mod views;
pub mod when;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use askama::Template;

use crate::error::ForumError;
use crate::state::AppState;
use session::Viewer;
use views::UserLink;

/// The frame around every page: title, header and notices.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The page title (before the instance name).
    pub title: String,
    /// `server.instance_name`.
    pub instance_name: String,
    /// The logged-in account.
    pub user: Option<UserLink>,
    /// CSRF token for the forms on the page, masked afresh for this page.
    pub csrf: String,
    /// A one-shot notice (`role="status"`).
    pub notice: Option<String>,
    /// Whether the header offers "Register".
    pub registration_open: bool,
    /// `server.source_url`.
    pub source_url: String,
    /// The running version.
    pub version: &'static str,
    /// Asks search engines not to index the page (a members-only forum's pages).
    pub noindex: bool,
    /// The logged-in account's unread notifications, as the header shows them ("3", "99+");
    /// empty when there are none.
    pub unread: String,
}

impl Layout {
    fn new(viewer: &Viewer, title: String) -> Layout {
        let settings = viewer.site.settings();
        Layout {
            title,
            instance_name: settings.server.instance_name.clone(),
            user: viewer.user.as_ref().map(UserLink::from),
            csrf: crate::forum::tokens::mask(&viewer.csrf),
            notice: viewer.notice.clone(),
            registration_open: matches!(
                viewer.site.settings().registration.mode,
                crate::config::RegistrationMode::Open | crate::config::RegistrationMode::Approval
            ),
            source_url: settings.server.source_url.clone(),
            version: env!("CARGO_PKG_VERSION"),
            noindex: false,
            unread: match viewer.unread_notifications {
                0 => String::new(),
                n if n >= crate::forum::notifications::UNREAD_CAP => {
                    format!("{}+", crate::forum::notifications::UNREAD_CAP - 1)
                }
                n => n.to_string(),
            },
        }
    }

    /// The same frame, asking search engines to leave the page out when it shows what only
    /// `forum`'s members may see.
    pub fn hidden_if_members_only(mut self, forum: &crate::forum::Forum) -> Layout {
        self.noindex = forum.members_only();
        self
    }

    /// A frame for a request that has no [`Viewer`] (errors raised before one exists).
    fn bare(req: &HttpRequest, title: String) -> Layout {
        let site = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.site.clone());
        Layout {
            title,
            instance_name: site.as_ref().map_or("Staffroom".into(), |f| {
                f.settings().server.instance_name.clone()
            }),
            user: None,
            csrf: String::new(),
            notice: None,
            registration_open: false,
            source_url: site
                .as_ref()
                .map_or(String::new(), |f| f.settings().server.source_url.clone()),
            version: env!("CARGO_PKG_VERSION"),
            noindex: false,
            unread: String::new(),
        }
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: &'a Layout,
    heading: &'a str,
    message: &'a str,
    kept: Option<&'a str>,
    /// For a failure of ours: the request's id, which the log line names too.
    reference: Option<String>,
}

#[derive(Debug)]
enum Shown {
    Page {
        layout: Box<Layout>,
        heading: String,
        message: String,
        kept: Option<String>,
    },
    Redirect(String),
}

/// A failed page request: a friendly page with the right status, or a redirect to log in.
#[derive(Debug)]
pub struct PageError {
    status: u16,
    shown: Shown,
    retry_after: Option<u64>,
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.shown {
            Shown::Page { heading, .. } => write!(f, "{} {heading}", self.status),
            Shown::Redirect(to) => write!(f, "redirect to {to}"),
        }
    }
}

fn heading_for(status: u16) -> &'static str {
    match status {
        401 => "Please log in",
        403 => "Not allowed",
        404 => "Not found",
        410 => "Gone",
        413 => "Too large",
        429 => "Too many tries",
        400..=499 => "That did not work",
        _ => "Something went wrong",
    }
}

impl PageError {
    /// An error page with a heading and message.
    pub fn new(viewer: &Viewer, status: u16, heading: &str, message: &str) -> PageError {
        PageError {
            status,
            shown: Shown::Page {
                layout: Box::new(viewer.layout(heading)),
                heading: heading.into(),
                message: message.into(),
                kept: None,
            },
            retry_after: None,
        }
    }

    /// An error page for a request that has no viewer.
    pub fn for_request(req: &HttpRequest, status: u16, message: &str) -> PageError {
        let heading = heading_for(status);
        PageError {
            status,
            shown: Shown::Page {
                layout: Box::new(Layout::bare(req, heading.into())),
                heading: heading.into(),
                message: message.into(),
                kept: None,
            },
            retry_after: None,
        }
    }

    /// An error with no frame at all (the app state is missing: a programming error).
    pub fn bare(status: u16, message: &str) -> PageError {
        PageError {
            status,
            shown: Shown::Page {
                layout: Box::new(Layout {
                    title: heading_for(status).into(),
                    instance_name: "Staffroom".into(),
                    user: None,
                    csrf: String::new(),
                    notice: None,
                    registration_open: false,
                    source_url: String::new(),
                    version: env!("CARGO_PKG_VERSION"),
                    noindex: false,
                    unread: String::new(),
                }),
                heading: heading_for(status).into(),
                message: message.into(),
                kept: None,
            },
            retry_after: None,
        }
    }

    /// A redirect to the login page that comes back to `back` afterwards.
    pub fn login_redirect(back: &str) -> PageError {
        let next = percent_encoding::utf8_percent_encode(back, percent_encoding::NON_ALPHANUMERIC);
        PageError {
            status: 303,
            shown: Shown::Redirect(format!("/login?next={next}")),
            retry_after: None,
        }
    }

    /// The page for a forum error. Internal causes go to the log here, once.
    pub fn from_forum(viewer: &Viewer, e: ForumError) -> PageError {
        if e.is_internal() {
            crate::error::log_internal("request failed", &e);
        }
        let mut page = PageError::new(
            viewer,
            e.status(),
            heading_for(e.status()),
            &e.public_message(),
        );
        if let ForumError::RateLimited { retry_after_secs } = e {
            page.retry_after = Some(retry_after_secs);
        }
        page
    }

    /// Shows `text` on the error page so what the person wrote is not lost.
    pub fn keeping(mut self, text: &str) -> PageError {
        if let Shown::Page { kept, .. } = &mut self.shown {
            if !text.trim().is_empty() {
                *kept = Some(text.to_string());
            }
        }
        self
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        match &self.shown {
            Shown::Redirect(to) => HttpResponse::SeeOther()
                .insert_header(("Location", to.as_str()))
                .finish(),
            Shown::Page {
                layout,
                heading,
                message,
                kept,
            } => {
                let mut res = html(
                    self.status_code(),
                    &ErrorPage {
                        layout,
                        heading,
                        message,
                        kept: kept.as_deref(),
                        reference: (self.status >= 500)
                            .then(crate::error::request_id)
                            .flatten()
                            .filter(|id| !id.is_empty()),
                    },
                );
                if let Some(secs) = self.retry_after {
                    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&secs.to_string())
                    {
                        res.headers_mut()
                            .insert(actix_web::http::header::RETRY_AFTER, v);
                    }
                }
                res
            }
        }
    }
}

/// Renders a template as an HTML response with `status`.
pub fn html<T: Template>(status: StatusCode, template: &T) -> HttpResponse {
    match template.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => {
            crate::error::log_internal("template failed to render", &e);
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Something went wrong on the server.")
        }
    }
}

/// The status of a form shown again: 409 when it clashes with existing data, else 422.
pub fn invalid_status(invalid: &crate::error::Invalid) -> StatusCode {
    if invalid.conflict {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// Renders a template with 200 OK.
pub fn ok<T: Template>(template: &T) -> Result<HttpResponse, PageError> {
    Ok(html(StatusCode::OK, template))
}

/// A local path safe to send someone back to after logging in (never another site).
pub fn safe_next(next: &str) -> Option<String> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control());
    ok.then(|| next.to_string())
}

/// The stylesheet, embedded in the binary.
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("static/style.css"))
}

/// Any path no route matched.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if crate::error::wants_json(&req) {
        return crate::error::JsonError::from(ForumError::NotFound { what: "endpoint" })
            .error_response();
    }
    PageError::for_request(&req, 404, "There is no page at this address.").error_response()
}

/// Registers every page.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use pages::{
        accounts, admin, bans, email, follows, forums, leaving, members, moderation, notifications,
        registration, reports, search, threads, users,
    };
    use web::{get, post};
    cfg.route("/", get().to(forums::index))
        .route("/static/style.css", get().to(stylesheet))
        .route("/register", get().to(accounts::register_form))
        .route("/register", post().to(accounts::register))
        .route("/login", get().to(accounts::login_form))
        .route("/login", post().to(accounts::login))
        .route("/logout", post().to(accounts::logout))
        .route("/settings/password", get().to(accounts::password_form))
        .route("/settings/password", post().to(accounts::change_password))
        .route("/settings/notifications", get().to(notifications::settings))
        .route(
            "/settings/notifications",
            post().to(notifications::save_settings),
        )
        .route(
            "/settings/email/verification",
            post().to(notifications::resend_verification),
        )
        .route("/email/verify", get().to(email::verify))
        .route("/unsubscribe", get().to(email::unsubscribe_form))
        .route("/unsubscribe", post().to(email::unsubscribe))
        .route("/unwatch", get().to(email::unwatch_form))
        .route("/unwatch", post().to(email::unwatch))
        .route("/password-reset", get().to(email::reset_request_form))
        .route("/password-reset", post().to(email::request_reset))
        .route("/password-reset/{token}", get().to(email::reset_form))
        .route("/password-reset/{token}", post().to(email::reset))
        .route("/notifications", get().to(notifications::list))
        .route("/notifications/read", post().to(notifications::mark_read))
        .route("/notifications/{id}", get().to(notifications::open))
        .route("/settings/delete", get().to(leaving::form))
        .route("/settings/delete", post().to(leaving::delete))
        .route("/admin", get().to(admin::index))
        .route("/admin/forums", post().to(admin::create_forum))
        .route("/admin/forums/{name}", get().to(admin::edit_forum_form))
        .route("/admin/forums/{name}", post().to(admin::edit_forum))
        .route(
            "/admin/forums/{name}/moderators",
            post().to(admin::appoint_moderator),
        )
        .route(
            "/admin/forums/{name}/moderators/remove",
            post().to(admin::dismiss_moderator),
        )
        .route("/follows", post().to(follows::follow))
        .route("/follows/delete", post().to(follows::unfollow))
        .route("/f/{name}", get().to(forums::forum))
        .route("/f/{name}/watch", post().to(notifications::watch_forum))
        .route("/f/{name}/new", get().to(forums::new_thread_form))
        .route("/f/{name}/new", post().to(forums::new_thread))
        .route("/f/{name}/feed.atom", get().to(feeds::forum))
        .route("/f/{name}/modlog", get().to(moderation::log))
        .route("/modlog", get().to(moderation::instance_log))
        .route("/search", get().to(search::search))
        .route("/f/{name}/members", get().to(members::members))
        .route("/f/{name}/members", post().to(members::add))
        .route("/f/{name}/members/remove", post().to(members::remove))
        .route("/f/{name}/reports", get().to(reports::queue))
        .route("/reports/{id}/resolve", post().to(reports::resolve))
        .route("/reports/{id}/dismiss", post().to(reports::dismiss))
        .route("/p/{id}/report", get().to(reports::report_form))
        .route("/p/{id}/report", post().to(reports::report))
        .route("/f/{name}/bans", get().to(bans::forum_bans))
        .route("/f/{name}/bans", post().to(bans::ban_in_forum))
        .route("/f/{name}/bans/lift", post().to(bans::lift_in_forum))
        .route("/admin/applications", get().to(registration::applications))
        .route(
            "/admin/applications/{id}/approve",
            post().to(registration::approve),
        )
        .route(
            "/admin/applications/{id}/reject",
            post().to(registration::reject),
        )
        .route("/admin/invites", get().to(registration::invites))
        .route("/admin/invites", post().to(registration::create_invite))
        .route(
            "/admin/invites/{id}/revoke",
            post().to(registration::revoke_invite),
        )
        .route("/admin/instances", get().to(registration::instances))
        .route("/admin/instances", post().to(registration::block_instance))
        .route(
            "/admin/instances/unblock",
            post().to(registration::unblock_instance),
        )
        .route("/admin/bans", get().to(bans::instance_bans))
        .route("/admin/bans", post().to(bans::ban_from_instance))
        .route("/admin/bans/lift", post().to(bans::lift_from_instance))
        .route("/t/{id}/move", get().to(bans::move_form))
        .route("/t/{id}/move", post().to(bans::move_thread))
        .route("/t/{id}", get().to(threads::thread))
        .route("/t/{id}/reply", get().to(threads::reply_form))
        .route("/t/{id}/reply", post().to(threads::reply))
        .route("/t/{id}/pin", post().to(moderation::pin))
        .route("/t/{id}/lock", get().to(moderation::lock_form))
        .route("/t/{id}/lock", post().to(moderation::lock))
        .route("/t/{id}/feed.atom", get().to(feeds::thread))
        .route("/t/{id}/unread", get().to(threads::first_unread))
        .route("/t/{id}/watch", post().to(notifications::watch_thread))
        .route("/p/{id}", get().to(threads::permalink))
        .route("/p/{id}/edit", get().to(threads::edit_form))
        .route("/p/{id}/edit", post().to(threads::edit))
        .route("/p/{id}/delete", get().to(threads::delete_form))
        .route("/p/{id}/delete", post().to(threads::delete))
        .route("/p/{id}/revisions", get().to(threads::revisions))
        .route("/p/{id}/helpful", post().to(threads::helpful))
        .route("/p/{id}/remove", get().to(moderation::remove_form))
        .route("/p/{id}/remove", post().to(moderation::remove))
        .route("/p/{id}/restore", post().to(moderation::restore))
        .route("/u/{name}", get().to(users::profile));
}

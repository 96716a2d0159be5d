//! Who is asking: the session cookie, the CSRF token and one-shot notices.
//!
//! - `staffroom_session`: the login token (HttpOnly, SameSite=Lax, Secure over https). Only its
//!   digest is stored. Logging out deletes the row, so the cookie dies everywhere at once.
//! - `staffroom_csrf`: a random token every form repeats in a hidden `csrf_token` field
//!   (double-submit). A cross-site page can neither read the cookie nor set it, so it cannot
//!   forge the field. The token is replaced at login and logout.
//! - `staffroom_notice`: a message for the next page after a redirect ("Your reply is posted").

use std::future::Future;
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};

use super::{Layout, PageError};
use crate::forum::accounts::{LiveSession, SessionKind};
use crate::forum::tokens::{constant_time_eq, new_token, unmask};
use crate::forum::{Site, User};
use crate::state::AppState;

pub use crate::state::{CSRF_COOKIE, NOTICE_COOKIE, SESSION_COOKIE};

/// The CSRF token in force for this request (from the cookie, or freshly made).
#[derive(Debug, Clone)]
struct CsrfToken(String);

/// Set on a response whose handler wrote its own CSRF cookie (login, logout).
#[derive(Debug, Clone)]
struct CsrfRotated;

/// Set on a response whose handler wrote a new notice.
#[derive(Debug, Clone)]
struct NoticeSet;

fn cookie<'a>(name: &'a str, value: String, secure: bool) -> Cookie<'a> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .finish()
}

fn removal(name: &str, secure: bool) -> Cookie<'_> {
    let mut c = cookie(name, String::new(), secure);
    c.make_removal();
    c
}

/// Middleware for the HTML pages: makes sure a CSRF token exists, clears a notice once a page
/// has shown it, and marks pages that share their address with ActivityPub JSON `Vary: Accept`.
pub async fn csrf_and_notice(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // The API and the ActivityPub inboxes are not pages: no CSRF cookie for them.
    if crate::error::wants_json(req.request()) {
        return next.call(req).await;
    }
    let state = req.app_data::<web::Data<AppState>>();
    let secure = state.is_some_and(|s| s.site.settings().secure_cookies());
    // These addresses also answer ActivityPub JSON when federating: caches must key on Accept.
    let negotiated = state.is_some_and(|s| s.federation.is_some())
        && ["/u/", "/f/", "/t/", "/p/"]
            .iter()
            .any(|prefix| req.path().starts_with(prefix));
    let existing = req
        .cookie(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() >= 32);
    let fresh = existing.is_none();
    let token = existing.unwrap_or_else(new_token);
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let had_notice = req.cookie(NOTICE_COOKIE).is_some();

    let mut res = next.call(req).await?;
    if negotiated {
        res.headers_mut().append(
            actix_web::http::header::VARY,
            actix_web::http::header::HeaderValue::from_static("Accept"),
        );
    }
    let rotated = res.response().extensions().get::<CsrfRotated>().is_some();
    if fresh && !rotated {
        let mut c = cookie(CSRF_COOKIE, token, secure);
        c.set_max_age(CookieDuration::days(365));
        res.response_mut().add_cookie(&c)?;
    }
    let notice_set = res.response().extensions().get::<NoticeSet>().is_some();
    if had_notice && !notice_set && !res.status().is_redirection() {
        res.response_mut()
            .add_cookie(&removal(NOTICE_COOKIE, secure))?;
    }
    Ok(res)
}

/// The person making the request, as the pages see them.
pub struct Viewer {
    /// The site service.
    pub site: Site,
    /// The logged-in account, if any.
    pub user: Option<User>,
    /// The session's row id, if logged in.
    pub session_id: Option<i64>,
    /// The session token from the cookie, if logged in.
    pub session_token: Option<String>,
    /// The CSRF token (the cookie's value); pages show it masked.
    pub csrf: String,
    /// A notice left by the previous request.
    pub notice: Option<String>,
    /// The client's address (for login throttling).
    pub address: Option<String>,
    /// How many of the logged-in account's notifications are unread (for the header).
    pub unread_notifications: i64,
}

/// A [`Viewer`] whose session is not looked up yet, for a page that looks it up in the same
/// round trip to the database as what the page reads (the thread page): one connection and
/// one hand-off instead of two.
pub struct PendingViewer {
    /// Everything but the session.
    viewer: Viewer,
    /// The session cookie's token, if one was sent.
    pub token: Option<String>,
}

impl PendingViewer {
    /// The site service.
    pub fn site(&self) -> &Site {
        &self.viewer.site
    }

    /// The viewer, logged in with `session` when the token had one.
    pub fn with(mut self, session: Option<LiveSession>) -> Viewer {
        if let (Some(session), Some(token)) = (session, self.token) {
            self.viewer.log_in(token, session);
        }
        self.viewer
    }

    /// The viewer, its session looked up on its own (for an error page's frame).
    pub async fn resolve(mut self) -> Result<Viewer, PageError> {
        if let Some(token) = self.token.take() {
            match self
                .viewer
                .site
                .session(token.clone(), SessionKind::Web)
                .await
            {
                Ok(Some(session)) => self.viewer.log_in(token, session),
                Ok(None) => {}
                Err(e) => return Err(self.viewer.error(e)),
            }
        }
        Ok(self.viewer)
    }
}

impl FromRequest for PendingViewer {
    type Error = PageError;
    type Future = std::future::Ready<Result<PendingViewer, PageError>>;

    fn from_request(req: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return std::future::ready(Err(PageError::bare(500, "The server is misconfigured.")));
        };
        let csrf = req
            .extensions()
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        let notice = req.cookie(NOTICE_COOKIE).and_then(|c| {
            percent_encoding::percent_decode_str(c.value())
                .decode_utf8()
                .ok()
                .map(|s| s.chars().take(200).collect::<String>())
        });
        std::future::ready(Ok(PendingViewer {
            viewer: Viewer {
                site: state.site.clone(),
                user: None,
                session_id: None,
                session_token: None,
                csrf,
                notice,
                address: crate::state::client_address(req),
                unread_notifications: 0,
            },
            token: req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()),
        }))
    }
}

impl FromRequest for Viewer {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Viewer, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let pending = PendingViewer::from_request(req, payload).into_inner();
        Box::pin(async move { pending?.resolve().await })
    }
}

impl Viewer {
    /// Logged in with `session`, found from the cookie's `token`.
    fn log_in(&mut self, token: String, session: LiveSession) {
        self.user = Some(session.user);
        self.session_id = Some(session.id);
        self.session_token = Some(token);
        self.unread_notifications = session.unread_notifications.unwrap_or(0);
    }

    /// `page`, offered to the page cache when this visitor is not logged in and has no notice
    /// to see: any other such visitor would be given the same page (see `page_cache`).
    pub fn shared_if_anonymous(
        &self,
        page: Result<HttpResponse, PageError>,
    ) -> Result<HttpResponse, PageError> {
        match page {
            Ok(res) if self.user.is_none() && self.notice.is_none() => {
                Ok(crate::page_cache::shared(res))
            }
            other => other,
        }
    }

    /// The page frame for a page titled `title`.
    pub fn layout(&self, title: impl Into<String>) -> Layout {
        Layout::new(self, title.into())
    }

    /// Refuses a form whose `csrf_token` does not unmask to the cookie's token (403).
    pub fn check_csrf(&self, submitted: &str) -> Result<(), PageError> {
        let matches = unmask(submitted).is_some_and(|t| constant_time_eq(&self.csrf, &t));
        if !self.csrf.is_empty() && matches {
            Ok(())
        } else {
            Err(PageError::new(
                self,
                403,
                "Form expired",
                "This form could not be accepted because it was not sent from this site's \
                 own page, or it is too old. Go back, reload the page and send it again.",
            ))
        }
    }

    /// The logged-in account, or a redirect to the login page that returns to `back`.
    pub fn require_user(&self, back: &str) -> Result<User, PageError> {
        self.user
            .clone()
            .ok_or_else(|| PageError::login_redirect(back))
    }

    /// Turns a forum error into an error page in this viewer's frame.
    pub fn error(&self, e: crate::error::ForumError) -> PageError {
        PageError::from_forum(self, e)
    }
}

/// A 303 redirect that leaves a notice for the next page.
pub fn redirect_with_notice(site: &Site, location: &str, notice: &str) -> HttpResponse {
    let secure = site.settings().secure_cookies();
    let value = percent_encoding::utf8_percent_encode(notice, percent_encoding::NON_ALPHANUMERIC)
        .to_string();
    let mut c = cookie(NOTICE_COOKIE, value, secure);
    c.set_max_age(CookieDuration::minutes(5));
    let mut res = HttpResponse::SeeOther()
        .insert_header(("Location", location))
        .cookie(c)
        .finish();
    res.extensions_mut().insert(NoticeSet);
    res
}

/// Sets the login cookie for `token` on `res`, with `csrf` as the new CSRF token (make it
/// with [`new_token`] before rendering any form on the page being sent).
pub fn start_session(
    site: &Site,
    res: &mut HttpResponse,
    token: String,
    csrf: String,
) -> actix_web::Result<()> {
    let settings = site.settings();
    let secure = settings.secure_cookies();
    let mut c = cookie(SESSION_COOKIE, token, secure);
    c.set_max_age(CookieDuration::days(i64::from(
        settings.accounts.session_days,
    )));
    res.add_cookie(&c)?;
    set_csrf(site, res, csrf)
}

/// Removes the login cookie (and rotates the CSRF token) on `res`.
pub fn end_session(site: &Site, res: &mut HttpResponse) -> actix_web::Result<()> {
    res.add_cookie(&removal(SESSION_COOKIE, site.settings().secure_cookies()))?;
    set_csrf(site, res, new_token())
}

fn set_csrf(site: &Site, res: &mut HttpResponse, token: String) -> actix_web::Result<()> {
    let mut c = cookie(CSRF_COOKIE, token, site.settings().secure_cookies());
    c.set_max_age(CookieDuration::days(365));
    res.add_cookie(&c)?;
    res.extensions_mut().insert(CsrfRotated);
    Ok(())
}

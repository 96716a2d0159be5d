//! The error types, and when to use which.
//!
//! - `db` returns `diesel::QueryResult` (and [`crate::db::DbError`] for pools and migrations).
//! - `forum` returns `Result<T, ForumError>`: every failure a user can cause has a variant with a
//!   stable code ([`ForumError::code`]) and an HTTP status ([`ForumError::status`]), but no HTTP
//!   types: `api` turns it into `{"error": code, "message": ..., "fields": ...}` and `web` into a
//!   friendly page or a form shown again with the message beside the field.
//! - The command line, start-up and background jobs use `anyhow`.
//!
//! Every HTTP layer answers a failure in one of two forms, and [`wants_json`] decides which:
//! [`JsonError`] (`{"error": CODE, "message": TEXT, "fields": {...}?}`) for the API, the
//! inboxes and the ActivityPub documents, or `web`'s friendly page for everything else.
//!
//! Internal failures (database, thread pool, a template) answer 500 with a generic message and
//! the request's id (`request_id` in the JSON body, "Reference" on the page); their cause chain
//! goes to the log once, in a line that carries the same id ([`log_internal`]). A 5xx body says
//! only what a stranger may know.

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

use crate::db::DbError;

/// A message about one input field, shown beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name, as in the form and the JSON body.
    pub field: &'static str,
    /// What is wrong, in words for the person who typed it.
    pub message: String,
}

/// Input that cannot be accepted.
#[derive(Debug, Clone)]
pub struct Invalid {
    /// Stable code: `invalid_input`, `username_taken`, `forum_name_taken`.
    pub code: &'static str,
    /// Whether the input clashes with existing data (409) rather than being malformed (422).
    pub conflict: bool,
    /// The fields at fault.
    pub fields: Vec<FieldError>,
}

/// Everything that can go wrong in a forum action.
#[derive(Debug, thiserror::Error)]
pub enum ForumError {
    /// The thing does not exist (or is not visible to this person).
    #[error("{what} not found")]
    NotFound {
        /// "forum", "thread", "post", "user".
        what: &'static str,
    },
    /// Logged in, but not allowed.
    #[error("{message}")]
    Forbidden {
        /// Stable code, e.g. `not_author`, `admin_only`, `forum_archived`, `registration_closed`.
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// The action needs a login.
    #[error("you need to log in first")]
    Unauthenticated,
    /// Bad input; the fields say where.
    #[error("{}", .0.fields.first().map(|f| f.message.as_str()).unwrap_or("invalid input"))]
    Invalid(Invalid),
    /// Wrong username or password (one message whichever it was).
    #[error("wrong username or password")]
    InvalidCredentials,
    /// Too many failed logins.
    #[error("too many failed logins; try again in {} minutes", retry_after_secs.div_ceil(60))]
    RateLimited {
        /// When trying again will work.
        retry_after_secs: u64,
    },
    /// The thing existed but is gone (a deleted post).
    #[error("{message}")]
    Gone {
        /// Stable code, e.g. `post_deleted`.
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Something else internal failed.
    #[error("internal error: {0}")]
    Internal(String),
    /// Another server refused, failed or could not be reached while we acted for someone
    /// (following a forum elsewhere, looking up a handle). The message is ours, safe to show.
    #[error("{message}")]
    Remote {
        /// The status to answer with (4xx: what was asked for is wrong; 5xx: the other
        /// server failed).
        status: u16,
        /// Stable code, e.g. `not_found`, `invalid_url`, `remote_fetch_failed`.
        code: &'static str,
        /// Explanation.
        message: String,
    },
}

impl From<diesel::result::Error> for ForumError {
    fn from(e: diesel::result::Error) -> Self {
        ForumError::Db(DbError::Query(e))
    }
}

impl ForumError {
    /// A 409 for input that clashes with existing data.
    pub fn conflict(code: &'static str, field: &'static str, message: impl Into<String>) -> Self {
        ForumError::Invalid(Invalid {
            code,
            conflict: true,
            fields: vec![FieldError {
                field,
                message: message.into(),
            }],
        })
    }

    /// A 400 about one field, with a stable code.
    pub fn invalid(code: &'static str, field: &'static str, message: impl Into<String>) -> Self {
        ForumError::Invalid(Invalid {
            code,
            conflict: false,
            fields: vec![FieldError {
                field,
                message: message.into(),
            }],
        })
    }

    /// A 403 with a stable code.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> ForumError {
        ForumError::Forbidden {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            ForumError::NotFound { .. } => 404,
            ForumError::Forbidden { .. } => 403,
            ForumError::Unauthenticated | ForumError::InvalidCredentials => 401,
            ForumError::Invalid(i) if i.conflict => 409,
            ForumError::Invalid(_) => 422,
            ForumError::RateLimited { .. } => 429,
            ForumError::Gone { .. } => 410,
            ForumError::Remote { status, .. } => *status,
            ForumError::Db(_) | ForumError::Internal(_) => 500,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ForumError::NotFound { .. } => "not_found",
            ForumError::Forbidden { code, .. }
            | ForumError::Gone { code, .. }
            | ForumError::Remote { code, .. } => code,
            ForumError::Unauthenticated => "unauthenticated",
            ForumError::Invalid(i) => i.code,
            ForumError::InvalidCredentials => "invalid_credentials",
            ForumError::RateLimited { .. } => "rate_limited",
            ForumError::Db(_) | ForumError::Internal(_) => "internal_error",
        }
    }

    /// The message safe to show: internal details never leave the server.
    pub fn public_message(&self) -> String {
        match self {
            ForumError::Db(_) | ForumError::Internal(_) => {
                "Something went wrong on the server. Please try again.".to_string()
            }
            ForumError::NotFound { what } => {
                let mut s = what.to_string();
                if let Some(first) = s.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                format!("{s} not found.")
            }
            other => {
                let mut s = other.to_string();
                if let Some(first) = s.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                if !s.ends_with('.') {
                    s.push('.');
                }
                s
            }
        }
    }

    /// The field messages, if this is an input error.
    pub fn fields(&self) -> &[FieldError] {
        match self {
            ForumError::Invalid(i) => &i.fields,
            _ => &[],
        }
    }

    /// Whether this is our own failure (the database, a thread), to log with its cause.
    pub fn is_internal(&self) -> bool {
        matches!(self, ForumError::Db(_) | ForumError::Internal(_))
    }
}

/// Collects field errors so a form can report every mistake at once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// A validator with no errors yet.
    pub fn new() -> Validator {
        Validator::default()
    }

    /// Keeps the value, or records the message against `field`.
    pub fn check<T>(&mut self, field: &'static str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(message) => {
                self.errors.push(FieldError { field, message });
                None
            }
        }
    }

    /// Whether nothing has been wrong so far.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The collected errors as one `invalid_input` error.
    pub fn into_error(self) -> ForumError {
        ForumError::Invalid(Invalid {
            code: "invalid_input",
            conflict: false,
            fields: self.errors,
        })
    }
}

/// Whether a request is answered in JSON rather than with a page: the API under `/api/`, and
/// the ActivityPub inboxes, which servers rather than people post to.
pub fn wants_json(req: &HttpRequest) -> bool {
    let path = req.path();
    path.starts_with("/api/") || path.ends_with("/inbox")
}

tokio::task_local! {
    /// The id of the request being answered (set by [`request_ids`]).
    static REQUEST_ID: String;
}

/// The id of the request being answered, as the log lines of its span show it.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Middleware (inside `tracing_actix_web`'s logger, which gives every request an id and logs
/// it on each line of the request's span): makes the id known to the error responses built
/// while the request is handled, so a 5xx can name it.
pub async fn request_ids<B: actix_web::body::MessageBody>(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<actix_web::dev::ServiceResponse<B>, actix_web::Error> {
    let id = req
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(ToString::to_string)
        .unwrap_or_default();
    REQUEST_ID.scope(id, next.call(req)).await
}

/// Logs an internal failure once, with its whole cause chain and the request's id.
pub fn log_internal(what: &str, error: &(dyn std::error::Error + 'static)) {
    let chain = cause_chain(error);
    tracing::error!(request_id = request_id().unwrap_or_default(), error = %chain, "{what}");
}

/// An error and its causes in one line, `outer: inner: innermost` (each said once).
pub fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // `#[error(transparent)]` wrappers repeat their cause's text: say it once.
        if !chain.ends_with(&text) {
            chain.push_str(": ");
            chain.push_str(&text);
        }
        source = cause.source();
    }
    chain
}

/// What a 5xx body says in place of the cause.
pub const INTERNAL_MESSAGE: &str = "Something went wrong on the server. Please try again.";

/// A failure answered as JSON: `{"error": CODE, "message": TEXT, "fields": {FIELD: TEXT}?}`,
/// with `request_id` added to a 5xx, and `Retry-After` when trying later will help.
#[derive(Debug)]
pub struct JsonError {
    status: u16,
    code: &'static str,
    message: String,
    fields: Vec<FieldError>,
    retry_after: Option<u64>,
}

impl JsonError {
    /// An error with a status, stable code and message (words we wrote, never a cause's text).
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> JsonError {
        JsonError {
            status,
            code,
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
        }
    }

    /// A 500 for our own failure: the cause goes to the log (once, here), the body says only
    /// that something went wrong.
    pub fn internal(what: &str, cause: &(dyn std::error::Error + 'static)) -> JsonError {
        log_internal(what, cause);
        JsonError::new(500, "internal_error", INTERNAL_MESSAGE)
    }

    /// Says when to try again (`Retry-After`, in seconds).
    pub fn retry_after(mut self, secs: u64) -> JsonError {
        self.retry_after = Some(secs);
        self
    }

    /// The status.
    pub fn status(&self) -> u16 {
        self.status
    }
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl From<ForumError> for JsonError {
    fn from(e: ForumError) -> JsonError {
        JsonError::from(&e)
    }
}

impl From<&ForumError> for JsonError {
    /// The body for a domain error; an internal one is logged here, once.
    fn from(e: &ForumError) -> JsonError {
        if e.is_internal() {
            log_internal("request failed", e);
        }
        JsonError {
            status: e.status(),
            code: e.code(),
            message: e.public_message(),
            fields: e.fields().to_vec(),
            retry_after: match e {
                ForumError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
                _ => None,
            },
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

impl ResponseError for JsonError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let fields = (!self.fields.is_empty()).then(|| {
            self.fields
                .iter()
                .map(|f| {
                    (
                        f.field.to_string(),
                        serde_json::Value::String(f.message.clone()),
                    )
                })
                .collect()
        });
        let mut res = HttpResponse::build(self.status_code());
        if let Some(secs) = self.retry_after {
            res.insert_header(("Retry-After", secs.to_string()));
        }
        res.json(ErrorBody {
            error: self.code,
            message: &self.message,
            fields,
            request_id: (self.status >= 500).then(request_id).flatten(),
        })
    }
}

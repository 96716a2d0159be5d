//! The error types, and when to use which.
//!
//! - `db` returns `diesel::QueryResult` (and [`crate::db::DbError`] for pools and migrations).
//! - `forum` returns `Result<T, ForumError>`: every failure a user can cause has a variant with a
//!   stable code ([`ForumError::code`]) and an HTTP status ([`ForumError::status`]), but no HTTP
//!   types: `api` turns it into `{"error": code, "message": ..., "fields": ...}` and `web` into a
//!   friendly page or a form shown again with the message beside the field.
//! - The command line, start-up and background jobs use `anyhow`.
//!
//! Internal failures (database, thread pool) answer 500 with a generic message; their cause chain
//! goes to the log once, where the response is built.

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
            ForumError::Db(_) | ForumError::Internal(_) => 500,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ForumError::NotFound { .. } => "not_found",
            ForumError::Forbidden { code, .. } | ForumError::Gone { code, .. } => code,
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

    /// Whether this is a server-side failure to log.
    pub fn is_internal(&self) -> bool {
        self.status() >= 500
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

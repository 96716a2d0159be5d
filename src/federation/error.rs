//! `FederationError`: what the `activitypub_federation` traits return here. It carries the
//! crate's errors (signatures, fetching, parsing), domain errors, and refusals of incoming
//! activities, and renders as the JSON error body of `crate::error` with a stable code: 400 for
//! shapes we do not take, 401 for bad signatures, 403 for refusals, 502 when another server
//! fails us, 500 only for our own failures (whose cause goes to the log, not the body). Where
//! the domain asked for something only federation can do, [`FederationError::into_forum`]
//! answers in the domain's terms.

use activitypub_federation::error::Error as ApError;
use actix_web::{HttpResponse, ResponseError};

use crate::error::ForumError;
use crate::error::JsonError;

/// A federation failure.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// From the protocol crate (signature, fetch, parse).
    #[error(transparent)]
    Protocol(#[from] ApError),
    /// From the domain.
    #[error(transparent)]
    Forum(#[from] ForumError),
    /// An incoming activity or object we refuse, with a stable code and the reason.
    #[error("{code}: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Stable code.
        code: &'static str,
        /// Why.
        message: String,
    },
}

impl FederationError {
    /// A failure with a status, stable code and message (words we wrote, safe to show).
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> FederationError {
        FederationError::Refused {
            status,
            code,
            message: message.into(),
        }
    }

    /// A 400 for an activity or object we do not take, saying why.
    pub fn refused(code: &'static str, message: impl Into<String>) -> FederationError {
        FederationError::Refused {
            status: 400,
            code,
            message: message.into(),
        }
    }

    /// A 403 for an activity its actor may not send.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> FederationError {
        FederationError::Refused {
            status: 403,
            code,
            message: message.into(),
        }
    }
}

impl From<serde_json::Error> for FederationError {
    fn from(e: serde_json::Error) -> Self {
        FederationError::refused("invalid_json", e.to_string())
    }
}

impl From<url::ParseError> for FederationError {
    fn from(e: url::ParseError) -> Self {
        FederationError::refused("invalid_url", e.to_string())
    }
}

impl FederationError {
    /// Status, stable code and message (what the JSON error body says).
    pub fn parts(&self) -> (u16, &'static str, String) {
        match self {
            FederationError::Forum(e) => (e.status(), e.code(), e.public_message()),
            FederationError::Refused {
                status,
                code,
                message,
            } => (*status, code, message.clone()),
            FederationError::Protocol(e) => {
                let (status, code) = match e {
                    ApError::UrlVerificationError(message)
                        if *message == super::INSTANCE_REFUSED =>
                    {
                        (403, "instance_refused")
                    }
                    ApError::ActivitySignatureInvalid | ApError::ActivityBodyDigestInvalid => {
                        (401, "invalid_signature")
                    }
                    ApError::ParseReceivedActivity { .. } => (400, "invalid_activity"),
                    ApError::ParseFetchedObject(..)
                    | ApError::FetchInvalidContentType(_)
                    | ApError::FetchWrongId(_) => (502, "invalid_remote_object"),
                    ApError::UrlVerificationError(_)
                    | ApError::UrlParse(_)
                    | ApError::DomainResolveError(_)
                    | ApError::ResolveInternalIpError(..) => (400, "invalid_url"),
                    ApError::NotFound
                    | ApError::ObjectDeleted(_)
                    | ApError::WebfingerResolveFailed(_) => (404, "not_found"),
                    ApError::RequestLimit
                    | ApError::ResponseBodyLimit
                    | ApError::Reqwest(_)
                    | ApError::ReqwestMiddleware(_) => (502, "remote_fetch_failed"),
                    _ => (500, "internal_error"),
                };
                // What the crate says about a failure of ours or of another server's is for
                // the log; the body says what happened in words a stranger may read.
                let message = match code {
                    "invalid_remote_object" => {
                        "The other server answered with something that is not what was asked for."
                            .to_string()
                    }
                    "remote_fetch_failed" => {
                        "The other server could not be reached, or did not answer in time."
                            .to_string()
                    }
                    "internal_error" => crate::error::INTERNAL_MESSAGE.to_string(),
                    _ => e.to_string(),
                };
                (status, code, message)
            }
        }
    }
}

impl FederationError {
    /// The same failure in the domain's terms, for a capability the domain asked for (finding a
    /// forum elsewhere): domain errors as they were, the rest as [`ForumError::Remote`].
    pub fn into_forum(self) -> ForumError {
        if let FederationError::Forum(e) = self {
            return e;
        }
        let (status, code, message) = self.parts();
        if status >= 500 {
            tracing::warn!(error = %self, "a request to another server failed");
        }
        ForumError::Remote {
            status,
            code,
            message,
        }
    }
}

impl ResponseError for FederationError {
    fn error_response(&self) -> HttpResponse {
        match self {
            FederationError::Forum(e) => JsonError::from(e).error_response(),
            _ => {
                let (status, code, message) = self.parts();
                if status >= 500 {
                    crate::error::log_internal("federation request failed", self);
                }
                JsonError::new(status, code, message).error_response()
            }
        }
    }

    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::from_u16(self.parts().0)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
    }
}

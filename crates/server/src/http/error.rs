//! The one error type of every handler, answered as `{"error": {code, message, field}}`.

use agent_desk_core::{ApiError, ErrorBody, ErrorCode, FieldError};
use std::time::Duration;

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::account::AccountError;
use crate::agents::AgentError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request itself is wrong: bad JSON, wrong type, unknown field…
    #[error("{message}")]
    BadRequest {
        code: ErrorCode,
        message: String,
        field: Option<String>,
    },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// One field of a request other than the profile breaks a rule.
    #[error("{0}")]
    Invalid(agent_desk_core::InvalidField),
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("authentication required")]
    Unauthorized,
    /// A webhook's delivery that does not prove where it comes from; `field` names the
    /// header.
    #[error("{message}")]
    Refused {
        message: String,
        field: Option<String>,
    },
    #[error("{message}")]
    Forbidden {
        message: String,
        field: Option<String>,
    },
    #[error("this account was deactivated by an administrator")]
    AccountDeactivated,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("the record was changed since it was read")]
    VersionConflict,
    /// The request clashes with what is there: a duplicate, something already decided.
    #[error("{message}")]
    Conflict {
        code: ErrorCode,
        message: String,
        field: Option<String>,
    },
    /// The request is well formed but cannot be done as asked (422).
    #[error("{message}")]
    Unprocessable {
        code: ErrorCode,
        message: String,
        field: Option<String>,
    },
    #[error("this request needs an If-Match header with the ETag of the version being changed")]
    PreconditionRequired,
    #[error("the body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// An upload beyond the server's file limit; the field is `file`.
    #[error("the file is larger than the server's limit of {limit} bytes")]
    FileTooLarge { limit: u64 },
    #[error("the body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("too many attempts; try again in {} seconds", whole_seconds(*.retry_after))]
    RateLimited { retry_after: Duration },
    /// The body arrived too slowly and was cut off.
    #[error("the request body arrived too slowly (under 1 KiB a second) and was cut off")]
    RequestTimeout,
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Avatar(#[from] agent_desk_avatar::AvatarError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    pub fn bad_request(code: ErrorCode, message: impl Into<String>, field: Option<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
            field,
        }
    }

    pub fn rate_limited(retry_after: Duration) -> Self {
        Self::RateLimited { retry_after }
    }

    fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        match self {
            Self::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, *code),
            Self::Validation(_) | Self::Invalid(_) => {
                (StatusCode::BAD_REQUEST, ErrorCode::ValidationFailed)
            }
            Self::InvalidCredentials => (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials),
            Self::Unauthorized | Self::Refused { .. } => {
                (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized)
            }
            Self::Forbidden { .. } => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            Self::AccountDeactivated => (StatusCode::FORBIDDEN, ErrorCode::AccountDeactivated),
            Self::NotFound => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed),
            Self::VersionConflict => (StatusCode::CONFLICT, ErrorCode::VersionConflict),
            Self::Conflict { code, .. } => (StatusCode::CONFLICT, *code),
            Self::Unprocessable { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, *code),
            Self::PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                ErrorCode::PreconditionRequired,
            ),
            Self::PayloadTooLarge { .. } | Self::FileTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge)
            }
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
            ),
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited),
            Self::RequestTimeout => (StatusCode::REQUEST_TIMEOUT, ErrorCode::RequestTimeout),
            Self::Account(error) => match error {
                AccountError::WrongPassword => (StatusCode::FORBIDDEN, ErrorCode::WrongPassword),
                AccountError::Policy(_) => (StatusCode::BAD_REQUEST, ErrorCode::PasswordRejected),
                AccountError::ResetTokenInvalid => {
                    (StatusCode::BAD_REQUEST, ErrorCode::InvalidResetToken)
                }
                AccountError::ResetTokenSpent => (StatusCode::GONE, ErrorCode::ResetTokenExpired),
                AccountError::NotFound => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
                AccountError::Mail(_) => (StatusCode::BAD_GATEWAY, ErrorCode::MailNotSent),
                AccountError::Hashing(crate::credentials::HashingError::Busy) => {
                    (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited)
                }
                AccountError::Database(_) | AccountError::Hashing(_) => {
                    (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal)
                }
            },
            Self::Avatar(error) => {
                use agent_desk_avatar::AvatarError as E;
                let status = match error {
                    E::TooManyBytes { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                    E::UnsupportedFormat => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    E::Empty
                    | E::TooLarge { .. }
                    | E::TooLargeToDecode { .. }
                    | E::Undecodable(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    E::InvalidCrop(_) => StatusCode::BAD_REQUEST,
                    E::Encode(_) => StatusCode::INTERNAL_SERVER_ERROR,
                };
                (status, error.code())
            }
            Self::Database(_) | Self::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal)
            }
        }
    }
}

impl From<crate::throttle::Refused> for AppError {
    fn from(refused: crate::throttle::Refused) -> Self {
        match refused {
            crate::throttle::Refused::Wait(wait) => Self::rate_limited(wait),
            crate::throttle::Refused::Database(error) => Self::Database(error),
        }
    }
}

impl From<AgentError> for AppError {
    fn from(error: AgentError) -> Self {
        match error {
            AgentError::VersionConflict => Self::VersionConflict,
            AgentError::NotFound => Self::NotFound,
            AgentError::Database(e) => Self::Database(e),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<crate::uploads::ReceiveError> for AppError {
    fn from(error: crate::uploads::ReceiveError) -> Self {
        use crate::uploads::ReceiveError;
        match error {
            ReceiveError::TooLarge { limit } => Self::PayloadTooLarge {
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
            },
            ReceiveError::TooSlow => Self::RequestTimeout,
            ReceiveError::Broken(reason) => Self::bad_request(
                ErrorCode::ValidationFailed,
                format!("the upload could not be read to its end: {reason}"),
                Some("file".into()),
            ),
            ReceiveError::Storage(error) => Self::Internal(format!("receiving an upload: {error}")),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let retry_after = match &self {
            Self::RateLimited { retry_after } => Some(whole_seconds(*retry_after)),
            Self::Account(AccountError::Hashing(crate::credentials::HashingError::Busy)) => Some(1),
            _ => None,
        };
        let (message, field, details) = match self {
            Self::BadRequest { message, field, .. } => (message, field, Vec::new()),
            Self::Forbidden { message, field } | Self::Refused { message, field } => {
                (message, field, Vec::new())
            }
            Self::Conflict { message, field, .. } | Self::Unprocessable { message, field, .. } => {
                (message, field, Vec::new())
            }
            Self::Invalid(invalid) => (invalid.message, Some(invalid.field), Vec::new()),
            Self::FileTooLarge { .. } => (self.to_string(), Some("file".to_owned()), Vec::new()),
            Self::Validation(details) => {
                let field = details.first().map(|e| e.field.as_str().to_owned());
                let message = details
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                (message, field, details)
            }
            Self::Database(ref e) => {
                tracing::error!(error = %e, "database error");
                ("internal error".to_owned(), None, Vec::new())
            }
            Self::Internal(ref e) => {
                tracing::error!(error = %e, "internal error");
                ("internal error".to_owned(), None, Vec::new())
            }
            Self::Account(ref error) => match error {
                AccountError::NotFound | AccountError::Mail(_) => {
                    (error.to_string(), None, Vec::new())
                }
                AccountError::Hashing(crate::credentials::HashingError::Busy) => {
                    (error.to_string(), None, Vec::new())
                }
                AccountError::Database(_) | AccountError::Hashing(_) => {
                    tracing::error!(%error, "account error");
                    ("internal error".to_owned(), None, Vec::new())
                }
                AccountError::WrongPassword => (
                    error.to_string(),
                    Some("current_password".to_owned()),
                    Vec::new(),
                ),
                AccountError::Policy(rule) => (
                    format!("new_password {}", rule.message()),
                    Some("new_password".to_owned()),
                    Vec::new(),
                ),
                AccountError::ResetTokenInvalid | AccountError::ResetTokenSpent => {
                    (error.to_string(), Some("token".to_owned()), Vec::new())
                }
            },
            other => (other.to_string(), None, Vec::new()),
        };
        let body = ApiError {
            error: ErrorBody {
                code,
                message,
                field,
                details,
                retry_after_seconds: retry_after,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Seconds to wait, rounded up so a client that waits exactly this long is let in.
pub(super) fn whole_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

pub type ApiResult<T> = Result<T, AppError>;

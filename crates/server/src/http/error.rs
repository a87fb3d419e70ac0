//! The one error type of every handler, answered as `{"error": {code, message, field}}`.

use agent_desk_core::{ApiError, ErrorBody, ErrorCode, FieldError};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

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
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("authentication required")]
    Unauthorized,
    #[error("{message}")]
    Forbidden {
        message: String,
        field: Option<String>,
    },
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("the record was changed since it was read")]
    VersionConflict,
    #[error("this request needs an If-Match header with the ETag of the version being changed")]
    PreconditionRequired,
    #[error("the body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
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

    fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        match self {
            Self::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, *code),
            Self::Validation(_) => (StatusCode::BAD_REQUEST, ErrorCode::ValidationFailed),
            Self::InvalidCredentials => (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCredentials),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
            Self::Forbidden { .. } => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            Self::NotFound => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::MethodNotAllowed),
            Self::VersionConflict => (StatusCode::CONFLICT, ErrorCode::VersionConflict),
            Self::PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                ErrorCode::PreconditionRequired,
            ),
            Self::PayloadTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge)
            }
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
            ),
            Self::Database(_) | Self::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal)
            }
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

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let (message, field, details) = match self {
            Self::BadRequest { message, field, .. } => (message, field, Vec::new()),
            Self::Forbidden { message, field } => (message, field, Vec::new()),
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
            other => (other.to_string(), None, Vec::new()),
        };
        let body = ApiError {
            error: ErrorBody {
                code,
                message,
                field,
                details,
            },
        };
        (status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, AppError>;

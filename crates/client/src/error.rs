//! The client's errors, with what the UI shows of them: a code, a message, the field.

use agent_desk_core::{ErrorBody, ErrorCode, FieldError};
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    #[error("{reason}")]
    InvalidServerUrl { reason: String },
    /// `http://` to another computer: the password and the token would travel in clear.
    #[error(
        "{host} is not this computer, so the server address must start with https:// \
         (http:// would send your password unencrypted)"
    )]
    InsecureServerUrl { host: String },
    #[error("cannot reach the server at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the server answered {status}: {}", body.message)]
    Server { status: u16, body: ErrorBody },
    #[error("unexpected answer from the server ({status}): {reason}")]
    UnexpectedResponse { status: u16, reason: String },
    #[error("some fields are invalid")]
    Validation(Vec<FieldError>),
    #[error("not signed in")]
    NotSignedIn,
    #[error("the credential store failed: {0}")]
    CredentialStore(String),
    #[error("settings could not be saved: {0}")]
    Settings(#[source] std::sync::Arc<std::io::Error>),
    /// A photo refused on this side, before anything is sent; same codes as the server's.
    #[error("{message}")]
    Photo { code: ErrorCode, message: String },
    /// A file on this computer could not be read or written (a download being saved, an
    /// upload that did not arrive as a file).
    #[error("{0}")]
    LocalFile(String),
}

/// Codes of failures that happen on this side of the wire; server codes pass through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ClientErrorCode {
    InvalidServerUrl,
    /// `http://` to a server on another computer: only `https://` is accepted there.
    InsecureServerUrl,
    ServerUnreachable,
    UnexpectedResponse,
    NotSignedIn,
    CredentialStore,
    Settings,
    LocalFile,
    #[serde(untagged)]
    Server(ErrorCode),
}

/// A message from a lower layer ("the file is empty…") as a sentence for the UI.
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

impl ClientError {
    pub fn code(&self) -> ClientErrorCode {
        match self {
            Self::InvalidServerUrl { .. } => ClientErrorCode::InvalidServerUrl,
            Self::InsecureServerUrl { .. } => ClientErrorCode::InsecureServerUrl,
            Self::Unreachable { .. } => ClientErrorCode::ServerUnreachable,
            Self::Server { body, .. } => ClientErrorCode::Server(body.code),
            Self::UnexpectedResponse { .. } => ClientErrorCode::UnexpectedResponse,
            Self::Validation(_) => ClientErrorCode::Server(ErrorCode::ValidationFailed),
            Self::NotSignedIn => ClientErrorCode::NotSignedIn,
            Self::CredentialStore(_) => ClientErrorCode::CredentialStore,
            Self::Settings(_) => ClientErrorCode::Settings,
            Self::LocalFile(_) => ClientErrorCode::LocalFile,
            Self::Photo { code, .. } => ClientErrorCode::Server(*code),
        }
    }

    /// True when the server no longer accepts the session's token.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Server { body, .. } if body.code == ErrorCode::Unauthorized)
    }
}

impl ClientError {
    /// The message for the UI: the server's own, else this error's.
    pub fn message(&self) -> String {
        match self {
            Self::Server { body, .. } => body.message.clone(),
            other => other.to_string(),
        }
    }

    /// The field the failure is about, when it is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Server { body, .. } => body.field.as_deref(),
            Self::Validation(details) => details.first().map(|error| error.field.as_str()),
            Self::Photo { .. } => Some("photo"),
            Self::InvalidServerUrl { .. }
            | Self::InsecureServerUrl { .. }
            | Self::Unreachable { .. } => Some("server_url"),
            _ => None,
        }
    }

    /// Each field's failure, for a form that shows them all.
    pub fn details(&self) -> &[FieldError] {
        match self {
            Self::Server { body, .. } => &body.details,
            Self::Validation(details) => details,
            _ => &[],
        }
    }

    /// With `rate_limited`: seconds to wait before trying again.
    pub fn retry_after_seconds(&self) -> Option<u64> {
        match self {
            Self::Server { body, .. } => body.retry_after_seconds,
            _ => None,
        }
    }
}

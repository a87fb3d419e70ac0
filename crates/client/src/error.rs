//! The client's errors, and the one shape they take across IPC to the UI — the same
//! `{code, message, field}` the server answers, so the UI handles both alike.

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
    Settings(String),
    /// A photo refused on this side, before anything is sent; same codes as the server's.
    #[error("{message}")]
    Photo { code: ErrorCode, message: String },
    /// A file on this computer could not be read or written (a download being saved, an
    /// upload that did not arrive as a file).
    #[error("{0}")]
    LocalFile(String),
    /// A microphone, speaker or the sound system failed; `code` is one of the `Audio…`.
    #[error("{message}")]
    Audio {
        code: ClientErrorCode,
        message: String,
    },
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
    /// No microphone or speaker at all.
    AudioNoDevice,
    /// A device id that is not (or no longer) present.
    AudioUnknownDevice,
    AudioCannotOpen,
    /// The device opened but delivers nothing.
    AudioNoData,
    /// Unplugged or closed by the sound system while in use.
    AudioDisconnected,
    /// The sound system did not answer in time.
    AudioTimeout,
    /// A bad duration, volume or similar.
    AudioInvalid,
    AudioBackend,
    #[serde(untagged)]
    Server(ErrorCode),
}

/// What a failed command answers the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct IpcError {
    pub code: ClientErrorCode,
    pub message: String,
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<FieldError>>", optional)]
    pub details: Vec<FieldError>,
    /// With `rate_limited`: seconds to wait before trying again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional, as = "Option<u32>")]
    pub retry_after_seconds: Option<u64>,
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
            Self::Audio { code, .. } => *code,
        }
    }

    /// True when the server no longer accepts the session's token.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::Server { body, .. } if body.code == ErrorCode::Unauthorized)
    }
}

impl From<ClientError> for IpcError {
    fn from(error: ClientError) -> Self {
        let code = error.code();
        let message = error.to_string();
        match error {
            ClientError::Server { body, .. } => IpcError {
                code,
                message: body.message,
                field: body.field,
                details: body.details,
                retry_after_seconds: body.retry_after_seconds,
            },
            ClientError::Validation(details) => IpcError {
                code,
                message,
                field: details.first().map(|e| e.field.as_str().to_owned()),
                details,
                retry_after_seconds: None,
            },
            ClientError::Photo { .. } => IpcError {
                code,
                message,
                field: Some("photo".into()),
                details: Vec::new(),
                retry_after_seconds: None,
            },
            ClientError::InvalidServerUrl { .. }
            | ClientError::InsecureServerUrl { .. }
            | ClientError::Unreachable { .. } => IpcError {
                code,
                message,
                field: Some("server_url".into()),
                details: Vec::new(),
                retry_after_seconds: None,
            },
            _ => IpcError {
                code,
                message,
                field: None,
                details: Vec::new(),
                retry_after_seconds: None,
            },
        }
    }
}

impl Serialize for ClientError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        IpcError::from(self.clone()).serialize(serializer)
    }
}

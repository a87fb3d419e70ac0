//! What a command fails with. Each variant keeps the failure of the layer it came from;
//! across IPC every one takes the same shape as the server's errors, `{code, message,
//! field, …}`, so the UI handles both alike and never reads message text.

use agent_desk_alerts::DeskError;
use agent_desk_audio::AudioError;
use agent_desk_client::error::sentence;
use agent_desk_client::{ClientError, ClientErrorCode};
use agent_desk_core::{ErrorCode, FieldError};
use agent_desk_ipc::raw::RawArgumentError;
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The server, the credential store or the client's own checks.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A microphone, speaker or the sound system.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// The alerts kept on this computer could not be saved.
    #[error(transparent)]
    Alerts(#[from] DeskError),
    /// A raw call (a file's bytes) without what its command takes.
    #[error(transparent)]
    RawArgument(#[from] RawArgumentError),
    /// Presence and alerts run only while an agent is signed in.
    #[error("not signed in")]
    NotSignedIn,
    #[error("There is no downloads folder: {0}")]
    NoDownloadsFolder(#[source] tauri::Error),
    /// The web side asked to reveal a path the app did not save.
    #[error("Only a file saved in the downloads folder can be shown.")]
    NotADownload,
    #[error("The file manager did not open: {0}")]
    FileManager(#[source] tauri_plugin_opener::Error),
    /// Only `http` and `https` addresses are opened, never a file or a program.
    #[error("{url} is not a web address, so it is not opened.")]
    NotAWebAddress { url: String },
    #[error("The browser did not open: {0}")]
    Browser(#[source] tauri_plugin_opener::Error),
    /// The desktop's login entry could not be written or removed.
    #[error("Starting with the computer could not be changed: {0}")]
    StartAtLogin(#[source] tauri_plugin_autostart::Error),
    /// "Restart to update" while it cannot.
    #[error(transparent)]
    Restart(#[from] crate::updates::RestartRefused),
    /// The outbox on this computer, where changes wait for the server.
    #[error(transparent)]
    Outbox(#[from] agent_desk_outbox::OutboxError),
    /// Signing out would delete changes that have not reached the server: the UI asks
    /// first, then signs out with `waiting: "discard"`.
    #[error(
        "{count} {} not reached the server yet; signing out deletes {} from this computer",
        if *count == 1 { "change has" } else { "changes have" },
        if *count == 1 { "it" } else { "them" }
    )]
    ChangesWaiting { count: usize },
    /// Work handed to a thread of its own ended without an answer.
    #[error("The work stopped before it finished: {0}")]
    Interrupted(#[source] tauri::Error),
}

/// Codes of the failures a command answers: the client's (and through them the
/// server's), and the sound system's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum IpcErrorCode {
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
    /// A form has unsaved changes, which the asked-for restart would lose.
    UnsavedChanges,
    /// No downloaded update waits to be installed.
    NoUpdateReady,
    /// Changes wait to be sent, which signing out would delete.
    ChangesWaiting,
    #[serde(untagged)]
    Client(ClientErrorCode),
}

/// What a failed command answers the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct IpcError {
    pub code: IpcErrorCode,
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

impl CommandError {
    pub fn code(&self) -> IpcErrorCode {
        let client = IpcErrorCode::Client;
        match self {
            Self::Client(error) => client(error.code()),
            Self::Audio(error) => match error {
                AudioError::NoDevice { .. } => IpcErrorCode::AudioNoDevice,
                AudioError::UnknownDevice { .. } => IpcErrorCode::AudioUnknownDevice,
                AudioError::CannotOpen(_) => IpcErrorCode::AudioCannotOpen,
                AudioError::NoData { .. } => IpcErrorCode::AudioNoData,
                AudioError::Disconnected { .. } => IpcErrorCode::AudioDisconnected,
                AudioError::Timeout { .. } => IpcErrorCode::AudioTimeout,
                AudioError::InvalidArgument(_) => IpcErrorCode::AudioInvalid,
                AudioError::Backend(_) => IpcErrorCode::AudioBackend,
            },
            Self::Alerts(_) | Self::StartAtLogin(_) => client(ClientErrorCode::Settings),
            Self::Outbox(_) => client(ClientErrorCode::LocalFile),
            Self::ChangesWaiting { .. } => IpcErrorCode::ChangesWaiting,
            Self::NotSignedIn => client(ClientErrorCode::NotSignedIn),
            Self::Restart(crate::updates::RestartRefused::UnsavedChanges) => {
                IpcErrorCode::UnsavedChanges
            }
            Self::Restart(crate::updates::RestartRefused::NothingReady) => {
                IpcErrorCode::NoUpdateReady
            }
            Self::RawArgument(_)
            | Self::NoDownloadsFolder(_)
            | Self::NotADownload
            | Self::FileManager(_)
            | Self::NotAWebAddress { .. }
            | Self::Browser(_) => client(ClientErrorCode::LocalFile),
            Self::Interrupted(_) => client(ClientErrorCode::Server(ErrorCode::Internal)),
        }
    }
}

impl From<&CommandError> for IpcError {
    fn from(error: &CommandError) -> Self {
        let code = error.code();
        match error {
            CommandError::Client(client) => Self {
                code,
                message: client.message(),
                field: client.field().map(str::to_owned),
                details: client.details().to_vec(),
                retry_after_seconds: client.retry_after_seconds(),
            },
            // The sound system's messages start in lower case, to sit inside others.
            CommandError::Audio(audio) => Self {
                code,
                message: sentence(&audio.to_string()),
                field: None,
                details: Vec::new(),
                retry_after_seconds: None,
            },
            other => Self {
                code,
                message: other.to_string(),
                field: None,
                details: Vec::new(),
                retry_after_seconds: None,
            },
        }
    }
}

impl Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        IpcError::from(self).serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_layer_keeps_its_code_and_crosses_as_the_servers_shape() {
        let audio = serde_json::to_value(CommandError::from(AudioError::NoData {
            device: "Jabra".into(),
        }))
        .expect("json");
        assert_eq!(audio["code"], "audio_no_data");
        assert_eq!(audio["field"], serde_json::Value::Null);
        assert!(audio["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Jabra sends")));

        let insecure = serde_json::to_value(CommandError::from(ClientError::InsecureServerUrl {
            host: "desk.example".into(),
        }))
        .expect("json");
        assert_eq!(insecure["code"], "insecure_server_url");
        assert_eq!(insecure["field"], "server_url");

        let alerts = serde_json::to_value(CommandError::from(DeskError::Save("disk full".into())))
            .expect("json");
        assert_eq!(alerts["code"], "settings");

        let raw = serde_json::to_value(CommandError::from(RawArgumentError::NotBytes("photo")))
            .expect("json");
        assert_eq!(
            (raw["code"].as_str(), raw["message"].as_str()),
            (
                Some("local_file"),
                Some("The photo did not arrive as bytes.")
            )
        );
        assert_eq!(
            serde_json::to_value(CommandError::NotSignedIn).expect("json")["code"],
            "not_signed_in"
        );
    }
}

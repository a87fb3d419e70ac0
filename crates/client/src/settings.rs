//! Local settings in the app's config folder: which server and account to reconnect to.
//! The token is not here; it is in the credential store.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::ClientError;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The last server signed in to, also offered on the sign-in screen.
    pub server_url: Option<String>,
    /// The account signed in, if any.
    pub email: Option<String>,
    /// Whether a session is expected to be in the credential store.
    pub signed_in: bool,
    /// The signed-in agent's id: whose changes and copies on this computer are theirs,
    /// found again when the app starts while the server is away.
    pub agent_id: Option<String>,
}

impl Settings {
    pub fn path(config_dir: &Path) -> PathBuf {
        config_dir.join("settings.json")
    }

    /// Reads the settings; a missing or unreadable file gives the defaults (the worst
    /// case is being asked to sign in again).
    pub fn load(config_dir: &Path) -> Self {
        fs::read(Self::path(config_dir))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Writes to a temporary file and renames it over the old one, so a crash never
    /// leaves a half-written file.
    pub fn save(&self, config_dir: &Path) -> Result<(), ClientError> {
        let failed = |error: std::io::Error| ClientError::Settings(std::sync::Arc::new(error));
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| failed(e.into()))?;
        agent_desk_core::files::write_atomically(&Self::path(config_dir), &bytes).map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_survives_a_corrupt_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(Settings::load(dir.path()), Settings::default());
        let settings = Settings {
            server_url: Some("http://127.0.0.1:8787/".into()),
            email: Some("demo@agentdesk.example".into()),
            signed_in: true,
            agent_id: Some("a1".into()),
        };
        settings.save(dir.path()).expect("save");
        assert_eq!(Settings::load(dir.path()), settings);
        fs::write(Settings::path(dir.path()), b"{not json").expect("write");
        assert_eq!(Settings::load(dir.path()), Settings::default());
    }
}

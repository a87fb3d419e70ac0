//! What the app keeps while it runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use agent_desk_client::{AgentSession, KeyringTokenStore};
use tauri::{AppHandle, Manager, Runtime};

/// The credential-store service name the token is kept under.
const KEYRING_SERVICE: &str = "com.agentdesk.desktop";

pub struct DeskState {
    pub session: AgentSession,
    unsaved_changes: AtomicBool,
    /// Offered on the sign-in screen when no server was used before (`make run` sets it).
    pub default_server_url: Option<String>,
}

impl DeskState {
    pub fn open<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<Self> {
        let config_dir = app.path().app_config_dir()?;
        let session = AgentSession::new(
            config_dir,
            Arc::new(KeyringTokenStore::new(KEYRING_SERVICE)),
        );
        Ok(Self {
            session,
            unsaved_changes: AtomicBool::new(false),
            default_server_url: std::env::var("AGENT_DESK_SERVER_URL")
                .ok()
                .filter(|url| !url.is_empty()),
        })
    }

    pub fn has_unsaved_changes(&self) -> bool {
        self.unsaved_changes.load(Ordering::SeqCst)
    }

    pub fn set_unsaved_changes(&self, unsaved: bool) {
        self.unsaved_changes.store(unsaved, Ordering::SeqCst);
    }
}

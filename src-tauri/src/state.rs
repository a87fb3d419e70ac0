//! What the app keeps while it runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use agent_desk_client::{
    AgentSession, ClientError, KeyringTokenStore, PhotoEditor, VersionedProfile,
};
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Manager, Runtime};

/// The credential-store service name the token is kept under.
const KEYRING_SERVICE: &str = "com.agentdesk.desktop";

type Restored = Result<Option<VersionedProfile>, ClientError>;

pub struct DeskState {
    pub session: Arc<AgentSession>,
    pub photos: PhotoEditor,
    /// Started a few seconds after start-up, or on first use if that comes sooner.
    audio: std::sync::OnceLock<Arc<agent_desk_audio::AudioDesk>>,
    config_dir: std::path::PathBuf,
    /// The session restore begun with the app, so the credential store and the server
    /// answer while the web view is still loading; the first `restore` takes it over.
    early_restore: Mutex<Option<JoinHandle<Restored>>>,
    unsaved_changes: AtomicBool,
    /// Offered on the sign-in screen when no server was used before (`make run` sets it).
    pub default_server_url: Option<String>,
    /// What the app decided on this computer, and told the agent, once.
    pub kept: crate::computer::KeptFile,
    /// The last `agentdesk://` link handed over, until the window takes it.
    pending_link: Mutex<Option<crate::links::LinkOpened>>,
    /// Moves on at each sign-out, so presence that finishes starting after one stands down.
    session_generation: std::sync::atomic::AtomicU64,
    /// Presence and alerts of the signed-in agent.
    running: Mutex<Option<crate::alerts::Running>>,
    /// Where each account's outbox and offline copies are kept.
    data_dir: std::path::PathBuf,
    /// The signed-in account's outbox.
    account: Mutex<Option<crate::account::Account>>,
}

impl DeskState {
    pub fn open<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<Self> {
        Ok(Self::open_in(
            app.path().app_config_dir()?,
            app.path().app_data_dir()?,
        ))
    }

    /// The state kept in `config_dir` (settings, alerts, device choices) and `data_dir`
    /// (each account's outbox and offline copies).
    pub fn open_in(config_dir: std::path::PathBuf, data_dir: std::path::PathBuf) -> Self {
        let session = Arc::new(AgentSession::new(
            config_dir.clone(),
            Arc::new(KeyringTokenStore::new(KEYRING_SERVICE)),
        ));
        let restoring = Arc::clone(&session);
        let early_restore = tauri::async_runtime::spawn(async move { restoring.restore().await });
        let kept = crate::computer::KeptFile::in_folder(&config_dir);
        Self {
            session,
            photos: PhotoEditor::default(),
            audio: std::sync::OnceLock::new(),
            config_dir,
            early_restore: Mutex::new(Some(early_restore)),
            unsaved_changes: AtomicBool::new(false),
            default_server_url: std::env::var("AGENT_DESK_SERVER_URL")
                .ok()
                .filter(|url| !url.is_empty()),
            kept,
            pending_link: Mutex::new(None),
            session_generation: std::sync::atomic::AtomicU64::new(0),
            running: Mutex::new(None),
            data_dir,
            account: Mutex::new(None),
        }
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// The signed-in account's outbox, once open.
    pub fn outbox(&self) -> Option<Arc<agent_desk_outbox::Outbox>> {
        let slot = self.account.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref().map(|account| Arc::clone(&account.outbox))
    }

    /// Puts in the account signed in to and hands back the one before.
    pub fn replace_account(
        &self,
        account: Option<crate::account::Account>,
    ) -> Option<crate::account::Account> {
        let mut slot = self.account.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *slot, account)
    }

    pub fn config_dir(&self) -> &std::path::Path {
        &self.config_dir
    }

    /// Puts in what runs for a new session and hands back what ran before.
    pub fn replace_running(
        &self,
        running: Option<crate::alerts::Running>,
    ) -> Option<crate::alerts::Running> {
        let mut slot = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::replace(&mut *slot, running)
    }

    pub fn session_generation(&self) -> u64 {
        self.session_generation.load(Ordering::SeqCst)
    }

    pub fn next_session_generation(&self) {
        self.session_generation.fetch_add(1, Ordering::SeqCst);
    }

    pub fn set_pending_link(&self, link: crate::links::LinkOpened) {
        *self
            .pending_link
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(link);
    }

    pub fn take_pending_link(&self) -> Option<crate::links::LinkOpened> {
        self.pending_link
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    pub fn alert_desk(&self) -> Option<Arc<agent_desk_alerts::AlertDesk>> {
        let slot = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref().map(|running| Arc::clone(&running.desk))
    }

    pub fn presence(&self) -> Option<Arc<crate::alerts::Presence>> {
        let slot = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref().map(|running| Arc::clone(&running.presence))
    }

    /// The app icon as a file, for notification services that take a path.
    pub fn notification_icon(&self) -> Option<String> {
        let path = self.config_dir.join("notification-icon.png");
        if !path.exists() {
            let icon = include_bytes!("../../icons/128x128.png");
            agent_desk_core::files::write_atomically(&path, icon).ok()?;
        }
        Some(path.display().to_string())
    }

    /// Restores the session kept from an earlier run: the first call answers with the
    /// restore begun at start-up, later ones (a retry) start afresh.
    pub async fn restore(&self) -> Restored {
        let early = self
            .early_restore
            .lock()
            .ok()
            .and_then(|mut slot| slot.take());
        match early {
            Some(task) => match task.await {
                Ok(restored) => restored,
                Err(_) => self.session.restore().await,
            },
            None => self.session.restore().await,
        }
    }

    /// The audio engine; `on_change` gets the device state whenever devices change.
    pub fn audio(
        &self,
        on_change: impl Fn(agent_desk_audio::AudioState) + Send + 'static,
    ) -> Arc<agent_desk_audio::AudioDesk> {
        Arc::clone(self.audio.get_or_init(|| {
            Arc::new(agent_desk_audio::AudioDesk::open(
                &self.config_dir,
                on_change,
            ))
        }))
    }

    pub fn has_unsaved_changes(&self) -> bool {
        self.unsaved_changes.load(Ordering::SeqCst)
    }

    pub fn set_unsaved_changes(&self, unsaved: bool) {
        self.unsaved_changes.store(unsaved, Ordering::SeqCst);
    }
}

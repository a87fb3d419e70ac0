//! Updates from the team's own server, through Tauri's updater: asked at start, after a
//! sign-in and every 6 hours; a newer release is downloaded and its signature checked
//! against the key built into the app before the agent is told; it is installed only
//! when the agent chooses "Restart to update", never while a form has unsaved changes.
//! Builds without an updater key (development builds) never ask.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_updater::{Update, UpdaterExt};
use ts_rs::TS;

use agent_desk_ipc::Event;

use crate::events;
use crate::state::DeskState;

/// How often a running app asks again.
pub const CHECK_EVERY: chrono::TimeDelta = chrono::TimeDelta::hours(6);
/// How often the app looks whether a check is due: by the wall clock, so a laptop that
/// slept through the 6 hours asks soon after it wakes.
const LOOK_EVERY: Duration = Duration::from_secs(10 * 60);
/// The first check waits for the start-up to be over.
const FIRST_CHECK_AFTER: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Download progress is told about this often (in bytes), not for every chunk.
const PROGRESS_STEP: u64 = 256 * 1024;

/// What the app knows about its updates, for This computer and the update banner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct UpdateState {
    /// The running version.
    pub current_version: String,
    /// False for a build without an updater key: it never asks for updates.
    pub enabled: bool,
    /// When the server last answered a check (RFC 3339).
    #[ts(type = "string | null")]
    pub checked_at: Option<DateTime<Utc>>,
    pub phase: UpdatePhase,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "phase", rename_all = "snake_case")]
#[ts(export)]
pub enum UpdatePhase {
    /// Not asked yet, or nothing newer was published.
    Idle,
    Checking,
    Downloading {
        version: String,
        #[ts(type = "number")]
        received: u64,
        #[ts(type = "number | null")]
        total: Option<u64>,
    },
    /// Downloaded and its signature checked: installed when the agent restarts.
    Ready {
        version: String,
        notes: Option<String>,
    },
    Installing {
        version: String,
    },
    /// `version`: the release it was about, when one was found.
    Failed {
        version: Option<String>,
        failure: UpdateFailure,
    },
}

/// Why an update did not happen; the running version keeps working in every case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
#[ts(export)]
pub enum UpdateFailure {
    /// No server was signed in to on this computer yet.
    #[error("no server to ask for updates")]
    NoServer,
    /// Updates travel only over https.
    #[error("the server's address is not https")]
    InsecureServer,
    #[error("the server could not be asked: {detail}")]
    Check { detail: String },
    #[error("the download failed: {detail}")]
    Download { detail: String },
    /// The bundle is not what the team's signing key signed: never installed.
    #[error("the signature does not match: {detail}")]
    Signature { detail: String },
    #[error("it could not be installed: {detail}")]
    Install { detail: String },
}

/// A downloaded, verified release waiting for the agent's restart.
struct Downloaded {
    update: Update,
    bytes: Vec<u8>,
}

/// The app's updates; managed state.
pub struct Updates {
    state: Mutex<UpdateState>,
    downloaded: Mutex<Option<Downloaded>>,
    /// A check or download runs: another waits for the next turn.
    busy: AtomicBool,
    /// The server the last check asked, so a sign-in to another one asks at once.
    asked: Mutex<Option<String>>,
}

impl Updates {
    pub fn new(current_version: String, enabled: bool) -> Self {
        Self {
            state: Mutex::new(UpdateState {
                current_version,
                enabled,
                checked_at: None,
                phase: UpdatePhase::Idle,
            }),
            downloaded: Mutex::new(None),
            busy: AtomicBool::new(false),
            asked: Mutex::new(None),
        }
    }

    pub fn state(&self) -> UpdateState {
        lock(&self.state).clone()
    }

    fn set<R: Runtime>(&self, app: &AppHandle<R>, change: impl FnOnce(&mut UpdateState)) {
        let state = {
            let mut state = lock(&self.state);
            change(&mut state);
            state.clone()
        };
        let _ = events::UpdateChanged(state).emit(app);
    }

    fn set_phase<R: Runtime>(&self, app: &AppHandle<R>, phase: UpdatePhase) {
        self.set(app, |state| state.phase = phase);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether the build carries an updater key (`plugins.updater.pubkey`): the release
/// workflow builds it in; the shipped configuration leaves it out.
pub fn configured(config: &tauri::Config) -> bool {
    config
        .plugins
        .0
        .get("updater")
        .and_then(|updater| updater.get("pubkey"))
        .and_then(|key| key.as_str())
        .is_some_and(|key| !key.trim().is_empty())
}

/// Where the updater asks: the server the agent signs in to. The updater fills in the
/// `{{…}}` parts; the kind of install lets the server hand a `.deb` to a `.deb`.
pub fn endpoint(server_url: &str) -> Result<url::Url, url::ParseError> {
    url::Url::parse(&format!(
        "{}/api/v1/app/update/{{{{target}}}}/{{{{arch}}}}/{{{{current_version}}}}?bundle_type={{{{bundle_type}}}}",
        server_url.trim_end_matches('/')
    ))
}

/// Asks at start (once the start-up is over) and whenever 6 hours have passed since the
/// server last answered.
pub fn follow<R: Runtime>(app: &AppHandle<R>) {
    if !app.state::<Updates>().state().enabled {
        return;
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(FIRST_CHECK_AFTER).await;
        loop {
            let checked_at = app.state::<Updates>().state().checked_at;
            if checked_at.is_none_or(|at| Utc::now() - at >= CHECK_EVERY) {
                check(&app).await;
            }
            tokio::time::sleep(LOOK_EVERY).await;
        }
    });
}

/// After a sign-in: asks now if this server was not asked yet. The server is read as
/// the session kept it, as each check reads it, not as it was typed.
pub fn check_after_sign_in<R: Runtime>(app: &AppHandle<R>) {
    let updates = app.state::<Updates>();
    let server_url = app.state::<DeskState>().session.settings().server_url;
    if !updates.state().enabled || *lock(&updates.asked) == server_url {
        return;
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move { check(&app).await });
}

/// Asks the server; a newer release is downloaded and verified at once, so the agent is
/// offered only what will install. Does nothing while a check runs or a release waits.
pub async fn check<R: Runtime>(app: &AppHandle<R>) {
    let updates = app.state::<Updates>();
    let state = updates.state();
    if !state.enabled
        || matches!(
            state.phase,
            UpdatePhase::Ready { .. } | UpdatePhase::Installing { .. }
        )
        || updates.busy.swap(true, Ordering::AcqRel)
    {
        return;
    }
    let outcome = check_and_download(app, &updates).await;
    match outcome {
        Ok(None) => updates.set(app, |state| {
            state.checked_at = Some(Utc::now());
            state.phase = UpdatePhase::Idle;
        }),
        Ok(Some(downloaded)) => {
            let update = &downloaded.update;
            let phase = UpdatePhase::Ready {
                version: update.version.clone(),
                notes: update.body.clone().filter(|notes| !notes.trim().is_empty()),
            };
            *lock(&updates.downloaded) = Some(downloaded);
            updates.set(app, |state| {
                state.checked_at = Some(Utc::now());
                state.phase = phase;
            });
        }
        Err((version, failure)) => {
            let answered = matches!(
                failure,
                UpdateFailure::Download { .. } | UpdateFailure::Signature { .. }
            );
            updates.set(app, |state| {
                if answered {
                    state.checked_at = Some(Utc::now());
                }
                state.phase = UpdatePhase::Failed { version, failure };
            });
        }
    }
    updates.busy.store(false, Ordering::Release);
}

type Failed = (Option<String>, UpdateFailure);

async fn check_and_download<R: Runtime>(
    app: &AppHandle<R>,
    updates: &Updates,
) -> Result<Option<Downloaded>, Failed> {
    let Some(server_url) = app.state::<DeskState>().session.settings().server_url else {
        return Err((None, UpdateFailure::NoServer));
    };
    *lock(&updates.asked) = Some(server_url.clone());
    updates.set_phase(app, UpdatePhase::Checking);
    let endpoint = endpoint(&server_url).map_err(|error| {
        (
            None,
            UpdateFailure::Check {
                detail: error.to_string(),
            },
        )
    })?;
    let updater = app
        .updater_builder()
        .endpoints(vec![endpoint])
        .map(|builder| builder.timeout(REQUEST_TIMEOUT))
        .and_then(|builder| builder.build())
        .map_err(|error| (None, checking_failed(error)))?;
    let Some(update) = updater
        .check()
        .await
        .map_err(|error| (None, checking_failed(error)))?
    else {
        return Ok(None);
    };
    let version = update.version.clone();
    updates.set_phase(
        app,
        UpdatePhase::Downloading {
            version: version.clone(),
            received: 0,
            total: None,
        },
    );
    let mut received = 0_u64;
    let mut told = 0_u64;
    let bytes = update
        .download(
            |chunk, total| {
                received += chunk as u64;
                if received - told >= PROGRESS_STEP {
                    told = received;
                    updates.set_phase(
                        app,
                        UpdatePhase::Downloading {
                            version: version.clone(),
                            received,
                            total,
                        },
                    );
                }
            },
            || {},
        )
        .await
        .map_err(|error| (Some(version.clone()), downloading_failed(error)))?;
    Ok(Some(Downloaded { update, bytes }))
}

fn checking_failed(error: tauri_plugin_updater::Error) -> UpdateFailure {
    match error {
        tauri_plugin_updater::Error::InsecureTransportProtocol => UpdateFailure::InsecureServer,
        other => UpdateFailure::Check {
            detail: other.to_string(),
        },
    }
}

fn downloading_failed(error: tauri_plugin_updater::Error) -> UpdateFailure {
    use tauri_plugin_updater::Error;
    let detail = error.to_string();
    match error {
        Error::Minisign(_)
        | Error::Base64(_)
        | Error::SignatureUtf8(_)
        | Error::SignedVersionMismatch { .. }
        | Error::MissingSignedVersion => UpdateFailure::Signature { detail },
        _ => UpdateFailure::Download { detail },
    }
}

/// Why the agent's "Restart to update" did not restart.
#[derive(Debug, thiserror::Error)]
pub enum RestartRefused {
    #[error("Save or discard your changes first: restarting now would lose them.")]
    UnsavedChanges,
    #[error("No update is ready to install.")]
    NothingReady,
}

/// Installs the verified release and restarts into it. Refused while a form has unsaved
/// changes; when the install fails, the running version stays and says why.
pub async fn restart_to_update<R: Runtime>(app: &AppHandle<R>) -> Result<(), RestartRefused> {
    if app.state::<DeskState>().has_unsaved_changes() {
        return Err(RestartRefused::UnsavedChanges);
    }
    let updates = app.state::<Updates>();
    let Some(Downloaded { update, bytes }) = lock(&updates.downloaded).take() else {
        return Err(RestartRefused::NothingReady);
    };
    let version = update.version.clone();
    updates.set_phase(
        app,
        UpdatePhase::Installing {
            version: version.clone(),
        },
    );
    // The package manager asks for a password and takes its time: not on a worker the
    // async runtime needs.
    let installed = tauri::async_runtime::spawn_blocking(move || update.install(bytes)).await;
    let failure = match installed {
        Ok(Ok(())) => {
            // Through the event loop's exit, so presence goes Offline and the
            // single-instance lock is given up before the new version starts.
            app.request_restart();
            return Ok(());
        }
        Ok(Err(error)) => error.to_string(),
        Err(error) => error.to_string(),
    };
    updates.set_phase(
        app,
        UpdatePhase::Failed {
            version: Some(version),
            failure: UpdateFailure::Install { detail: failure },
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_is_the_servers_with_the_updaters_variables() {
        for server in ["https://desk.example", "https://desk.example/"] {
            assert_eq!(
                endpoint(server).expect("url").as_str(),
                "https://desk.example/api/v1/app/update/%7B%7Btarget%7D%7D/%7B%7Barch%7D%7D/%7B%7Bcurrent_version%7D%7D?bundle_type={{bundle_type}}"
            );
        }
        // Served below a path, as behind a proxy.
        assert!(endpoint("https://example.org/desk")
            .expect("url")
            .as_str()
            .starts_with("https://example.org/desk/api/v1/app/update/"));
    }

    #[test]
    fn only_a_build_with_a_public_key_takes_updates() {
        let config = |plugins: serde_json::Value| tauri::Config {
            plugins: serde_json::from_value(plugins).expect("plugins"),
            ..Default::default()
        };
        assert!(!configured(&config(serde_json::json!({}))));
        assert!(!configured(&config(
            serde_json::json!({"updater": {"pubkey": "  "}})
        )));
        assert!(configured(&config(
            serde_json::json!({"updater": {"pubkey": "dW50cnVzdGVk"}})
        )));
    }

    #[test]
    fn a_bad_signature_is_told_apart_from_a_failed_download() {
        use tauri_plugin_updater::Error;
        assert!(matches!(
            downloading_failed(Error::SignedVersionMismatch {
                announced: "0.2.0".into(),
                signed: "0.1.0".into()
            }),
            UpdateFailure::Signature { .. }
        ));
        assert!(matches!(
            downloading_failed(Error::MissingSignedVersion),
            UpdateFailure::Signature { .. }
        ));
        assert!(matches!(
            downloading_failed(Error::Network("status 502".into())),
            UpdateFailure::Download { detail } if detail.contains("502")
        ));
        assert_eq!(
            checking_failed(Error::InsecureTransportProtocol),
            UpdateFailure::InsecureServer
        );
    }
}

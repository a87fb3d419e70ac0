//! The signed-in agent's presence and alerts while the app runs: the event stream into
//! the alert desk, notifications opening tickets, alert sounds on the alert device,
//! Away when the computer is idle, and Offline when the app quits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use agent_desk_alerts::{
    AlertDesk, AlertsState, DesktopNotifier, IdleAction, IdleWatch, SoundFailure, StreamSignal,
};
use agent_desk_audio::AudioError;
use agent_desk_client::{AgentSession, VersionedProfile};
use agent_desk_core::{Status, StatusState, StatusUpdate};
use agent_desk_ipc::Event;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_opener::OpenerExt;

use crate::error::CommandError;
use crate::events::{AlertsChanged, PresenceChanged, ProfileChanged, SessionEnded, TeamsChanged};
use crate::state::DeskState;
use crate::tray;

/// How often the system's idle time is read.
const IDLE_POLL: Duration = Duration::from_secs(5);
/// How long quitting waits for the server to hear "Offline".
const OFFLINE_ON_QUIT_LIMIT: Duration = Duration::from_secs(2);

/// What runs for one signed-in session; stopped on sign-out.
pub struct Presence {
    pub desk: Arc<AlertDesk>,
    stream: tauri::async_runtime::JoinHandle<()>,
    idle_stop: Arc<AtomicBool>,
    pub idle: Arc<Mutex<IdleWatch>>,
}

impl Presence {
    fn stop(self) {
        self.stream.abort();
        self.idle_stop.store(true, Ordering::SeqCst);
    }
}

/// Starts presence and alerts for the agent just signed in (or restored). Replaces what
/// ran for an earlier session.
pub async fn start<R: Runtime>(app: &AppHandle<R>, profile: &VersionedProfile) {
    let state = app.state::<DeskState>();
    let Ok(api) = state.session.api() else {
        return;
    };
    let desk = Arc::new(AlertDesk::open(
        state.config_dir().join("alerts.json"),
        api.server_url(),
        &profile.profile.id,
        notifier(app),
        sound_player(app),
        {
            let app = app.clone();
            move |alerts: AlertsState| {
                tray::show_alerts(&app, &alerts);
                let _ = AlertsChanged(alerts).emit(&app);
            }
        },
    ));
    desk.set_timezone(timezone_of(profile));
    desk.set_status(status_of(profile), false);
    expire_with(app, &status_of(profile));
    tray::set_language(app, &profile.profile.language);
    if let Ok(prefs) = state.session.notification_prefs().await {
        desk.set_prefs(prefs.prefs);
    }
    // Opening the app means being at the desk: an agent the server has as Offline (the
    // app quit, or the last session timed out) comes back Available.
    if profile.profile.status == Status::Offline {
        let update = StatusUpdate {
            status: Status::Available,
            until: None,
            idle: false,
        };
        if let Ok(status) = state.session.set_status(&update).await {
            desk.set_status(status, false);
        }
    }
    let idle = Arc::new(Mutex::new(IdleWatch::default()));
    let idle_stop = Arc::new(AtomicBool::new(false));
    let stream =
        tauri::async_runtime::spawn(agent_desk_alerts::pump::run(api, Arc::clone(&desk), {
            let app = app.clone();
            move |signal| on_stream_signal(&app, signal)
        }));
    watch_idle(
        app.clone(),
        Arc::clone(&desk),
        Arc::clone(&idle),
        Arc::clone(&idle_stop),
    );
    let previous = state.replace_presence(Some(Presence {
        desk,
        stream,
        idle_stop,
        idle,
    }));
    if let Some(previous) = previous {
        previous.stop();
    }
}

/// Stops presence and alerts: the agent signed out.
pub fn stop<R: Runtime>(app: &AppHandle<R>) {
    if let Some(presence) = app.state::<DeskState>().replace_presence(None) {
        presence.stop();
    }
    tray::show_signed_out(app);
}

fn status_of(profile: &VersionedProfile) -> StatusState {
    StatusState {
        status: profile.profile.status,
        until: profile.profile.status_until,
    }
}

fn timezone_of(profile: &VersionedProfile) -> Option<chrono_tz::Tz> {
    profile
        .profile
        .timezone
        .as_deref()
        .and_then(|zone| zone.parse().ok())
}

/// Fetches the profile and shows its status, time zone and language everywhere.
async fn refresh_profile<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<DeskState>();
    if let Ok(profile) = state.session.profile().await {
        if let Some(desk) = state.alert_desk() {
            let automatic = state.presence_automatic_away();
            desk.set_status(status_of(&profile), automatic);
            desk.set_timezone(timezone_of(&profile));
        }
        expire_with(app, &status_of(&profile));
        tray::set_language(app, &profile.profile.language);
        let _ = ProfileChanged(profile).emit(app);
    }
}

/// A status set "until" a time ends then on the server without an event: look again
/// just after, so the window and the tray show Available.
fn expire_with<R: Runtime>(app: &AppHandle<R>, status: &StatusState) {
    let Some(until) = status.until else {
        return;
    };
    let wait = (until - chrono::Utc::now())
        .to_std()
        .unwrap_or_default()
        .saturating_add(Duration::from_secs(1));
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(wait).await;
        let state = app.state::<DeskState>();
        let still_that = state
            .alert_desk()
            .is_some_and(|desk| desk.state().status.until == Some(until));
        if still_that {
            refresh_profile(&app).await;
        }
    });
}

fn on_stream_signal<R: Runtime>(app: &AppHandle<R>, signal: StreamSignal) {
    let app = app.clone();
    match signal {
        StreamSignal::ProfileChanged => {
            tauri::async_runtime::spawn(async move { refresh_profile(&app).await });
        }
        StreamSignal::TeamsChanged => {
            let _ = TeamsChanged.emit(&app);
        }
        StreamSignal::Presence(change) => {
            let _ = PresenceChanged(change).emit(&app);
        }
        StreamSignal::SessionEnded => {
            let _ = SessionEnded.emit(&app);
        }
    }
}

/// Sets the status on the server and in the desk; `automatic` for idle detection.
pub async fn set_status<R: Runtime>(
    app: &AppHandle<R>,
    update: StatusUpdate,
    automatic: bool,
) -> Result<AlertsState, CommandError> {
    let state = app.state::<DeskState>();
    let status = state.session.set_status(&update).await?;
    if !automatic {
        if let Some(idle) = state.idle_watch() {
            idle.lock().unwrap_or_else(PoisonError::into_inner).cancel();
        }
    }
    expire_with(app, &status);
    match state.alert_desk() {
        Some(desk) => Ok(desk.set_status(status, automatic)),
        None => Err(CommandError::NotSignedIn),
    }
}

/// Tells the server the agent is Offline, waiting a moment at most: they are signing
/// out or quitting.
pub async fn go_offline<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<DeskState>();
    if state.alert_desk().is_none() {
        return;
    }
    let session: Arc<AgentSession> = Arc::clone(&state.session);
    let update = StatusUpdate {
        status: Status::Offline,
        until: None,
        idle: false,
    };
    let _ = tokio::time::timeout(OFFLINE_ON_QUIT_LIMIT, session.set_status(&update)).await;
}

/// [`go_offline`] from the event loop's thread, which is outside the async runtime: the
/// app is quitting.
pub fn go_offline_before_quitting<R: Runtime>(app: &AppHandle<R>) {
    tauri::async_runtime::block_on(go_offline(app));
}

fn notifier<R: Runtime>(app: &AppHandle<R>) -> DesktopNotifier {
    let icon = app
        .state::<DeskState>()
        .notification_icon()
        .unwrap_or_else(|| "agent-desk".to_owned());
    let app = app.clone();
    DesktopNotifier::new("Agent Desk", &icon, move |url: &str| {
        // The window comes forward either way; there is nowhere to say it failed.
        let _ = open_ticket(&app, url);
        crate::show_window(&app);
    })
}

/// Opens a ticket's page in the default browser: only web addresses, as the server
/// checked, never a file or a program.
pub fn open_ticket<R: Runtime>(app: &AppHandle<R>, url: &str) -> Result<(), CommandError> {
    if !agent_desk_core::events::is_web_address(url) {
        return Err(CommandError::NotAWebAddress {
            url: url.to_owned(),
        });
    }
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(CommandError::Browser)
}

fn sound_player<R: Runtime>(app: &AppHandle<R>) -> agent_desk_alerts::PlaySound {
    let app = app.clone();
    Box::new(move |priority| {
        let audio = crate::commands::devices::audio_desk(&app);
        audio.play_alert(priority).map_err(|error| match error {
            AudioError::NoDevice { .. } | AudioError::UnknownDevice { .. } => {
                SoundFailure::NoDevice(error.to_string())
            }
            other => SoundFailure::Failed(other.to_string()),
        })
    })
}

/// Reads the system's idle time every few seconds and sets Away and back.
fn watch_idle<R: Runtime>(
    app: AppHandle<R>,
    desk: Arc<AlertDesk>,
    watch: Arc<Mutex<IdleWatch>>,
    stop: Arc<AtomicBool>,
) {
    let _ = std::thread::Builder::new()
        .name("idle-watch".into())
        .spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(IDLE_POLL);
                // No idle time on this desktop (some Wayland compositors): no automatic Away.
                let Ok(idle) = agent_desk_alerts::idle::system_idle() else {
                    continue;
                };
                let status = desk.state().status.status;
                let action = watch.lock().unwrap_or_else(PoisonError::into_inner).update(
                    idle,
                    desk.idle_away(),
                    status,
                );
                let Some(update) = action.status_update() else {
                    continue;
                };
                let automatic = matches!(action, IdleAction::GoAway);
                let result = tauri::async_runtime::block_on(set_status(&app, update, automatic));
                if result.is_err() {
                    watch
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .cancel();
                }
            }
        });
}

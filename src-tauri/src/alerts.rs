//! The signed-in agent's presence and alerts while the app runs, wired to the window and
//! the tray: the event stream into the alert desk, notifications opening tickets, alert
//! sounds on the alert device, and presence (`agent_desk_alerts::presence`, where its
//! rules live) fed by the system's idle time and told to go Offline when the app quits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use agent_desk_alerts::{
    AlertDesk, AlertsState, DesktopNotifier, PresenceShell, SoundFailure, StreamSignal,
};
use agent_desk_audio::AudioError;
use agent_desk_client::{AgentSession, VersionedProfile};
use agent_desk_core::{StatusState, StatusUpdate};
use agent_desk_ipc::Event;
use agent_desk_outbox::{LocalChange, Sent};
use chrono::{DateTime, Utc};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_opener::OpenerExt;

use crate::error::CommandError;
use crate::events::{
    AlertsChanged, NotificationPrefsChanged, PresenceChanged, ProfileChanged, SessionEnded,
    TeamsChanged,
};
use crate::state::DeskState;
use crate::tray;

/// How often the system's idle time is read.
const IDLE_POLL: Duration = Duration::from_secs(5);
/// How long quitting waits for the server to hear "Offline".
const OFFLINE_ON_QUIT_LIMIT: Duration = Duration::from_secs(2);
/// Where the status the agent chose is kept, in the app's settings folder.
const CHOSEN_STATUS_FILE: &str = "status.json";

pub type Presence = agent_desk_alerts::Presence<Arc<AgentSession>>;

/// What runs for one signed-in session; stopped on sign-out.
pub struct Running {
    pub desk: Arc<AlertDesk>,
    pub presence: Arc<Presence>,
    stream: tauri::async_runtime::JoinHandle<()>,
    idle_stop: Arc<AtomicBool>,
}

impl Running {
    fn stop(self) {
        self.stream.abort();
        self.idle_stop.store(true, Ordering::SeqCst);
        self.presence.stop();
    }
}

/// What presence shows through: the alert desk (and so the tray and the window), the
/// profile in the window, and a timer on the async runtime.
struct Shell<R: Runtime> {
    app: AppHandle<R>,
    desk: Arc<AlertDesk>,
}

impl<R: Runtime> PresenceShell<VersionedProfile> for Shell<R> {
    fn show_status(&self, status: &StatusState, automatic: bool) {
        // The desk tells the tray and the window (its change callback).
        self.desk.set_status(*status, automatic);
    }

    fn show_profile(&self, profile: &VersionedProfile) {
        self.desk.set_timezone(timezone_of(profile));
        tray::set_language(&self.app, &profile.profile.language);
        let _ = ProfileChanged(profile.clone()).emit(&self.app);
    }

    fn recheck_after(&self, wait: Duration, until: DateTime<Utc>) {
        let app = self.app.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(wait).await;
            if let Some(presence) = app.state::<DeskState>().presence() {
                presence.recheck(until).await;
            }
        });
    }
}

/// Reads the agent's notification preferences from the server into the desk, and keeps a
/// copy for the Notifications screen should the server go away. `None` when it cannot
/// be reached.
async fn read_prefs(
    state: &DeskState,
    desk: &AlertDesk,
) -> Option<agent_desk_client::VersionedNotificationPrefs> {
    let prefs = state.session.notification_prefs().await.ok()?;
    if let (Some(outbox), Ok(body)) = (state.outbox(), serde_json::to_value(&prefs)) {
        let version = crate::account::etag_version(&prefs.etag);
        let _ = outbox.remember("prefs", String::new(), body, version).await;
    }
    desk.set_prefs(prefs.prefs.clone());
    Some(prefs)
}

/// Starts presence and alerts for the agent just signed in (or restored). Replaces what
/// ran for an earlier session.
pub async fn start<R: Runtime>(app: &AppHandle<R>, profile: &VersionedProfile) {
    let state = app.state::<DeskState>();
    let generation = state.session_generation();
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
    tray::set_language(app, &profile.profile.language);
    if read_prefs(&state, &desk).await.is_none() {
        // Started while the server is away: the preferences last read here.
        let kept = async {
            let copy = state
                .outbox()?
                .remembered("prefs", String::new())
                .await
                .ok()??;
            serde_json::from_value::<agent_desk_client::VersionedNotificationPrefs>(copy.body).ok()
        };
        if let Some(kept) = kept.await {
            desk.set_prefs(kept.prefs);
        }
    }
    let presence = Arc::new(Presence::new(
        Arc::clone(&state.session),
        Box::new(Shell {
            app: app.clone(),
            desk: Arc::clone(&desk),
        }),
        Arc::new(Utc::now),
        &profile.profile.id,
        state.config_dir().join(CHOSEN_STATUS_FILE),
    ));
    presence.start(profile).await;
    // Signed out (or quit) while this was starting: what started is not this session's.
    if state.session_generation() != generation {
        presence.stop();
        return;
    }
    let idle_stop = Arc::new(AtomicBool::new(false));
    let stream =
        tauri::async_runtime::spawn(agent_desk_alerts::pump::run(api, Arc::clone(&desk), {
            let app = app.clone();
            move |signal| on_stream_signal(&app, signal)
        }));
    watch_idle(
        Arc::clone(&desk),
        Arc::clone(&presence),
        Arc::clone(&idle_stop),
    );
    let previous = state.replace_running(Some(Running {
        desk,
        presence,
        stream,
        idle_stop,
    }));
    if let Some(previous) = previous {
        previous.stop();
    }
}

/// Stops presence and alerts: the agent signed out.
pub fn stop<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<DeskState>();
    state.next_session_generation();
    if let Some(running) = state.replace_running(None) {
        running.stop();
    }
    tray::show_signed_out(app);
}

fn timezone_of(profile: &VersionedProfile) -> Option<chrono_tz::Tz> {
    profile
        .profile
        .timezone
        .as_deref()
        .and_then(|zone| zone.parse().ok())
}

fn on_stream_signal<R: Runtime>(app: &AppHandle<R>, signal: StreamSignal) {
    let app = app.clone();
    match signal {
        // The profile, the notification preferences (an administrator set them, or
        // locked some for everyone) or the teams: all are read again.
        StreamSignal::ProfileChanged => {
            tauri::async_runtime::spawn(async move {
                let state = app.state::<DeskState>();
                if let Some(presence) = state.presence() {
                    presence.refresh().await;
                }
                if let Some(desk) = state.alert_desk() {
                    if let Some(prefs) = read_prefs(&state, &desk).await {
                        let _ = NotificationPrefsChanged(prefs).emit(&app);
                    }
                }
                // An administrator may have put the agent in a team or taken them out.
                let _ = TeamsChanged.emit(&app);
            });
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
        // Back in touch: what waits goes now, not at the end of its pause.
        StreamSignal::Connected => {
            if let Some(outbox) = app.state::<DeskState>().outbox() {
                outbox.wake_now();
            }
        }
    }
}

/// The agent chose a status (in the window or the tray).
pub async fn set_status<R: Runtime>(
    app: &AppHandle<R>,
    update: StatusUpdate,
) -> Result<AlertsState, CommandError> {
    let state = app.state::<DeskState>();
    let (Some(presence), Some(desk)) = (state.presence(), state.alert_desk()) else {
        return Err(CommandError::NotSignedIn);
    };
    let outbox = crate::account::outbox_of(&state)?;
    let api = state.session.api()?;
    let wanted = StatusState {
        status: update.status,
        until: update.until,
    };
    // Kept on this computer first: a status chosen while the server is away is sent once
    // it is back (unless its time has passed by then).
    let shown = match outbox
        .save(&api, LocalChange::Status { update }, None)
        .await??
    {
        Sent::Applied(accepted) => accepted.json::<StatusState>().unwrap_or(wanted),
        Sent::AppliedBefore | Sent::Waiting | Sent::Dropped => wanted,
    };
    presence.chosen(&shown);
    Ok(desk.state())
}

/// Tells the server the agent is Offline, waiting a moment at most: they are signing
/// out or quitting.
pub async fn go_offline<R: Runtime>(app: &AppHandle<R>) {
    if let Some(presence) = app.state::<DeskState>().presence() {
        presence.go_offline(OFFLINE_ON_QUIT_LIMIT).await;
    }
}

/// [`go_offline`] from the event loop's thread, which is outside the async runtime: the
/// app is quitting.
pub fn go_offline_before_quitting<R: Runtime>(app: &AppHandle<R>) {
    tauri::async_runtime::block_on(go_offline(app));
}

/// Notifications as the app: its name and icon; `on_open` gets an opened one's address.
pub fn app_notifier<R: Runtime>(
    app: &AppHandle<R>,
    on_open: impl Fn(&str) + Send + Sync + 'static,
) -> DesktopNotifier {
    let icon = app
        .state::<DeskState>()
        .notification_icon()
        .unwrap_or_else(|| "agent-desk".to_owned());
    DesktopNotifier::new("Agent Desk", &icon, on_open)
}

fn notifier<R: Runtime>(app: &AppHandle<R>) -> DesktopNotifier {
    let opener = app.clone();
    app_notifier(app, move |url: &str| {
        // The window comes forward either way; there is nowhere to say it failed.
        let _ = open_ticket(&opener, url);
        crate::show_window(&opener);
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

/// Reads the system's idle time every few seconds and lets presence weigh it.
fn watch_idle(desk: Arc<AlertDesk>, presence: Arc<Presence>, stop: Arc<AtomicBool>) {
    let _ = std::thread::Builder::new()
        .name("idle-watch".into())
        .spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(IDLE_POLL);
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                // No idle time on this desktop (some Wayland compositors): no automatic Away.
                let Ok(idle) = agent_desk_alerts::idle::system_idle() else {
                    continue;
                };
                tauri::async_runtime::block_on(presence.idle_for(idle, desk.idle_away()));
            }
        });
}

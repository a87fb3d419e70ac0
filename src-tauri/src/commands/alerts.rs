//! The status control, the tray's twin in the window, and the Notifications screen.

use std::sync::Arc;

use agent_desk_alerts::{AlertDesk, AlertsState, SelfTestReport};
use agent_desk_client::{ClientError, VersionedNotificationPrefs};
use agent_desk_core::notifications::QuietHoursProblem;
use agent_desk_core::{NotificationPrefs, QuietHours, Status, StatusUpdate};
use agent_desk_ipc::command;
use agent_desk_outbox::{LocalChange, Sent};
use chrono::{DateTime, Utc};
use tauri::{AppHandle, Runtime, State};

use crate::account;
use crate::error::CommandError;
use crate::state::DeskState;

fn desk(state: &DeskState) -> Result<Arc<AlertDesk>, CommandError> {
    state.alert_desk().ok_or(CommandError::NotSignedIn)
}

/// The agent's status, unread count, stream connection, idle setting and recent alerts.
#[command]
pub fn alerts_state(state: State<'_, DeskState>) -> Result<AlertsState, CommandError> {
    Ok(desk(&state)?.state())
}

/// Sets the status on the server; `until` is RFC 3339 or null.
#[command]
pub async fn set_status<R: Runtime>(
    app: AppHandle<R>,
    status: Status,
    #[ts(type = "string | null")] until: Option<DateTime<Utc>>,
) -> Result<AlertsState, CommandError> {
    crate::alerts::set_status(
        &app,
        StatusUpdate {
            status,
            until,
            idle: false,
        },
    )
    .await
}

/// Minutes of no keyboard or mouse before Away, or null for never. Kept on this computer.
#[command]
pub fn set_idle_away(
    state: State<'_, DeskState>,
    minutes: Option<u32>,
) -> Result<AlertsState, CommandError> {
    Ok(desk(&state)?.set_idle_away(minutes)?)
}

#[command]
pub fn mark_alerts_read(state: State<'_, DeskState>) -> Result<AlertsState, CommandError> {
    Ok(desk(&state)?.mark_all_read()?)
}

/// Opens the alert's ticket in the default browser and marks the alert read.
#[command]
pub fn open_alert<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
    #[ts(type = "number")] seq: i64,
) -> Result<AlertsState, CommandError> {
    let (url, alerts) = desk(&state)?.open_alert(seq)?;
    if let Some(url) = url {
        // The alert is read whether or not a browser opened.
        let _ = crate::alerts::open_ticket(&app, &url);
    }
    Ok(alerts)
}

#[command]
pub async fn notification_prefs(
    state: State<'_, DeskState>,
) -> Result<VersionedNotificationPrefs, CommandError> {
    let read = state.session.notification_prefs();
    let prefs = account::read_or_copy(&state, "prefs", "", read, |prefs| {
        account::etag_version(&prefs.etag)
    })
    .await?;
    // Preferences saved while the server was away, as they will be.
    let waiting = state.outbox().and_then(|outbox| {
        outbox
            .waiting_for("prefs")
            .into_iter()
            .rev()
            .filter_map(|change| match change {
                LocalChange::NotificationPrefs { prefs, .. } => {
                    serde_json::from_value::<NotificationPrefs>(prefs).ok()
                }
                _ => None,
            })
            .next()
    });
    Ok(match waiting {
        Some(waiting) => VersionedNotificationPrefs {
            prefs: waiting,
            ..prefs
        },
        None => prefs,
    })
}

/// Saves the preferences read at `etag` (on this computer first, then on the server);
/// alerts follow them at once.
#[command]
pub async fn save_notification_prefs(
    state: State<'_, DeskState>,
    prefs: NotificationPrefs,
    etag: String,
) -> Result<VersionedNotificationPrefs, CommandError> {
    let outbox = account::outbox_of(&state)?;
    let api = state.session.api()?;
    let change = LocalChange::NotificationPrefs {
        prefs: serde_json::to_value(&prefs)
            .map_err(|error| ClientError::LocalFile(error.to_string()))?,
        version: account::etag_version(&etag).unwrap_or(0),
    };
    let saved = match outbox.save(&api, change, None).await?? {
        Sent::Applied(accepted) => VersionedNotificationPrefs {
            prefs: accepted.json()?,
            etag: accepted.etag.unwrap_or_default(),
        },
        Sent::AppliedBefore | Sent::Dropped => state.session.notification_prefs().await?,
        Sent::Waiting => VersionedNotificationPrefs { prefs, etag },
    };
    if let Some(desk) = state.alert_desk() {
        desk.set_prefs(saved.prefs.clone());
    }
    state.set_unsaved_changes(false);
    Ok(saved)
}

/// What is wrong with quiet hours being edited: a time the server would refuse, or a
/// span that silences nothing.
#[command]
pub fn check_quiet_hours(quiet_hours: QuietHours) -> Vec<QuietHoursProblem> {
    quiet_hours.problems()
}

/// Shows a test notification and plays the alert sound; says what is wrong when
/// something is.
// Blocks for up to a few seconds (a notification service that does not answer), so it
// runs on a thread meant for waiting.
#[command]
pub async fn send_test_notification(
    state: State<'_, DeskState>,
) -> Result<SelfTestReport, CommandError> {
    let desk = desk(&state)?;
    tauri::async_runtime::spawn_blocking(move || desk.self_test())
        .await
        .map_err(CommandError::Interrupted)
}

//! The status control, the tray's twin in the window, and the Notifications screen.

use std::sync::Arc;

use agent_desk_alerts::{AlertDesk, AlertsState, SelfTestReport};
use agent_desk_client::VersionedNotificationPrefs;
use agent_desk_core::notifications::QuietHoursProblem;
use agent_desk_core::{NotificationPrefs, QuietHours, Status, StatusUpdate};
use agent_desk_ipc::command;
use chrono::{DateTime, Utc};
use tauri::{AppHandle, Runtime, State};

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
    Ok(state.session.notification_prefs().await?)
}

/// Saves the preferences read at `etag`; alerts follow them at once.
#[command]
pub async fn save_notification_prefs(
    state: State<'_, DeskState>,
    prefs: NotificationPrefs,
    etag: String,
) -> Result<VersionedNotificationPrefs, CommandError> {
    let saved = state.session.save_notification_prefs(&prefs, &etag).await?;
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

//! The status control, the tray's twin in the window, and the Notifications screen.

use agent_desk_alerts::{AlertsState, SelfTestReport};
use agent_desk_client::{ClientError, VersionedNotificationPrefs};
use agent_desk_core::{NotificationPrefs, Status, StatusUpdate};
use chrono::{DateTime, Utc};
use tauri::{AppHandle, Runtime, State};

use crate::state::DeskState;

fn desk(state: &DeskState) -> Result<std::sync::Arc<agent_desk_alerts::AlertDesk>, ClientError> {
    state.alert_desk().ok_or(ClientError::NotSignedIn)
}

fn saving_failed(error: agent_desk_alerts::DeskError) -> ClientError {
    ClientError::Settings(error.to_string())
}

#[tauri::command]
pub fn alerts_state(state: State<'_, DeskState>) -> Result<AlertsState, ClientError> {
    Ok(desk(&state)?.state())
}

#[tauri::command]
pub async fn set_status<R: Runtime>(
    app: AppHandle<R>,
    status: Status,
    until: Option<DateTime<Utc>>,
) -> Result<AlertsState, ClientError> {
    crate::alerts::set_status(&app, StatusUpdate { status, until }, false).await
}

#[tauri::command]
pub fn set_idle_away(
    state: State<'_, DeskState>,
    minutes: Option<u32>,
) -> Result<AlertsState, ClientError> {
    desk(&state)?.set_idle_away(minutes).map_err(saving_failed)
}

#[tauri::command]
pub fn mark_alerts_read(state: State<'_, DeskState>) -> Result<AlertsState, ClientError> {
    desk(&state)?.mark_all_read().map_err(saving_failed)
}

/// Opens the alert's ticket in the default browser and marks the alert read.
#[tauri::command]
pub fn open_alert<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
    seq: i64,
) -> Result<AlertsState, ClientError> {
    let (url, alerts) = desk(&state)?.open_alert(seq).map_err(saving_failed)?;
    if let Some(url) = url {
        // The alert is read whether or not a browser opened.
        let _ = crate::alerts::open_ticket(&app, &url);
    }
    Ok(alerts)
}

#[tauri::command]
pub async fn notification_prefs(
    state: State<'_, DeskState>,
) -> Result<VersionedNotificationPrefs, ClientError> {
    state.session.notification_prefs().await
}

#[tauri::command]
pub async fn save_notification_prefs(
    state: State<'_, DeskState>,
    prefs: NotificationPrefs,
    etag: String,
) -> Result<VersionedNotificationPrefs, ClientError> {
    let saved = state.session.save_notification_prefs(&prefs, &etag).await?;
    if let Some(desk) = state.alert_desk() {
        desk.set_prefs(saved.prefs.clone());
    }
    state.set_unsaved_changes(false);
    Ok(saved)
}

/// Blocks for up to a few seconds (a notification service that does not answer), so it
/// runs on a thread meant for waiting.
#[tauri::command]
pub async fn send_test_notification(
    state: State<'_, DeskState>,
) -> Result<SelfTestReport, ClientError> {
    let desk = desk(&state)?;
    tauri::async_runtime::spawn_blocking(move || desk.self_test())
        .await
        .map_err(|error| ClientError::Settings(error.to_string()))
}

use agent_desk_ipc::command;
use serde::Serialize;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use crate::computer;
use crate::error::CommandError;
use crate::state::DeskState;
use crate::updates::{UpdateState, Updates};

/// The settings of this computer rather than of the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ThisComputer {
    /// The app starts, hidden in the tray, when the agent signs in to the computer.
    pub start_at_login: bool,
}

#[command]
pub fn this_computer<R: Runtime>(app: AppHandle<R>) -> Result<ThisComputer, CommandError> {
    Ok(ThisComputer {
        start_at_login: computer::starts_at_login(&app).map_err(CommandError::StartAtLogin)?,
    })
}

/// The running version and what is known of updates.
#[command]
pub fn update_state(updates: State<'_, Updates>) -> UpdateState {
    updates.state()
}

/// Asks the team's server for a newer release now; what it finds arrives as
/// `UpdateChanged`.
#[command]
pub fn check_for_updates<R: Runtime>(
    app: AppHandle<R>,
    updates: State<'_, Updates>,
) -> UpdateState {
    let asking = app.clone();
    tauri::async_runtime::spawn(async move { crate::updates::check(&asking).await });
    updates.state()
}

/// Installs the downloaded release and restarts into it; refused while a form has
/// unsaved changes. A failed install is told as `UpdateChanged`, the running version stays.
#[command]
pub async fn restart_to_update<R: Runtime>(app: AppHandle<R>) -> Result<(), CommandError> {
    Ok(crate::updates::restart_to_update(&app).await?)
}

/// Starts the app with the desktop session, or stops doing so.
#[command]
pub fn set_start_at_login<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
    on: bool,
) -> Result<ThisComputer, CommandError> {
    Ok(ThisComputer {
        start_at_login: computer::set_start_at_login(&app, &state.kept, on)
            .map_err(CommandError::StartAtLogin)?,
    })
}

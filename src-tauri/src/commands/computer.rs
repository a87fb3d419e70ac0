use agent_desk_ipc::command;
use serde::Serialize;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use crate::computer;
use crate::error::CommandError;
use crate::state::DeskState;

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

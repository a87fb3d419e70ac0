use agent_desk_client::session::AppInfo;
use tauri::{AppHandle, Runtime, State};

use crate::state::DeskState;

#[tauri::command]
pub fn app_info(state: State<'_, DeskState>) -> AppInfo {
    let settings = state.session.settings();
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        server_url: settings
            .server_url
            .or_else(|| state.default_server_url.clone()),
        email: settings.email,
    }
}

/// The UI reports whether a form has unsaved changes, so closing the window can warn.
#[tauri::command]
pub fn set_unsaved_changes(state: State<'_, DeskState>, unsaved: bool) {
    state.set_unsaved_changes(unsaved);
}

/// The agent chose to discard unsaved changes and close.
#[tauri::command]
pub fn quit_discarding_changes<R: Runtime>(app: AppHandle<R>, state: State<'_, DeskState>) {
    state.set_unsaved_changes(false);
    app.exit(0);
}

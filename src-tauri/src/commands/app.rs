use agent_desk_client::session::AppInfo;
use agent_desk_ipc::command;
use tauri::{AppHandle, Runtime, State};

use crate::state::DeskState;

/// The app's version, and the server and email to offer on the sign-in screen.
#[command]
pub fn app_info<R: Runtime>(app: AppHandle<R>, state: State<'_, DeskState>) -> AppInfo {
    let settings = state.session.settings();
    AppInfo {
        // The bundle's version, which the updater compares.
        version: app.package_info().version.to_string(),
        server_url: settings
            .server_url
            .or_else(|| state.default_server_url.clone()),
        email: settings.email,
    }
}

/// The last `agentdesk://` link handed over, once: the UI asks when an agent is signed
/// in, and whenever it hears `LinkArrived`.
#[command]
pub fn take_link(state: State<'_, DeskState>) -> Option<crate::links::LinkOpened> {
    state.take_pending_link()
}

/// Whether a form has unsaved changes, so closing the window warns first.
#[command]
pub fn set_unsaved_changes(state: State<'_, DeskState>, unsaved: bool) {
    state.set_unsaved_changes(unsaved);
}

/// Quits, as the tray's Quit does: Offline first, or the question first when a form
/// has unsaved changes.
#[command]
pub fn quit_app<R: Runtime>(app: AppHandle<R>) {
    crate::quit(&app);
}

/// The agent chose to discard unsaved changes and quit.
#[command]
pub fn quit_discarding_changes<R: Runtime>(app: AppHandle<R>, state: State<'_, DeskState>) {
    state.set_unsaved_changes(false);
    app.exit(0);
}

use agent_desk_client::session::SignedIn;
use agent_desk_client::VersionedProfile;
use agent_desk_ipc::command;
use tauri::{AppHandle, Runtime, State};

use crate::error::CommandError;
use crate::state::DeskState;

/// The session kept from an earlier run, if the server still accepts it.
#[command]
pub async fn restore_session<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<Option<VersionedProfile>, CommandError> {
    let restored = state.restore().await;
    match &restored {
        Ok(Some(profile)) => start_presence(&app, profile),
        // Started with the session but not signed in (no session kept, the server or the
        // network not there yet): a hidden window would leave the agent without alerts
        // and without knowing it.
        _ if crate::computer::started_at_login() => crate::show_window(&app),
        _ => {}
    }
    Ok(restored?)
}

#[command]
pub async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
    server_url: String,
    email: String,
    password: String,
) -> Result<SignedIn, CommandError> {
    let signed_in = state
        .session
        .sign_in(&server_url, &email, &password)
        .await?;
    start_presence(&app, &signed_in.profile);
    crate::updates::check_after_sign_in(&app);
    // Only a session kept in the credential store can sign in at the next login.
    if signed_in.remembered {
        crate::computer::start_at_login_after_first_sign_in(&app, &state.kept);
    }
    Ok(signed_in)
}

/// Presence and alerts start beside the first screen, not before it.
fn start_presence<R: Runtime>(app: &AppHandle<R>, profile: &VersionedProfile) {
    let app = app.clone();
    let profile = profile.clone();
    tauri::async_runtime::spawn(async move { crate::alerts::start(&app, &profile).await });
}

/// Goes Offline, ends the session on the server and forgets its token.
#[command]
pub async fn sign_out<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<(), CommandError> {
    state.set_unsaved_changes(false);
    crate::alerts::go_offline(&app).await;
    crate::alerts::stop(&app);
    Ok(state.session.sign_out().await?)
}

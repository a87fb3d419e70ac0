use agent_desk_client::session::SignedIn;
use agent_desk_client::{ClientError, VersionedProfile};
use tauri::State;

use crate::state::DeskState;

#[tauri::command]
pub async fn restore_session(
    state: State<'_, DeskState>,
) -> Result<Option<VersionedProfile>, ClientError> {
    state.restore().await
}

#[tauri::command]
pub async fn sign_in(
    state: State<'_, DeskState>,
    server_url: String,
    email: String,
    password: String,
) -> Result<SignedIn, ClientError> {
    state.session.sign_in(&server_url, &email, &password).await
}

#[tauri::command]
pub async fn sign_out(state: State<'_, DeskState>) -> Result<(), ClientError> {
    state.set_unsaved_changes(false);
    state.session.sign_out().await
}

use agent_desk_client::ClientError;
use agent_desk_core::account::{PasswordResetAccepted, Policy, SessionList, SessionsEnded};
use agent_desk_core::password::{check_password as check, PasswordCheck};
use tauri::State;

use crate::state::DeskState;

/// The policy of the server the agent is signed in to.
#[tauri::command]
pub async fn server_policy(state: State<'_, DeskState>) -> Result<Policy, ClientError> {
    state.session.policy().await
}

/// The server's own password rules, run as the agent types. Runs off the main thread:
/// strength estimation of a long input takes a few milliseconds.
#[tauri::command]
pub async fn check_password(
    candidate: String,
    current: Option<String>,
    personal: Vec<String>,
) -> PasswordCheck {
    let personal: Vec<&str> = personal.iter().map(String::as_str).collect();
    check(&candidate, current.as_deref(), &personal)
}

#[tauri::command]
pub async fn change_password(
    state: State<'_, DeskState>,
    current_password: String,
    new_password: String,
    keep_other_sessions: bool,
) -> Result<SessionsEnded, ClientError> {
    state
        .session
        .change_password(&current_password, &new_password, keep_other_sessions)
        .await
}

#[tauri::command]
pub async fn request_password_reset(
    state: State<'_, DeskState>,
    server_url: String,
    email: String,
) -> Result<PasswordResetAccepted, ClientError> {
    state
        .session
        .request_password_reset(&server_url, &email)
        .await
}

#[tauri::command]
pub async fn list_sessions(state: State<'_, DeskState>) -> Result<SessionList, ClientError> {
    state.session.sessions().await
}

/// Ends one session; ending the current one signs this app out.
#[tauri::command]
pub async fn end_session(
    state: State<'_, DeskState>,
    session_id: String,
) -> Result<(), ClientError> {
    state.session.end_session(&session_id).await
}

#[tauri::command]
pub async fn sign_out_other_sessions(
    state: State<'_, DeskState>,
) -> Result<SessionsEnded, ClientError> {
    state.session.sign_out_other_sessions().await
}

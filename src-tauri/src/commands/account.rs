use agent_desk_core::account::{PasswordResetAccepted, Policy, SessionList, SessionsEnded};
use agent_desk_core::password::PasswordCheck;
use agent_desk_ipc::command;
use tauri::State;

use crate::error::CommandError;
use crate::state::DeskState;

/// The rules of the server signed in to: passwords and photos.
#[command]
pub async fn server_policy(state: State<'_, DeskState>) -> Result<Policy, CommandError> {
    Ok(state.session.policy().await?)
}

/// The server's own password rules, run as the agent types, with the server's estimate
/// of how guessable the new password is (for this agent: their name and email count).
#[command]
pub async fn check_password(
    state: State<'_, DeskState>,
    candidate: String,
    current: Option<String>,
) -> Result<PasswordCheck, CommandError> {
    Ok(state
        .session
        .check_password(&candidate, current.as_deref())
        .await?)
}

#[command]
pub async fn change_password(
    state: State<'_, DeskState>,
    current_password: String,
    new_password: String,
    keep_other_sessions: bool,
) -> Result<SessionsEnded, CommandError> {
    Ok(state
        .session
        .change_password(&current_password, &new_password, keep_other_sessions)
        .await?)
}

/// Works signed out: the server is the one in the sign-in form.
#[command]
pub async fn request_password_reset(
    state: State<'_, DeskState>,
    server_url: String,
    email: String,
) -> Result<PasswordResetAccepted, CommandError> {
    Ok(state
        .session
        .request_password_reset(&server_url, &email)
        .await?)
}

#[command]
pub async fn list_sessions(state: State<'_, DeskState>) -> Result<SessionList, CommandError> {
    Ok(state.session.sessions().await?)
}

/// Ends one session; ending the current one signs this app out too.
#[command]
pub async fn end_session(
    state: State<'_, DeskState>,
    session_id: String,
) -> Result<(), CommandError> {
    Ok(state.session.end_session(&session_id).await?)
}

#[command]
pub async fn sign_out_other_sessions(
    state: State<'_, DeskState>,
) -> Result<SessionsEnded, CommandError> {
    Ok(state.session.sign_out_other_sessions().await?)
}

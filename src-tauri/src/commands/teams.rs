//! The Teams screen: joining teams and, for leads, deciding who joins.

use agent_desk_core::teams::{JoinDecision, JoinRequest, JoinRequests, Team};
use agent_desk_ipc::command;
use tauri::State;

use crate::error::CommandError;
use crate::state::DeskState;

/// Every team, each with the agent's membership in it.
#[command]
pub async fn list_teams(state: State<'_, DeskState>) -> Result<Vec<Team>, CommandError> {
    Ok(state.session.teams().await?)
}

/// Asks to join a team; its leads decide. `note` is up to 500 characters or null.
#[command]
pub async fn request_to_join_team(
    state: State<'_, DeskState>,
    team_id: String,
    note: Option<String>,
) -> Result<JoinRequest, CommandError> {
    Ok(state.session.request_to_join(&team_id, note).await?)
}

/// The agent's own requests, and those waiting for the agent's decision as a lead.
#[command]
pub async fn list_join_requests(state: State<'_, DeskState>) -> Result<JoinRequests, CommandError> {
    Ok(state.session.join_requests().await?)
}

#[command]
pub async fn decide_join_request(
    state: State<'_, DeskState>,
    request_id: String,
    approve: bool,
    note: Option<String>,
) -> Result<JoinRequest, CommandError> {
    Ok(state
        .session
        .decide_join_request(&request_id, &JoinDecision { approve, note })
        .await?)
}

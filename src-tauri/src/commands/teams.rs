//! The Teams screen: joining teams and, for leads, deciding who joins.

use agent_desk_client::ClientError;
use agent_desk_core::teams::{JoinDecision, JoinRequest, JoinRequests, Team};
use tauri::State;

use crate::state::DeskState;

#[tauri::command]
pub async fn list_teams(state: State<'_, DeskState>) -> Result<Vec<Team>, ClientError> {
    state.session.teams().await
}

#[tauri::command]
pub async fn request_to_join_team(
    state: State<'_, DeskState>,
    team_id: String,
    note: Option<String>,
) -> Result<JoinRequest, ClientError> {
    state.session.request_to_join(&team_id, note).await
}

#[tauri::command]
pub async fn list_join_requests(state: State<'_, DeskState>) -> Result<JoinRequests, ClientError> {
    state.session.join_requests().await
}

#[tauri::command]
pub async fn decide_join_request(
    state: State<'_, DeskState>,
    request_id: String,
    approve: bool,
    note: Option<String>,
) -> Result<JoinRequest, ClientError> {
    state
        .session
        .decide_join_request(&request_id, &JoinDecision { approve, note })
        .await
}

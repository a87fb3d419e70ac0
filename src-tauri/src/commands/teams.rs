//! The Teams screen: joining teams and, for leads, deciding who joins.

use agent_desk_client::ClientError;
use agent_desk_core::teams::{JoinDecision, JoinRequest, JoinRequests, Team};
use agent_desk_core::{ErrorBody, ErrorCode};
use agent_desk_ipc::command;
use agent_desk_outbox::{LocalChange, Sent};
use tauri::State;

use crate::account;
use crate::error::CommandError;
use crate::state::DeskState;

/// Every team, each with the agent's membership in it.
#[command]
pub async fn list_teams(state: State<'_, DeskState>) -> Result<Vec<Team>, CommandError> {
    Ok(state.session.teams().await?)
}

/// Asks to join a team; its leads decide. `note` is up to 500 characters or null. The
/// request as the server has it, or null while it waits on this computer for the server.
#[command]
pub async fn request_to_join_team(
    state: State<'_, DeskState>,
    team_id: String,
    note: Option<String>,
) -> Result<Option<JoinRequest>, CommandError> {
    // Checked here too: a note too long would wait for a server that refuses it.
    if let Err(message) = agent_desk_core::teams::clean_note(note.as_deref()) {
        return Err(ClientError::Server {
            status: 400,
            body: ErrorBody {
                code: ErrorCode::ValidationFailed,
                message,
                field: Some("note".into()),
                details: Vec::new(),
                retry_after_seconds: None,
            },
        }
        .into());
    }
    let outbox = account::outbox_of(&state)?;
    let api = state.session.api()?;
    match outbox
        .save(&api, LocalChange::JoinRequested { team_id, note }, None)
        .await??
    {
        Sent::Applied(accepted) => Ok(Some(accepted.json()?)),
        Sent::AppliedBefore | Sent::Dropped | Sent::Waiting => Ok(None),
    }
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

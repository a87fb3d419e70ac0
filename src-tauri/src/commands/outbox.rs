//! The changes kept on this computer until the server has them: how many wait, which
//! were refused and why, and the values a merge replaced.

use agent_desk_ipc::command;
use agent_desk_outbox::OutboxState;
use tauri::State;

use crate::account;
use crate::error::CommandError;
use crate::state::DeskState;

/// What waits to be sent, what was refused, and what a merge replaced; empty while no
/// one is signed in.
#[command]
pub fn outbox_state(state: State<'_, DeskState>) -> OutboxState {
    state.outbox().map_or_else(
        || OutboxState {
            reachable: true,
            ..OutboxState::default()
        },
        |outbox| outbox.state(),
    )
}

/// Sends what waits now, without waiting out the pause after a failed attempt.
#[command]
pub fn send_waiting_now(state: State<'_, DeskState>) -> Result<(), CommandError> {
    account::outbox_of(&state)?.wake_now();
    Ok(())
}

/// Deletes a waiting or refused change the agent gave up on.
#[command]
pub async fn discard_change(
    state: State<'_, DeskState>,
    #[ts(type = "number")] seq: i64,
) -> Result<(), CommandError> {
    Ok(account::outbox_of(&state)?.discard(seq).await?)
}

/// Sets a field back to the value a merge replaced.
#[command]
pub async fn restore_replaced(
    state: State<'_, DeskState>,
    #[ts(type = "number")] conflict_id: i64,
) -> Result<(), CommandError> {
    let outbox = account::outbox_of(&state)?;
    let api = state.session.api()?;
    outbox.restore_replaced(&api, conflict_id).await??;
    Ok(())
}

/// Keeps the value the agent's change set, and forgets the one it replaced.
#[command]
pub async fn dismiss_conflict(
    state: State<'_, DeskState>,
    #[ts(type = "number")] conflict_id: i64,
) -> Result<(), CommandError> {
    Ok(account::outbox_of(&state)?
        .dismiss_conflict(conflict_id)
        .await?)
}

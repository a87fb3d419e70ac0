//! The People screen: the directory, each person as the server lets the agent see them.

use agent_desk_client::ClientError;
use agent_desk_core::people::{PeopleFilter, PeoplePage, Person};
use tauri::State;

use crate::state::DeskState;

#[tauri::command]
pub async fn list_people(
    state: State<'_, DeskState>,
    filter: PeopleFilter,
) -> Result<PeoplePage, ClientError> {
    state.session.people(&filter).await
}

#[tauri::command]
pub async fn get_person(state: State<'_, DeskState>, id: String) -> Result<Person, ClientError> {
    state.session.person(&id).await
}

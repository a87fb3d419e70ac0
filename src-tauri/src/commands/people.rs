//! The People screen: the directory, each person as the server lets the agent see them.

use agent_desk_client::ClientError;
use agent_desk_core::customers::{
    ActivityStream, ChangeLog, CustomerPatch, NewCustomer, NewEmail, Note, NotesPage, Organizations,
};
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

#[tauri::command]
pub async fn create_user(
    state: State<'_, DeskState>,
    new: NewCustomer,
) -> Result<Person, ClientError> {
    state.session.api()?.create_user(&new).await
}

#[tauri::command]
pub async fn update_user(
    state: State<'_, DeskState>,
    id: String,
    patch: CustomerPatch,
    version: i64,
) -> Result<Person, ClientError> {
    state.session.api()?.update_user(&id, &patch, version).await
}

#[tauri::command]
pub async fn add_email(
    state: State<'_, DeskState>,
    id: String,
    address: String,
    primary: bool,
) -> Result<Person, ClientError> {
    let new = NewEmail {
        address,
        primary: Some(primary),
    };
    state.session.api()?.add_email(&id, &new).await
}

#[tauri::command]
pub async fn remove_email(
    state: State<'_, DeskState>,
    id: String,
    address: String,
) -> Result<Person, ClientError> {
    state.session.api()?.remove_email(&id, &address).await
}

#[tauri::command]
pub async fn make_primary_email(
    state: State<'_, DeskState>,
    id: String,
    address: String,
) -> Result<Person, ClientError> {
    state.session.api()?.make_primary_email(&id, &address).await
}

#[tauri::command]
pub async fn list_notes(
    state: State<'_, DeskState>,
    id: String,
    cursor: Option<String>,
) -> Result<NotesPage, ClientError> {
    state.session.api()?.notes(&id, cursor.as_deref()).await
}

#[tauri::command]
pub async fn add_note(
    state: State<'_, DeskState>,
    id: String,
    body: String,
) -> Result<Note, ClientError> {
    state.session.api()?.add_note(&id, &body).await
}

#[tauri::command]
pub async fn edit_note(
    state: State<'_, DeskState>,
    note_id: String,
    body: String,
) -> Result<Note, ClientError> {
    state.session.api()?.edit_note(&note_id, &body).await
}

#[tauri::command]
pub async fn delete_note(state: State<'_, DeskState>, note_id: String) -> Result<(), ClientError> {
    state.session.api()?.delete_note(&note_id).await
}

#[tauri::command]
pub async fn list_changes(
    state: State<'_, DeskState>,
    id: String,
) -> Result<ChangeLog, ClientError> {
    state.session.api()?.changes(&id).await
}

#[tauri::command]
pub async fn list_activity(
    state: State<'_, DeskState>,
    id: String,
) -> Result<ActivityStream, ClientError> {
    state.session.api()?.activity(&id).await
}

#[tauri::command]
pub async fn merge_users(
    state: State<'_, DeskState>,
    id: String,
    source: String,
) -> Result<Person, ClientError> {
    state.session.api()?.merge_users(&id, &source).await
}

#[tauri::command]
pub async fn list_organizations(state: State<'_, DeskState>) -> Result<Organizations, ClientError> {
    state.session.api()?.organizations().await
}

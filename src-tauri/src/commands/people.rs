//! The People screen: the directory, each person as the server lets the agent see them.

use agent_desk_core::customers::{
    ActivityStream, ChangeLog, CustomerPatch, NewCustomer, NewEmail, Note, NotesPage, Organizations,
};
use agent_desk_core::people::{PeopleFilter, PeoplePage, Person};
use agent_desk_ipc::command;
use tauri::State;

use crate::error::CommandError;
use crate::state::DeskState;

/// A page of the directory; fields a person's privacy hides from the agent are absent.
#[command]
pub async fn list_people(
    state: State<'_, DeskState>,
    filter: PeopleFilter,
) -> Result<PeoplePage, CommandError> {
    Ok(state.session.people(&filter).await?)
}

#[command]
pub async fn get_person(state: State<'_, DeskState>, id: String) -> Result<Person, CommandError> {
    Ok(state.session.person(&id).await?)
}

/// A new customer's record; the first email is the primary one.
#[command]
pub async fn create_user(
    state: State<'_, DeskState>,
    customer: NewCustomer,
) -> Result<Person, CommandError> {
    Ok(state.session.api()?.create_user(&customer).await?)
}

/// Changes some fields of a customer's record read at `version`.
#[command]
pub async fn update_user(
    state: State<'_, DeskState>,
    id: String,
    patch: CustomerPatch,
    #[ts(type = "number")] version: i64,
) -> Result<Person, CommandError> {
    Ok(state
        .session
        .api()?
        .update_user(&id, &patch, version)
        .await?)
}

#[command]
pub async fn add_email(
    state: State<'_, DeskState>,
    id: String,
    address: String,
    primary: bool,
) -> Result<Person, CommandError> {
    let new = NewEmail {
        address,
        primary: Some(primary),
    };
    Ok(state.session.api()?.add_email(&id, &new).await?)
}

#[command]
pub async fn remove_email(
    state: State<'_, DeskState>,
    id: String,
    address: String,
) -> Result<Person, CommandError> {
    Ok(state.session.api()?.remove_email(&id, &address).await?)
}

#[command]
pub async fn make_primary_email(
    state: State<'_, DeskState>,
    id: String,
    address: String,
) -> Result<Person, CommandError> {
    Ok(state
        .session
        .api()?
        .make_primary_email(&id, &address)
        .await?)
}

/// A person's notes, newest first, a page at a time.
#[command]
pub async fn list_notes(
    state: State<'_, DeskState>,
    id: String,
    cursor: Option<String>,
) -> Result<NotesPage, CommandError> {
    Ok(state.session.api()?.notes(&id, cursor.as_deref()).await?)
}

#[command]
pub async fn add_note(
    state: State<'_, DeskState>,
    id: String,
    body: String,
) -> Result<Note, CommandError> {
    Ok(state.session.api()?.add_note(&id, &body).await?)
}

/// Only the note's author may change or delete it.
#[command]
pub async fn edit_note(
    state: State<'_, DeskState>,
    note_id: String,
    body: String,
) -> Result<Note, CommandError> {
    Ok(state.session.api()?.edit_note(&note_id, &body).await?)
}

#[command]
pub async fn delete_note(state: State<'_, DeskState>, note_id: String) -> Result<(), CommandError> {
    Ok(state.session.api()?.delete_note(&note_id).await?)
}

/// Every edit of a record (or one's own profile), newest first.
#[command]
pub async fn list_changes(
    state: State<'_, DeskState>,
    id: String,
) -> Result<ChangeLog, CommandError> {
    Ok(state.session.api()?.changes(&id).await?)
}

/// Notes and edits of a person together, newest first.
#[command]
pub async fn list_activity(
    state: State<'_, DeskState>,
    id: String,
) -> Result<ActivityStream, CommandError> {
    Ok(state.session.api()?.activity(&id).await?)
}

/// Merges the customer `source` into `id`; `source`'s record is gone after.
#[command]
pub async fn merge_users(
    state: State<'_, DeskState>,
    id: String,
    source: String,
) -> Result<Person, CommandError> {
    Ok(state.session.api()?.merge_users(&id, &source).await?)
}

/// The organizations customers' records name, for the directory's filter.
#[command]
pub async fn list_organizations(
    state: State<'_, DeskState>,
) -> Result<Organizations, CommandError> {
    Ok(state.session.api()?.organizations().await?)
}

//! The People screen: the directory, each person as the server lets the agent see them.

use agent_desk_client::{ClientError, VersionedProfile};
use agent_desk_core::customers::{
    ActivityStream, ChangeLog, CustomerPatch, NewCustomer, NewEmail, Note, NotesPage, Organizations,
};
use agent_desk_core::people::{PeopleFilter, PeoplePage, Person, PersonKind};
use agent_desk_ipc::command;
use agent_desk_outbox::{overlay, LocalChange, Outbox, Sent};
use tauri::State;

use crate::account;
use crate::error::CommandError;
use crate::state::DeskState;

/// A page of the directory; fields a person's privacy hides from the agent are absent.
#[command]
pub async fn list_people(
    state: State<'_, DeskState>,
    filter: PeopleFilter,
) -> Result<PeoplePage, CommandError> {
    match state.session.people(&filter).await {
        Err(error @ ClientError::Unreachable { .. }) => match state.outbox() {
            Some(outbox) => Ok(opened_matching(&outbox, &filter).await?),
            None => Err(error.into()),
        },
        answer => Ok(answer?),
    }
}

/// While the server is away, the directory is the records opened on this computer
/// (the last 20) that match the search, by name or email.
async fn opened_matching(
    outbox: &Outbox,
    filter: &PeopleFilter,
) -> Result<PeoplePage, CommandError> {
    let words: Vec<String> = filter
        .q
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let mut oldest = None;
    let mut people: Vec<Person> = Vec::new();
    for copy in outbox.remembered_all("person").await? {
        let Ok(person) = serde_json::from_value::<Person>(copy.body) else {
            continue;
        };
        let (kind, name, emails) = match &person {
            Person::User(customer) => (
                PersonKind::User,
                customer.name.clone(),
                customer
                    .emails
                    .iter()
                    .map(|email| email.address.clone())
                    .collect(),
            ),
            Person::Agent(colleague) => (
                PersonKind::Agent,
                colleague.display_name.clone(),
                colleague
                    .emails
                    .iter()
                    .flatten()
                    .map(|email| email.address.clone())
                    .collect::<Vec<_>>(),
            ),
        };
        let text = format!("{name} {}", emails.join(" ")).to_lowercase();
        let wanted = filter.kind.is_none_or(|wanted| wanted == kind)
            && words.iter().all(|word| text.contains(word.as_str()));
        if wanted {
            oldest = Some(
                oldest.map_or(copy.fetched_at, |at: chrono::DateTime<chrono::Utc>| {
                    at.min(copy.fetched_at)
                }),
            );
            people.push(person);
        }
    }
    if let Some(oldest) = oldest {
        outbox.showing_copy(oldest);
    }
    people.sort_by_key(|person| match person {
        Person::User(customer) => customer.name.to_lowercase(),
        Person::Agent(colleague) => colleague.display_name.to_lowercase(),
    });
    Ok(PeoplePage {
        people,
        next_cursor: None,
    })
}

/// A person's record: read from the server and kept (with the last 20 opened) to read
/// offline, or the copy kept while the server is away; with the changes waiting for it.
#[command]
pub async fn get_person(state: State<'_, DeskState>, id: String) -> Result<Person, CommandError> {
    let person =
        account::read_or_copy(&state, "person", &id, state.session.person(&id), version_of).await?;
    if let Some(outbox) = state.outbox() {
        // Only a cleanup of old copies: the record is shown either way.
        let _ = outbox.opened(id.clone()).await;
        return Ok(with_waiting_changes(&outbox, &id, person));
    }
    Ok(person)
}

fn version_of(person: &Person) -> Option<i64> {
    match person {
        Person::User(customer) => Some(customer.version),
        Person::Agent(_) => None,
    }
}

/// A record as it will be once the changes waiting for it reach the server.
fn with_waiting_changes(outbox: &Outbox, id: &str, person: Person) -> Person {
    let waiting = outbox.waiting_for(&format!("person:{id}"));
    if waiting.is_empty() {
        return person;
    }
    let Ok(mut record) = serde_json::to_value(&person) else {
        return person;
    };
    for change in &waiting {
        overlay::apply(&mut record, change);
    }
    serde_json::from_value(record).unwrap_or(person)
}

/// A new customer's record; the first email is the primary one.
#[command]
pub async fn create_user(
    state: State<'_, DeskState>,
    customer: NewCustomer,
) -> Result<Person, CommandError> {
    Ok(state.session.api()?.create_user(&customer).await?)
}

/// Changes some fields of a customer's record read at `version`: on this computer first,
/// then on the server (merged field by field if the record moved on meanwhile).
#[command]
pub async fn update_user(
    state: State<'_, DeskState>,
    id: String,
    patch: CustomerPatch,
    #[ts(type = "number")] version: i64,
) -> Result<Person, CommandError> {
    let patch = json(&patch)?;
    save_to_record(
        &state,
        &id,
        LocalChange::Customer {
            person_id: id.clone(),
            patch,
            version,
        },
    )
    .await
}

#[command]
pub async fn add_email(
    state: State<'_, DeskState>,
    id: String,
    address: String,
    primary: bool,
) -> Result<Person, CommandError> {
    let email = NewEmail {
        address,
        primary: Some(primary),
    };
    let change = LocalChange::EmailAdded {
        person_id: id.clone(),
        email,
    };
    save_to_record(&state, &id, change).await
}

#[command]
pub async fn remove_email(
    state: State<'_, DeskState>,
    id: String,
    address: String,
) -> Result<Person, CommandError> {
    let change = LocalChange::EmailRemoved {
        person_id: id.clone(),
        address,
    };
    save_to_record(&state, &id, change).await
}

#[command]
pub async fn make_primary_email(
    state: State<'_, DeskState>,
    id: String,
    address: String,
) -> Result<Person, CommandError> {
    let change = LocalChange::EmailMadePrimary {
        person_id: id.clone(),
        address,
    };
    save_to_record(&state, &id, change).await
}

fn json(value: &impl serde::Serialize) -> Result<serde_json::Value, CommandError> {
    serde_json::to_value(value).map_err(|error| ClientError::LocalFile(error.to_string()).into())
}

/// Saves a change of person `id`'s record, and answers the record as it is (or will be).
async fn save_to_record(
    state: &DeskState,
    id: &str,
    change: LocalChange,
) -> Result<Person, CommandError> {
    let outbox = account::outbox_of(state)?;
    let api = state.session.api()?;
    match outbox.save(&api, change, None).await?? {
        Sent::Applied(accepted) => Ok(accepted.json()?),
        Sent::AppliedBefore | Sent::Dropped => Ok(state.session.person(id).await?),
        Sent::Waiting => {
            let copy = outbox
                .remembered("person", id.to_owned())
                .await?
                .and_then(|copy| serde_json::from_value::<Person>(copy.body).ok())
                .ok_or(ClientError::Unreachable {
                    url: api.server_url().to_owned(),
                    reason: "the record was not opened on this computer before".into(),
                })?;
            Ok(with_waiting_changes(&outbox, id, copy))
        }
    }
}

/// A person's notes, newest first, a page at a time; the first page kept to read offline,
/// with the notes waiting to be sent on top.
#[command]
pub async fn list_notes(
    state: State<'_, DeskState>,
    id: String,
    cursor: Option<String>,
) -> Result<NotesPage, CommandError> {
    let Some(cursor) = cursor else {
        let read = state.session.api()?.notes(&id, None).await;
        let mut page =
            account::read_or_copy(&state, "notes", &id, std::future::ready(read), |_| None).await?;
        if let Some(outbox) = state.outbox() {
            with_waiting_notes(&outbox, &id, &mut page).await;
        }
        return Ok(page);
    };
    Ok(state.session.api()?.notes(&id, Some(&cursor)).await?)
}

/// The id a note waiting to be sent is shown with.
const LOCAL_NOTE: &str = "local:";

/// Notes added, edited or deleted while the server was away, shown as they will be.
async fn with_waiting_notes(outbox: &Outbox, person_id: &str, page: &mut NotesPage) {
    let author = outbox
        .remembered("profile", String::new())
        .await
        .ok()
        .flatten()
        .and_then(|copy| serde_json::from_value::<VersionedProfile>(copy.body).ok());
    for waiting in outbox.state().changes {
        if waiting.refused.is_some() {
            continue;
        }
        match waiting.change {
            LocalChange::NoteAdded {
                person_id: of,
                body,
            } if of == person_id => {
                page.notes.insert(
                    0,
                    Note {
                        id: format!("{LOCAL_NOTE}{}", waiting.seq),
                        person_id: of,
                        author_id: author.as_ref().map(|me| me.profile.id.clone()),
                        author_name: author.as_ref().map(|me| me.profile.display_name.clone()),
                        body,
                        created_at: waiting.created_at,
                        updated_at: waiting.created_at,
                    },
                );
                page.total += 1;
            }
            LocalChange::NoteEdited { note_id, body } => {
                if let Some(note) = page.notes.iter_mut().find(|note| note.id == note_id) {
                    note.body = body;
                }
            }
            LocalChange::NoteDeleted { note_id } => {
                let before = page.notes.len();
                page.notes.retain(|note| note.id != note_id);
                if page.notes.len() < before {
                    page.total = page.total.saturating_sub(1);
                }
            }
            _ => {}
        }
    }
}

/// The change a note shown as waiting (`local:<seq>`) is.
fn waiting_note(note_id: &str) -> Option<i64> {
    note_id.strip_prefix(LOCAL_NOTE)?.parse().ok()
}

#[command]
pub async fn add_note(
    state: State<'_, DeskState>,
    id: String,
    body: String,
) -> Result<Note, CommandError> {
    let outbox = account::outbox_of(&state)?;
    let api = state.session.api()?;
    let change = LocalChange::NoteAdded {
        person_id: id.clone(),
        body: body.clone(),
    };
    match outbox.save(&api, change, None).await?? {
        Sent::Applied(accepted) => Ok(accepted.json()?),
        // Added by an earlier send whose answer was lost: the newest of those notes.
        Sent::AppliedBefore => api
            .notes(&id, None)
            .await?
            .notes
            .into_iter()
            .find(|note| note.body == body.trim())
            .ok_or_else(|| {
                ClientError::UnexpectedResponse {
                    status: 409,
                    reason: "the note was added, but is not among the newest".into(),
                }
                .into()
            }),
        Sent::Dropped | Sent::Waiting => {
            let mut page = NotesPage {
                notes: Vec::new(),
                total: 0,
                next_cursor: None,
            };
            with_waiting_notes(&outbox, &id, &mut page).await;
            page.notes
                .into_iter()
                .find(|note| note.body == body)
                .ok_or_else(|| CommandError::NotSignedIn)
        }
    }
}

/// Only the note's author may change or delete it. A note still waiting to be sent is
/// changed where it waits.
#[command]
pub async fn edit_note(
    state: State<'_, DeskState>,
    note_id: String,
    body: String,
) -> Result<Note, CommandError> {
    let outbox = account::outbox_of(&state)?;
    if let Some(seq) = waiting_note(&note_id) {
        let waiting = outbox
            .state()
            .changes
            .into_iter()
            .find(|waiting| waiting.seq == seq);
        let Some(LocalChange::NoteAdded { person_id, .. }) = waiting.map(|w| w.change) else {
            return Err(being_sent());
        };
        let change = LocalChange::NoteAdded {
            person_id: person_id.clone(),
            body: body.clone(),
        };
        if !outbox.replace_unsent(seq, change).await? {
            return Err(being_sent());
        }
        let mut page = NotesPage {
            notes: Vec::new(),
            total: 0,
            next_cursor: None,
        };
        with_waiting_notes(&outbox, &person_id, &mut page).await;
        return page
            .notes
            .into_iter()
            .find(|note| note.id == note_id)
            .ok_or_else(being_sent);
    }
    let api = state.session.api()?;
    let change = LocalChange::NoteEdited {
        note_id: note_id.clone(),
        body: body.clone(),
    };
    match outbox.save(&api, change, None).await?? {
        Sent::Applied(accepted) => Ok(accepted.json()?),
        Sent::AppliedBefore | Sent::Dropped | Sent::Waiting => {
            // The note as last read, with the edit: what the server will have.
            let kept = outbox.remembered_all("notes").await?;
            let note = kept
                .into_iter()
                .filter_map(|copy| serde_json::from_value::<NotesPage>(copy.body).ok())
                .flat_map(|page| page.notes)
                .find(|note| note.id == note_id);
            // Not read on this computer before (an older page): the edit as it will be.
            Ok(note.map_or_else(
                || Note {
                    id: note_id.clone(),
                    person_id: String::new(),
                    author_id: None,
                    author_name: None,
                    body: body.clone(),
                    created_at: chrono::Utc::now(),
                    updated_at: chrono::Utc::now(),
                },
                |note| Note {
                    body: body.clone(),
                    updated_at: chrono::Utc::now(),
                    ..note
                },
            ))
        }
    }
}

/// A note that is on its way to the server cannot change until it is there.
fn being_sent() -> CommandError {
    ClientError::LocalFile(
        "This note is being sent to the server; change it once it is saved there.".into(),
    )
    .into()
}

#[command]
pub async fn delete_note(state: State<'_, DeskState>, note_id: String) -> Result<(), CommandError> {
    let outbox = account::outbox_of(&state)?;
    if let Some(seq) = waiting_note(&note_id) {
        return if outbox.take_back(seq).await? {
            Ok(())
        } else {
            Err(being_sent())
        };
    }
    let api = state.session.api()?;
    outbox
        .save(&api, LocalChange::NoteDeleted { note_id }, None)
        .await??;
    Ok(())
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

/// Every organization, for the directory's filter and a record's picker.
#[command]
pub async fn list_organizations(
    state: State<'_, DeskState>,
) -> Result<Organizations, CommandError> {
    Ok(state.session.api()?.organizations().await?)
}

/// Makes an organization with nobody in it yet; any agent may.
#[command]
pub async fn create_organization(
    state: State<'_, DeskState>,
    name: String,
) -> Result<agent_desk_core::customers::OrganizationEntry, CommandError> {
    Ok(state.session.api()?.create_organization(&name).await?)
}

/// The usergroups administrators keep; while there are none, a record names any.
#[command]
pub async fn list_usergroups(
    state: State<'_, DeskState>,
) -> Result<agent_desk_core::customers::Usergroups, CommandError> {
    Ok(state.session.api()?.usergroups().await?)
}

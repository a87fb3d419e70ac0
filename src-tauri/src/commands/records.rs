//! A person's record beyond its fields: files, ticket history and sign-ins.

use std::path::{Path, PathBuf};

use agent_desk_client::downloads::save_new_file;
use agent_desk_client::ClientError;
use agent_desk_core::account::LoginActivity;
use agent_desk_core::attachments::{FileList, PersonFile};
use agent_desk_core::tickets::{TicketHistory, TicketSort};
use percent_encoding::percent_decode_str;
use tauri::ipc::{InvokeBody, Request};
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_opener::OpenerExt;

use crate::state::DeskState;

#[tauri::command]
pub async fn list_files(state: State<'_, DeskState>, id: String) -> Result<FileList, ClientError> {
    state.session.api()?.files(&id).await
}

/// Keeps a picked file on a customer's record. The bytes are the raw body of the call;
/// the record and the file's name come as the `person-id` and `file-name` headers,
/// percent-encoded so any name survives.
#[tauri::command]
pub async fn upload_file(
    request: Request<'_>,
    state: State<'_, DeskState>,
) -> Result<PersonFile, ClientError> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(ClientError::LocalFile(
            "The file did not arrive as a file.".into(),
        ));
    };
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| percent_decode_str(value).decode_utf8().ok())
            .map(|value| value.into_owned())
            .ok_or_else(|| ClientError::LocalFile(format!("The upload has no {name}.")))
    };
    let person_id = header("person-id")?;
    let name = header("file-name")?;
    state
        .session
        .api()?
        .upload_file(&person_id, &name, bytes.clone())
        .await
}

/// Where downloads go: the OS's downloads folder, else `Downloads` in the home folder
/// (a Linux desktop without XDG user folders has none set).
fn downloads_folder<R: Runtime>(app: &AppHandle<R>) -> Result<PathBuf, ClientError> {
    app.path()
        .download_dir()
        .or_else(|_| app.path().home_dir().map(|home| home.join("Downloads")))
        .map_err(|error| ClientError::LocalFile(format!("There is no downloads folder: {error}")))
}

/// Downloads a file into the downloads folder under its own name (numbered when taken)
/// and answers where it went.
#[tauri::command]
pub async fn save_file<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
    file_id: String,
    name: String,
) -> Result<String, ClientError> {
    let bytes = state.session.api()?.download_file(&file_id).await?;
    let folder = downloads_folder(&app)?;
    let saved = tauri::async_runtime::spawn_blocking(move || save_new_file(&folder, &name, &bytes))
        .await
        .map_err(|error| ClientError::LocalFile(error.to_string()))??;
    Ok(saved.to_string_lossy().into_owned())
}

/// Shows a saved download in the file manager. Only files in the downloads folder:
/// the web side cannot have any other path revealed.
#[tauri::command]
pub fn show_saved_file<R: Runtime>(app: AppHandle<R>, path: String) -> Result<(), ClientError> {
    let folder = downloads_folder(&app)?;
    let path = Path::new(&path);
    if path.parent() != Some(folder.as_path()) || !path.is_file() {
        return Err(ClientError::LocalFile(
            "Only a file saved in the downloads folder can be shown.".into(),
        ));
    }
    app.opener()
        .reveal_item_in_dir(path)
        .map_err(|error| ClientError::LocalFile(format!("The file manager did not open: {error}")))
}

#[tauri::command]
pub async fn delete_file(state: State<'_, DeskState>, file_id: String) -> Result<(), ClientError> {
    state.session.api()?.delete_file(&file_id).await
}

#[tauri::command]
pub async fn list_tickets(
    state: State<'_, DeskState>,
    id: String,
    sort: TicketSort,
) -> Result<TicketHistory, ClientError> {
    state.session.api()?.tickets(&id, sort).await
}

#[tauri::command]
pub async fn list_logins(
    state: State<'_, DeskState>,
    id: String,
) -> Result<LoginActivity, ClientError> {
    state.session.api()?.logins(&id).await
}

/// Opens a ticket's page in the default browser: only `http` and `https` addresses.
#[tauri::command]
pub fn open_ticket<R: Runtime>(app: AppHandle<R>, url: String) -> Result<(), ClientError> {
    crate::alerts::open_ticket(&app, &url)
}

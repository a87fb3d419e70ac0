//! A person's record beyond its fields: files, ticket history and sign-ins.

use std::path::{Path, PathBuf};

use agent_desk_client::downloads::save_new_file;
use agent_desk_core::account::LoginActivity;
use agent_desk_core::attachments::{FileList, PersonFile};
use agent_desk_core::tickets::{TicketHistory, TicketSort};
use agent_desk_ipc::command;
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_opener::OpenerExt;

use crate::error::CommandError;
use crate::state::DeskState;

/// A customer's files, newest first, and the largest file the server takes.
#[command]
pub async fn list_files(state: State<'_, DeskState>, id: String) -> Result<FileList, CommandError> {
    Ok(state.session.api()?.files(&id).await?)
}

/// Keeps a file (its bytes) on a customer's record under its name.
#[command]
pub async fn upload_file(
    #[ipc(header)] person_id: String,
    #[ipc(header)] file_name: String,
    #[ipc(body)] file: Vec<u8>,
    state: State<'_, DeskState>,
) -> Result<PersonFile, CommandError> {
    Ok(state
        .session
        .api()?
        .upload_file(&person_id, &file_name, file)
        .await?)
}

/// Where downloads go: the OS's downloads folder, else `Downloads` in the home folder
/// (a Linux desktop without XDG user folders has none set).
fn downloads_folder<R: Runtime>(app: &AppHandle<R>) -> Result<PathBuf, CommandError> {
    app.path()
        .download_dir()
        .or_else(|_| app.path().home_dir().map(|home| home.join("Downloads")))
        .map_err(CommandError::NoDownloadsFolder)
}

/// Downloads a file into the Downloads folder under its own name (numbered when taken);
/// answers the path it was saved at.
#[command]
pub async fn save_file<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
    file_id: String,
    name: String,
) -> Result<String, CommandError> {
    let bytes = state.session.api()?.download_file(&file_id).await?;
    let folder = downloads_folder(&app)?;
    let saved = tauri::async_runtime::spawn_blocking(move || save_new_file(&folder, &name, &bytes))
        .await
        .map_err(CommandError::Interrupted)??;
    Ok(saved.to_string_lossy().into_owned())
}

/// Shows a file `saveFile` saved in the file manager. Only files in the downloads
/// folder: the web side cannot have any other path revealed.
#[command]
pub fn show_saved_file<R: Runtime>(app: AppHandle<R>, path: String) -> Result<(), CommandError> {
    let folder = downloads_folder(&app)?;
    let path = Path::new(&path);
    if path.parent() != Some(folder.as_path()) || !path.is_file() {
        return Err(CommandError::NotADownload);
    }
    app.opener()
        .reveal_item_in_dir(path)
        .map_err(CommandError::FileManager)
}

/// Only the agent who added the file, or an administrator, may.
#[command]
pub async fn delete_file(state: State<'_, DeskState>, file_id: String) -> Result<(), CommandError> {
    Ok(state.session.api()?.delete_file(&file_id).await?)
}

/// A person's tickets; an agent's only to that agent and administrators.
#[command]
pub async fn list_tickets(
    state: State<'_, DeskState>,
    id: String,
    sort: TicketSort,
) -> Result<TicketHistory, CommandError> {
    Ok(state.session.api()?.tickets(&id, sort).await?)
}

/// An agent's latest sign-in attempts, to that agent and administrators.
#[command]
pub async fn list_logins(
    state: State<'_, DeskState>,
    id: String,
) -> Result<LoginActivity, CommandError> {
    Ok(state.session.api()?.logins(&id).await?)
}

/// Opens a ticket's page in the default browser: only `http` and `https` addresses.
#[command]
pub fn open_ticket<R: Runtime>(app: AppHandle<R>, url: String) -> Result<(), CommandError> {
    crate::alerts::open_ticket(&app, &url)
}

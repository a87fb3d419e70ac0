use agent_desk_client::{ClientError, VersionedProfile};
use agent_desk_core::locale::timezones;
use agent_desk_core::{
    validate_patch, FieldError, Language, ProfilePatch, TimeZoneInfo, APP_LANGUAGES,
};
use tauri::State;

use crate::state::DeskState;

#[tauri::command]
pub async fn get_profile(state: State<'_, DeskState>) -> Result<VersionedProfile, ClientError> {
    state.session.profile().await
}

#[tauri::command]
pub async fn update_profile(
    state: State<'_, DeskState>,
    patch: ProfilePatch,
    etag: String,
) -> Result<VersionedProfile, ClientError> {
    let saved = state.session.update_profile(&patch, &etag).await?;
    state.set_unsaved_changes(false);
    Ok(saved)
}

/// The server's own field rules, run as the agent types. Async, so off the main thread: the
/// first phone number loads the numbering plan metadata (about 200 ms), and a command on
/// the main thread would hold up drawing the window meanwhile.
#[tauri::command]
pub async fn validate_profile(patch: ProfilePatch) -> Vec<FieldError> {
    validate_patch(&patch).err().unwrap_or_default()
}

/// Async so the few hundred zones are listed off the main thread, which draws the window.
#[tauri::command]
pub async fn list_timezones() -> Vec<TimeZoneInfo> {
    timezones(chrono::Utc::now())
}

/// The languages an agent's profile may choose: those the app is translated into, as the
/// profile's language is the app's (a customer's record may name any of `LANGUAGES`).
#[tauri::command]
pub fn list_languages() -> &'static [Language] {
    APP_LANGUAGES
}

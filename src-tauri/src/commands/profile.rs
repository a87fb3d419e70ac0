use agent_desk_client::VersionedProfile;
use agent_desk_core::locale::timezones;
use agent_desk_core::people::PrivacyPreview;
use agent_desk_core::{
    validate_patch, ContactPrefs, FieldError, Language, ProfilePatch, TimeZoneInfo, Visibility,
    APP_LANGUAGES,
};
use agent_desk_ipc::command;
use tauri::State;

use crate::error::CommandError;
use crate::state::DeskState;

#[command]
pub async fn get_profile(state: State<'_, DeskState>) -> Result<VersionedProfile, CommandError> {
    Ok(state.session.profile().await?)
}

/// Saves the fields of `patch` on the profile read at `etag`.
#[command]
pub async fn update_profile(
    state: State<'_, DeskState>,
    patch: ProfilePatch,
    etag: String,
) -> Result<VersionedProfile, CommandError> {
    let saved = state.session.update_profile(&patch, &etag).await?;
    state.set_unsaved_changes(false);
    Ok(saved)
}

/// The server's own field rules, run as the agent types.
// Async, so off the main thread: the first phone number loads the numbering plan
// metadata (about 200 ms), and a command on the main thread would hold up drawing.
#[command]
pub async fn validate_profile(patch: ProfilePatch) -> Vec<FieldError> {
    validate_patch(&patch).err().unwrap_or_default()
}

/// Every time zone with its current offset.
// Async so the few hundred zones are listed off the main thread, which draws the window.
#[command]
pub async fn list_timezones() -> Vec<TimeZoneInfo> {
    timezones(chrono::Utc::now())
}

/// The languages an agent's profile may choose: those the app is translated into, as the
/// profile's language is the app's (a customer's record may name any language).
#[command]
pub fn list_languages() -> &'static [Language] {
    APP_LANGUAGES
}

/// What colleagues of the agent's department, and of others, would see under privacy
/// settings being edited: the server's own rule, before anything is saved.
#[command]
pub fn privacy_preview(
    visibility: Visibility,
    contact_prefs: ContactPrefs,
    department: Option<String>,
) -> PrivacyPreview {
    PrivacyPreview::of(visibility, &contact_prefs, department.as_deref())
}

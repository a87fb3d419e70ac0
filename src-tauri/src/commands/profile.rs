use agent_desk_client::{ClientError, VersionedProfile};
use agent_desk_core::locale::timezones;
use agent_desk_core::people::PrivacyPreview;
use agent_desk_core::{
    validate_patch, ContactPrefs, FieldError, Language, ProfilePatch, TimeZoneInfo, Visibility,
    APP_LANGUAGES,
};
use agent_desk_ipc::command;
use agent_desk_outbox::{LocalChange, Outbox, Sent};
use tauri::State;

use crate::account;
use crate::error::CommandError;
use crate::state::DeskState;

#[command]
pub async fn get_profile(state: State<'_, DeskState>) -> Result<VersionedProfile, CommandError> {
    let read = state.session.profile();
    let profile = account::read_or_copy(&state, "profile", "", read, |profile| {
        account::etag_version(&profile.etag)
    })
    .await?;
    Ok(match state.outbox() {
        Some(outbox) => with_waiting_changes(&outbox, profile),
        None => profile,
    })
}

/// Saves the fields of `patch` on the profile read at `etag`: on this computer first,
/// then on the server, now or once it can be reached.
#[command]
pub async fn update_profile(
    state: State<'_, DeskState>,
    patch: ProfilePatch,
    etag: String,
) -> Result<VersionedProfile, CommandError> {
    let patch = validate_patch(&patch).map_err(ClientError::Validation)?;
    let outbox = account::outbox_of(&state)?;
    let api = state.session.api()?;
    let change = LocalChange::Profile {
        patch: serde_json::to_value(&patch)
            .map_err(|error| ClientError::LocalFile(error.to_string()))?,
        // An ETag of no version this server gave: the merge reads the profile afresh.
        version: account::etag_version(&etag).unwrap_or(0),
    };
    let sent = outbox.save(&api, change, None).await??;
    let saved = profile_after(&state, &outbox, sent).await?;
    state.set_unsaved_changes(false);
    Ok(saved)
}

/// The profile after a change of it was sent (or kept to send).
pub async fn profile_after(
    state: &DeskState,
    outbox: &Outbox,
    sent: Sent,
) -> Result<VersionedProfile, CommandError> {
    match sent {
        Sent::Applied(accepted) => Ok(VersionedProfile {
            profile: accepted.json()?,
            etag: accepted.etag.unwrap_or_default(),
        }),
        Sent::AppliedBefore | Sent::Dropped => Ok(state.session.profile().await?),
        Sent::Waiting => {
            let copy = outbox
                .remembered("profile", String::new())
                .await?
                .and_then(|copy| serde_json::from_value::<VersionedProfile>(copy.body).ok());
            match copy {
                Some(profile) => Ok(with_waiting_changes(outbox, profile)),
                None => Err(CommandError::NotSignedIn),
            }
        }
    }
}

/// The profile as it will be once the changes waiting for it reach the server.
pub fn with_waiting_changes(outbox: &Outbox, mut profile: VersionedProfile) -> VersionedProfile {
    for change in outbox.waiting_for("profile") {
        match change {
            LocalChange::Profile { patch, .. } => {
                if let Ok(patch) = serde_json::from_value::<ProfilePatch>(patch) {
                    // Department changes are requests an administrator decides: shown as
                    // such once the server has them.
                    let patch = ProfilePatch {
                        department: None,
                        ..patch
                    };
                    patch.apply_to(&mut profile.profile);
                }
            }
            LocalChange::Photo => {
                profile.profile.avatar_url = Some(crate::commands::photo::WAITING_PHOTO.into());
            }
            LocalChange::PhotoRemoved => profile.profile.avatar_url = None,
            LocalChange::Status { update } => {
                profile.profile.status = update.status;
                profile.profile.status_until = update.until;
            }
            _ => {}
        }
    }
    profile
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

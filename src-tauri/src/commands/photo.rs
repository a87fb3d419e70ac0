//! The Profile screen's photo: pick, crop, save, remove, and show.

use agent_desk_client::VersionedProfile;
use agent_desk_core::{AvatarCrop, AvatarSource, InitialsAvatar};
use agent_desk_ipc::command;
use tauri::State;

use crate::error::CommandError;
use crate::state::DeskState;

/// Checks and keeps a picked photo (the file's bytes, sent as bytes rather than JSON)
/// and answers a preview to crop on.
#[command]
pub async fn prepare_avatar(
    #[ipc(body)] photo: Vec<u8>,
    state: State<'_, DeskState>,
) -> Result<AvatarSource, CommandError> {
    Ok(state.photos.prepare(&state.session, photo).await?)
}

/// Crops a prepared photo and makes it the agent's; the profile gets a new version.
#[command]
pub async fn save_avatar(
    source_id: String,
    crop: AvatarCrop,
    state: State<'_, DeskState>,
) -> Result<VersionedProfile, CommandError> {
    Ok(state.photos.save(&state.session, &source_id, crop).await?)
}

/// Lets go of a prepared photo the agent did not save.
#[command]
pub fn discard_avatar(state: State<'_, DeskState>) {
    state.photos.discard();
}

#[command]
pub async fn remove_avatar(state: State<'_, DeskState>) -> Result<VersionedProfile, CommandError> {
    Ok(state.session.remove_avatar().await?)
}

/// A stored photo (a profile's `avatar_url`) as a `data:` URL: the CSP allows no other
/// image origin.
#[command]
pub async fn avatar_image(
    url: String,
    state: State<'_, DeskState>,
) -> Result<String, CommandError> {
    Ok(state.photos.image(&state.session, &url).await?.to_string())
}

/// What stands in for a missing photo.
#[command]
pub fn initials_avatar(id: String, display_name: String) -> InitialsAvatar {
    agent_desk_avatar::initials_avatar(&id, &display_name)
}

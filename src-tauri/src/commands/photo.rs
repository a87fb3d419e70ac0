//! The Profile screen's photo: pick, crop, save, remove, and show.

use agent_desk_client::VersionedProfile;
use agent_desk_core::{AvatarCrop, AvatarSource, InitialsAvatar};
use agent_desk_ipc::command;
use tauri::State;

use agent_desk_outbox::LocalChange;

use crate::account;
use crate::error::CommandError;
use crate::state::DeskState;

/// Checks and keeps a picked photo (the file's bytes, sent as bytes rather than JSON)
/// and answers a preview to crop on. The server's limits are the ones last read when it
/// cannot be reached.
#[command]
pub async fn prepare_avatar(
    #[ipc(body)] photo: Vec<u8>,
    state: State<'_, DeskState>,
) -> Result<AvatarSource, CommandError> {
    let policy =
        account::read_or_copy(&state, "policy", "", state.session.policy(), |_| None).await?;
    Ok(state.photos.prepare(&policy, photo).await?)
}

/// Crops a prepared photo and makes it the agent's (on this computer first, then on the
/// server); the profile gets a new version.
#[command]
pub async fn save_avatar(
    source_id: String,
    crop: AvatarCrop,
    state: State<'_, DeskState>,
) -> Result<VersionedProfile, CommandError> {
    let jpeg = state.photos.render(&source_id, crop).await?;
    let outbox = account::outbox_of(&state)?;
    let api = state.session.api()?;
    let sent = outbox.save(&api, LocalChange::Photo, Some(jpeg)).await??;
    state.photos.saved(&source_id);
    crate::commands::profile::profile_after(&state, &outbox, sent).await
}

/// Lets go of a prepared photo the agent did not save.
#[command]
pub fn discard_avatar(state: State<'_, DeskState>) {
    state.photos.discard();
}

#[command]
pub async fn remove_avatar(state: State<'_, DeskState>) -> Result<VersionedProfile, CommandError> {
    let outbox = account::outbox_of(&state)?;
    let api = state.session.api()?;
    let sent = outbox.save(&api, LocalChange::PhotoRemoved, None).await??;
    crate::commands::profile::profile_after(&state, &outbox, sent).await
}

/// A stored photo (a profile's `avatar_url`) as a `data:` URL: the CSP allows no other
/// image origin.
#[command]
pub async fn avatar_image(
    url: String,
    state: State<'_, DeskState>,
) -> Result<String, CommandError> {
    if url == WAITING_PHOTO {
        let jpeg = account::outbox_of(&state)?
            .waiting_photo()
            .await?
            .ok_or(CommandError::NotSignedIn)?;
        return Ok(agent_desk_client::photo::data_url(&jpeg));
    }
    Ok(state.photos.image(&state.session, &url).await?.to_string())
}

/// The `avatar_url` of a photo saved on this computer and not yet on the server.
pub const WAITING_PHOTO: &str = "local:photo";

/// What stands in for a missing photo.
#[command]
pub fn initials_avatar(id: String, display_name: String) -> InitialsAvatar {
    agent_desk_avatar::initials_avatar(&id, &display_name)
}

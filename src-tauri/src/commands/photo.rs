//! The Profile screen's photo: pick, crop, save, remove, and show.

use agent_desk_client::{ClientError, VersionedProfile};
use agent_desk_core::{AvatarCrop, AvatarSource, ErrorCode, InitialsAvatar};
use tauri::ipc::{InvokeBody, Request};
use tauri::State;

use crate::state::DeskState;

/// Checks a picked file and answers its preview. The file's bytes are the raw body of
/// the call, so a 5 MB photo crosses IPC without JSON.
#[tauri::command]
pub async fn prepare_avatar(
    request: Request<'_>,
    state: State<'_, DeskState>,
) -> Result<AvatarSource, ClientError> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(ClientError::Photo {
            code: ErrorCode::InvalidImage,
            message: "The photo did not arrive as a file.".into(),
        });
    };
    state.photos.prepare(&state.session, bytes.clone()).await
}

#[tauri::command]
pub async fn save_avatar(
    source_id: String,
    crop: AvatarCrop,
    state: State<'_, DeskState>,
) -> Result<VersionedProfile, ClientError> {
    state.photos.save(&state.session, &source_id, crop).await
}

/// The agent closed the crop editor without saving.
#[tauri::command]
pub fn discard_avatar(state: State<'_, DeskState>) {
    state.photos.discard();
}

#[tauri::command]
pub async fn remove_avatar(state: State<'_, DeskState>) -> Result<VersionedProfile, ClientError> {
    state.session.remove_avatar().await
}

/// A stored photo as a `data:` URL (the CSP allows no other image origin).
#[tauri::command]
pub async fn avatar_image(url: String, state: State<'_, DeskState>) -> Result<String, ClientError> {
    Ok(state.photos.image(&state.session, &url).await?.to_string())
}

#[tauri::command]
pub fn initials_avatar(id: String, display_name: String) -> InitialsAvatar {
    agent_desk_avatar::initials_avatar(&id, &display_name)
}

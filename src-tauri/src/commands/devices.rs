//! The Devices screen: choose and test the microphone, speaker and alert device.
//! The work is blocking (the sound system may take seconds), so it runs off the async
//! runtime's threads; readings and device changes arrive as events.

use std::sync::Arc;

use agent_desk_audio::{AudioDesk, AudioError, AudioRole, AudioState, DeviceChoice};
use agent_desk_client::{ClientError, ClientErrorCode, IpcError};
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::state::DeskState;

fn audio_error(error: AudioError) -> ClientError {
    let code = match &error {
        AudioError::NoDevice { .. } => ClientErrorCode::AudioNoDevice,
        AudioError::UnknownDevice { .. } => ClientErrorCode::AudioUnknownDevice,
        AudioError::CannotOpen(_) => ClientErrorCode::AudioCannotOpen,
        AudioError::NoData { .. } => ClientErrorCode::AudioNoData,
        AudioError::Disconnected { .. } => ClientErrorCode::AudioDisconnected,
        AudioError::Timeout { .. } => ClientErrorCode::AudioTimeout,
        AudioError::InvalidArgument(_) => ClientErrorCode::AudioInvalid,
        AudioError::Backend(_) => ClientErrorCode::AudioBackend,
    };
    ClientError::Audio {
        code,
        message: agent_desk_client::error::sentence(&error.to_string()),
    }
}

/// How long after start-up the audio engine starts: late enough not to compete with the
/// first screen, early enough that the device list is known (and outputs open) before
/// the agent opens Devices or the first alert sounds.
const AUDIO_START_DELAY: std::time::Duration = std::time::Duration::from_secs(3);

pub fn start_audio_after_startup<R: Runtime>(app: AppHandle<R>) {
    let _ = std::thread::Builder::new()
        .name("audio: start".into())
        .spawn(move || {
            std::thread::sleep(AUDIO_START_DELAY);
            let state = app.state::<DeskState>();
            desk(&app, &state);
        });
}

/// The audio engine, started now if it was not yet.
pub fn audio_desk<R: Runtime>(app: &AppHandle<R>) -> Arc<AudioDesk> {
    desk(app, &app.state::<DeskState>())
}

fn desk<R: Runtime>(app: &AppHandle<R>, state: &DeskState) -> Arc<AudioDesk> {
    let app = app.clone();
    state.audio(move |changed| {
        let _ = app.emit("audio-devices-changed", changed);
    })
}

/// Runs blocking audio work on a thread meant for it.
async fn blocking<T: Send + 'static>(
    desk: Arc<AudioDesk>,
    work: impl FnOnce(&AudioDesk) -> Result<T, AudioError> + Send + 'static,
) -> Result<T, ClientError> {
    tauri::async_runtime::spawn_blocking(move || work(&desk))
        .await
        .map_err(|e| ClientError::Audio {
            code: ClientErrorCode::AudioBackend,
            message: e.to_string(),
        })?
        .map_err(audio_error)
}

#[tauri::command]
pub async fn audio_state<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<AudioState, ClientError> {
    blocking(desk(&app, &state), AudioDesk::state).await
}

#[tauri::command]
pub async fn choose_audio_device<R: Runtime>(
    role: AudioRole,
    choice: DeviceChoice,
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<AudioState, ClientError> {
    blocking(desk(&app, &state), move |desk| desk.choose(role, choice)).await
}

#[tauri::command]
pub async fn set_alert_volume<R: Runtime>(
    volume: f32,
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<AudioState, ClientError> {
    blocking(desk(&app, &state), move |desk| {
        desk.set_alert_volume(volume)
    })
    .await
}

/// Starts the meter: `mic-level` events (~30 a second) until `stop_mic_test`, then one
/// `mic-test-ended` (with the error, if the device failed).
#[tauri::command]
pub async fn start_mic_test<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<(), ClientError> {
    let (levels, ended) = (app.clone(), app.clone());
    blocking(desk(&app, &state), move |desk| {
        desk.start_mic_test(
            move |reading| {
                let _ = levels.emit("mic-level", reading);
            },
            move |error| {
                let _ = ended.emit(
                    "mic-test-ended",
                    error.map(|e| IpcError::from(audio_error(e))),
                );
            },
        )
    })
    .await
}

#[tauri::command]
pub async fn stop_mic_test<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<(), ClientError> {
    blocking(desk(&app, &state), |desk| {
        desk.stop_mic_test();
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn record_sample<R: Runtime>(
    seconds: f32,
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<(), ClientError> {
    blocking(desk(&app, &state), move |desk| desk.record_sample(seconds)).await
}

#[tauri::command]
pub async fn play_sample<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<(), ClientError> {
    blocking(desk(&app, &state), AudioDesk::play_sample).await
}

/// Plays the chime on the speaker or the alert device.
#[tauri::command]
pub async fn test_output<R: Runtime>(
    role: AudioRole,
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<(), ClientError> {
    blocking(desk(&app, &state), move |desk| desk.test_output(role)).await
}

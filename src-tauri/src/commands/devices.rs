//! The Devices screen: choose and test the microphone, speaker and alert device.
//! The work is blocking (the sound system may take seconds), so it runs off the async
//! runtime's threads; readings and device changes arrive as events.

use std::sync::Arc;

use agent_desk_audio::{AudioDesk, AudioError, AudioRole, AudioState, DeviceChoice};
use agent_desk_ipc::{command, Event};
use tauri::{AppHandle, Manager, Runtime, State};

use crate::error::{CommandError, IpcError};
use crate::events::{AudioDevicesChanged, MicLevel, MicTestEnded};
use crate::state::DeskState;

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
        let _ = AudioDevicesChanged(changed).emit(&app);
    })
}

/// Runs blocking audio work on a thread meant for it.
async fn blocking<T: Send + 'static>(
    desk: Arc<AudioDesk>,
    work: impl FnOnce(&AudioDesk) -> Result<T, AudioError> + Send + 'static,
) -> Result<T, CommandError> {
    Ok(tauri::async_runtime::spawn_blocking(move || work(&desk))
        .await
        .map_err(CommandError::Interrupted)??)
}

/// The audio devices of this computer and the agent's choices; listing can take a second.
#[command]
pub async fn audio_state<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<AudioState, CommandError> {
    blocking(desk(&app, &state), AudioDesk::state).await
}

/// Saves the device for a role on this computer at once.
#[command]
pub async fn choose_audio_device<R: Runtime>(
    role: AudioRole,
    choice: DeviceChoice,
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<AudioState, CommandError> {
    blocking(desk(&app, &state), move |desk| desk.choose(role, choice)).await
}

/// How loud alerts ring, 0–1.
#[command]
pub async fn set_alert_volume<R: Runtime>(
    volume: f32,
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<AudioState, CommandError> {
    blocking(desk(&app, &state), move |desk| {
        desk.set_alert_volume(volume)
    })
    .await
}

/// Opens the microphone: `onMicLevel` readings until `stopMicTest`, then one
/// `onMicTestEnded` (with the failure, if the device failed).
#[command]
pub async fn start_mic_test<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<(), CommandError> {
    let (levels, ended) = (app.clone(), app.clone());
    blocking(desk(&app, &state), move |desk| {
        desk.start_mic_test(
            move |reading| {
                let _ = MicLevel(reading).emit(&levels);
            },
            move |error| {
                let failure = error.map(|error| IpcError::from(&CommandError::from(error)));
                let _ = MicTestEnded(failure).emit(&ended);
            },
        )
    })
    .await
}

#[command]
pub async fn stop_mic_test<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<(), CommandError> {
    blocking(desk(&app, &state), |desk| {
        desk.stop_mic_test();
        Ok(())
    })
    .await
}

/// Records from the microphone; answers once the recording is done.
#[command]
pub async fn record_sample<R: Runtime>(
    seconds: f32,
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<(), CommandError> {
    blocking(desk(&app, &state), move |desk| desk.record_sample(seconds)).await
}

/// Plays the last recording on the speaker; answers once it has been played.
#[command]
pub async fn play_sample<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<(), CommandError> {
    blocking(desk(&app, &state), AudioDesk::play_sample).await
}

/// Plays the test chime on a role's device (the speaker or the alert device); answers
/// once it has been played.
#[command]
pub async fn test_output<R: Runtime>(
    role: AudioRole,
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<(), CommandError> {
    blocking(desk(&app, &state), move |desk| desk.test_output(role)).await
}

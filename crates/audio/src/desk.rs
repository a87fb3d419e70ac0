//! The Devices screen's engine: the agent's choices for this computer (kept in
//! `audio.json`), what they resolve to right now, the microphone test with its meter,
//! record and play back, and the test and alert sounds.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalog::{Catalog, DeviceList, Direction};
use crate::choice::{resolve, DeviceChoice, Resolved};
use crate::streams::{self, MeterReading};
use crate::{tone, AudioError};

/// How often the device list is checked for changes: hot-plugs show within this.
pub const WATCH_INTERVAL: Duration = Duration::from_millis(500);
/// Sample rate of the sounds this app makes.
const SOUND_RATE: u32 = 48_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AudioRole {
    Microphone,
    Speaker,
    /// Where notification sounds and the ringer play.
    Alerts,
}

impl AudioRole {
    fn direction(self) -> Direction {
        match self {
            Self::Microphone => Direction::Input,
            Self::Speaker | Self::Alerts => Direction::Output,
        }
    }
}

/// The agent's choices on this computer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct AudioChoices {
    pub microphone: DeviceChoice,
    pub speaker: DeviceChoice,
    pub alerts: DeviceChoice,
    /// Volume of alert sounds, 0–1.
    pub alert_volume: f32,
}

impl Default for AudioChoices {
    fn default() -> Self {
        Self {
            microphone: DeviceChoice::SystemDefault,
            speaker: DeviceChoice::SystemDefault,
            alerts: DeviceChoice::SystemDefault,
            alert_volume: 0.8,
        }
    }
}

impl AudioChoices {
    fn of(&self, role: AudioRole) -> &DeviceChoice {
        match role {
            AudioRole::Microphone => &self.microphone,
            AudioRole::Speaker => &self.speaker,
            AudioRole::Alerts => &self.alerts,
        }
    }

    fn of_mut(&mut self, role: AudioRole) -> &mut DeviceChoice {
        match role {
            AudioRole::Microphone => &mut self.microphone,
            AudioRole::Speaker => &mut self.speaker,
            AudioRole::Alerts => &mut self.alerts,
        }
    }
}

/// Everything the Devices screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct AudioState {
    pub devices: DeviceList,
    pub choices: AudioChoices,
    pub microphone: Resolved,
    pub speaker: Resolved,
    pub alerts: Resolved,
}

fn state_of(devices: DeviceList, choices: AudioChoices) -> AudioState {
    let resolved = |role: AudioRole| resolve(choices.of(role), &devices, role.direction());
    AudioState {
        microphone: resolved(AudioRole::Microphone),
        speaker: resolved(AudioRole::Speaker),
        alerts: resolved(AudioRole::Alerts),
        devices,
        choices,
    }
}

struct Shared {
    choices: Mutex<AudioChoices>,
    path: PathBuf,
}

impl Shared {
    fn choices(&self) -> AudioChoices {
        self.choices.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

pub struct AudioDesk {
    catalog: Catalog,
    shared: Arc<Shared>,
    mic_test: Mutex<Option<Arc<AtomicBool>>>,
    /// The last recording and its sample rate.
    sample: Mutex<Option<(Vec<f32>, u32)>>,
}

impl AudioDesk {
    /// Loads the choices from `config_dir/audio.json` and starts watching the devices;
    /// `on_change` gets the new state whenever a device comes, goes or becomes default.
    pub fn open(config_dir: &Path, on_change: impl Fn(AudioState) + Send + 'static) -> Self {
        let path = config_dir.join("audio.json");
        let choices = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        let shared = Arc::new(Shared {
            choices: Mutex::new(choices),
            path,
        });
        let watching = Arc::clone(&shared);
        let catalog = Catalog::watch(WATCH_INTERVAL, move |devices, _changes| {
            on_change(state_of(devices.clone(), watching.choices()));
        });
        Self {
            catalog,
            shared,
            mic_test: Mutex::new(None),
            sample: Mutex::new(None),
        }
    }

    pub fn state(&self) -> Result<AudioState, AudioError> {
        Ok(state_of(self.catalog.list()?, self.shared.choices()))
    }

    /// Chooses a device for a role and saves the choice at once.
    pub fn choose(&self, role: AudioRole, choice: DeviceChoice) -> Result<AudioState, AudioError> {
        if let DeviceChoice::Device { id, .. } = &choice {
            let devices = self.catalog.list()?;
            if devices.find(role.direction(), id).is_none() {
                return Err(AudioError::UnknownDevice { id: id.clone() });
            }
        }
        self.update(|choices| *choices.of_mut(role) = choice)
    }

    pub fn set_alert_volume(&self, volume: f32) -> Result<AudioState, AudioError> {
        if !(0.0..=1.0).contains(&volume) {
            return Err(AudioError::InvalidArgument(format!(
                "the volume must be 0–1 (got {volume})"
            )));
        }
        self.update(|choices| choices.alert_volume = volume)
    }

    fn update(&self, change: impl FnOnce(&mut AudioChoices)) -> Result<AudioState, AudioError> {
        let choices = {
            let mut choices = self
                .shared
                .choices
                .lock()
                .map_err(|_| AudioError::Backend("settings lock".into()))?;
            let mut changed = choices.clone();
            change(&mut changed);
            save(&self.shared.path, &changed)?;
            *choices = changed.clone();
            changed
        };
        Ok(state_of(self.catalog.list()?, choices))
    }

    /// The id of the device a role plays or records on now.
    fn device_for(&self, role: AudioRole) -> Result<String, AudioError> {
        let state = self.state()?;
        let resolved = match role {
            AudioRole::Microphone => state.microphone,
            AudioRole::Speaker => state.speaker,
            AudioRole::Alerts => state.alerts,
        };
        resolved
            .device
            .map(|device| device.id)
            .ok_or(AudioError::NoDevice {
                kind: if role == AudioRole::Microphone {
                    "microphone"
                } else {
                    "speaker"
                },
            })
    }

    /// Starts the meter on the chosen microphone. `on_reading` gets about 30 readings
    /// a second until [`AudioDesk::stop_mic_test`]; `on_end` is called once when it ends,
    /// with the error if the device failed.
    pub fn start_mic_test(
        &self,
        mut on_reading: impl FnMut(MeterReading) + Send + 'static,
        on_end: impl FnOnce(Option<AudioError>) + Send + 'static,
    ) -> Result<(), AudioError> {
        self.stop_mic_test();
        let device = self.device_for(AudioRole::Microphone)?;
        let mut input = streams::open_input(Some(&device))?;
        let stop = Arc::new(AtomicBool::new(false));
        if let Ok(mut running) = self.mic_test.lock() {
            *running = Some(Arc::clone(&stop));
        }
        thread::Builder::new()
            .name("audio: meter".into())
            .spawn(move || {
                let result = input.meter(|reading| {
                    on_reading(reading);
                    !stop.load(Ordering::Relaxed)
                });
                on_end(result.err());
            })
            .map_err(|e| AudioError::Backend(e.to_string()))?;
        Ok(())
    }

    pub fn stop_mic_test(&self) {
        if let Some(stop) = self
            .mic_test
            .lock()
            .ok()
            .and_then(|mut running| running.take())
        {
            stop.store(true, Ordering::Relaxed);
        }
    }

    /// Records `seconds` on the chosen microphone, to play back with [`AudioDesk::play_sample`].
    pub fn record_sample(&self, seconds: f32) -> Result<(), AudioError> {
        self.stop_mic_test();
        let device = self.device_for(AudioRole::Microphone)?;
        let mut input = streams::open_input(Some(&device))?;
        let samples = input.record(seconds)?;
        if let Ok(mut sample) = self.sample.lock() {
            *sample = Some((samples, input.sample_rate));
        }
        Ok(())
    }

    /// Plays the last recording on the chosen speaker.
    pub fn play_sample(&self) -> Result<(), AudioError> {
        let (samples, rate) = self
            .sample
            .lock()
            .ok()
            .and_then(|sample| sample.clone())
            .ok_or_else(|| AudioError::InvalidArgument("nothing has been recorded yet".into()))?;
        streams::play(
            Some(&self.device_for(AudioRole::Speaker)?),
            samples,
            rate,
            1.0,
        )
        .map(drop)
    }

    /// Plays the chime on a role's device: alerts at the alert volume.
    pub fn test_output(&self, role: AudioRole) -> Result<(), AudioError> {
        let volume = match role {
            AudioRole::Alerts => self.shared.choices().alert_volume,
            AudioRole::Speaker => 1.0,
            AudioRole::Microphone => {
                return Err(AudioError::InvalidArgument(
                    "the microphone plays no sound: test the speaker or the alert device".into(),
                ))
            }
        };
        streams::play(
            Some(&self.device_for(role)?),
            tone::chime(SOUND_RATE),
            SOUND_RATE,
            volume,
        )
        .map(drop)
    }

    /// The alert sound of a priority, on the alert device at the alert volume.
    pub fn play_alert(&self, priority: agent_desk_core::Priority) -> Result<(), AudioError> {
        streams::play(
            Some(&self.device_for(AudioRole::Alerts)?),
            tone::alert(priority, SOUND_RATE),
            SOUND_RATE,
            self.shared.choices().alert_volume,
        )
        .map(drop)
    }
}

impl Drop for AudioDesk {
    fn drop(&mut self) {
        self.stop_mic_test();
    }
}

fn save(path: &Path, choices: &AudioChoices) -> Result<(), AudioError> {
    let bytes =
        serde_json::to_vec_pretty(choices).map_err(|e| AudioError::Backend(e.to_string()))?;
    agent_desk_core::files::write_atomically(path, &bytes)
        .map_err(|e| AudioError::Backend(format!("the device choices could not be saved: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_default_to_the_system_and_survive_unknown_or_missing_fields() {
        let defaults = AudioChoices::default();
        assert_eq!(defaults.microphone, DeviceChoice::SystemDefault);
        let partial: AudioChoices = serde_json::from_str(
            r#"{"speaker": {"kind": "device", "id": "pulseaudio:x", "name": "X"}}"#,
        )
        .unwrap();
        assert_eq!(
            partial.speaker,
            DeviceChoice::Device {
                id: "pulseaudio:x".into(),
                name: "X".into()
            }
        );
        assert_eq!(
            (partial.microphone, partial.alert_volume),
            (DeviceChoice::SystemDefault, 0.8)
        );
    }
}

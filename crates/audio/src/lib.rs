//! Agent Desk's audio, without GUI: the device catalog, the microphone meter and test,
//! recording and playback, the sounds the app plays, and the analysis behind the hints.
//! Used by the app and by `agent-desk-cli`.

pub mod analysis;
pub mod catalog;
pub mod choice;
pub mod desk;
pub mod streams;
#[doc(hidden)]
pub mod testing;
pub mod tone;

pub use catalog::{AudioDevice, Catalog, DeviceChange, DeviceList, Direction};
pub use choice::{resolve, DeviceChoice, Resolved};
pub use desk::{AudioChoices, AudioDesk, AudioRole, AudioState};
pub use streams::{mic_test, open_input, play, InputStream, MeterReading, MicTest};

/// Why an audio operation failed. Messages are for people: what and, where it helps, why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudioError {
    #[error("no {kind} is available on this computer")]
    NoDevice { kind: &'static str },
    #[error("there is no audio device \"{id}\" (run `agent-desk-cli devices` to list them)")]
    UnknownDevice { id: String },
    #[error("the device cannot be opened: {0}")]
    CannotOpen(String),
    #[error("{device} sends no sound data; it may be in use, muted in hardware or broken")]
    NoData { device: String },
    #[error("{device} stopped: it was unplugged or the sound system closed it")]
    Disconnected { device: String },
    #[error("{what} took longer than {seconds} s; the sound system is not answering")]
    Timeout { what: &'static str, seconds: u64 },
    #[error("{0}")]
    InvalidArgument(String),
    #[error("the sound system failed: {0}")]
    Backend(String),
}

impl AudioError {
    /// The device is missing or cannot be used (as opposed to a bad request).
    pub fn is_device_problem(&self) -> bool {
        !matches!(self, Self::InvalidArgument(_))
    }
}

impl From<cpal::Error> for AudioError {
    fn from(error: cpal::Error) -> Self {
        Self::Backend(error.to_string())
    }
}

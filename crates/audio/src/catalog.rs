//! The devices an agent can choose from, listed through cpal: PulseAudio's host when a
//! server runs (PipeWire desktops included), ALSA otherwise, the platform's own elsewhere.
//!
//! Listing can be slow (ALSA probes every card) or hang (a sound server that accepts a
//! connection and never answers), so it always runs on a worker thread with a time limit,
//! and [`Catalog`] keeps the last list and refreshes it in the background.
//!
//! Through ALSA, listing opens every device and plugin, and libasound complains on stderr
//! about each it cannot open (no card, no PulseAudio, no JACK): dozens of lines a listing
//! on a computer without a sound server. So ALSA's complaints go to a buffer, plugins
//! whose server is absent are not opened, and the watch lists again only when the cards
//! or the JACK server changed.

#[cfg(target_os = "linux")]
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait};
use serde::Serialize;
use ts_rs::TS;

use crate::AudioError;

/// How long a listing may take before it is given up on: time for a silent PulseAudio
/// to be given up on (cpal waits 2 s for its handshake), then for ALSA to answer.
pub const LIST_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Direction {
    Input,
    Output,
}

/// A way a device can run: channels, sample rates and sample format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct DeviceFormat {
    pub channels: u16,
    pub min_rate: u32,
    pub max_rate: u32,
    pub sample_format: String,
}

/// One device as the agent sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct AudioDevice {
    /// Stable across runs where the system allows: `pulseaudio:alsa_input.usb-…`.
    pub id: String,
    /// What the system calls it: "Jabra Evolve2 65", "Built-in Audio Analog Stereo".
    pub name: String,
    pub direction: Direction,
    /// The device the system uses when nothing is chosen.
    pub is_default: bool,
    pub formats: Vec<DeviceFormat>,
}

/// Every input and output, defaults first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, TS)]
#[ts(export)]
pub struct DeviceList {
    /// "PulseAudio", "ALSA", "CoreAudio", "WASAPI"…
    pub host: String,
    pub inputs: Vec<AudioDevice>,
    pub outputs: Vec<AudioDevice>,
}

impl DeviceList {
    pub fn find(&self, direction: Direction, id: &str) -> Option<&AudioDevice> {
        self.of(direction).iter().find(|device| device.id == id)
    }

    pub fn of(&self, direction: Direction) -> &[AudioDevice] {
        match direction {
            Direction::Input => &self.inputs,
            Direction::Output => &self.outputs,
        }
    }

    pub fn default_of(&self, direction: Direction) -> Option<&AudioDevice> {
        self.of(direction).iter().find(|device| device.is_default)
    }
}

/// A change between two listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum DeviceChange {
    Added {
        device: AudioDevice,
    },
    Removed {
        device: AudioDevice,
    },
    DefaultChanged {
        direction: Direction,
        id: Option<String>,
    },
}

/// What changed from `before` to `after`.
pub fn changes(before: &DeviceList, after: &DeviceList) -> Vec<DeviceChange> {
    let mut changes = Vec::new();
    for direction in [Direction::Input, Direction::Output] {
        let (old, new) = (before.of(direction), after.of(direction));
        for device in new.iter().filter(|d| !old.iter().any(|o| o.id == d.id)) {
            changes.push(DeviceChange::Added {
                device: device.clone(),
            });
        }
        for device in old.iter().filter(|d| !new.iter().any(|n| n.id == d.id)) {
            changes.push(DeviceChange::Removed {
                device: device.clone(),
            });
        }
        let (was, is) = (before.default_of(direction), after.default_of(direction));
        if was.map(|d| &d.id) != is.map(|d| &d.id) {
            changes.push(DeviceChange::DefaultChanged {
                direction,
                id: is.map(|d| d.id.clone()),
            });
        }
    }
    changes
}

/// The host to use: PulseAudio when a server answers, otherwise the platform default.
/// The calling thread's ALSA complaints are kept off stderr from here on.
pub fn host() -> Result<cpal::Host, AudioError> {
    #[cfg(target_os = "linux")]
    {
        quiet_alsa();
        if cpal::available_hosts().contains(&cpal::HostId::PulseAudio) {
            // Gives up by itself after a couple of seconds when the server never answers.
            if let Ok(host) = cpal::host_from_id(cpal::HostId::PulseAudio) {
                return Ok(host);
            }
        }
    }
    Ok(cpal::default_host())
}

/// libasound reports each plugin it could not open on stderr, expected failures all
/// where a server or card is absent; what works is what the listing shows. This sends
/// the calling thread's reports to a buffer (the handler is per thread). Each call
/// starts a new buffer, so a long-lived thread does not keep them piling up.
#[cfg(target_os = "linux")]
fn quiet_alsa() {
    // Without a buffer libasound writes to stderr as before; nothing is lost but quiet.
    let _ = alsa::Output::local_error_handler();
}

/// An ALSA device that is a client of a sound server not running now: opening it fails,
/// after the server's library printed its own complaints (libjack writes to stderr
/// itself, past ALSA's handler). A local PulseAudio does not run when listing through
/// ALSA: this host is used because it did not answer. A remote one (`PULSE_SERVER=tcp:…`)
/// is out of cpal's reach, though, and ALSA's plugin is the way to it.
#[cfg(target_os = "linux")]
fn needs_absent_server(id: &str) -> bool {
    let Some(pcm) = id.strip_prefix("alsa:") else {
        return false;
    };
    match pcm.split_once(':').map_or(pcm, |(name, _)| name) {
        "pulse" => !std::env::var("PULSE_SERVER").is_ok_and(|servers| {
            servers
                .split_whitespace()
                .any(|server| !server.starts_with("unix:") && !server.starts_with('/'))
        }),
        "jack" => !jack_server_runs(),
        _ => false,
    }
}

#[cfg(not(target_os = "linux"))]
fn needs_absent_server(_: &str) -> bool {
    false
}

/// Whether a JACK server listens: JACK2 on a socket `/dev/shm/jack_<server>_<uid>_0`,
/// JACK1 on one in `/dev/shm/jack-<uid>/<server>/`. Only a running server makes these;
/// a client that found none leaves other files behind (`jack_db-<uid>`).
#[cfg(target_os = "linux")]
fn jack_server_runs() -> bool {
    use std::os::unix::fs::FileTypeExt;
    fn entries(dir: &Path, prefix: &str) -> impl Iterator<Item = std::fs::DirEntry> {
        let prefix = prefix.to_owned();
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(move |entry| entry.file_name().to_string_lossy().starts_with(&prefix))
    }
    let has_socket = |dir: &Path| {
        entries(dir, "jack_").any(|entry| entry.file_type().is_ok_and(|t| t.is_socket()))
    };
    let shm = Path::new("/dev/shm");
    has_socket(shm)
        || entries(shm, "jack-")
            .any(|user| entries(&user.path(), "").any(|server| has_socket(&server.path())))
}

/// What an ALSA listing depends on besides the configuration files: the sound cards'
/// device files (udev makes them anew for a card plugged in) and whether a JACK server
/// runs. While it stays the same, listing again would find the same devices. (An edit
/// of the ALSA configuration shows at the next card change or start.)
#[cfg(target_os = "linux")]
#[derive(Debug, Clone, PartialEq, Eq)]
struct AlsaSetup {
    cards: Vec<(std::ffi::OsString, i64, i64)>,
    jack: bool,
}

#[cfg(target_os = "linux")]
impl AlsaSetup {
    fn of(host: &cpal::Host) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        if host.id() != cpal::HostId::Alsa {
            return None;
        }
        let mut cards: Vec<_> = std::fs::read_dir("/dev/snd")
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| {
                let made = entry
                    .metadata()
                    .map_or((0, 0), |m| (m.ctime(), m.ctime_nsec()));
                (entry.file_name(), made.0, made.1)
            })
            .collect();
        cards.sort();
        Some(Self {
            cards,
            jack: jack_server_runs(),
        })
    }
}

/// Elsewhere nothing is kept between polls.
#[cfg(not(target_os = "linux"))]
#[derive(Debug, Clone, PartialEq, Eq)]
struct AlsaSetup;

#[cfg(not(target_os = "linux"))]
impl AlsaSetup {
    fn of(_: &cpal::Host) -> Option<Self> {
        None
    }
}

/// Runs `work` on its own thread and waits at most `limit` for it. A backend that hangs
/// leaves its thread behind; the caller gets an answer either way.
pub(crate) fn within<T: Send + 'static>(
    limit: Duration,
    what: &'static str,
    work: impl FnOnce() -> Result<T, AudioError> + Send + 'static,
) -> Result<T, AudioError> {
    let (sender, receiver) = mpsc::channel();
    thread::Builder::new()
        .name(format!("audio: {what}"))
        .spawn(move || {
            let _ = sender.send(work());
        })
        .map_err(|e| AudioError::Backend(e.to_string()))?;
    match receiver.recv_timeout(limit) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(AudioError::Timeout {
            what,
            seconds: limit.as_secs(),
        }),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(AudioError::Backend(format!("{what} stopped unexpectedly")))
        }
    }
}

/// Lists the devices now, within [`LIST_TIMEOUT`].
pub fn list() -> Result<DeviceList, AudioError> {
    within(LIST_TIMEOUT, "listing devices", || list_with(&host()?))
}

/// One poll of the watch: the devices now, and what an ALSA listing depended on. Through
/// ALSA, `kept` is answered again while its setup holds.
fn poll(
    kept: Option<(AlsaSetup, DeviceList)>,
) -> Result<(DeviceList, Option<AlsaSetup>), AudioError> {
    within(LIST_TIMEOUT, "listing devices", move || {
        let host = host()?;
        let setup = AlsaSetup::of(&host);
        match (setup, kept) {
            (Some(setup), Some((known, list))) if setup == known => Ok((list, Some(setup))),
            (setup, _) => Ok((list_with(&host)?, setup)),
        }
    })
}

/// Says once, for whoever runs the app from a terminal, that the sound system changed:
/// to ALSA when no sound server answers, or back to one.
fn log_host_change(before: Option<&str>, now: &str) {
    if before == Some(now) {
        return;
    }
    if now == "ALSA" {
        eprintln!("agent-desk-audio: no sound server answers; using ALSA devices directly");
    } else if before.is_some() {
        eprintln!("agent-desk-audio: using {now}");
    }
}

fn list_with(host: &cpal::Host) -> Result<DeviceList, AudioError> {
    let default_id =
        |device: Option<cpal::Device>| device.and_then(|d| d.id().ok()).map(|id| id.to_string());
    let default_input = default_id(host.default_input_device());
    let default_output = default_id(host.default_output_device());
    let mut list = DeviceList {
        host: host.id().name().to_owned(),
        ..DeviceList::default()
    };
    let devices = host.devices().map_err(AudioError::from)?;
    for device in devices {
        let Ok(id) = device.id().map(|id| id.to_string()) else {
            continue;
        };
        if needs_absent_server(&id) {
            continue;
        }
        let name = device
            .description()
            .map(|d| d.name().to_owned())
            .unwrap_or_else(|_| id.clone());
        // A sound server's monitor of an output is not a microphone.
        if name.starts_with("Monitor of ") {
            continue;
        }
        if device.supports_input() {
            let formats = device
                .supported_input_configs()
                .map(|configs| configs.map(|c| format_of(&c)).collect())
                .unwrap_or_default();
            let is_default = default_input.as_deref() == Some(&id);
            list.inputs.push(AudioDevice {
                id: id.clone(),
                name: name.clone(),
                direction: Direction::Input,
                is_default,
                formats,
            });
        }
        if device.supports_output() {
            let formats = device
                .supported_output_configs()
                .map(|configs| configs.map(|c| format_of(&c)).collect())
                .unwrap_or_default();
            let is_default = default_output.as_deref() == Some(&id);
            list.outputs.push(AudioDevice {
                id,
                name,
                direction: Direction::Output,
                is_default,
                formats,
            });
        }
    }
    for devices in [&mut list.inputs, &mut list.outputs] {
        devices.sort_by(|a, b| {
            b.is_default
                .cmp(&a.is_default)
                .then_with(|| a.name.cmp(&b.name))
        });
    }
    Ok(list)
}

fn format_of(config: &cpal::SupportedStreamConfigRange) -> DeviceFormat {
    DeviceFormat {
        channels: config.channels(),
        min_rate: config.min_sample_rate(),
        max_rate: config.max_sample_rate(),
        sample_format: config.sample_format().to_string(),
    }
}

/// The last listing, refreshed in the background every `interval`, with each change
/// reported to the listener. The first [`Catalog::list`] lists at once; later ones
/// answer from memory.
#[derive(Clone)]
pub struct Catalog {
    latest: Arc<Mutex<Option<DeviceList>>>,
}

impl Catalog {
    /// Starts the background refresh. `on_change` runs on the refresh thread.
    pub fn watch(
        interval: Duration,
        mut on_change: impl FnMut(&DeviceList, Vec<DeviceChange>) + Send + 'static,
    ) -> Self {
        let latest: Arc<Mutex<Option<DeviceList>>> = Arc::default();
        let shared = Arc::clone(&latest);
        let spawned = thread::Builder::new()
            .name("audio: device watch".into())
            .spawn(move || {
                let mut kept = None;
                let mut host_before: Option<String> = None;
                loop {
                    let started = Instant::now();
                    if let Ok((now, setup)) = poll(kept.clone()) {
                        log_host_change(host_before.as_deref(), &now.host);
                        host_before = Some(now.host.clone());
                        kept = setup.map(|setup| (setup, now.clone()));
                        let before = shared
                            .lock()
                            .ok()
                            .and_then(|mut slot| slot.replace(now.clone()));
                        if let Some(before) = before {
                            let found = changes(&before, &now);
                            if !found.is_empty() {
                                on_change(&now, found);
                            }
                        }
                    }
                    // The catalog is dropped with the last clone: stop then.
                    if Arc::strong_count(&shared) == 1 {
                        return;
                    }
                    // Where listing is slow (ALSA probing cards can take a second), poll less
                    // often rather than keep a core busy: at most a fifth of the time listing.
                    let took = started.elapsed();
                    thread::sleep(interval.max(took * 5).saturating_sub(took));
                }
            });
        if let Err(error) = spawned {
            eprintln!("agent-desk-audio: device watch not started: {error}");
        }
        Self { latest }
    }

    /// The devices: from memory once known, else listed now.
    pub fn list(&self) -> Result<DeviceList, AudioError> {
        if let Some(known) = self.latest.lock().ok().and_then(|slot| slot.clone()) {
            return Ok(known);
        }
        let now = list()?;
        if let Ok(mut slot) = self.latest.lock() {
            slot.get_or_insert_with(|| now.clone());
        }
        Ok(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(id: &str, direction: Direction, is_default: bool) -> AudioDevice {
        AudioDevice {
            id: id.into(),
            name: id.to_uppercase(),
            direction,
            is_default,
            formats: Vec::new(),
        }
    }

    #[test]
    fn changes_name_what_came_went_and_became_default() {
        let before = DeviceList {
            host: "PulseAudio".into(),
            inputs: vec![device("mic", Direction::Input, true)],
            outputs: vec![
                device("spk", Direction::Output, true),
                device("old", Direction::Output, false),
            ],
        };
        let after = DeviceList {
            host: "PulseAudio".into(),
            inputs: vec![device("mic", Direction::Input, true)],
            outputs: vec![
                device("spk", Direction::Output, false),
                device("headset", Direction::Output, true),
            ],
        };
        assert_eq!(
            changes(&before, &after),
            [
                DeviceChange::Added {
                    device: device("headset", Direction::Output, true)
                },
                DeviceChange::Removed {
                    device: device("old", Direction::Output, false)
                },
                DeviceChange::DefaultChanged {
                    direction: Direction::Output,
                    id: Some("headset".into())
                },
            ]
        );
        assert!(changes(&after, &after).is_empty());
    }
}

//! Audio speed on a private PulseAudio (see `agent_desk_audio::testing`):
//! - device listing, cold (a fresh process, as at app start) and warm (from the catalog);
//! - sound in → meter reading: a tone switched on in a playback stream feeding the test
//!   microphone, until the meter's first reading that shows it (this includes the feed's
//!   own output buffering, so it overstates the microphone side);
//! - click → first sample out: from asking rodio to play until the device pulls the
//!   first sample of the sound.
//!
//! `cargo bench -p agent-desk-audio --bench latency`

use std::num::NonZero;
use std::process::Command;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agent_desk_audio::catalog::{self, Catalog};
use agent_desk_audio::streams::open_input;
use agent_desk_audio::testing::PrivatePulse;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

const CHILD: &str = "AUDIO_BENCH_LIST_ONCE";
const RUNS: usize = 15;

fn main() {
    if std::env::var_os(CHILD).is_some() {
        let started = Instant::now();
        catalog::list().expect("list");
        println!("{}", started.elapsed().as_nanos());
        return;
    }
    if std::env::args().any(|arg| arg == "--list" || arg.starts_with("--format")) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let pulse = PrivatePulse::start(dir.path())
        .expect("a private PulseAudio (pulseaudio, pulseaudio-utils)");
    for (key, value) in pulse.env() {
        std::env::set_var(key, value);
    }

    let cold: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let output = Command::new(std::env::current_exe().expect("this bench"))
                .env(CHILD, "1")
                .output()
                .expect("child");
            Duration::from_nanos(
                String::from_utf8_lossy(&output.stdout)
                    .trim()
                    .parse()
                    .expect("nanoseconds"),
            )
        })
        .collect();
    let catalog = Catalog::watch(Duration::from_secs(60), |_, _| {});
    catalog.list().expect("first listing");
    let warm: Vec<Duration> = (0..RUNS * 10)
        .map(|_| {
            let started = Instant::now();
            catalog.list().expect("list");
            started.elapsed()
        })
        .collect();
    let relist: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            catalog::list().expect("list");
            started.elapsed()
        })
        .collect();
    println!("device listing (PulseAudio, 2 inputs + 3 outputs):");
    report("  cold, first in a process", &cold);
    report("  warm, from the catalog", &warm);
    report("  a fresh listing in a warm process", &relist);

    println!("sound in → meter reading:");
    report(
        "  pipe microphone: tone written → reading above −40 dBFS",
        &pipe_meter_latency(&pulse),
    );
    report(
        "  null-sink monitor: tone on → reading above −40 dBFS",
        &meter_latency(),
    );
    println!("click → first sample out (rodio on the test speaker):");
    report(
        "  open a sink and play → first sample pulled",
        &first_sample(),
    );
    report(
        "  play on an open sink → first sample pulled",
        &first_sample_warm(),
    );
}

/// A microphone fed through a FIFO (`module-pipe-source`), which PulseAudio reads as the
/// bytes arrive: sound written in real-time 5 ms blocks, silence until a tone is switched
/// on; the latency runs from writing the tone's first block to the first meter reading
/// that shows it.
fn pipe_meter_latency(pulse: &PrivatePulse) -> Vec<Duration> {
    use std::io::Write;
    let fifo = std::env::temp_dir().join(format!("agent-desk-pipe-mic-{}", std::process::id()));
    let _ = std::fs::remove_file(&fifo);
    // The module makes the FIFO itself.
    let loaded = pulse
        .pactl(&[
            "load-module",
            "module-pipe-source",
            "source_name=pipe_mic",
            &format!("file={}", fifo.display()),
            "format=s16le",
            "rate=48000",
            "channels=1",
            "source_properties=device.description=PipeMic",
        ])
        .expect("pactl");
    assert!(loaded.status.success(), "{loaded:?}");
    let on = Arc::new(AtomicBool::new(false));
    let written: Arc<Mutex<Option<Instant>>> = Arc::default();
    let (writer_on, writer_written) = (Arc::clone(&on), Arc::clone(&written));
    let path = fifo.clone();
    std::thread::spawn(move || {
        let mut pipe = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open the FIFO");
        let block = 240; // 5 ms
        let mut phase = 0.0_f32;
        let started = Instant::now();
        for n in 0u64.. {
            let playing = writer_on.load(Ordering::Relaxed);
            let mut bytes = Vec::with_capacity(block * 2);
            for _ in 0..block {
                phase = (phase + 1000.0 / 48_000.0) % 1.0;
                let sample = if playing {
                    0.5 * (phase * std::f32::consts::TAU).sin()
                } else {
                    0.0
                };
                bytes.extend(((sample * 32767.0) as i16).to_le_bytes());
            }
            if playing {
                if let Ok(mut at) = writer_written.lock() {
                    at.get_or_insert_with(Instant::now);
                }
            }
            if pipe.write_all(&bytes).is_err() {
                return;
            }
            // Paced by the clock, as a sound card delivers.
            let due = started + Duration::from_micros(5_000 * (n + 1));
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
    });
    let latencies = time_meter("pulseaudio:pipe_mic", &on, &written);
    let _ = std::fs::remove_file(&fifo);
    latencies
}

/// A feed stream playing silence until `on` is set, then a loud tone; answers when the
/// switch took effect (the callback's first tone sample).
fn meter_latency() -> Vec<Duration> {
    let host = cpal::host_from_id(cpal::HostId::PulseAudio).expect("PulseAudio host");
    let feed = host
        .device_by_id(&cpal::DeviceId::from_str("pulseaudio:test_feed").unwrap())
        .expect("test_feed");
    let config = feed.default_output_config().expect("feed config");
    let channels = usize::from(config.channels());
    let on = Arc::new(AtomicBool::new(false));
    let switched: Arc<Mutex<Option<Instant>>> = Arc::default();
    let (on_in_callback, switched_in_callback) = (Arc::clone(&on), Arc::clone(&switched));
    let mut phase = 0.0_f32;
    let stream = feed
        .build_output_stream::<f32, _, _>(
            config.config(),
            move |data, _| {
                let playing = on_in_callback.load(Ordering::Relaxed);
                if playing {
                    if let Ok(mut at) = switched_in_callback.lock() {
                        at.get_or_insert_with(Instant::now);
                    }
                }
                for frame in data.chunks_mut(channels) {
                    phase = (phase + 1000.0 / 48_000.0) % 1.0;
                    let sample = if playing {
                        0.5 * (phase * std::f32::consts::TAU).sin()
                    } else {
                        0.0
                    };
                    frame.fill(sample);
                }
            },
            |_| {},
            None,
        )
        .expect("feed stream");
    stream.play().expect("play the feed");
    time_meter("pulseaudio:test_mic", &on, &switched)
}

/// Runs the meter on `microphone`, switches the tone `on`, and times from when the tone
/// started (`tone_started`, set by whoever makes it) to the first reading that shows it.
fn time_meter(
    microphone: &str,
    on: &AtomicBool,
    tone_started: &Mutex<Option<Instant>>,
) -> Vec<Duration> {
    let mut latencies = Vec::new();
    for _ in 0..RUNS {
        let mut input = open_input(Some(microphone)).expect("microphone");
        std::thread::sleep(Duration::from_millis(300));
        *tone_started.lock().unwrap() = None;
        on.store(true, Ordering::Relaxed);
        let mut heard = None;
        let _ = input.meter(|reading| {
            if reading.rms_dbfs > -40.0 {
                heard = Some(Instant::now());
                return false;
            }
            true
        });
        on.store(false, Ordering::Relaxed);
        if let (Some(heard), Some(started)) = (heard, *tone_started.lock().unwrap()) {
            latencies.push(heard.saturating_duration_since(started));
        }
        drop(input);
        std::thread::sleep(Duration::from_millis(300));
    }
    latencies
}

/// A source that notes when its first sample is pulled.
struct FirstPull {
    samples: std::vec::IntoIter<f32>,
    pulled: Arc<Mutex<Option<Instant>>>,
}

impl Iterator for FirstPull {
    type Item = f32;
    fn next(&mut self) -> Option<f32> {
        if let Ok(mut pulled) = self.pulled.lock() {
            pulled.get_or_insert_with(Instant::now);
        }
        self.samples.next()
    }
}

impl rodio::Source for FirstPull {
    fn current_span_len(&self) -> Option<usize> {
        None
    }
    fn channels(&self) -> NonZero<u16> {
        NonZero::<u16>::MIN
    }
    fn sample_rate(&self) -> NonZero<u32> {
        NonZero::new(48_000).unwrap()
    }
    fn total_duration(&self) -> Option<Duration> {
        None
    }
}

fn open_test_speaker() -> rodio::MixerDeviceSink {
    let host = catalog::host().expect("host");
    let device = host
        .device_by_id(&cpal::DeviceId::from_str("pulseaudio:test_spk").unwrap())
        .expect("speaker");
    let mut sink = rodio::DeviceSinkBuilder::from_device(device)
        .and_then(|b| b.open_stream())
        .expect("sink");
    sink.log_on_drop(false);
    sink
}

/// Plays the chime on `mixer`; answers when its first sample was pulled.
fn first_pull(mixer: &rodio::mixer::Mixer) -> Instant {
    let pulled: Arc<Mutex<Option<Instant>>> = Arc::default();
    let player = rodio::Player::connect_new(mixer);
    player.append(FirstPull {
        samples: agent_desk_audio::tone::chime(48_000).into_iter(),
        pulled: Arc::clone(&pulled),
    });
    loop {
        if let Some(at) = *pulled.lock().unwrap() {
            player.stop();
            return at;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Opens the speaker each time, as a player that does not keep outputs open would.
fn first_sample() -> Vec<Duration> {
    (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let sink = open_test_speaker();
            first_pull(sink.mixer()).duration_since(started)
        })
        .collect()
}

/// On an output opened once and kept, as the app does.
fn first_sample_warm() -> Vec<Duration> {
    let sink = open_test_speaker();
    std::thread::sleep(Duration::from_millis(2500));
    (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let at = first_pull(sink.mixer());
            std::thread::sleep(Duration::from_millis(37));
            at.duration_since(started)
        })
        .collect()
}

fn report(what: &str, samples: &[Duration]) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        println!("{what}: no measurements");
        return;
    }
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what:<58} median {:>8.2} ms   p95 {:>8.2} ms   (n = {})",
        at(0.5).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        sorted.len()
    );
}

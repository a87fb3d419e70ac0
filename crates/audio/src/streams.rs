//! Sound in and out: a microphone stream read as mono chunks (for the meter, a recording
//! or the preflight test) and playback of samples on a chosen output through rodio.
//!
//! cpal streams may not leave the thread that made them, so each runs on its own thread
//! and hands samples over a channel. Every step that has been seen to hang — opening, the
//! first data, playback — has a time limit.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, Sample, SizedSample};
use serde::Serialize;
use ts_rs::TS;

use crate::analysis::{self, Hints, Level};
use crate::catalog::{host, Direction};
use crate::AudioError;

/// How long opening a device, or its first data, may take.
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(3);
/// Meter readings a second.
pub const READINGS_PER_SECOND: u32 = 30;
/// How much signal the live hints judge: long enough to span a word and a pause.
const HINT_SECONDS: f32 = 1.5;
/// The longest recording or test tone.
pub const MAX_SECONDS: f32 = 60.0;

/// Checks a duration from a person or a command line.
pub fn checked_seconds(seconds: f32) -> Result<f32, AudioError> {
    if seconds.is_finite() && seconds > 0.0 && seconds <= MAX_SECONDS {
        Ok(seconds)
    } else {
        Err(AudioError::InvalidArgument(format!(
            "the duration must be more than 0 and at most {MAX_SECONDS} seconds (got {seconds})"
        )))
    }
}

fn device_by_id(host: &cpal::Host, id: &str) -> Result<cpal::Device, AudioError> {
    let parsed = cpal::DeviceId::from_str(id)
        .map_err(|_| AudioError::UnknownDevice { id: id.to_owned() })?;
    host.device_by_id(&parsed)
        .ok_or_else(|| AudioError::UnknownDevice { id: id.to_owned() })
}

/// The device `id` names, or the system's default for `direction` when `id` is `None`.
pub(crate) fn device(
    host: &cpal::Host,
    id: Option<&str>,
    direction: Direction,
) -> Result<cpal::Device, AudioError> {
    if let Some(id) = id {
        return device_by_id(host, id);
    }
    match direction {
        Direction::Input => host
            .default_input_device()
            .ok_or(AudioError::NoDevice { kind: "microphone" }),
        Direction::Output => host
            .default_output_device()
            .ok_or(AudioError::NoDevice { kind: "speaker" }),
    }
}

fn name_of(device: &cpal::Device) -> String {
    device
        .description()
        .map(|d| d.name().to_owned())
        .unwrap_or_else(|_| "unknown device".into())
}

/// A running microphone: mono chunks of `f32` samples at `sample_rate`. Stops when dropped.
pub struct InputStream {
    chunks: Receiver<Vec<f32>>,
    /// The chunk that proved the device works, not yet read.
    first: Option<Vec<f32>>,
    pub sample_rate: u32,
    pub device_name: String,
    stop: Arc<AtomicBool>,
}

impl Drop for InputStream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Opens a microphone (the system default when `id` is `None`) and waits for its first
/// data: a device that opens but never delivers is an error, not a silent meter.
pub fn open_input(id: Option<&str>) -> Result<InputStream, AudioError> {
    let (chunk_sender, chunks) = mpsc::channel::<Vec<f32>>();
    let (ready_sender, ready) = mpsc::channel::<Result<(u32, String), AudioError>>();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    let id = id.map(str::to_owned);
    thread::Builder::new()
        .name("audio: microphone".into())
        .spawn(move || {
            let opened = (|| {
                let host = host()?;
                let device = device(&host, id.as_deref(), Direction::Input)?;
                let (stream, rate) = build_input(&device, chunk_sender)?;
                stream
                    .play()
                    .map_err(|e| AudioError::CannotOpen(e.to_string()))?;
                Ok((stream, rate, name_of(&device)))
            })();
            match opened {
                Ok((stream, rate, name)) => {
                    let _ = ready_sender.send(Ok((rate, name)));
                    while !stopping.load(Ordering::Relaxed) {
                        thread::sleep(Duration::from_millis(20));
                    }
                    drop(stream);
                }
                Err(error) => {
                    let _ = ready_sender.send(Err(error));
                }
            }
        })
        .map_err(|e| AudioError::Backend(e.to_string()))?;
    let (sample_rate, device_name) = match ready.recv_timeout(OPEN_TIMEOUT) {
        Ok(result) => result?,
        Err(_) => {
            stop.store(true, Ordering::Relaxed);
            return Err(AudioError::Timeout {
                what: "opening the microphone",
                seconds: OPEN_TIMEOUT.as_secs(),
            });
        }
    };
    let mut stream = InputStream {
        chunks,
        first: None,
        sample_rate,
        device_name,
        stop,
    };
    stream.first = Some(stream.next_chunk(OPEN_TIMEOUT)?);
    Ok(stream)
}

impl InputStream {
    /// The next mono chunk, waiting at most `limit`.
    pub fn next_chunk(&mut self, limit: Duration) -> Result<Vec<f32>, AudioError> {
        if let Some(first) = self.first.take() {
            return Ok(first);
        }
        self.chunks
            .recv_timeout(limit)
            .map_err(|error| match error {
                RecvTimeoutError::Timeout => AudioError::NoData {
                    device: self.device_name.clone(),
                },
                RecvTimeoutError::Disconnected => AudioError::Disconnected {
                    device: self.device_name.clone(),
                },
            })
    }

    /// Records `seconds` of sound.
    pub fn record(&mut self, seconds: f32) -> Result<Vec<f32>, AudioError> {
        let wanted = (checked_seconds(seconds)? * self.sample_rate as f32) as usize;
        let mut samples = Vec::with_capacity(wanted);
        while samples.len() < wanted {
            samples.extend(self.next_chunk(OPEN_TIMEOUT)?);
        }
        samples.truncate(wanted);
        Ok(samples)
    }

    /// Reads the meter: about 30 readings a second, each with the hints for the last
    /// second and a half, until `on_reading` answers `false` or the device fails.
    pub fn meter(
        &mut self,
        mut on_reading: impl FnMut(MeterReading) -> bool,
    ) -> Result<(), AudioError> {
        let window = (self.sample_rate / READINGS_PER_SECOND).max(1) as usize;
        let history_length = (HINT_SECONDS * self.sample_rate as f32) as usize;
        let mut pending: Vec<f32> = Vec::with_capacity(window * 2);
        let mut history: std::collections::VecDeque<f32> =
            std::collections::VecDeque::with_capacity(history_length);
        loop {
            pending.extend(self.next_chunk(OPEN_TIMEOUT)?);
            while pending.len() >= window {
                let reading: Vec<f32> = pending.drain(..window).collect();
                history.extend(&reading);
                let excess = history.len().saturating_sub(history_length);
                history.drain(..excess);
                let level = analysis::level(&reading);
                let hints = analysis::hints(history.make_contiguous(), window);
                if !on_reading(MeterReading::new(level, hints)) {
                    return Ok(());
                }
            }
        }
    }
}

/// One reading of the live meter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct MeterReading {
    pub peak_dbfs: f32,
    pub rms_dbfs: f32,
    pub no_signal: bool,
    pub too_quiet: bool,
    pub clipping: bool,
}

impl MeterReading {
    fn new(level: Level, hints: Hints) -> Self {
        Self {
            peak_dbfs: level.peak_dbfs,
            rms_dbfs: level.rms_dbfs,
            no_signal: hints.no_signal,
            too_quiet: hints.too_quiet,
            clipping: hints.clipping,
        }
    }
}

/// Builds a mono input stream in the device's preferred format, or the first other one
/// it offers when that fails.
fn build_input(
    device: &cpal::Device,
    sender: mpsc::Sender<Vec<f32>>,
) -> Result<(cpal::Stream, u32), AudioError> {
    let preferred = device
        .default_input_config()
        .map_err(|e| AudioError::CannotOpen(e.to_string()))?;
    let mut candidates = vec![preferred];
    if let Ok(others) = device.supported_input_configs() {
        candidates.extend(others.map(|range| range.with_max_sample_rate()));
    }
    let mut last_error = None;
    for config in candidates {
        let rate = config.sample_rate();
        let built = match config.sample_format() {
            cpal::SampleFormat::F32 => build_input_as::<f32>(device, &config, sender.clone()),
            cpal::SampleFormat::I16 => build_input_as::<i16>(device, &config, sender.clone()),
            cpal::SampleFormat::I32 => build_input_as::<i32>(device, &config, sender.clone()),
            cpal::SampleFormat::U8 => build_input_as::<u8>(device, &config, sender.clone()),
            cpal::SampleFormat::U16 => build_input_as::<u16>(device, &config, sender.clone()),
            other => Err(AudioError::CannotOpen(format!(
                "sample format {other} is not supported"
            ))),
        };
        match built {
            Ok(stream) => return Ok((stream, rate)),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error
        .unwrap_or_else(|| AudioError::CannotOpen("the device offers no input format".into())))
}

fn build_input_as<T: SizedSample>(
    device: &cpal::Device,
    config: &cpal::SupportedStreamConfig,
    sender: mpsc::Sender<Vec<f32>>,
) -> Result<cpal::Stream, AudioError>
where
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels().max(1));
    // Ask for 10 ms buffers so a reading follows the sound closely; a device that will
    // not do that runs with its own default.
    let mut small = config.config();
    small.buffer_size = cpal::BufferSize::Fixed((config.sample_rate() / 100).max(64));
    build_input_with(device, small, channels, sender.clone())
        .or_else(|_| build_input_with::<T>(device, config.config(), channels, sender))
}

fn build_input_with<T: SizedSample>(
    device: &cpal::Device,
    stream_config: cpal::StreamConfig,
    channels: usize,
    sender: mpsc::Sender<Vec<f32>>,
) -> Result<cpal::Stream, AudioError>
where
    f32: FromSample<T>,
{
    device
        .build_input_stream(
            stream_config,
            move |data: &[T], _| {
                let mono = data
                    .chunks(channels)
                    .map(|frame| {
                        frame.iter().map(|&s| f32::from_sample(s)).sum::<f32>() / frame.len() as f32
                    })
                    .collect();
                let _ = sender.send(mono);
            },
            |_error| {},
            Some(OPEN_TIMEOUT),
        )
        .map_err(|e| AudioError::CannotOpen(e.to_string()))
}

/// What `mic-test` reports.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct MicTest {
    pub device: String,
    pub peak_dbfs: f32,
    pub rms_dbfs: f32,
    pub dominant_hz: Option<f32>,
    pub clipping: bool,
    pub too_quiet: bool,
    pub no_signal: bool,
}

/// Records `seconds` from a microphone and judges it.
pub fn mic_test(id: Option<&str>, seconds: f32) -> Result<MicTest, AudioError> {
    let seconds = checked_seconds(seconds)?;
    let mut input = open_input(id)?;
    let samples = input.record(seconds)?;
    // A sound server moves the stream of an unplugged device to another one: the
    // recording then is not of the device asked for.
    if let Some(id) = id {
        let still_there =
            crate::catalog::list().is_ok_and(|list| list.find(Direction::Input, id).is_some());
        if !still_there {
            return Err(AudioError::Disconnected {
                device: input.device_name.clone(),
            });
        }
    }
    let level = analysis::level(&samples);
    let hints = analysis::hints(&samples, (input.sample_rate / READINGS_PER_SECOND) as usize);
    Ok(MicTest {
        device: input.device_name.clone(),
        peak_dbfs: level.peak_dbfs,
        rms_dbfs: level.rms_dbfs,
        dominant_hz: if hints.no_signal {
            None
        } else {
            analysis::dominant_hz(&samples, input.sample_rate)
        },
        clipping: hints.clipping,
        too_quiet: hints.too_quiet,
        no_signal: hints.no_signal,
    })
}

/// Output devices kept open once used: opening a stream can take long (on PulseAudio the
/// first buffer is filled before a sound can be queued), while queueing on an open one
/// is immediate. A stream unused for [`OUTPUT_IDLE`] is closed; one whose device failed
/// is reopened on next use.
struct Outputs {
    requests: Mutex<mpsc::Sender<OutputRequest>>,
}

/// How long an unused output stays open.
const OUTPUT_IDLE: Duration = Duration::from_secs(300);

type OpenOutput = Result<(rodio::mixer::Mixer, String), AudioError>;

struct OutputRequest {
    device: Option<String>,
    reply: mpsc::Sender<OpenOutput>,
}

struct OpenSink {
    sink: rodio::MixerDeviceSink,
    name: String,
    broken: Arc<AtomicBool>,
    used: Instant,
}

fn outputs() -> &'static Outputs {
    static OUTPUTS: OnceLock<Outputs> = OnceLock::new();
    OUTPUTS.get_or_init(|| {
        let (requests, incoming) = mpsc::channel::<OutputRequest>();
        // Streams may not leave the thread that opened them: this one owns them all.
        let _ = thread::Builder::new()
            .name("audio: outputs".into())
            .spawn(move || {
                let mut open: HashMap<Option<String>, OpenSink> = HashMap::new();
                loop {
                    match incoming.recv_timeout(Duration::from_secs(30)) {
                        Ok(request) => {
                            let usable = open
                                .get(&request.device)
                                .is_some_and(|o| !o.broken.load(Ordering::Relaxed));
                            if !usable {
                                open.remove(&request.device);
                                match open_sink(request.device.as_deref()) {
                                    Ok(sink) => {
                                        open.insert(request.device.clone(), sink);
                                    }
                                    Err(error) => {
                                        let _ = request.reply.send(Err(error));
                                        continue;
                                    }
                                }
                            }
                            if let Some(sink) = open.get_mut(&request.device) {
                                sink.used = Instant::now();
                                let _ = request
                                    .reply
                                    .send(Ok((sink.sink.mixer().clone(), sink.name.clone())));
                            }
                        }
                        Err(RecvTimeoutError::Timeout) => {
                            open.retain(|_, sink| sink.used.elapsed() < OUTPUT_IDLE)
                        }
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            });
        Outputs {
            requests: Mutex::new(requests),
        }
    })
}

fn open_sink(id: Option<&str>) -> Result<OpenSink, AudioError> {
    let host = host()?;
    let device = device(&host, id, Direction::Output)?;
    let name = name_of(&device);
    let broken = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&broken);
    let mut sink = rodio::DeviceSinkBuilder::from_device(device)
        .map(|builder| builder.with_error_callback(move |_| flag.store(true, Ordering::Relaxed)))
        .and_then(|builder| builder.open_stream())
        .map_err(|e| AudioError::CannotOpen(e.to_string()))?;
    sink.log_on_drop(false);
    Ok(OpenSink {
        sink,
        name,
        broken,
        used: Instant::now(),
    })
}

/// The mixer of an output (the system default when `id` is `None`), opening it if needed.
fn output_mixer(id: Option<&str>) -> Result<(rodio::mixer::Mixer, String), AudioError> {
    let (reply, answer) = mpsc::channel();
    outputs()
        .requests
        .lock()
        .map_err(|_| AudioError::Backend("output lock".into()))?
        .send(OutputRequest {
            device: id.map(str::to_owned),
            reply,
        })
        .map_err(|_| AudioError::Backend("the output thread stopped".into()))?;
    answer
        .recv_timeout(OPEN_TIMEOUT)
        .map_err(|_| AudioError::Timeout {
            what: "opening the speaker",
            seconds: OPEN_TIMEOUT.as_secs(),
        })?
}

/// Opens an output ahead of its first sound, so that sound starts at once.
pub fn warm_up(id: Option<&str>) -> Result<(), AudioError> {
    output_mixer(id).map(drop)
}

/// Plays mono `samples` on an output (the system default when `id` is `None`) at
/// `volume` (0–1) and returns when they have been played. Answers the device's name.
pub fn play(
    id: Option<&str>,
    samples: Vec<f32>,
    sample_rate: u32,
    volume: f32,
) -> Result<String, AudioError> {
    let rate = std::num::NonZero::new(sample_rate)
        .ok_or_else(|| AudioError::InvalidArgument("sample rate 0".into()))?;
    let length = Duration::from_secs_f32(samples.len() as f32 / sample_rate as f32);
    let (mixer, name) = output_mixer(id)?;
    let player = rodio::Player::connect_new(&mixer);
    player.set_volume(volume.clamp(0.0, 1.0));
    player.append(rodio::buffer::SamplesBuffer::new(
        std::num::NonZero::<u16>::MIN,
        rate,
        samples,
    ));
    let deadline = Instant::now() + length + OPEN_TIMEOUT;
    while !player.empty() {
        if Instant::now() > deadline {
            player.stop();
            return Err(AudioError::Timeout {
                what: "playing sound",
                seconds: (length + OPEN_TIMEOUT).as_secs(),
            });
        }
        thread::sleep(Duration::from_millis(10));
    }
    // The last samples are queued, not yet heard: let the device play them out.
    thread::sleep(Duration::from_millis(150));
    Ok(name)
}

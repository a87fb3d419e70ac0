//! `agent-desk-cli`: the audio preflight IT staff can script. Exit codes: 0 the test ran,
//! 2 a bad argument, 3 the device is missing or cannot be opened.

use std::process::ExitCode;

use agent_desk_audio::{catalog, mic_test, play, tone, AudioError, DeviceList};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "agent-desk-cli",
    version,
    about = "Check a helpdesk agent's headset before a call"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List microphones and speakers.
    Devices {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Record from a microphone and report its level, frequency and problems.
    MicTest {
        /// A device id from `devices` [default: the system's default microphone]
        #[arg(long)]
        device: Option<String>,
        /// How long to record, in seconds (at most 60).
        #[arg(long, default_value_t = 5.0)]
        seconds: f32,
        /// Print JSON instead of a summary.
        #[arg(long)]
        json: bool,
    },
    /// Play a tone on a speaker.
    SpeakerTest {
        /// A device id from `devices` [default: the system's default output]
        #[arg(long)]
        device: Option<String>,
        /// The tone's frequency in Hz (20–20000).
        #[arg(long, default_value_t = 1000.0)]
        tone: f32,
        /// How long to play, in seconds (at most 60).
        #[arg(long, default_value_t = 2.0)]
        seconds: f32,
    },
}

const SAMPLE_RATE: u32 = 48_000;

fn main() -> ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("agent-desk-cli: {error}");
            ExitCode::from(if error.is_device_problem() { 3 } else { 2 })
        }
    }
}

fn run(command: Command) -> Result<(), AudioError> {
    match command {
        Command::Devices { json } => {
            let list = catalog::list()?;
            if json {
                println!("{}", to_json(&list));
            } else {
                print_table(&list);
            }
        }
        Command::MicTest {
            device,
            seconds,
            json,
        } => {
            let result = mic_test(device.as_deref(), seconds)?;
            if json {
                println!("{}", to_json(&result));
            } else {
                let verdict = if result.no_signal {
                    "no signal: check that the microphone is plugged in, chosen and not muted"
                } else if result.clipping {
                    "clipping: lower the microphone's input level"
                } else if result.too_quiet {
                    "too quiet: raise the input level or move the microphone closer"
                } else {
                    "OK"
                };
                println!(
                    "{}: peak {:.1} dBFS, RMS {:.1} dBFS — {verdict}",
                    result.device, result.peak_dbfs, result.rms_dbfs
                );
            }
        }
        Command::SpeakerTest {
            device,
            tone: hz,
            seconds,
        } => {
            if !(20.0..=20_000.0).contains(&hz) {
                return Err(AudioError::InvalidArgument(format!(
                    "the tone must be 20–20000 Hz (got {hz})"
                )));
            }
            let seconds = agent_desk_audio::streams::checked_seconds(seconds)?;
            let samples = tone::sine(hz, seconds, SAMPLE_RATE, 0.5);
            let name = play(device.as_deref(), samples, SAMPLE_RATE, 1.0)?;
            println!("Played {hz} Hz for {seconds} s on {name}");
        }
    }
    Ok(())
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn print_table(list: &DeviceList) {
    println!("Sound system: {}", list.host);
    for (title, devices) in [("Microphones", &list.inputs), ("Speakers", &list.outputs)] {
        println!("\n{title}:");
        if devices.is_empty() {
            println!("  (none)");
        }
        for device in devices {
            let default = if device.is_default { " (default)" } else { "" };
            println!("  {}{default}\n      id: {}", device.name, device.id);
        }
    }
}

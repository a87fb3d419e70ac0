//! `agent-desk-cli` on a real audio stack: a private PulseAudio with a test speaker and a
//! test microphone fed known signals, plus the failures IT meets — no sound server, a
//! server that never answers, unknown devices and bad arguments.

use std::os::unix::net::UnixListener;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use agent_desk_audio::analysis::{dominant_hz, level};
use agent_desk_audio::testing::{PrivatePulse, RATE};
use agent_desk_audio::tone::{sine, square};
use serde_json::Value;

const CLI: &str = env!("CARGO_BIN_EXE_agent-desk-cli");

fn cli(env: &[(String, String)], args: &[&str]) -> Output {
    Command::new(CLI)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().cloned())
        .output()
        .expect("run agent-desk-cli")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        stderr(output)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

fn pulse() -> (tempfile::TempDir, PrivatePulse) {
    let dir = tempfile::tempdir().expect("temp dir");
    let pulse = PrivatePulse::start(dir.path()).expect("private PulseAudio");
    (dir, pulse)
}

/// Feeds `signal` (long enough to outlast the test) and lets the stream start.
fn feed_and_settle(pulse: &mut PrivatePulse, signal: &[f32]) {
    pulse.feed(signal).expect("pacat");
    std::thread::sleep(Duration::from_millis(1500));
}

#[test]
fn devices_lists_the_test_devices_by_their_descriptions() {
    let (_dir, pulse) = pulse();
    let list = json(&cli(&pulse.env(), &["devices", "--json"]));
    assert_eq!(list["host"], "PulseAudio");
    let names = |key: &str| -> Vec<String> {
        list[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names("inputs"),
        ["TestMic"],
        "monitors are not microphones: {list}"
    );
    assert_eq!(
        names("outputs"),
        ["TestSpeaker", "TestFeed"],
        "the default first: {list}"
    );
    assert_eq!(list["inputs"][0]["id"], "pulseaudio:test_mic");
    assert_eq!(list["inputs"][0]["is_default"], true);
    assert!(!list["outputs"][0]["formats"].as_array().unwrap().is_empty());

    let table = cli(&pulse.env(), &["devices"]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("TestSpeaker (default)"));
}

#[test]
fn mic_test_reads_a_known_sine() {
    let (_dir, mut pulse) = pulse();
    // −12.04 dBFS peak: amplitude 0.25.
    feed_and_settle(&mut pulse, &sine(1000.0, 10.0, RATE, 0.25));
    let result = json(&cli(
        &pulse.env(),
        &[
            "mic-test",
            "--device",
            "pulseaudio:test_mic",
            "--seconds",
            "2",
            "--json",
        ],
    ));
    let peak = result["peak_dbfs"].as_f64().unwrap();
    let rms = result["rms_dbfs"].as_f64().unwrap();
    let hz = result["dominant_hz"].as_f64().unwrap();
    assert!((peak - -12.04).abs() <= 1.0, "peak {peak}: {result}");
    assert!((rms - -15.05).abs() <= 1.0, "RMS {rms}: {result}");
    assert!((hz - 1000.0).abs() <= 20.0, "{hz} Hz: {result}");
    assert_eq!(
        (
            result["clipping"].as_bool(),
            result["too_quiet"].as_bool(),
            result["no_signal"].as_bool()
        ),
        (Some(false), Some(false), Some(false))
    );
    assert_eq!(result["device"], "TestMic");
}

#[test]
fn mic_test_says_no_signal_and_clipping() {
    let (_dir, mut pulse) = pulse();
    let silent = json(&cli(
        &pulse.env(),
        &["mic-test", "--seconds", "1", "--json"],
    ));
    assert_eq!(silent["no_signal"], true, "{silent}");
    assert_eq!(silent["dominant_hz"], Value::Null);

    feed_and_settle(&mut pulse, &square(440.0, 10.0, RATE, 1.0));
    let loud = json(&cli(
        &pulse.env(),
        &["mic-test", "--seconds", "1", "--json"],
    ));
    assert_eq!(
        (loud["clipping"].as_bool(), loud["no_signal"].as_bool()),
        (Some(true), Some(false)),
        "{loud}"
    );

    let summary = cli(&pulse.env(), &["mic-test", "--seconds", "1"]);
    assert!(
        String::from_utf8_lossy(&summary.stdout).contains("clipping"),
        "{summary:?}"
    );
}

#[test]
fn speaker_test_plays_the_tone_on_the_chosen_device_only() {
    let (_dir, pulse) = pulse();
    let speaker = pulse.record("test_spk").unwrap();
    let other = pulse.record("test_feed").unwrap();
    for recorder in [&speaker, &other] {
        recorder
            .wait_until_recording(Duration::from_secs(10))
            .unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    let played = cli(
        &pulse.env(),
        &[
            "speaker-test",
            "--device",
            "pulseaudio:test_spk",
            "--tone",
            "440",
            "--seconds",
            "1",
        ],
    );
    assert!(played.status.success(), "{}", stderr(&played));
    assert!(String::from_utf8_lossy(&played.stdout).contains("TestSpeaker"));
    std::thread::sleep(Duration::from_millis(300));
    let heard = speaker.stop().unwrap();
    let elsewhere = other.stop().unwrap();

    let loud: Vec<f32> = heard
        .iter()
        .copied()
        .skip_while(|s| s.abs() < 0.05)
        .collect();
    assert!(
        loud.len() > RATE as usize / 2,
        "the tone reached the speaker ({} samples)",
        loud.len()
    );
    let hz = dominant_hz(&loud[..RATE as usize / 2], RATE).unwrap();
    assert!((hz - 440.0).abs() <= 8.8, "heard {hz} Hz");
    assert!(
        level(&elsewhere).peak_dbfs < -60.0,
        "the other output stayed silent: {:?}",
        level(&elsewhere)
    );
}

#[test]
fn bad_arguments_exit_2_and_missing_devices_exit_3() {
    let (_dir, pulse) = pulse();
    for args in [
        vec!["mic-test", "--seconds", "0"],
        vec!["mic-test", "--seconds", "100000"],
        vec!["mic-test", "--seconds", "NaN"],
        vec!["speaker-test", "--tone", "5"],
        vec!["speaker-test", "--seconds", "-1"],
        vec!["devices", "--colour"],
    ] {
        let output = cli(&pulse.env(), &args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).trim().is_empty(), "{args:?} says why");
    }
    for args in [
        vec![
            "mic-test",
            "--device",
            "pulseaudio:no_such_mic",
            "--seconds",
            "1",
        ],
        vec!["speaker-test", "--device", "pulseaudio:no_such_speaker"],
        vec!["mic-test", "--device", "not an id", "--seconds", "1"],
    ] {
        let output = cli(&pulse.env(), &args);
        assert_eq!(
            output.status.code(),
            Some(3),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("no audio device"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

/// Without any sound server or sound card: a clear message within a few seconds.
#[test]
fn no_sound_system_at_all_is_reported_promptly() {
    let dir = tempfile::tempdir().unwrap();
    // An ALSA configuration that defines no devices at all.
    let asoundrc = dir.path().join("asound.conf");
    std::fs::write(&asoundrc, "# no devices\n").unwrap();
    let env = vec![
        ("HOME".to_owned(), dir.path().display().to_string()),
        (
            "PULSE_SERVER".to_owned(),
            format!("unix:{}/nothing-here", dir.path().display()),
        ),
        (
            "ALSA_CONFIG_PATH".to_owned(),
            asoundrc.display().to_string(),
        ),
    ];
    let started = Instant::now();
    let output = cli(&env, &["mic-test", "--seconds", "1"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    let message = stderr(&output);
    assert!(
        message.contains("no microphone") || message.contains("cannot be opened"),
        "{message}"
    );
    let list = json(&cli(&env, &["devices", "--json"]));
    assert_eq!(
        (
            list["inputs"].as_array().map(Vec::len),
            list["outputs"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0)),
        "{list}"
    );
}

/// A server that accepts connections and never answers must not hang the preflight.
#[test]
fn a_sound_server_that_never_answers_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("silent");
    let listener = UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for connection in listener.incoming().flatten() {
            held.push(connection);
        }
    });
    let asoundrc = dir.path().join("asound.conf");
    std::fs::write(&asoundrc, "# no devices\n").unwrap();
    let env = vec![
        ("HOME".to_owned(), dir.path().display().to_string()),
        (
            "PULSE_SERVER".to_owned(),
            format!("unix:{}", socket.display()),
        ),
        (
            "ALSA_CONFIG_PATH".to_owned(),
            asoundrc.display().to_string(),
        ),
    ];
    let started = Instant::now();
    let output = cli(&env, &["devices", "--json"]);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    // PulseAudio is given up on; the ALSA fallback has nothing to offer.
    let list = json(&output);
    assert_ne!(list["host"], "PulseAudio", "{list}");
    let output = cli(&env, &["mic-test", "--seconds", "1"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
}

/// The ALSA path, without any sound server: a file-backed playback device.
#[test]
fn speaker_test_plays_on_an_alsa_device_without_a_sound_server() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("played.raw");
    // In HOME, so the system's configuration (which defines "null") is read too.
    let asoundrc = dir.path().join(".asoundrc");
    std::fs::write(
        &asoundrc,
        format!(
            "pcm.test_spk {{ type plug\n  slave {{ pcm {{ type file slave.pcm \"null\" file \"{}\" format \"raw\" }} format S16_LE rate 48000 channels 1 }}\n  hint {{ show on description \"Test Speaker\" }} }}\n",
            out.display()
        ),
    )
    .unwrap();
    let env = vec![
        ("HOME".to_owned(), dir.path().display().to_string()),
        (
            "PULSE_SERVER".to_owned(),
            format!("unix:{}/no-server", dir.path().display()),
        ),
    ];
    let list = json(&cli(&env, &["devices", "--json"]));
    assert_eq!(list["host"], "ALSA", "{list}");
    let played = cli(
        &env,
        &[
            "speaker-test",
            "--device",
            "alsa:test_spk",
            "--tone",
            "600",
            "--seconds",
            "1",
        ],
    );
    assert!(played.status.success(), "{}", stderr(&played));
    let heard = agent_desk_audio::testing::from_s16le(&std::fs::read(&out).unwrap());
    let loud: Vec<f32> = heard.into_iter().skip_while(|s| s.abs() < 0.05).collect();
    assert!(
        loud.len() >= RATE as usize * 9 / 10,
        "{} samples of the tone",
        loud.len()
    );
    let hz = dominant_hz(&loud[..RATE as usize / 2], RATE).unwrap();
    assert!((hz - 600.0).abs() <= 12.0, "{hz} Hz");
}

/// A microphone unplugged in the middle of a test ends it with a clear message.
#[test]
fn a_microphone_unplugged_mid_test_ends_it_cleanly() {
    let (_dir, pulse) = pulse();
    let module = pulse
        .pactl(&[
            "load-module",
            "module-virtual-source",
            "source_name=test_mic2",
            "master=test_feed.monitor",
            "source_properties=device.description=TestMic2",
        ])
        .unwrap();
    let module = String::from_utf8_lossy(&module.stdout).trim().to_owned();
    let mut test = Command::new(CLI)
        .args([
            "mic-test",
            "--device",
            "pulseaudio:test_mic2",
            "--seconds",
            "8",
            "--json",
        ])
        .envs(pulse.env())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(pulse
        .pactl(&["unload-module", &module])
        .unwrap()
        .status
        .success());
    let started = Instant::now();
    let output = loop {
        if test.try_wait().unwrap().is_some() {
            break test.wait_with_output().unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the test did not end after the unplug"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("stopped") || message.contains("sends no sound data"),
        "{message}"
    );
}

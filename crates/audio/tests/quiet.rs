//! Without a sound server the device catalog falls back to ALSA, whose plugins for absent
//! servers (PulseAudio, JACK) and missing cards complain on stderr — libasound through
//! its error handler, libjack by itself. `make run` on such a computer printed 720 such
//! lines in 40 s, from the device watch. The watch may say once what it does, no more.
//!
//! The catalog runs in a child process (this test binary again): libasound and libjack
//! write to file descriptor 2 directly, which only the child's stderr captures.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use agent_desk_audio::catalog::{self, Catalog};

/// Set in the child: run the catalog instead of checking it.
const CHILD: &str = "AGENT_DESK_AUDIO_QUIET_CHILD";
const TEST: &str = "without_a_sound_server_the_device_watch_says_a_line_or_two";
/// The watch's polls in the child: at 100 ms, about 30 of them.
const WATCHING: Duration = Duration::from_secs(3);

#[test]
fn without_a_sound_server_the_device_watch_says_a_line_or_two() {
    if std::env::var_os(CHILD).is_some() {
        return list_and_watch();
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for sub in ["home", "xdg"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("dir");
    }
    if !jack_plugin_installed() {
        eprintln!(
            "note: ALSA's JACK plugin (libasound2-plugins) is not installed: JACK is not tried"
        );
    }
    // No sound server to find: none in this environment, the system's ALSA configuration
    // with all its plugins.
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path().join("home"))
        .env("XDG_RUNTIME_DIR", dir.path().join("xdg"))
        .env(CHILD, "1")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("host: ALSA"), "{stdout}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines.len() <= 3,
        "{} lines on stderr from five listings and {WATCHING:?} of watching:\n{stderr}",
        lines.len()
    );
    // Plugins of servers that are not there are not offered either: they cannot work.
    for absent in ["alsa:pulse", "alsa:jack"] {
        assert!(!stdout.contains(absent), "{absent} offered: {stdout}");
    }
}

/// The child: five listings as `agent-desk-cli devices` makes them, then the app's watch.
fn list_and_watch() {
    for _ in 0..5 {
        let list = catalog::list().expect("listed");
        let ids: Vec<&str> = list
            .inputs
            .iter()
            .chain(&list.outputs)
            .map(|device| device.id.as_str())
            .collect();
        println!("host: {} devices: {ids:?}", list.host);
    }
    let catalog = Catalog::watch(Duration::from_millis(100), |_, _| {});
    std::thread::sleep(WATCHING);
    let list = catalog.list().expect("watched");
    println!("host: {} watched", list.host);
}

fn jack_plugin_installed() -> bool {
    let plugin = "libasound_module_pcm_jack.so";
    std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .any(|dir| dir.path().join("alsa-lib").join(plugin).exists())
        || Path::new("/usr/lib/alsa-lib").join(plugin).exists()
}

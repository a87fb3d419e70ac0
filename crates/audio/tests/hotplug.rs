//! A headset unplugged and plugged back while the app runs, on a private PulseAudio:
//! the catalog notices, the choice falls back to the default, and returns.
//!
//! One test in this binary: it points the whole process at its own sound server.

use std::sync::mpsc;
use std::time::Duration;

use agent_desk_audio::catalog::{Catalog, DeviceChange, Direction};
use agent_desk_audio::choice::{resolve, DeviceChoice};
use agent_desk_audio::testing::PrivatePulse;

const HEADSET: &str = "pulseaudio:test_headset";

fn load_headset(pulse: &PrivatePulse) -> String {
    let output = pulse
        .pactl(&[
            "load-module",
            "module-null-sink",
            "sink_name=test_headset",
            "sink_properties=device.description=TestHeadset",
        ])
        .expect("pactl");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn an_unplugged_choice_falls_back_and_returns() {
    let dir = tempfile::tempdir().unwrap();
    let pulse = PrivatePulse::start(dir.path()).unwrap();
    for (key, value) in pulse.env() {
        std::env::set_var(key, value);
    }
    let module = load_headset(&pulse);

    let (sender, changes) = mpsc::channel();
    let catalog = Catalog::watch(Duration::from_millis(250), move |list, found| {
        let _ = sender.send((list.clone(), found));
    });
    let list = catalog.list().unwrap();
    let choice = DeviceChoice::Device {
        id: HEADSET.into(),
        name: "TestHeadset".into(),
    };
    let chosen = resolve(&choice, &list, Direction::Output);
    assert_eq!(
        (chosen.device.unwrap().name.as_str(), chosen.fallback),
        ("TestHeadset", false)
    );

    // Unplugged: noticed, and the default stands in.
    assert!(pulse
        .pactl(&["unload-module", &module])
        .unwrap()
        .status
        .success());
    let (list, found) = changes
        .recv_timeout(Duration::from_secs(5))
        .expect("the removal is noticed");
    assert!(
        found
            .iter()
            .any(|c| matches!(c, DeviceChange::Removed { device } if device.id == HEADSET)),
        "{found:?}"
    );
    let fallback = resolve(&choice, &list, Direction::Output);
    assert_eq!(
        (fallback.device.unwrap().name.as_str(), fallback.fallback),
        ("TestSpeaker", true)
    );
    assert_eq!(
        catalog.list().unwrap(),
        list,
        "the catalog answers the new list from memory"
    );

    // Plugged back: the choice is used again.
    load_headset(&pulse);
    let (list, found) = changes
        .recv_timeout(Duration::from_secs(5))
        .expect("the return is noticed");
    assert!(
        found
            .iter()
            .any(|c| matches!(c, DeviceChange::Added { device } if device.id == HEADSET)),
        "{found:?}"
    );
    let back = resolve(&choice, &list, Direction::Output);
    assert_eq!(
        (back.device.unwrap().name.as_str(), back.fallback),
        ("TestHeadset", false)
    );
}

//! Which device the agent chose, and which one to use now: the chosen one when present
//! (by id, or by name when the system renamed its id), else the system default — and
//! back to the chosen one when it returns.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalog::{AudioDevice, DeviceList, Direction};

/// A choice stored per machine.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum DeviceChoice {
    /// Follow the operating system's default, whatever it is at the time.
    #[default]
    SystemDefault,
    Device {
        id: String,
        name: String,
    },
}

/// The device to use for a choice, given what is present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Resolved {
    /// `None` when no device of this kind is present at all.
    pub device: Option<AudioDevice>,
    /// The chosen device is missing, so the default stands in for it.
    pub fallback: bool,
}

pub fn resolve(choice: &DeviceChoice, list: &DeviceList, direction: Direction) -> Resolved {
    let default = || {
        list.default_of(direction)
            .or_else(|| list.of(direction).first())
            .cloned()
    };
    match choice {
        DeviceChoice::SystemDefault => Resolved {
            device: default(),
            fallback: false,
        },
        DeviceChoice::Device { id, name } => {
            let devices = list.of(direction);
            let chosen = devices
                .iter()
                .find(|d| &d.id == id)
                .or_else(|| devices.iter().find(|d| &d.name == name));
            match chosen {
                Some(device) => Resolved {
                    device: Some(device.clone()),
                    fallback: false,
                },
                None => Resolved {
                    device: default(),
                    fallback: true,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(id: &str, name: &str, is_default: bool) -> AudioDevice {
        AudioDevice {
            id: id.into(),
            name: name.into(),
            direction: Direction::Output,
            is_default,
            formats: Vec::new(),
        }
    }

    fn list(outputs: Vec<AudioDevice>) -> DeviceList {
        DeviceList {
            host: "PulseAudio".into(),
            inputs: Vec::new(),
            outputs,
        }
    }

    #[test]
    fn a_chosen_device_is_found_by_id_then_by_name_else_the_default_stands_in() {
        let headset = DeviceChoice::Device {
            id: "pulseaudio:usb-1".into(),
            name: "Headset".into(),
        };
        let present = list(vec![
            device("pulseaudio:builtin", "Speakers", true),
            device("pulseaudio:usb-1", "Headset", false),
        ]);
        assert_eq!(
            resolve(&headset, &present, Direction::Output)
                .device
                .unwrap()
                .id,
            "pulseaudio:usb-1"
        );

        let renamed = list(vec![
            device("pulseaudio:builtin", "Speakers", true),
            device("pulseaudio:usb-2", "Headset", false),
        ]);
        let found = resolve(&headset, &renamed, Direction::Output);
        assert_eq!(
            (found.device.unwrap().id.as_str(), found.fallback),
            ("pulseaudio:usb-2", false)
        );

        let unplugged = list(vec![device("pulseaudio:builtin", "Speakers", true)]);
        let fallback = resolve(&headset, &unplugged, Direction::Output);
        assert_eq!(
            (fallback.device.unwrap().id.as_str(), fallback.fallback),
            ("pulseaudio:builtin", true)
        );
    }

    #[test]
    fn system_default_follows_the_system_and_nothing_present_is_none() {
        let choice = DeviceChoice::SystemDefault;
        let devices = list(vec![device("a", "A", false), device("b", "B", true)]);
        assert_eq!(
            resolve(&choice, &devices, Direction::Output)
                .device
                .unwrap()
                .id,
            "b"
        );
        assert_eq!(
            resolve(&choice, &list(Vec::new()), Direction::Output),
            Resolved {
                device: None,
                fallback: false
            }
        );
        assert_eq!(resolve(&choice, &devices, Direction::Input).device, None);
    }
}

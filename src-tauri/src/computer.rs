//! This computer: starting with the desktop session, what the app has told the agent
//! once, and whether this build is installed or run from a build folder.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime};
use tauri_plugin_autostart::ManagerExt;

/// The argument the login entry starts the app with: it starts hidden in the tray.
pub const STARTED_AT_LOGIN: &str = "--autostart";
/// The login entry's name (`~/.config/autostart/agent-desk.desktop` on Linux).
pub const LOGIN_ENTRY_NAME: &str = "agent-desk";

/// Whether the desktop session started the app (its login entry).
pub fn started_at_login() -> bool {
    std::env::args().any(|argument| argument == STARTED_AT_LOGIN)
}

/// Whether this is an installed build, not one run from a Cargo build folder (which
/// Cargo marks with `CACHEDIR.TAG`): a build being worked on must not start with the
/// session of whoever builds it.
pub fn installed() -> bool {
    std::env::current_exe().is_ok_and(|exe| !in_build_folder(&exe))
}

fn in_build_folder(exe: &Path) -> bool {
    exe.ancestors()
        .skip(1)
        .any(|folder| folder.join("CACHEDIR.TAG").is_file())
}

/// What the app keeps of its own decisions on this computer (`computer.json`).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Kept {
    /// Starting with the session was set on, once, after the first sign-in (or the agent
    /// chose): never again by the app.
    start_at_login_decided: bool,
    /// The agent was told once that closing the window keeps the app in the tray.
    told_about_tray: bool,
}

/// The file [`Kept`] lives in.
pub struct KeptFile(PathBuf);

impl KeptFile {
    pub fn in_folder(config_dir: &Path) -> Self {
        Self(config_dir.join("computer.json"))
    }

    fn read(&self) -> Kept {
        std::fs::read(&self.0)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    fn write(&self, kept: &Kept) {
        if let Ok(json) = serde_json::to_vec(kept) {
            // Unsaved, the app only says or does the same once more.
            let _ = agent_desk_core::files::write_atomically(&self.0, &json);
        }
    }

    /// True the first time only for the flag `flag` picks, which is set from then on.
    fn first_time(&self, flag: fn(&mut Kept) -> &mut bool) -> bool {
        let mut kept = self.read();
        if *flag(&mut kept) {
            return false;
        }
        *flag(&mut kept) = true;
        self.write(&kept);
        true
    }

    /// True the first time only: tell the agent that closing keeps the app running.
    pub fn first_hide_to_tray(&self) -> bool {
        self.first_time(|kept| &mut kept.told_about_tray)
    }

    /// Whether the app may still set starting with the session on by itself, and from
    /// now on not.
    fn take_first_start_at_login(&self) -> bool {
        self.first_time(|kept| &mut kept.start_at_login_decided)
    }

    /// The agent chose: the flag is set from now on, whether or not it was before.
    fn decided(&self) {
        self.first_time(|kept| &mut kept.start_at_login_decided);
    }
}

/// Whether the app starts when the agent signs in to the computer.
pub fn starts_at_login<R: Runtime>(
    app: &AppHandle<R>,
) -> Result<bool, tauri_plugin_autostart::Error> {
    app.autolaunch().is_enabled()
}

/// The agent's choice: start with the session or not. Theirs from now on.
pub fn set_start_at_login<R: Runtime>(
    app: &AppHandle<R>,
    kept: &KeptFile,
    on: bool,
) -> Result<bool, tauri_plugin_autostart::Error> {
    if on {
        app.autolaunch().enable()?;
    } else {
        app.autolaunch().disable()?;
    }
    kept.decided();
    starts_at_login(app)
}

/// After the first successful sign-in of an installed build, the app starts with the
/// session, as agents expect of the app they work in all day. Once: an agent who turns
/// it off keeps it off.
pub fn start_at_login_after_first_sign_in<R: Runtime>(app: &AppHandle<R>, kept: &KeptFile) {
    if installed() && kept.take_first_start_at_login() {
        if let Err(error) = app.autolaunch().enable() {
            eprintln!("agent-desk: could not start with the session: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_folder_is_told_by_cargos_tag() {
        let folder = tempfile::tempdir().expect("folder");
        let build = folder.path().join("target");
        std::fs::create_dir_all(build.join("debug")).expect("folders");
        std::fs::write(
            build.join("CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55",
        )
        .expect("tag");
        assert!(in_build_folder(&build.join("debug/agent-desk")));
        assert!(!in_build_folder(&folder.path().join("usr/bin/agent-desk")));
    }

    #[test]
    fn each_first_time_happens_once() {
        let folder = tempfile::tempdir().expect("folder");
        let kept = KeptFile::in_folder(folder.path());
        assert!(kept.first_hide_to_tray());
        assert!(!kept.first_hide_to_tray());
        assert!(kept.take_first_start_at_login());
        assert!(!kept.take_first_start_at_login());
        // An agent's own choice comes first: the app never sets it after that.
        let other = tempfile::tempdir().expect("folder");
        let kept = KeptFile::in_folder(other.path());
        kept.decided();
        assert!(!kept.take_first_start_at_login());
        assert!(
            kept.first_hide_to_tray(),
            "one does not answer for the other"
        );
    }
}

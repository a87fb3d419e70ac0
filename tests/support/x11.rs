//! The app's window as the X server has it: whether it is on screen, and a close request
//! sent as a window manager sends it (`WM_DELETE_WINDOW`), since Xvfb runs none.

use anyhow::{Context, Result};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConnectionExt, EventMask, MapState, Window,
};
use x11rb::rust_connection::RustConnection;

/// The title of the app's main window.
const TITLE: &[u8] = b"Agent Desk";

fn connect(display: &str) -> Result<(RustConnection, Window)> {
    let (connection, screen) = x11rb::connect(Some(display)).context("the X display")?;
    let root = connection.setup().roots[screen].root;
    Ok((connection, root))
}

/// The top-level windows titled "Agent Desk" (none before the window is first shown).
fn app_windows(connection: &RustConnection, root: Window) -> Result<Vec<Window>> {
    let mut found = Vec::new();
    for window in connection.query_tree(root)?.reply()?.children {
        let name = connection
            .get_property(false, window, AtomEnum::WM_NAME, AtomEnum::ANY, 0, 256)?
            .reply()?;
        if name.value == TITLE {
            found.push(window);
        }
    }
    Ok(found)
}

/// Whether the app's window is on screen.
pub fn app_window_shown(display: &str) -> Result<bool> {
    let (connection, root) = connect(display)?;
    for window in app_windows(&connection, root)? {
        let attributes = connection.get_window_attributes(window)?.reply()?;
        if attributes.map_state == MapState::VIEWABLE {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Asks the app's shown window to close, as a click on its close button does.
pub fn ask_to_close(display: &str) -> Result<()> {
    let (connection, root) = connect(display)?;
    let protocols = connection
        .intern_atom(false, b"WM_PROTOCOLS")?
        .reply()?
        .atom;
    let delete = connection
        .intern_atom(false, b"WM_DELETE_WINDOW")?
        .reply()?
        .atom;
    let mut asked = false;
    for window in app_windows(&connection, root)? {
        let attributes = connection.get_window_attributes(window)?.reply()?;
        if attributes.map_state != MapState::VIEWABLE {
            continue;
        }
        let event = ClientMessageEvent::new(32, window, protocols, [delete, 0, 0, 0, 0]);
        connection.send_event(false, window, EventMask::NO_EVENT, event)?;
        asked = true;
    }
    connection.flush()?;
    anyhow::ensure!(asked, "no window of the app is shown");
    Ok(())
}

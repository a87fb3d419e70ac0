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

/// The app's windows that are on screen.
fn shown_app_windows(connection: &RustConnection, root: Window) -> Result<Vec<Window>> {
    let mut shown = Vec::new();
    for window in app_windows(connection, root)? {
        let attributes = connection.get_window_attributes(window)?.reply()?;
        if attributes.map_state == MapState::VIEWABLE {
            shown.push(window);
        }
    }
    Ok(shown)
}

/// Whether the app's window is on screen.
pub fn app_window_shown(display: &str) -> Result<bool> {
    let (connection, root) = connect(display)?;
    Ok(!shown_app_windows(&connection, root)?.is_empty())
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
    let shown = shown_app_windows(&connection, root)?;
    anyhow::ensure!(!shown.is_empty(), "no window of the app is shown");
    for window in shown {
        let event = ClientMessageEvent::new(32, window, protocols, [delete, 0, 0, 0, 0]);
        connection.send_event(false, window, EventMask::NO_EVENT, event)?;
    }
    connection.flush()?;
    Ok(())
}

/// Hears the requests windows make of a window manager, as one would (Xvfb runs none):
/// here, a window asking to be minimised (`WM_CHANGE_STATE` to Iconic), which is what
/// minimising amounts to before a window manager acts on it.
pub struct WindowManagerEar {
    connection: RustConnection,
    change_state: u32,
}

impl WindowManagerEar {
    pub fn listen(display: &str) -> Result<Self> {
        let (connection, root) = connect(display)?;
        // Substructure notification only: redirection would make this the window
        // manager, and windows would wait for it to map them.
        connection.change_window_attributes(
            root,
            &x11rb::protocol::xproto::ChangeWindowAttributesAux::new()
                .event_mask(EventMask::SUBSTRUCTURE_NOTIFY),
        )?;
        let change_state = connection
            .intern_atom(false, b"WM_CHANGE_STATE")?
            .reply()?
            .atom;
        connection.flush()?;
        Ok(Self {
            connection,
            change_state,
        })
    }

    /// Whether a window asked to be minimised since the last look.
    pub fn heard_minimise(&self) -> Result<bool> {
        const ICONIC_STATE: u32 = 3;
        let mut heard = false;
        while let Some(event) = self.connection.poll_for_event()? {
            if let x11rb::protocol::Event::ClientMessage(message) = event {
                if message.type_ == self.change_state && message.data.as_data32()[0] == ICONIC_STATE
                {
                    heard = true;
                }
            }
        }
        Ok(heard)
    }
}

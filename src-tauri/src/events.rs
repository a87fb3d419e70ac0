//! What the shell tells the web view without being asked. Each event is defined here
//! once; the UI subscribes through the `on…` method generated for it.

use agent_desk_alerts::AlertsState;
use agent_desk_audio::{AudioState, MeterReading};
use agent_desk_client::VersionedProfile;
use agent_desk_core::events::PresenceChange;

use crate::error::IpcError;

agent_desk_ipc::events! {
    /// The agent asked to quit (the tray's Quit) while a form has unsaved changes: the UI
    /// asks, then calls `quitDiscardingChanges` or stays.
    pub struct QuitRequested;

    /// A reading of the running microphone test, about 30 a second, until `stopMicTest`.
    pub struct MicLevel(pub MeterReading);

    /// The microphone test ended: once after `stopMicTest`, or by itself with the failure
    /// when the device failed.
    pub struct MicTestEnded(pub Option<IpcError>);

    /// A device was plugged in or out, or the system's default changed.
    pub struct AudioDevicesChanged(pub AudioState);

    /// Status, unread count, connection or the recent alerts changed.
    pub struct AlertsChanged(pub AlertsState);

    /// The profile changed on the server (another device, an administrator): the new
    /// profile and its version.
    pub struct ProfileChanged(pub VersionedProfile);

    /// The server ended this session (signed out elsewhere, the password changed or was
    /// reset): the event stream was closed, and nothing signed in works any more.
    pub struct SessionEnded;

    /// A request to a team the agent leads arrived, or the agent's own was decided.
    pub struct TeamsChanged;

    /// An `agentdesk://` link was handed over: the UI takes it with `takeLink` once an
    /// agent is signed in.
    pub struct LinkArrived;

    /// An update was found, is downloading, is ready to install on restart, or failed.
    pub struct UpdateChanged(pub crate::updates::UpdateState);

    /// Changes wait to be sent, were sent, or were refused; a field's value was replaced.
    pub struct OutboxChanged(pub agent_desk_outbox::OutboxState);

    /// The agent's notification preferences changed on the server (an administrator set
    /// them, or locked channels for everyone): the new preferences and their version.
    pub struct NotificationPrefsChanged(pub agent_desk_client::VersionedNotificationPrefs);

    /// A colleague's status changed (`status` null: their privacy hides it from the agent).
    pub struct PresenceChanged(pub PresenceChange);
}

//! The recent alerts the app shows, read or not, and what became of each.

use agent_desk_core::{Event, EventType, Priority, StatusState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The event stream's link to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum StreamConnection {
    Connecting,
    Connected,
    /// Not connected; retrying with backoff.
    Offline,
}

/// What delivery did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AlertOutcome {
    /// Shown as its own notification.
    Notified,
    /// Shown as part of one "N new tickets" notification.
    Coalesced,
    /// Kept quiet by the status or the quiet hours.
    Held,
    /// The agent's preferences turn this type's desktop notification off.
    Silent,
    /// The notification could not be shown; the alert waits in the app.
    Failed,
}

/// An event as the app lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Alert {
    #[ts(type = "number")]
    pub seq: i64,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub priority: Priority,
    pub title: String,
    pub body: Option<String>,
    pub ticket_id: Option<String>,
    pub url: Option<String>,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    pub read: bool,
    pub outcome: AlertOutcome,
}

impl Alert {
    pub fn new(event: &Event, outcome: AlertOutcome) -> Self {
        Self {
            seq: event.seq,
            event_type: event.event_type,
            priority: event.priority,
            title: event.title.clone(),
            body: event.body.clone(),
            ticket_id: event.ticket_id.clone(),
            url: event.url.clone(),
            created_at: event.created_at,
            read: false,
            outcome,
        }
    }
}

/// Everything the status control, the tray and the Notifications screen show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AlertsState {
    pub status: StatusState,
    /// The status is Away because the computer was idle, and returns when it is not.
    pub automatic_away: bool,
    pub unread: u32,
    pub connection: StreamConnection,
    /// Minutes without keyboard or mouse before Away; `null` never.
    pub idle_away_minutes: Option<u32>,
    /// Newest first.
    pub recent: Vec<Alert>,
}

/// One part of the notification self-test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SelfTestItem {
    /// A notification service is running on the desktop.
    NotificationService,
    /// A test notification was accepted by it.
    NotificationShown,
    /// The alert sound played on the alert device.
    Sound,
}

/// Why a part of the self-test failed, for the UI to explain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SelfTestProblem {
    /// No desktop session bus (Linux).
    NoSessionBus,
    /// Nothing on the desktop shows notifications.
    NoNotificationService,
    /// The notification service did not answer in time.
    ServiceNotAnswering,
    /// The system or the agent turned notifications off for this app.
    PermissionDenied,
    /// No output device to play alerts on.
    NoSoundDevice,
    /// The alert device failed to play.
    SoundFailed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SelfTestCheck {
    pub item: SelfTestItem,
    /// `null` when this part works.
    pub problem: Option<SelfTestProblem>,
    /// What the system said, e.g. the notification server's name, or its error.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SelfTestReport {
    pub checks: Vec<SelfTestCheck>,
}

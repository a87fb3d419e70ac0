//! Agent Desk's alerts, with no GUI in it: the policy that decides which events
//! interrupt the agent and how, the coalescing of bursts, the inbox of recent alerts
//! kept with the event cursor, and delivery as native desktop notifications with sound.

pub mod coalesce;
pub mod desk;
pub mod idle;
pub mod inbox;
pub mod notifier;
pub mod policy;
pub mod presence;
pub mod pump;
pub mod tray_host;

pub use desk::{AlertDesk, DeskError, PlaySound, Received, SoundFailure};
pub use idle::{IdleAction, IdleWatch};
pub use inbox::{
    Alert, AlertOutcome, AlertsState, SelfTestCheck, SelfTestItem, SelfTestProblem, SelfTestReport,
    StreamConnection,
};
pub use notifier::{DesktopNotifier, Notice, NotifyError};
pub use policy::{AlertPolicy, Interruption};
pub use presence::{Presence, PresenceShell, StatusServer};
pub use pump::StreamSignal;

//! Agent Desk's alerts, with no GUI in it: the policy that decides which events
//! interrupt the agent and how, the coalescing of bursts, the inbox of recent alerts,
//! and delivery as native desktop notifications.

pub mod inbox;

pub use inbox::{
    Alert, AlertOutcome, AlertsState, SelfTestCheck, SelfTestItem, SelfTestProblem, SelfTestReport,
    StreamConnection,
};

//! What a helpdesk may give each agent now, by their status.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Priority, Status};

/// What an agent may be given now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Takes {
    /// Available: any ticket.
    Any,
    /// Busy: urgent tickets only.
    UrgentOnly,
    /// Away and Do not disturb take nothing new; Offline is out of the queues.
    None,
}

impl Takes {
    pub const fn of(status: Status) -> Self {
        match status {
            Status::Available => Self::Any,
            Status::Busy => Self::UrgentOnly,
            Status::Away | Status::Dnd | Status::Offline => Self::None,
        }
    }

    /// Whether a ticket of this priority may go to the agent now.
    pub fn allows(self, priority: Priority) -> bool {
        match self {
            Self::Any => true,
            Self::UrgentOnly => priority >= Priority::Urgent,
            Self::None => false,
        }
    }
}

/// One agent in `GET /api/v1/routing/agents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoutingAgent {
    pub id: String,
    pub email: String,
    pub display_name: String,
    /// The status in force: one set until a time now past is `available`.
    pub status: Status,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub until: Option<DateTime<Utc>>,
    pub takes: Takes,
}

/// `GET /api/v1/routing/agents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoutingAgents {
    /// By display name.
    pub agents: Vec<RoutingAgent>,
}

/// What changed an agent's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StatusCause {
    /// The agent chose it.
    Agent,
    /// The app's idle detection: Away while the computer is idle, back when it is not.
    Idle,
    /// A status set "until" a time reached it, and the agent is available again.
    Expiry,
    /// The agent's last connection closed and stayed closed: Offline.
    Disconnected,
}

impl StatusCause {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Idle => "idle",
            Self::Expiry => "expiry",
            Self::Disconnected => "disconnected",
        }
    }
}

/// Who a status change is about, in the status webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusAgent {
    pub id: String,
    pub email: String,
    pub display_name: String,
}

/// The body the status webhook posts: `type` is always `agent.status_changed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChanged {
    #[serde(rename = "type")]
    pub kind: String,
    pub agent: StatusAgent,
    pub status: Status,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub until: Option<DateTime<Utc>>,
    pub takes: Takes,
    pub cause: StatusCause,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub changed_at: DateTime<Utc>,
}

impl StatusChanged {
    pub const KIND: &'static str = "agent.status_changed";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_takes_urgent_tickets_only_and_away_nothing() {
        let takes = |status| Takes::of(status);
        assert!(takes(Status::Available).allows(Priority::Low));
        assert!(!takes(Status::Busy).allows(Priority::High));
        assert!(takes(Status::Busy).allows(Priority::Urgent));
        assert!(takes(Status::Busy).allows(Priority::Critical));
        for status in [Status::Away, Status::Dnd, Status::Offline] {
            assert_eq!(takes(status), Takes::None);
            assert!(!takes(status).allows(Priority::Critical));
        }
    }
}

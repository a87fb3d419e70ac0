//! Requests to change department. Whether two agents share a department decides what
//! "department only" profiles show, so an agent cannot move themselves: the change is a
//! request that takes effect once an administrator approves it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The change an agent asked for and is waiting on, as their profile shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct DepartmentRequest {
    /// The department asked for; `null` to have none.
    pub value: Option<String>,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub requested_at: DateTime<Utc>,
}

/// A pending request as administrators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct PendingDepartmentRequest {
    pub id: String,
    pub agent_id: String,
    pub agent_name: String,
    pub agent_email: String,
    /// The department in force now.
    pub current: Option<String>,
    /// The department asked for; `null` to have none.
    pub requested: Option<String>,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub requested_at: DateTime<Utc>,
}

/// `GET /api/v1/admin/department-requests`: every pending request, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct DepartmentRequests {
    pub requests: Vec<PendingDepartmentRequest>,
}

/// `POST /api/v1/admin/department-requests/{id}/decision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct DepartmentDecision {
    pub approve: bool,
    /// Why, for the agent; at most [`crate::teams::JOIN_NOTE_MAX`] characters.
    #[serde(default)]
    #[ts(optional)]
    pub note: Option<String>,
}

/// What the decision did, with the agent's department as it now stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct DecidedDepartmentRequest {
    pub id: String,
    pub agent_id: String,
    pub approved: bool,
    pub department: Option<String>,
}

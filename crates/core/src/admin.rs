//! Agents as administrators manage them: `/api/v1/admin/agents`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::profile::{Profile, ProfilePatch};
use crate::Status;

/// How long the link in a new agent's welcome mail works, in days: longer than a reset
/// link's 30 minutes, since a new colleague may read it days later.
pub const WELCOME_LINK_VALID_DAYS: u32 = 7;
/// The most agents one page of the administrators' list holds.
pub const AGENT_PAGE_MAX: u32 = 200;

/// One agent in the administrators' list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AgentSummary {
    pub id: String,
    pub display_name: String,
    pub email: String,
    pub department: Option<String>,
    pub job_title: Option<String>,
    /// The names of the agent's teams, in alphabetical order.
    pub teams: Vec<String>,
    pub status: Status,
    pub is_admin: bool,
    /// False once an administrator deactivated the agent: they cannot sign in.
    pub active: bool,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub avatar_url: Option<String>,
}

/// Which agents the list holds, by whether they may sign in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AgentActivity {
    #[default]
    Active,
    Deactivated,
    All,
}

/// `GET /api/v1/admin/agents`' query: every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AgentListQuery {
    /// Words that must each start a word of the name, or start the email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub q: Option<String>,
    /// Active agents unless told otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub activity: Option<AgentActivity>,
    /// Only agents of this department (exactly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub department: Option<String>,
    /// Only members and leads of this team, by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub team: Option<String>,
    /// Only administrators (`true`) or only agents who are not (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub is_admin: Option<bool>,
    /// At most this many (1 to 200, 50 unless told).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub limit: Option<u32>,
    /// Skip this many of the matching agents, for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub offset: Option<u32>,
}

/// `GET /api/v1/admin/agents`: a page of agents by name, and counts for the screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AgentList {
    pub agents: Vec<AgentSummary>,
    /// How many agents match the query, over every page.
    pub total: u32,
    /// Every department an agent is in, for the filter.
    pub departments: Vec<String>,
    /// Requests to change department waiting for an administrator.
    pub pending_department_requests: u32,
}

/// `POST /api/v1/admin/agents`: the agent gets a welcome mail with a link to choose
/// their password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NewAgent {
    pub email: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub department: Option<String>,
    /// Not an administrator unless `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub is_admin: Option<bool>,
}

/// An agent as administrators see them: the profile, and what only they manage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AdministeredAgent {
    pub profile: Profile,
    pub active: bool,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub deactivated_at: Option<DateTime<Utc>>,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// The names of the agent's teams, in alphabetical order.
    pub teams: Vec<String>,
    /// A welcome link was mailed and is still waiting to be used.
    pub welcome_pending: bool,
}

/// `PATCH /api/v1/admin/agents/{id}`: any profile field, the sign-in `email` and the
/// `department` (set at once, not asked for), and the two things only administrators
/// decide. Absent fields stay; unknown fields are refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AdministeredAgentPatch {
    #[serde(flatten)]
    #[ts(flatten)]
    pub profile: ProfilePatch,
    /// Make or unmake an administrator; the last active one stays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub is_admin: Option<bool>,
    /// `false` deactivates: every session ends at once and signing in is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub active: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_takes_profile_fields_and_the_administrators_own_and_refuses_others() {
        let patch: AdministeredAgentPatch = serde_json::from_str(
            r#"{"email":"new@example.com","department":"Billing","is_admin":true,"active":false}"#,
        )
        .expect("a patch");
        assert_eq!(patch.profile.email.as_deref(), Some("new@example.com"));
        assert_eq!(patch.profile.department.as_deref(), Some("Billing"));
        assert_eq!(patch.is_admin, Some(true));
        assert_eq!(patch.active, Some(false));

        let unknown = serde_json::from_str::<AdministeredAgentPatch>(r#"{"password":"x"}"#)
            .expect_err("an unknown field");
        assert!(unknown.to_string().contains("password"), "{unknown}");
    }
}

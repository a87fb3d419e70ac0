//! Teams and the requests to join them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The longest team name, in characters.
pub const TEAM_NAME_MAX: usize = 100;
/// The longest note on a join request or a decision, in characters.
pub const JOIN_NOTE_MAX: usize = 500;

/// Where the agent asking stands with a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Membership {
    Lead,
    Member,
    /// A request to join is waiting for a lead.
    Requested,
    None,
}

/// A team as the agent asking sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub membership: Membership,
    /// Leads and members together.
    pub member_count: u32,
    /// The leads' display names, so an agent knows who decides.
    pub leads: Vec<String>,
}

/// `POST /api/v1/admin/teams`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NewTeam {
    pub name: String,
    #[serde(default)]
    pub leads: Vec<String>,
    #[serde(default)]
    pub members: Vec<String>,
}

/// A role in a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TeamRole {
    /// Decides the team's join requests.
    Lead,
    Member,
}

impl TeamRole {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Lead => "lead",
            Self::Member => "member",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "lead" => Some(Self::Lead),
            "member" => Some(Self::Member),
            _ => None,
        }
    }
}

/// One agent in a team, as administrators see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct TeamMember {
    pub agent_id: String,
    pub display_name: String,
    pub email: String,
    pub role: TeamRole,
    /// A deactivated agent stays in their teams, shown as such.
    pub active: bool,
}

/// A team as administrators manage it: everyone in it, and how many wait to join.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AdministeredTeam {
    pub id: String,
    pub name: String,
    /// Leads first, then by name.
    pub members: Vec<TeamMember>,
    pub pending_requests: u32,
}

/// `GET /api/v1/admin/teams`: every team by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AdministeredTeams {
    pub teams: Vec<AdministeredTeam>,
}

/// `PATCH /api/v1/admin/teams/{id}`: a new name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct TeamPatch {
    pub name: String,
}

/// `PUT /api/v1/admin/teams/{id}/members/{agent_id}`: the agent's role in the team, who
/// joins it if they were not in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct TeamMembership {
    pub role: TeamRole,
}

/// A team name trimmed, or `None` when it is empty, too long or carries hidden controls.
pub fn clean_team_name(name: &str) -> Option<&str> {
    let name = name.trim();
    (!name.is_empty()
        && name.chars().count() <= TEAM_NAME_MAX
        && !crate::text::has_hidden_controls(name, false))
    .then_some(name)
}

/// `POST /api/v1/teams/{id}/join-requests`: why the agent wants to join, if they say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NewJoinRequest {
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /api/v1/join-requests/{id}/decision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct JoinDecision {
    pub approve: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum JoinRequestState {
    Open,
    Approved,
    Denied,
}

impl JoinRequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Approved => "approved",
            Self::Denied => "denied",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(Self::Open),
            "approved" => Some(Self::Approved),
            "denied" => Some(Self::Denied),
            _ => None,
        }
    }
}

/// A request to join a team, as its requester and the team's leads see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct JoinRequest {
    pub id: String,
    pub team_id: String,
    pub team_name: String,
    pub requester_id: String,
    pub requester_name: String,
    /// `null` when the requester's privacy hides their emails from the caller.
    pub requester_email: Option<String>,
    pub note: Option<String>,
    pub state: JoinRequestState,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
    /// Who decided, and when, once decided.
    pub decided_by: Option<String>,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
}

/// `GET /api/v1/join-requests`: the caller's own requests, and those the caller decides on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct JoinRequests {
    pub mine: Vec<JoinRequest>,
    /// Open requests to teams the caller leads (every team for an administrator).
    pub to_decide: Vec<JoinRequest>,
}

/// A note trimmed to nothing is no note; one longer than [`JOIN_NOTE_MAX`] is refused.
pub fn clean_note(note: Option<&str>) -> Result<Option<String>, String> {
    let Some(note) = note.map(str::trim).filter(|note| !note.is_empty()) else {
        return Ok(None);
    };
    if crate::text::has_hidden_controls(note, true) {
        return Err("a note must not hold control or text-direction characters".to_owned());
    }
    if note.chars().count() > JOIN_NOTE_MAX {
        return Err(format!(
            "a note can have at most {JOIN_NOTE_MAX} characters"
        ));
    }
    Ok(Some(note.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_trimmed_and_bounded() {
        assert_eq!(clean_note(None), Ok(None));
        assert_eq!(clean_note(Some("   ")), Ok(None));
        assert_eq!(clean_note(Some("  hi ")), Ok(Some("hi".to_owned())));
        assert!(clean_note(Some(&"x".repeat(JOIN_NOTE_MAX))).is_ok());
        assert!(clean_note(Some(&"x".repeat(JOIN_NOTE_MAX + 1))).is_err());
        assert!(clean_note(Some("line one\nline two")).is_ok());
        assert!(clean_note(Some("see \u{202E}fdp.exe")).is_err());
    }

    #[test]
    fn request_states_round_trip_their_names() {
        for state in [
            JoinRequestState::Open,
            JoinRequestState::Approved,
            JoinRequestState::Denied,
        ] {
            assert_eq!(JoinRequestState::parse(state.as_str()), Some(state));
        }
        assert_eq!(JoinRequestState::parse("maybe"), None);
    }
}

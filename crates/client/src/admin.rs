//! What administrators do from the app: agents, their notifications and the locks over
//! everyone's, teams, customer data, integrations, and the department requests they
//! decide.
//! The server answers 403 to anyone else; the app shows the screen to administrators only.

use agent_desk_core::admin::{
    AdministeredAgent, AdministeredAgentPatch, AgentActivity, AgentList, AgentListQuery, NewAgent,
};
use agent_desk_core::customers::{
    AdministeredField, AdministeredFields, CustomField, CustomFieldPatch, NewCustomField,
    NewUsergroup, OrganizationEntry, OrganizationMerge, OrganizationName, UsergroupEntry,
};
use agent_desk_core::departments::{
    DecidedDepartmentRequest, DepartmentDecision, DepartmentRequests,
};
use agent_desk_core::integrations::{
    Integrations, IssuedIntegrationToken, NewHookSecret, NewIntegrationToken, SavedHookSecret,
    WebhookSource,
};
use agent_desk_core::teams::{
    AdministeredTeams, NewTeam, Team, TeamMembership, TeamPatch, TeamRole,
};
use agent_desk_core::{NotificationLocks, NotificationPrefs};
use reqwest::header::IF_MATCH;
use reqwest::Response;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::api::{etag_of, ApiClient, VersionedNotificationPrefs};
use crate::error::ClientError;

/// An agent as administrators see them, and the ETag to send back with a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct VersionedAgent {
    pub agent: AdministeredAgent,
    pub etag: String,
}

/// The notification locks, and the ETag to send back with a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct VersionedNotificationLocks {
    pub locks: NotificationLocks,
    pub etag: String,
}

/// The query's parts as URL pairs, the ones not given left out.
fn query_pairs(query: &AgentListQuery) -> Vec<(&'static str, String)> {
    let activity = query.activity.map(|activity| {
        match activity {
            AgentActivity::Active => "active",
            AgentActivity::Deactivated => "deactivated",
            AgentActivity::All => "all",
        }
        .to_owned()
    });
    [
        ("q", query.q.clone()),
        ("activity", activity),
        ("department", query.department.clone()),
        ("team", query.team.clone()),
        ("is_admin", query.is_admin.map(|admin| admin.to_string())),
        ("limit", query.limit.map(|limit| limit.to_string())),
        ("offset", query.offset.map(|offset| offset.to_string())),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|value| (name, value)))
    .collect()
}

impl ApiClient {
    /// A page of agents, narrowed by `query`.
    pub async fn administered_agents(
        &self,
        query: &AgentListQuery,
    ) -> Result<AgentList, ClientError> {
        let mut url = self.url("api/v1/admin/agents")?;
        let pairs = query_pairs(query);
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        let request = self.authorised(self.http_client().get(url))?;
        Self::json(self.send(request).await?).await
    }

    pub async fn administered_agent(&self, id: &str) -> Result<VersionedAgent, ClientError> {
        let url = self.url_with_segments("api/v1/admin/agents", &[id])?;
        let request = self.authorised(self.http_client().get(url))?;
        versioned_agent(self.send(request).await?).await
    }

    /// Makes an agent; the server mails them a welcome link.
    pub async fn create_agent(&self, new: &NewAgent) -> Result<VersionedAgent, ClientError> {
        let url = self.url("api/v1/admin/agents")?;
        let request = self.authorised(self.http_client().post(url))?.json(new);
        versioned_agent(self.send(request).await?).await
    }

    /// Changes the agent at the version `etag` names.
    pub async fn update_agent(
        &self,
        id: &str,
        patch: &AdministeredAgentPatch,
        etag: &str,
    ) -> Result<VersionedAgent, ClientError> {
        let url = self.url_with_segments("api/v1/admin/agents", &[id])?;
        let request = self
            .authorised(self.http_client().patch(url))?
            .header(IF_MATCH, etag)
            .json(patch);
        versioned_agent(self.send(request).await?).await
    }

    /// Mails the agent a link to choose a password (a welcome link while theirs waits).
    pub async fn send_password_link(&self, id: &str) -> Result<(), ClientError> {
        let url = self.url_with_segments("api/v1/admin/agents", &[id, "password-reset"])?;
        let request = self.authorised(self.http_client().post(url))?;
        self.send(request).await.map(drop)
    }

    /// An agent's notification preferences as they take effect.
    pub async fn agent_notification_prefs(
        &self,
        id: &str,
    ) -> Result<VersionedNotificationPrefs, ClientError> {
        let url = self.url_with_segments("api/v1/admin/agents", &[id, "notification-prefs"])?;
        let request = self.authorised(self.http_client().get(url))?;
        Self::versioned_prefs(self.send(request).await?).await
    }

    /// Sets an agent's notification preferences for them, at the version `etag` names.
    pub async fn save_agent_notification_prefs(
        &self,
        id: &str,
        prefs: &NotificationPrefs,
        etag: &str,
    ) -> Result<VersionedNotificationPrefs, ClientError> {
        let url = self.url_with_segments("api/v1/admin/agents", &[id, "notification-prefs"])?;
        let request = self
            .authorised(self.http_client().put(url))?
            .header(IF_MATCH, etag)
            .json(prefs);
        Self::versioned_prefs(self.send(request).await?).await
    }

    /// The channels locked for everyone.
    pub async fn notification_locks(&self) -> Result<VersionedNotificationLocks, ClientError> {
        let url = self.url("api/v1/admin/notification-locks")?;
        let request = self.authorised(self.http_client().get(url))?;
        versioned_locks(self.send(request).await?).await
    }

    /// Replaces the locks at the version `etag` names.
    pub async fn save_notification_locks(
        &self,
        locks: &NotificationLocks,
        etag: &str,
    ) -> Result<VersionedNotificationLocks, ClientError> {
        let url = self.url("api/v1/admin/notification-locks")?;
        let request = self
            .authorised(self.http_client().put(url))?
            .header(IF_MATCH, etag)
            .json(locks);
        versioned_locks(self.send(request).await?).await
    }

    /// Every team with everyone in it.
    pub async fn administered_teams(&self) -> Result<AdministeredTeams, ClientError> {
        let url = self.url("api/v1/admin/teams")?;
        let request = self.authorised(self.http_client().get(url))?;
        Self::json(self.send(request).await?).await
    }

    pub async fn create_team(&self, new: &NewTeam) -> Result<Team, ClientError> {
        let url = self.url("api/v1/admin/teams")?;
        let request = self.authorised(self.http_client().post(url))?.json(new);
        Self::json(self.send(request).await?).await
    }

    pub async fn rename_team(&self, team_id: &str, name: &str) -> Result<(), ClientError> {
        let url = self.url_with_segments("api/v1/admin/teams", &[team_id])?;
        let request = self
            .authorised(self.http_client().patch(url))?
            .json(&TeamPatch {
                name: name.to_owned(),
            });
        self.send(request).await.map(drop)
    }

    pub async fn delete_team(&self, team_id: &str) -> Result<(), ClientError> {
        let url = self.url_with_segments("api/v1/admin/teams", &[team_id])?;
        let request = self.authorised(self.http_client().delete(url))?;
        self.send(request).await.map(drop)
    }

    /// Puts the agent in the team with `role`, or changes their role there.
    pub async fn set_team_member(
        &self,
        team_id: &str,
        agent_id: &str,
        role: TeamRole,
    ) -> Result<(), ClientError> {
        let url = self.url_with_segments("api/v1/admin/teams", &[team_id, "members", agent_id])?;
        let request = self
            .authorised(self.http_client().put(url))?
            .json(&TeamMembership { role });
        self.send(request).await.map(drop)
    }

    pub async fn remove_team_member(
        &self,
        team_id: &str,
        agent_id: &str,
    ) -> Result<(), ClientError> {
        let url = self.url_with_segments("api/v1/admin/teams", &[team_id, "members", agent_id])?;
        let request = self.authorised(self.http_client().delete(url))?;
        self.send(request).await.map(drop)
    }

    pub async fn rename_organization(
        &self,
        id: &str,
        name: &str,
    ) -> Result<OrganizationEntry, ClientError> {
        let url = self.url_with_segments("api/v1/admin/organizations", &[id])?;
        let request = self
            .authorised(self.http_client().patch(url))?
            .json(&OrganizationName {
                name: name.to_owned(),
            });
        Self::json(self.send(request).await?).await
    }

    /// Moves the people of organization `id` into `into` and deletes `id`.
    pub async fn merge_organizations(
        &self,
        id: &str,
        into: &str,
    ) -> Result<OrganizationEntry, ClientError> {
        let url = self.url_with_segments("api/v1/admin/organizations", &[id, "merge"])?;
        let request = self
            .authorised(self.http_client().post(url))?
            .json(&OrganizationMerge {
                into: into.to_owned(),
            });
        Self::json(self.send(request).await?).await
    }

    /// Every custom field, retired ones too.
    pub async fn administered_fields(&self) -> Result<AdministeredFields, ClientError> {
        let url = self.url("api/v1/admin/custom-fields")?;
        let request = self.authorised(self.http_client().get(url))?;
        Self::json(self.send(request).await?).await
    }

    pub async fn create_custom_field(
        &self,
        new: &NewCustomField,
    ) -> Result<CustomField, ClientError> {
        let url = self.url("api/v1/admin/custom-fields")?;
        let request = self.authorised(self.http_client().post(url))?.json(new);
        Self::json(self.send(request).await?).await
    }

    /// Renames a field, or retires or restores it.
    pub async fn update_custom_field(
        &self,
        id: &str,
        patch: &CustomFieldPatch,
    ) -> Result<AdministeredField, ClientError> {
        let url = self.url_with_segments("api/v1/admin/custom-fields", &[id])?;
        let request = self.authorised(self.http_client().patch(url))?.json(patch);
        Self::json(self.send(request).await?).await
    }

    pub async fn add_usergroup(&self, name: &str) -> Result<UsergroupEntry, ClientError> {
        let url = self.url("api/v1/admin/usergroups")?;
        let request = self
            .authorised(self.http_client().post(url))?
            .json(&NewUsergroup {
                name: name.to_owned(),
            });
        Self::json(self.send(request).await?).await
    }

    pub async fn remove_usergroup(&self, id: &str) -> Result<(), ClientError> {
        let url = self.url_with_segments("api/v1/admin/usergroups", &[id])?;
        let request = self.authorised(self.http_client().delete(url))?;
        self.send(request).await.map(drop)
    }

    /// The helpdesks followed, the webhooks' sources, the integrations' tokens in force
    /// and the status webhook, with how each goes.
    pub async fn integrations(&self) -> Result<Integrations, ClientError> {
        let url = self.url("api/v1/admin/integrations")?;
        let request = self.authorised(self.http_client().get(url))?;
        Self::json(self.send(request).await?).await
    }

    /// Makes an integration's token: the answer holds it this once.
    pub async fn create_integration_token(
        &self,
        new: &NewIntegrationToken,
    ) -> Result<IssuedIntegrationToken, ClientError> {
        let url = self.url("api/v1/admin/integrations/tokens")?;
        let request = self.authorised(self.http_client().post(url))?.json(new);
        Self::json(self.send(request).await?).await
    }

    pub async fn revoke_integration_token(&self, id: &str) -> Result<(), ClientError> {
        let url = self.url_with_segments("api/v1/admin/integrations/tokens", &[id])?;
        let request = self.authorised(self.http_client().delete(url))?;
        self.send(request).await.map(drop)
    }

    /// Sets or rotates a webhook source's secret; one the server makes is in the answer
    /// this once.
    pub async fn set_hook_secret(
        &self,
        source: WebhookSource,
        new: &NewHookSecret,
    ) -> Result<SavedHookSecret, ClientError> {
        let url = self.url_with_segments(
            "api/v1/admin/integrations/hooks",
            &[source.as_str(), "secrets"],
        )?;
        let request = self.authorised(self.http_client().post(url))?.json(new);
        Self::json(self.send(request).await?).await
    }

    /// Removes every secret of a source: its deliveries are refused from now on.
    pub async fn remove_hook_secrets(&self, source: WebhookSource) -> Result<(), ClientError> {
        let url = self.url_with_segments(
            "api/v1/admin/integrations/hooks",
            &[source.as_str(), "secrets"],
        )?;
        let request = self.authorised(self.http_client().delete(url))?;
        self.send(request).await.map(drop)
    }

    /// Every open request to change department, oldest first.
    pub async fn department_requests(&self) -> Result<DepartmentRequests, ClientError> {
        let url = self.url("api/v1/admin/department-requests")?;
        let request = self.authorised(self.http_client().get(url))?;
        Self::json(self.send(request).await?).await
    }

    pub async fn decide_department_request(
        &self,
        id: &str,
        decision: &DepartmentDecision,
    ) -> Result<DecidedDepartmentRequest, ClientError> {
        let url = self.url_with_segments("api/v1/admin/department-requests", &[id, "decision"])?;
        let request = self
            .authorised(self.http_client().post(url))?
            .json(decision);
        Self::json(self.send(request).await?).await
    }
}

async fn versioned_agent(response: Response) -> Result<VersionedAgent, ClientError> {
    let etag = etag_of(&response, "the agent")?;
    let agent = ApiClient::json::<AdministeredAgent>(response).await?;
    Ok(VersionedAgent { agent, etag })
}

async fn versioned_locks(response: Response) -> Result<VersionedNotificationLocks, ClientError> {
    let etag = etag_of(&response, "the notification locks")?;
    let locks = ApiClient::json::<NotificationLocks>(response).await?;
    Ok(VersionedNotificationLocks { locks, etag })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_names_only_what_it_narrows_by() {
        let query = AgentListQuery {
            q: Some("ada b".into()),
            activity: Some(AgentActivity::Deactivated),
            is_admin: Some(false),
            limit: Some(20),
            ..AgentListQuery::default()
        };
        assert_eq!(
            query_pairs(&query),
            [
                ("q", "ada b".to_owned()),
                ("activity", "deactivated".to_owned()),
                ("is_admin", "false".to_owned()),
                ("limit", "20".to_owned()),
            ]
        );
        assert!(query_pairs(&AgentListQuery::default()).is_empty());
    }
}

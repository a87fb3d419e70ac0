//! The Administration screen: agents, their notifications and the locks over everyone's,
//! and the department requests administrators decide.
//! The server decides every call; to anyone but an administrator it answers 403.

use agent_desk_client::{VersionedAgent, VersionedNotificationLocks, VersionedNotificationPrefs};
use agent_desk_core::admin::{AdministeredAgentPatch, AgentList, AgentListQuery, NewAgent};
use agent_desk_core::customers::{
    AdministeredField, AdministeredFields, CustomField, CustomFieldPatch, NewCustomField,
    OrganizationEntry, UsergroupEntry,
};
use agent_desk_core::departments::{
    DecidedDepartmentRequest, DepartmentDecision, DepartmentRequests,
};
use agent_desk_core::integrations::{
    Integrations, IssuedIntegrationToken, NewHookSecret, NewIntegrationToken, SavedHookSecret,
    WebhookSource,
};
use agent_desk_core::teams::{AdministeredTeams, NewTeam, Team, TeamRole};
use agent_desk_core::{NotificationLocks, NotificationPrefs};
use agent_desk_ipc::command;
use tauri::State;

use crate::error::CommandError;
use crate::state::DeskState;

/// A page of agents, narrowed by `query`, with every department and how many
/// department requests wait.
#[command]
pub async fn list_agents(
    state: State<'_, DeskState>,
    query: AgentListQuery,
) -> Result<AgentList, CommandError> {
    Ok(state.session.api()?.administered_agents(&query).await?)
}

/// One agent as administrators see them, with the ETag to change them by.
#[command]
pub async fn get_agent(
    state: State<'_, DeskState>,
    agent_id: String,
) -> Result<VersionedAgent, CommandError> {
    Ok(state.session.api()?.administered_agent(&agent_id).await?)
}

/// Makes an agent; the server mails them a link to choose their password.
#[command]
pub async fn create_agent(
    state: State<'_, DeskState>,
    agent: NewAgent,
) -> Result<VersionedAgent, CommandError> {
    Ok(state.session.api()?.create_agent(&agent).await?)
}

/// Changes an agent at the version `etag` names: profile fields, the sign-in address,
/// the department, whether they are an administrator, whether they may sign in.
#[command]
pub async fn update_agent(
    state: State<'_, DeskState>,
    agent_id: String,
    patch: AdministeredAgentPatch,
    etag: String,
) -> Result<VersionedAgent, CommandError> {
    Ok(state
        .session
        .api()?
        .update_agent(&agent_id, &patch, &etag)
        .await?)
}

/// Mails the agent a link to choose a password.
#[command]
pub async fn send_password_link(
    state: State<'_, DeskState>,
    agent_id: String,
) -> Result<(), CommandError> {
    Ok(state.session.api()?.send_password_link(&agent_id).await?)
}

/// An agent's notification preferences as they take effect, to set up for them.
#[command]
pub async fn get_agent_notification_prefs(
    state: State<'_, DeskState>,
    agent_id: String,
) -> Result<VersionedNotificationPrefs, CommandError> {
    Ok(state
        .session
        .api()?
        .agent_notification_prefs(&agent_id)
        .await?)
}

/// Sets an agent's notification preferences at the version `etag` names; the agent's
/// app reads them again.
#[command]
pub async fn save_agent_notification_prefs(
    state: State<'_, DeskState>,
    agent_id: String,
    prefs: NotificationPrefs,
    etag: String,
) -> Result<VersionedNotificationPrefs, CommandError> {
    Ok(state
        .session
        .api()?
        .save_agent_notification_prefs(&agent_id, &prefs, &etag)
        .await?)
}

/// The channels administrators locked for everyone.
#[command]
pub async fn get_notification_locks(
    state: State<'_, DeskState>,
) -> Result<VersionedNotificationLocks, CommandError> {
    Ok(state.session.api()?.notification_locks().await?)
}

/// Replaces the locks at the version `etag` names.
#[command]
pub async fn save_notification_locks(
    state: State<'_, DeskState>,
    locks: NotificationLocks,
    etag: String,
) -> Result<VersionedNotificationLocks, CommandError> {
    Ok(state
        .session
        .api()?
        .save_notification_locks(&locks, &etag)
        .await?)
}

/// Every team with everyone in it and how many wait to join.
#[command]
pub async fn list_administered_teams(
    state: State<'_, DeskState>,
) -> Result<AdministeredTeams, CommandError> {
    Ok(state.session.api()?.administered_teams().await?)
}

/// Makes a team, empty or with leads and members named by email.
#[command]
pub async fn create_team(state: State<'_, DeskState>, team: NewTeam) -> Result<Team, CommandError> {
    Ok(state.session.api()?.create_team(&team).await?)
}

#[command]
pub async fn rename_team(
    state: State<'_, DeskState>,
    team_id: String,
    name: String,
) -> Result<(), CommandError> {
    Ok(state.session.api()?.rename_team(&team_id, &name).await?)
}

/// Deletes a team with its memberships and join requests.
#[command]
pub async fn delete_team(state: State<'_, DeskState>, team_id: String) -> Result<(), CommandError> {
    Ok(state.session.api()?.delete_team(&team_id).await?)
}

/// Puts an agent in a team as a lead or a member, or changes their role.
#[command]
pub async fn set_team_member(
    state: State<'_, DeskState>,
    team_id: String,
    agent_id: String,
    role: TeamRole,
) -> Result<(), CommandError> {
    Ok(state
        .session
        .api()?
        .set_team_member(&team_id, &agent_id, role)
        .await?)
}

/// Takes an agent out of a team.
#[command]
pub async fn remove_team_member(
    state: State<'_, DeskState>,
    team_id: String,
    agent_id: String,
) -> Result<(), CommandError> {
    Ok(state
        .session
        .api()?
        .remove_team_member(&team_id, &agent_id)
        .await?)
}

/// Renames an organization; its people's records log it.
#[command]
pub async fn rename_organization(
    state: State<'_, DeskState>,
    organization_id: String,
    name: String,
) -> Result<OrganizationEntry, CommandError> {
    Ok(state
        .session
        .api()?
        .rename_organization(&organization_id, &name)
        .await?)
}

/// Moves an organization's people into another and deletes it.
#[command]
pub async fn merge_organizations(
    state: State<'_, DeskState>,
    organization_id: String,
    into: String,
) -> Result<OrganizationEntry, CommandError> {
    Ok(state
        .session
        .api()?
        .merge_organizations(&organization_id, &into)
        .await?)
}

/// Every custom field, retired ones too, with how many records have a value.
#[command]
pub async fn list_administered_fields(
    state: State<'_, DeskState>,
) -> Result<AdministeredFields, CommandError> {
    Ok(state.session.api()?.administered_fields().await?)
}

/// Defines a field for every customer's record.
#[command]
pub async fn create_custom_field(
    state: State<'_, DeskState>,
    field: NewCustomField,
) -> Result<CustomField, CommandError> {
    Ok(state.session.api()?.create_custom_field(&field).await?)
}

/// Renames a field, or retires it (off records, values kept) or restores it.
#[command]
pub async fn update_custom_field(
    state: State<'_, DeskState>,
    field_id: String,
    patch: CustomFieldPatch,
) -> Result<AdministeredField, CommandError> {
    Ok(state
        .session
        .api()?
        .update_custom_field(&field_id, &patch)
        .await?)
}

/// Lists a usergroup; from then on records take only listed groups.
#[command]
pub async fn add_usergroup(
    state: State<'_, DeskState>,
    name: String,
) -> Result<UsergroupEntry, CommandError> {
    Ok(state.session.api()?.add_usergroup(&name).await?)
}

/// Takes a usergroup off the list; its people stay in it.
#[command]
pub async fn remove_usergroup(
    state: State<'_, DeskState>,
    usergroup_id: String,
) -> Result<(), CommandError> {
    Ok(state.session.api()?.remove_usergroup(&usergroup_id).await?)
}

/// The helpdesks followed, the webhooks' sources, the integrations' tokens in force and
/// the status webhook, with how each goes.
#[command]
pub async fn get_integrations(state: State<'_, DeskState>) -> Result<Integrations, CommandError> {
    Ok(state.session.api()?.integrations().await?)
}

/// Makes an integration's token, shown this once.
#[command]
pub async fn create_integration_token(
    state: State<'_, DeskState>,
    token: NewIntegrationToken,
) -> Result<IssuedIntegrationToken, CommandError> {
    Ok(state
        .session
        .api()?
        .create_integration_token(&token)
        .await?)
}

/// Ends an integration's token at once.
#[command]
pub async fn revoke_integration_token(
    state: State<'_, DeskState>,
    token_id: String,
) -> Result<(), CommandError> {
    Ok(state
        .session
        .api()?
        .revoke_integration_token(&token_id)
        .await?)
}

/// Sets or rotates a webhook source's secret; one the server makes is shown this once.
#[command]
pub async fn set_hook_secret(
    state: State<'_, DeskState>,
    source: WebhookSource,
    secret: NewHookSecret,
) -> Result<SavedHookSecret, CommandError> {
    Ok(state
        .session
        .api()?
        .set_hook_secret(source, &secret)
        .await?)
}

/// Removes every secret of a webhook source: its deliveries are refused from now on.
#[command]
pub async fn remove_hook_secrets(
    state: State<'_, DeskState>,
    source: WebhookSource,
) -> Result<(), CommandError> {
    Ok(state.session.api()?.remove_hook_secrets(source).await?)
}

/// Every open request to change department, oldest first.
#[command]
pub async fn list_department_requests(
    state: State<'_, DeskState>,
) -> Result<DepartmentRequests, CommandError> {
    Ok(state.session.api()?.department_requests().await?)
}

/// Approves (the agent moves) or refuses a request to change department.
#[command]
pub async fn decide_department_request(
    state: State<'_, DeskState>,
    request_id: String,
    approve: bool,
    note: Option<String>,
) -> Result<DecidedDepartmentRequest, CommandError> {
    Ok(state
        .session
        .api()?
        .decide_department_request(&request_id, &DepartmentDecision { approve, note })
        .await?)
}

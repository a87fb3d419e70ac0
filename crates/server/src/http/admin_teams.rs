//! Teams as administrators manage them: `GET|POST /api/v1/admin/teams`,
//! `PATCH|DELETE /api/v1/admin/teams/{id}` and
//! `PUT|DELETE /api/v1/admin/teams/{id}/members/{agent_id}`. Administrators only. Every
//! agent whose place in a team changes has it in their change log, and their app hears of
//! it (`profile.updated`).

use agent_desk_core::teams::{AdministeredTeams, NewTeam, Team, TeamMembership, TeamPatch};
use agent_desk_core::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use chrono::{DateTime, Utc};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::AdminSession;
use super::error::ApiResult;
use super::json::ApiJson;
use super::path::ApiPath;
use crate::{admin_teams, events, teams, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_teams, create_team))
        .routes(routes!(rename_team, delete_team))
        .routes(routes!(set_member, remove_member))
}

/// Tells each agent's app that their teams changed.
async fn tell_agents(state: &AppState, agent_ids: &[String], now: DateTime<Utc>) {
    for agent_id in agent_ids {
        events::tell(events::publish_profile_updated(
            &state.db, &state.hub, agent_id, "Teams", now,
        ))
        .await;
    }
}

/// Every team by name with everyone in it (leads first) and how many requests to join
/// it wait.
#[utoipa::path(get, path = "/api/v1/admin/teams", tag = "administration", security(("bearer" = [])),
    responses(
        (status = 200, body = AdministeredTeams),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
    ))]
async fn list_teams(
    State(state): State<AppState>,
    _admin: AdminSession,
) -> ApiResult<Json<AdministeredTeams>> {
    Ok(Json(admin_teams::list(&state.db).await?))
}

/// Creates a team with its leads and members, named by their emails.
#[utoipa::path(post, path = "/api/v1/admin/teams", tag = "administration", security(("bearer" = [])),
    request_body = NewTeam,
    responses(
        (status = 201, body = Team),
        (status = 400, body = ApiError, description = "A name that is empty or too long, or an email no agent has"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 409, body = ApiError, description = "A team of that name exists"),
    ))]
async fn create_team(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiJson(new): ApiJson<NewTeam>,
) -> ApiResult<impl IntoResponse> {
    let id = teams::create(&state.db, &new.name, &new.leads, &new.members, Utc::now()).await?;
    let team = teams::find_team(&state.db, &id, &session.agent_id).await?;
    Ok((StatusCode::CREATED, Json(team)))
}

/// Renames a team (in the change log of the team).
#[utoipa::path(patch, path = "/api/v1/admin/teams/{id}", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "The team's id")),
    request_body = TeamPatch,
    responses(
        (status = 204, description = "Renamed (or already so named)"),
        (status = 400, body = ApiError, description = "A name that is empty, too long or carries hidden characters; `field` is `name`"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "Another team has that name"),
    ))]
async fn rename_team(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiPath(team_id): ApiPath<String>,
    ApiJson(patch): ApiJson<TeamPatch>,
) -> ApiResult<StatusCode> {
    admin_teams::rename(
        &state.db,
        &session.agent_id,
        &team_id,
        &patch.name,
        Utc::now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a team with its memberships and its join requests. Its former members have
/// it in their change log; events addressed to it before stay with who got them.
#[utoipa::path(delete, path = "/api/v1/admin/teams/{id}", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "The team's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 404, body = ApiError),
    ))]
async fn delete_team(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiPath(team_id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let now = Utc::now();
    let former = admin_teams::delete(&state.db, &session.agent_id, &team_id, now).await?;
    tell_agents(&state, &former, now).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts an agent in the team as a lead or a member, or changes their role; an open
/// request of theirs to join is approved.
#[utoipa::path(put, path = "/api/v1/admin/teams/{id}/members/{agent_id}", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "The team's id"),
        ("agent_id" = String, Path, description = "The agent's id")),
    request_body = TeamMembership,
    responses(
        (status = 204, description = "In the team with that role"),
        (status = 400, body = ApiError, description = "An unknown role; `field` is `role`"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 404, body = ApiError, description = "No such team or agent"),
        (status = 409, body = ApiError, description = "The agent is deactivated (`field` is `agent_id`)"),
    ))]
async fn set_member(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiPath((team_id, agent_id)): ApiPath<(String, String)>,
    ApiJson(membership): ApiJson<TeamMembership>,
) -> ApiResult<StatusCode> {
    let now = Utc::now();
    let changed = admin_teams::set_member(
        &state.db,
        &session.agent_id,
        &team_id,
        &agent_id,
        membership.role,
        now,
    )
    .await?;
    if changed {
        tell_agents(&state, &[agent_id], now).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Takes an agent out of the team.
#[utoipa::path(delete, path = "/api/v1/admin/teams/{id}/members/{agent_id}", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "The team's id"),
        ("agent_id" = String, Path, description = "The agent's id")),
    responses(
        (status = 204, description = "Out of the team"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 404, body = ApiError, description = "No such team, or the agent is not in it"),
    ))]
async fn remove_member(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiPath((team_id, agent_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let now = Utc::now();
    admin_teams::remove_member(&state.db, &session.agent_id, &team_id, &agent_id, now).await?;
    tell_agents(&state, &[agent_id], now).await;
    Ok(StatusCode::NO_CONTENT)
}

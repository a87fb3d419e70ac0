//! Agents as administrators manage them: `GET|POST /api/v1/admin/agents`,
//! `GET|PATCH /api/v1/admin/agents/{id}` and
//! `POST /api/v1/admin/agents/{id}/password-reset`. Administrators only: the head of the
//! request decides, before any body is read.

use agent_desk_core::admin::{
    AdministeredAgent, AdministeredAgentPatch, AgentList, AgentListQuery, NewAgent, AGENT_PAGE_MAX,
};
use agent_desk_core::{ApiError, ErrorCode};
use axum::extract::{Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::AdminSession;
use super::error::{ApiResult, AppError};
use super::json::ApiJson;
use super::path::ApiPath;
use super::profile::{IfMatch, Versioned};
use crate::account::{self, LinkMail};
use crate::admin_agents::{self, AdminAgentError, Filter};
use crate::{events, AppState};

/// Agents a page holds when the query does not say.
const PAGE_DEFAULT: u32 = 50;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_agents, create_agent))
        .routes(routes!(get_agent, patch_agent))
        .routes(routes!(send_password_link))
}

/// Agents by name, narrowed by the query, a page at a time; with every department (for
/// the filter) and how many department requests wait.
#[utoipa::path(get, path = "/api/v1/admin/agents", tag = "administration", security(("bearer" = [])),
    params(AgentListQuery),
    responses(
        (status = 200, body = AgentList),
        (status = 400, body = ApiError, description = "An unknown parameter, or a limit out of range; `field` names it"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
    ))]
async fn list_agents(
    State(state): State<AppState>,
    _admin: AdminSession,
    query: Result<Query<AgentListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<AgentList>> {
    let Query(query) = query.map_err(|rejection| {
        AppError::bad_request(ErrorCode::ValidationFailed, rejection.body_text(), None)
    })?;
    let limit = query.limit.unwrap_or(PAGE_DEFAULT);
    if !(1..=AGENT_PAGE_MAX).contains(&limit) {
        return Err(AppError::bad_request(
            ErrorCode::ValidationFailed,
            format!("limit must be between 1 and {AGENT_PAGE_MAX}"),
            Some("limit".into()),
        ));
    }
    let filter = Filter {
        words: query
            .q
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_lowercase)
            .collect(),
        activity: query.activity.unwrap_or_default(),
        department: query.department.filter(|department| !department.is_empty()),
        team: query.team.filter(|team| !team.is_empty()),
        is_admin: query.is_admin,
        limit,
        offset: query.offset.unwrap_or(0),
    };
    Ok(axum::Json(admin_agents::list(&state.db, &filter).await?))
}

/// Makes an agent and mails them a welcome link, valid for 7 days, to choose their
/// password. `Location` is the new agent's address.
#[utoipa::path(post, path = "/api/v1/admin/agents", tag = "administration", security(("bearer" = [])),
    request_body = NewAgent,
    responses(
        (status = 201, body = AdministeredAgent, headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = ApiError, description = "A field breaks a rule; `details` lists each"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 409, body = ApiError, description = "Another agent has that email (`email_taken`)"),
        (status = 502, body = ApiError, description = "The agent was made, but the welcome mail could not be sent (`mail_not_sent`): send a password link"),
    ))]
async fn create_agent(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiJson(new): ApiJson<NewAgent>,
) -> ApiResult<Response> {
    let now = Utc::now();
    let id = admin_agents::create(
        &state.db,
        admin_agents::NewAgent {
            email: &new.email,
            display_name: &new.display_name,
            department: new.department.as_deref(),
            is_admin: new.is_admin.unwrap_or(false),
            created_by: &session.agent_id,
        },
        now,
    )
    .await?;
    mail_link_from(&state, &session.agent_id, &id, Link::Welcome, now).await?;
    let (agent, version) = admin_agents::get(&state.db, &id, now).await?;
    let mut response = (StatusCode::CREATED, Versioned(agent, version)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/admin/agents/{id}")) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// One agent as administrators see them; the `ETag` header is the profile's version.
#[utoipa::path(get, path = "/api/v1/admin/agents/{id}", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "The agent's id")),
    responses(
        (status = 200, body = AdministeredAgent, headers(("ETag" = String))),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 404, body = ApiError),
    ))]
async fn get_agent(
    State(state): State<AppState>,
    _admin: AdminSession,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    let (agent, version) = admin_agents::get(&state.db, &id, Utc::now()).await?;
    Ok(Versioned(agent, version))
}

/// Changes an agent: any profile field, the sign-in `email`, the `department` (at
/// once), `is_admin` and `active`. `If-Match` carries the ETag of the version changed.
/// Deactivating ends every session of the agent and closes their streams at once;
/// the agent's own app hears of every other change.
#[utoipa::path(patch, path = "/api/v1/admin/agents/{id}", tag = "administration", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The agent's id"),
        ("If-Match" = String, Header, description = "ETag from GET /api/v1/admin/agents/{id}"),
    ),
    request_body = AdministeredAgentPatch,
    responses(
        (status = 200, body = AdministeredAgent, headers(("ETag" = String))),
        (status = 400, body = ApiError, description = "A field breaks a rule; `details` lists each"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator, or deactivates themselves"),
        (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "The agent changed since that ETag (`version_conflict`), another agent has that email (`email_taken`), or the change would leave no active administrator (`last_administrator`)"),
        (status = 428, body = ApiError, description = "If-Match is missing"),
    ))]
async fn patch_agent(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiPath(id): ApiPath<String>,
    IfMatch(expected_version): IfMatch,
    ApiJson(patch): ApiJson<AdministeredAgentPatch>,
) -> ApiResult<impl IntoResponse> {
    let now = Utc::now();
    let changed = admin_agents::update(
        &state.db,
        &session.agent_id,
        &id,
        &patch,
        expected_version,
        now,
    )
    .await?;
    if !changed.ended_sessions.is_empty() {
        state.hub.end_sessions(&id, &changed.ended_sessions);
    }
    if !changed.fields.is_empty() {
        events::tell(events::publish_profile_updated(
            &state.db, &state.hub, &id, "profile", now,
        ))
        .await;
    }
    if changed.welcome_again {
        mail_link_from(&state, &session.agent_id, &id, Link::Welcome, now).await?;
    }
    let (agent, version) = admin_agents::get(&state.db, &id, now).await?;
    Ok(Versioned(agent, version))
}

/// Mails the agent a link to choose a new password (30 minutes, the newest link only).
/// Their password and sessions stay until they use it.
#[utoipa::path(post, path = "/api/v1/admin/agents/{id}/password-reset", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "The agent's id")),
    responses(
        (status = 204, description = "The mail was handed to the mail server"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "The agent is deactivated: reactivate them first"),
        (status = 502, body = ApiError, description = "The mail could not be sent (`mail_not_sent`)"),
    ))]
async fn send_password_link(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let now = Utc::now();
    let (agent, _) = admin_agents::get(&state.db, &id, now).await?;
    if !agent.active {
        return Err(AppError::Conflict {
            code: ErrorCode::Conflict,
            message: format!(
                "{} is deactivated: reactivate them before sending a password link",
                agent.profile.display_name
            ),
            field: None,
        });
    }
    let link = if agent.welcome_pending {
        Link::Welcome
    } else {
        Link::Reset
    };
    mail_link_from(&state, &session.agent_id, &id, link, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which link an administrator has mailed.
#[derive(Clone, Copy)]
enum Link {
    Welcome,
    Reset,
}

/// Mails the agent `agent_id` a link to choose a password, named as sent by the
/// administrator `administrator_id`.
async fn mail_link_from(
    state: &AppState,
    administrator_id: &str,
    agent_id: &str,
    link: Link,
    now: chrono::DateTime<Utc>,
) -> Result<(), AppError> {
    let (administrator, _) = crate::agents::profile(&state.db, administrator_id).await?;
    let administrator = administrator.display_name.as_str();
    let kind = match link {
        Link::Welcome => LinkMail::Welcome { administrator },
        Link::Reset => LinkMail::ResetByAdministrator { administrator },
    };
    let public_url = state.config.public_url();
    account::mail_link(&state.db, &state.mailer, agent_id, kind, &public_url, now).await?;
    Ok(())
}

impl From<AdminAgentError> for AppError {
    fn from(error: AdminAgentError) -> Self {
        let message = error.to_string();
        match error {
            AdminAgentError::NotFound => AppError::NotFound,
            AdminAgentError::Invalid(details) => AppError::Validation(details),
            AdminAgentError::EmailTaken(_) => AppError::Conflict {
                code: ErrorCode::EmailTaken,
                message,
                field: Some("email".into()),
            },
            AdminAgentError::LastAdministrator(_) => AppError::Conflict {
                code: ErrorCode::LastAdministrator,
                message,
                field: None,
            },
            AdminAgentError::VersionConflict => AppError::VersionConflict,
            AdminAgentError::DeactivatingSelf => AppError::Forbidden {
                message,
                field: Some("active".into()),
            },
            AdminAgentError::NoLongerAdministrator => AppError::Forbidden {
                message,
                field: None,
            },
            AdminAgentError::Database(error) => AppError::Database(error),
            AdminAgentError::Hashing(error) => AppError::Account(error.into()),
        }
    }
}

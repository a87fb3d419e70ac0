//! Teams and requests to join them: `GET /api/v1/teams`,
//! `POST /api/v1/teams/{id}/join-requests`, `GET /api/v1/join-requests` and
//! `POST /api/v1/join-requests/{id}/decision`. Administrators' routes are in
//! `admin_teams`.

use agent_desk_core::teams::{JoinDecision, JoinRequest, JoinRequests, NewJoinRequest, Team};
use agent_desk_core::{ApiError, ErrorCode, EventType};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Session;
use super::error::{ApiResult, AppError};
use super::json::ApiJson;
use super::path::ApiPath;
use crate::people::ViewerRow;
use crate::teams::{self, TeamError};
use crate::{events, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_teams))
        .routes(routes!(request_to_join))
        .routes(routes!(list_join_requests))
        .routes(routes!(decide))
}

/// Every team, each with where the caller stands: `lead`, `member`, `requested` or `none`.
#[utoipa::path(get, path = "/api/v1/teams", tag = "teams", security(("bearer" = [])),
    responses((status = 200, body = Vec<Team>), (status = 401, body = ApiError)))]
async fn list_teams(State(state): State<AppState>, session: Session) -> ApiResult<Json<Vec<Team>>> {
    Ok(Json(teams::list(&state.db, &session.agent_id).await?))
}

/// Asks to join a team. The team's leads get a `team.join_requested` event.
#[utoipa::path(post, path = "/api/v1/teams/{id}/join-requests", tag = "teams", security(("bearer" = [])),
    params(("id" = String, Path, description = "The team's id")),
    request_body = NewJoinRequest,
    responses(
        (status = 201, body = JoinRequest),
        (status = 400, body = ApiError, description = "A note that is too long"),
        (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "Already a member, or a request is already open"),
    ))]
async fn request_to_join(
    State(state): State<AppState>,
    session: Session,
    ApiPath(team_id): ApiPath<String>,
    ApiJson(new): ApiJson<NewJoinRequest>,
) -> ApiResult<impl IntoResponse> {
    let now = Utc::now();
    let request = teams::request_to_join(
        &state.db,
        &team_id,
        &session.agent_id,
        new.note.as_deref(),
        now,
    )
    .await?;
    let event = events::server_event(
        EventType::TeamJoinRequested,
        format!(
            "{} asks to join {}",
            request.requester_name, request.team_name
        ),
        request.note.clone(),
    );
    events::tell(events::publish_to_team_leads(
        &state.db, &state.hub, &team_id, &event, now,
    ))
    .await;
    Ok((StatusCode::CREATED, Json(request)))
}

/// The caller's own requests (newest first), and the open requests to the teams they lead
/// (to every team, for an administrator).
#[utoipa::path(get, path = "/api/v1/join-requests", tag = "teams", security(("bearer" = [])),
    responses((status = 200, body = JoinRequests), (status = 401, body = ApiError)))]
async fn list_join_requests(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<Json<JoinRequests>> {
    let viewer = ViewerRow::load(&state.db, &session.agent_id).await?;
    let (mine, to_decide) = teams::requests_for(&state.db, &viewer).await?;
    Ok(Json(JoinRequests { mine, to_decide }))
}

/// Approves or denies a request: a lead of the team or an administrator. Approving makes
/// the requester a member; they get a `team.request_decided` event either way.
#[utoipa::path(post, path = "/api/v1/join-requests/{id}/decision", tag = "teams", security(("bearer" = [])),
    params(("id" = String, Path, description = "The request's id")),
    request_body = JoinDecision,
    responses(
        (status = 200, body = JoinRequest),
        (status = 400, body = ApiError, description = "A note that is too long"),
        (status = 403, body = ApiError, description = "Not a lead of the team"),
        (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "Already decided"),
    ))]
async fn decide(
    State(state): State<AppState>,
    session: Session,
    ApiPath(request_id): ApiPath<String>,
    ApiJson(decision): ApiJson<JoinDecision>,
) -> ApiResult<Json<JoinRequest>> {
    let now = Utc::now();
    let decider = ViewerRow::load(&state.db, &session.agent_id).await?;
    let request = teams::decide(
        &state.db,
        &request_id,
        &decider,
        decision.approve,
        decision.note.as_deref(),
        now,
    )
    .await?;
    let title = if decision.approve {
        format!("You joined {}", request.team_name)
    } else {
        format!("Your request to join {} was declined", request.team_name)
    };
    let event = events::server_event(
        EventType::TeamRequestDecided,
        title,
        request.decision_note.clone(),
    );
    events::tell(events::publish_to_agent(
        &state.db,
        &state.hub,
        &request.requester_id,
        &event,
        now,
    ))
    .await;
    Ok(Json(request))
}

/// An event the server raises about a team. Who receives it is chosen by the `publish_to_…`
/// call, so `to` is not read.
impl From<TeamError> for AppError {
    fn from(error: TeamError) -> Self {
        let conflict =
            |error: &TeamError, code: ErrorCode, field: Option<&str>| AppError::Conflict {
                code,
                message: error.to_string(),
                field: field.map(str::to_owned),
            };
        match error {
            TeamError::InvalidName => AppError::bad_request(
                ErrorCode::ValidationFailed,
                error.to_string(),
                Some("name".into()),
            ),
            TeamError::UnknownAgent(_) => AppError::bad_request(
                ErrorCode::ValidationFailed,
                error.to_string(),
                Some("leads".into()),
            ),
            TeamError::InvalidNote(_) => AppError::bad_request(
                ErrorCode::ValidationFailed,
                error.to_string(),
                Some("note".into()),
            ),
            TeamError::NameTaken(_) => conflict(&error, ErrorCode::Conflict, Some("name")),
            TeamError::AlreadyMember => conflict(&error, ErrorCode::AlreadyInTeam, None),
            TeamError::AlreadyRequested => conflict(&error, ErrorCode::AlreadyRequested, None),
            TeamError::AlreadyDecided(_) => conflict(&error, ErrorCode::AlreadyDecided, None),
            TeamError::NotLead => AppError::Forbidden {
                message: error.to_string(),
                field: None,
            },
            TeamError::Deactivated(_) => conflict(&error, ErrorCode::Conflict, Some("agent_id")),
            TeamError::UnknownTeam | TeamError::UnknownRequest | TeamError::UnknownMember => {
                AppError::NotFound
            }
            TeamError::Database(error) => AppError::Database(error),
        }
    }
}

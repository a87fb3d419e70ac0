//! Agents' requests to change department, decided by administrators:
//! `GET /api/v1/admin/department-requests` and
//! `POST /api/v1/admin/department-requests/{id}/decision`. Agents ask through
//! `PATCH /api/v1/me`.

use agent_desk_core::departments::{
    DecidedDepartmentRequest, DepartmentDecision, DepartmentRequests,
};
use agent_desk_core::{ApiError, ErrorCode, EventType};
use axum::extract::State;
use axum::Json;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::AdminSession;
use super::error::{ApiResult, AppError};
use super::json::ApiJson;
use super::path::ApiPath;
use crate::departments::{self, DepartmentError};
use crate::{events, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_requests))
        .routes(routes!(decide))
}

/// Every open request to change department, oldest first, with the department in
/// force. Administrators only.
#[utoipa::path(get, path = "/api/v1/admin/department-requests", tag = "profile", security(("bearer" = [])),
    responses(
        (status = 200, body = DepartmentRequests),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
    ))]
async fn list_requests(
    State(state): State<AppState>,
    _admin: AdminSession,
) -> ApiResult<Json<DepartmentRequests>> {
    Ok(Json(DepartmentRequests {
        requests: departments::open_requests(&state.db).await?,
    }))
}

/// Approves (the agent moves to the department asked for) or refuses an open request;
/// the agent hears of it (`department.request_decided`, with the note) and every
/// session of theirs reads the profile again. Administrators only.
#[utoipa::path(post, path = "/api/v1/admin/department-requests/{id}/decision", tag = "profile", security(("bearer" = [])),
    params(("id" = String, Path, description = "The request's id")),
    request_body = DepartmentDecision,
    responses(
        (status = 200, body = DecidedDepartmentRequest),
        (status = 400, body = ApiError, description = "A note that is too long or holds control characters"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "Already decided or withdrawn"),
    ))]
async fn decide(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiPath(request_id): ApiPath<String>,
    ApiJson(decision): ApiJson<DepartmentDecision>,
) -> ApiResult<Json<DecidedDepartmentRequest>> {
    let now = Utc::now();
    let decided = departments::decide(
        &state.db,
        &request_id,
        &session.agent_id,
        decision.approve,
        decision.note.as_deref(),
        now,
    )
    .await?;
    let wanted = decided.requested.as_deref();
    let title = match (decided.decided.approved, wanted) {
        (true, Some(department)) => format!("You moved to the department {department}"),
        (true, None) => "You no longer have a department".to_owned(),
        (false, Some(department)) => {
            format!("Your request to move to the department {department} was declined")
        }
        (false, None) => "Your request to leave your department was declined".to_owned(),
    };
    let agent_id = &decided.decided.agent_id;
    let event = events::server_event(EventType::DepartmentRequestDecided, title, decided.note);
    events::tell(events::publish_to_agent(
        &state.db, &state.hub, agent_id, &event, now,
    ))
    .await;
    events::tell(events::publish_profile_updated(
        &state.db,
        &state.hub,
        agent_id,
        "department",
        now,
    ))
    .await;
    Ok(Json(decided.decided))
}

impl From<DepartmentError> for AppError {
    fn from(error: DepartmentError) -> Self {
        match error {
            DepartmentError::NotFound => AppError::NotFound,
            DepartmentError::AlreadyDecided(_) => AppError::Conflict {
                code: ErrorCode::AlreadyDecided,
                message: error.to_string(),
                field: None,
            },
            DepartmentError::InvalidNote(message) => {
                AppError::bad_request(ErrorCode::ValidationFailed, message, Some("note".into()))
            }
            DepartmentError::Database(error) => AppError::Database(error),
        }
    }
}

//! The agent's availability: `PUT /api/v1/me/status`.

use agent_desk_core::routing::StatusCause;
use agent_desk_core::{ApiError, StatusState, StatusUpdate};
use axum::extract::State;
use axum::Json;
use chrono::{SubsecRound, Utc};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Session;
use super::error::{ApiResult, AppError};
use super::json::ApiJson;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_status))
}

/// Sets the caller's status, optionally until a time after which it reverts to
/// available. Every session of the agent hears of it (`profile.updated`), and so does the
/// status webhook; `idle: true` says the app's idle detection set it.
#[utoipa::path(put, path = "/api/v1/me/status", tag = "profile", security(("bearer" = [])),
    request_body = StatusUpdate,
    responses(
        (status = 200, body = StatusState),
        (status = 400, body = ApiError, description = "An unknown status, or `until` not an RFC 3339 time in the coming year"),
        (status = 401, body = ApiError),
    ))]
async fn put_status(
    State(state): State<AppState>,
    session: Session,
    ApiJson(update): ApiJson<StatusUpdate>,
) -> ApiResult<Json<StatusState>> {
    let now = Utc::now();
    if update.until.is_some_and(|until| until <= now) {
        return Err(AppError::Invalid(agent_desk_core::InvalidField::new(
            "until",
            "until must be in the future",
        )));
    }
    if update
        .until
        .is_some_and(|until| until > now + agent_desk_core::profile::STATUS_UNTIL_MAX)
    {
        return Err(AppError::Invalid(agent_desk_core::InvalidField::new(
            "until",
            "until must be at most a year ahead",
        )));
    }
    // Kept to the millisecond, as stored: the same time sent again is no change. Available
    // "until" a time would end in Available: it has no end.
    let until = match update.status {
        agent_desk_core::Status::Available => None,
        _ => update.until.map(|until| until.trunc_subsecs(3)),
    };
    let cause = if update.idle {
        StatusCause::Idle
    } else {
        StatusCause::Agent
    };
    crate::status::change(
        &state.db,
        &state.hub,
        &session.agent_id,
        update.status,
        until,
        cause,
        now,
    )
    .await?;
    Ok(Json(StatusState {
        status: update.status,
        until,
    }))
}

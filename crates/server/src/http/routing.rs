//! `GET /api/v1/routing/agents`: what each agent may be given now.

use std::collections::HashMap;

use agent_desk_core::routing::RoutingAgents;
use agent_desk_core::{ApiError, ErrorCode};
use axum::extract::{Query, State};
use axum::Json;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::RoutingReader;
use super::error::{ApiResult, AppError};
use crate::routing::{self, RoutingError};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(routing_agents))
}

/// Each agent's status in force and what they may be given now: `any` (Available),
/// `urgent_only` (Busy) or `none` (Away, Do not disturb, Offline). Administrators, and
/// integrations whose token has the `routing:read` scope.
#[utoipa::path(get, path = "/api/v1/routing/agents", tag = "routing", security(("bearer" = [])),
    params(("team" = Option<String>, Query, description = "Only this team's members")),
    responses(
        (status = 200, body = RoutingAgents),
        (status = 400, body = ApiError, description = "An unknown team or query parameter; `field` names it"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "Neither an administrator nor an integration with the routing:read scope"),
    ))]
async fn routing_agents(
    State(state): State<AppState>,
    _reader: RoutingReader,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<RoutingAgents>> {
    if let Some(unknown) = query.keys().find(|key| *key != "team") {
        return Err(AppError::bad_request(
            ErrorCode::UnknownField,
            format!("unknown query parameter {unknown}"),
            Some(unknown.clone()),
        ));
    }
    match routing::agents(&state.db, query.get("team").map(String::as_str), Utc::now()).await {
        Ok(agents) => Ok(Json(agents)),
        Err(error @ RoutingError::UnknownTeam(_)) => Err(AppError::bad_request(
            ErrorCode::ValidationFailed,
            error.to_string(),
            Some("team".into()),
        )),
        Err(RoutingError::Database(error)) => Err(error.into()),
    }
}

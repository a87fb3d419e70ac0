//! `GET /api/v1/admin/integrations`: whether the helpdesk's alerts are flowing.

use agent_desk_core::integrations::Integrations;
use agent_desk_core::ApiError;
use axum::extract::State;
use axum::Json;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::AdminSession;
use super::error::ApiResult;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(integrations))
}

/// The helpdesks the server follows: the last change read, the last success and how
/// long ago, what was read, published and skipped, and the last error until the next
/// success. Administrators only.
#[utoipa::path(get, path = "/api/v1/admin/integrations", tag = "events", security(("bearer" = [])),
    responses(
        (status = 200, body = Integrations),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
    ))]
async fn integrations(
    State(state): State<AppState>,
    _admin: AdminSession,
) -> ApiResult<Json<Integrations>> {
    Ok(Json(
        crate::helpdesk::integrations(&state.db, Utc::now()).await?,
    ))
}

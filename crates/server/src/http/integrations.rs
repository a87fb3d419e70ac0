//! `GET /api/v1/admin/integrations`: whether the helpdesks' alerts are flowing.

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

/// The helpdesks the server follows (the last change read, the last success and how
/// long ago, what was read, published and skipped, the last error until the next
/// success), the webhooks' sources and how their deliveries go, the integrations'
/// tokens in force, and the status webhook's queue. Administrators only.
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
    let now = Utc::now();
    Ok(Json(Integrations {
        helpdesks: crate::helpdesk::connections(&state.db, now).await?,
        hooks: crate::hooks::sources(&state.db, now).await?,
        tokens: crate::integration_tokens::list(&state.db).await?,
        status_webhook: crate::status::webhook_state(&state.db).await?,
    }))
}

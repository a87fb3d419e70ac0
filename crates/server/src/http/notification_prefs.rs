//! What the agent is told of and how: `GET|PUT /api/v1/me/notification-prefs`, versioned
//! with ETag / If-Match like the profile.

use agent_desk_core::{ApiError, NotificationPrefs};
use axum::extract::State;
use axum::response::IntoResponse;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Session;
use super::error::{ApiResult, AppError};
use super::json::ApiJson;
use super::profile::{IfMatch, Versioned};
use crate::notification_prefs::{self, PrefsError};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_prefs, put_prefs))
}

/// A row for every configurable event type and the quiet hours; the `ETag` is the
/// version to send back with a change.
#[utoipa::path(get, path = "/api/v1/me/notification-prefs", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, body = NotificationPrefs, headers(("ETag" = String))),
        (status = 401, body = ApiError),
    ))]
async fn get_prefs(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<impl IntoResponse> {
    let (mut prefs, version) = notification_prefs::get(&state.db, &session.agent_id).await?;
    prefs.can_configure_admin_only = session.is_admin;
    Ok(Versioned(prefs, version))
}

/// Replaces the preferences. Types left out get their defaults. Only administrators
/// may switch on the admin-only types.
#[utoipa::path(put, path = "/api/v1/me/notification-prefs", tag = "notifications", security(("bearer" = [])),
    request_body = NotificationPrefs,
    params(("If-Match" = String, Header, description = "ETag from GET")),
    responses(
        (status = 200, body = NotificationPrefs, headers(("ETag" = String))),
        (status = 400, body = ApiError, description = "A duplicate or unknown type, or a bad quiet-hours time; `field` names it"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "An admin-only type switched on by an agent; `field` is the type"),
        (status = 409, body = ApiError, description = "Changed since that ETag"),
        (status = 428, body = ApiError, description = "If-Match is missing"),
    ))]
async fn put_prefs(
    State(state): State<AppState>,
    session: Session,
    IfMatch(expected_version): IfMatch,
    ApiJson(sent): ApiJson<NotificationPrefs>,
) -> ApiResult<impl IntoResponse> {
    let prefs = sent
        .normalised(session.is_admin)
        .map_err(AppError::Invalid)?;
    if !session.is_admin {
        if let Some(kind) = prefs.enabled_admin_only() {
            return Err(AppError::Forbidden {
                message: format!("only an administrator can turn on notifications for {kind}"),
                field: Some(kind.as_str().to_owned()),
            });
        }
    }
    let version = notification_prefs::save(
        &state.db,
        &session.agent_id,
        &prefs,
        expected_version,
        Utc::now(),
    )
    .await?;
    Ok(Versioned(prefs, version))
}

impl From<PrefsError> for AppError {
    fn from(error: PrefsError) -> Self {
        match error {
            PrefsError::VersionConflict => AppError::VersionConflict,
            PrefsError::Database(error) => AppError::Database(error),
        }
    }
}

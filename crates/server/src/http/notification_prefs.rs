//! What an agent is told of and how: `GET|PUT /api/v1/me/notification-prefs`, versioned
//! with ETag / If-Match like the profile; an administrator's view of the same for any
//! agent (`/api/v1/admin/agents/{id}/notification-prefs`), and the locks administrators
//! set for everyone (`/api/v1/admin/notification-locks`).

use agent_desk_core::{ApiError, NotificationLocks, NotificationPrefs};
use axum::extract::State;
use axum::response::IntoResponse;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{AdminSession, Session};
use super::error::{ApiResult, AppError};
use super::json::ApiJson;
use super::path::ApiPath;
use super::profile::{IfMatch, Versioned};
use crate::notification_prefs::{self, PrefsError};
use crate::{events, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_prefs, put_prefs))
        .routes(routes!(get_agent_prefs, put_agent_prefs))
        .routes(routes!(get_locks, put_locks))
}

/// A row for every configurable event type and the quiet hours; channels an
/// administrator locked show their locked value, with `locked` and `lock_reason`. The
/// `ETag` is the version to send back with a change.
#[utoipa::path(get, path = "/api/v1/me/notification-prefs", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, body = NotificationPrefs, headers(("ETag" = String))),
        (status = 401, body = ApiError),
    ))]
async fn get_prefs(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<impl IntoResponse> {
    let (mut prefs, version) = notification_prefs::effective(&state.db, &session.agent_id).await?;
    prefs.can_configure_admin_only = session.is_admin;
    Ok(Versioned(prefs, version))
}

/// Replaces the preferences. Types left out get their defaults. Only administrators
/// may switch on the admin-only types, and a locked channel stays at its locked value.
#[utoipa::path(put, path = "/api/v1/me/notification-prefs", tag = "notifications", security(("bearer" = [])),
    request_body = NotificationPrefs,
    params(("If-Match" = String, Header, description = "ETag from GET")),
    responses(
        (status = 200, body = NotificationPrefs, headers(("ETag" = String))),
        (status = 400, body = ApiError, description = "A duplicate or unknown type, or a bad quiet-hours time; `field` names it"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "An admin-only type switched on by an agent (`field` is the type), or a locked channel changed (`field` is `events[i].<channel>`)"),
        (status = 409, body = ApiError, description = "Changed since that ETag"),
        (status = 428, body = ApiError, description = "If-Match is missing"),
    ))]
async fn put_prefs(
    State(state): State<AppState>,
    session: Session,
    IfMatch(expected_version): IfMatch,
    ApiJson(sent): ApiJson<NotificationPrefs>,
) -> ApiResult<impl IntoResponse> {
    let (mut prefs, version) = notification_prefs::replace(
        &state.db,
        &session.agent_id,
        &session.agent_id,
        sent,
        session.is_admin,
        expected_version,
        Utc::now(),
    )
    .await?;
    prefs.can_configure_admin_only = session.is_admin;
    Ok(Versioned(prefs, version))
}

/// Whether the agent administers; 404 for no such agent.
async fn administers(state: &AppState, agent_id: &str) -> Result<bool, AppError> {
    crate::storage::query_scalar::<bool>("SELECT is_admin FROM agents WHERE id = $1")
        .bind(agent_id)
        .fetch_optional(&state.db)
        .await?
        .ok_or(AppError::NotFound)
}

/// An agent's preferences as they take effect, for an administrator to set up;
/// `can_configure_admin_only` says whether the agent administers.
#[utoipa::path(get, path = "/api/v1/admin/agents/{id}/notification-prefs", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "The agent's id")),
    responses(
        (status = 200, body = NotificationPrefs, headers(("ETag" = String))),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 404, body = ApiError),
    ))]
async fn get_agent_prefs(
    State(state): State<AppState>,
    _admin: AdminSession,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    let is_admin = administers(&state, &id).await?;
    let (mut prefs, version) = notification_prefs::effective(&state.db, &id).await?;
    prefs.can_configure_admin_only = is_admin;
    Ok(Versioned(prefs, version))
}

/// Sets an agent's preferences for them, under the same rules as their own change:
/// admin-only types only for an administrator, locked channels at their value. Each
/// changed channel goes into the agent's change log, and their app reads them again.
#[utoipa::path(put, path = "/api/v1/admin/agents/{id}/notification-prefs", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "The agent's id"),
        ("If-Match" = String, Header, description = "ETag from GET")),
    request_body = NotificationPrefs,
    responses(
        (status = 200, body = NotificationPrefs, headers(("ETag" = String))),
        (status = 400, body = ApiError, description = "A duplicate or unknown type, or a bad quiet-hours time; `field` names it"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator; an admin-only type for an agent who is not one; a locked channel changed"),
        (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "Changed since that ETag"),
        (status = 428, body = ApiError, description = "If-Match is missing"),
    ))]
async fn put_agent_prefs(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiPath(id): ApiPath<String>,
    IfMatch(expected_version): IfMatch,
    ApiJson(sent): ApiJson<NotificationPrefs>,
) -> ApiResult<impl IntoResponse> {
    let is_admin = administers(&state, &id).await?;
    let now = Utc::now();
    let (mut prefs, version) = notification_prefs::replace(
        &state.db,
        &id,
        &session.agent_id,
        sent,
        is_admin,
        expected_version,
        now,
    )
    .await?;
    prefs.can_configure_admin_only = is_admin;
    events::tell(events::publish_profile_updated(
        &state.db,
        &state.hub,
        &id,
        "Notification preferences",
        now,
    ))
    .await;
    Ok(Versioned(prefs, version))
}

/// The event types' channels administrators have set for everyone.
#[utoipa::path(get, path = "/api/v1/admin/notification-locks", tag = "administration", security(("bearer" = [])),
    responses(
        (status = 200, body = NotificationLocks, headers(("ETag" = String))),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
    ))]
async fn get_locks(
    State(state): State<AppState>,
    _admin: AdminSession,
) -> ApiResult<impl IntoResponse> {
    let (locks, version) = notification_prefs::locks(&state.db).await?;
    Ok(Versioned(locks, version))
}

/// Replaces the locks: each listed type's set channels take that value for every agent,
/// who sees them locked with the reason and cannot change them. Every app reads its
/// preferences again.
#[utoipa::path(put, path = "/api/v1/admin/notification-locks", tag = "administration", security(("bearer" = [])),
    params(("If-Match" = String, Header, description = "ETag from GET (\"0\" before the first)")),
    request_body = NotificationLocks,
    responses(
        (status = 200, body = NotificationLocks, headers(("ETag" = String))),
        (status = 400, body = ApiError, description = "A type listed twice, one agents do not configure or that is for administrators only, or a missing or long reason; `field` names it"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 409, body = ApiError, description = "Changed since that ETag"),
        (status = 428, body = ApiError, description = "If-Match is missing"),
    ))]
async fn put_locks(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    IfMatch(expected_version): IfMatch,
    ApiJson(sent): ApiJson<NotificationLocks>,
) -> ApiResult<impl IntoResponse> {
    let now = Utc::now();
    let (locks, version) =
        notification_prefs::save_locks(&state.db, &session.agent_id, sent, expected_version, now)
            .await?;
    events::tell(events::publish_locks_changed(&state.db, &state.hub, now)).await;
    Ok(Versioned(locks, version))
}

impl From<PrefsError> for AppError {
    fn from(error: PrefsError) -> Self {
        match error {
            PrefsError::VersionConflict => AppError::VersionConflict,
            PrefsError::Invalid(invalid) => AppError::Invalid(invalid),
            PrefsError::AdminOnly(kind) => AppError::Forbidden {
                message: format!("only an administrator can turn on notifications for {kind}"),
                field: Some(kind.as_str().to_owned()),
            },
            PrefsError::Locked(change) => AppError::Forbidden {
                message: change.to_string(),
                field: Some(change.field),
            },
            PrefsError::Database(error) => AppError::Database(error),
        }
    }
}

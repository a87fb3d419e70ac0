//! Integrations as administrators see and set them: `GET /api/v1/admin/integrations`
//! (whether the helpdesks' alerts are flowing), integrations' tokens
//! (`POST /api/v1/admin/integrations/tokens`, `DELETE …/tokens/{id}`) and webhooks'
//! secrets (`POST|DELETE /api/v1/admin/integrations/hooks/{source}/secrets`). A token or
//! secret the server makes is in its answer this once; the idempotency layer keeps no copy
//! of it (`SECRET_ANSWERS` there).

use agent_desk_core::integrations::{
    Integrations, IssuedIntegrationToken, NewHookSecret, NewIntegrationToken, SavedHookSecret,
    HOOK_GRACE_HOURS_DEFAULT,
};
use agent_desk_core::{ApiError, ErrorCode};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use chrono::{TimeDelta, Utc};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::AdminSession;
use super::error::{ApiResult, AppError};
use super::json::ApiJson;
use super::path::ApiPath;
use crate::hooks::{self, HookError, Source};
use crate::integration_tokens::{self, TokenError};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(integrations))
        .routes(routes!(create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(set_hook_secret, remove_hook_secrets))
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
        hooks: hooks::sources(&state.db, now).await?,
        tokens: integration_tokens::list(&state.db).await?,
        status_webhook: crate::status::webhook_state(&state.db).await?,
    }))
}

/// Makes an integration's token, which works only within its scopes. The token is in
/// this answer once; the server keeps only its hash, and a retry under the same
/// `Idempotency-Key` is answered `already_applied`, not with the token again.
#[utoipa::path(post, path = "/api/v1/admin/integrations/tokens", tag = "administration", security(("bearer" = [])),
    request_body = NewIntegrationToken,
    responses(
        (status = 201, body = IssuedIntegrationToken),
        (status = 400, body = ApiError, description = "An empty, long or multi-line name (`name`), no scope (`scopes`), or an unknown one (`scopes[i]`)"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 409, body = ApiError, description = "An integration with that name has a token in force; `field` is `name`"),
    ))]
async fn create_token(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiJson(new): ApiJson<NewIntegrationToken>,
) -> ApiResult<impl IntoResponse> {
    let scopes = integration_tokens::scopes_of(new.scopes.iter().map(String::as_str)).map_err(
        |(index, error)| {
            AppError::bad_request(
                ErrorCode::ValidationFailed,
                error.to_string(),
                Some(format!("scopes[{index}]")),
            )
        },
    )?;
    let issued = integration_tokens::create(
        &state.db,
        &new.name,
        &scopes,
        Some(&session.agent_id),
        Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// Ends an integration's token at once: its next request is 401.
#[utoipa::path(delete, path = "/api/v1/admin/integrations/tokens/{id}", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "The token's id, from GET /api/v1/admin/integrations")),
    responses(
        (status = 204),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 404, body = ApiError, description = "No token in force has that id"),
    ))]
async fn revoke_token(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    integration_tokens::revoke_by_id(&state.db, &id, &session.agent_id, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets a webhook source's secret, or rotates it: the one it replaces is still accepted
/// for `grace_hours` (24 unless given; 0 ends it at once). Zendesk's secret is the one
/// Zendesk shows for the webhook; for freshdesk and generic the server makes one, in this
/// answer once.
#[utoipa::path(post, path = "/api/v1/admin/integrations/hooks/{source}/secrets", tag = "administration", security(("bearer" = [])),
    params(("source" = String, Path, description = "zendesk, freshdesk or generic")),
    request_body = NewHookSecret,
    responses(
        (status = 201, body = SavedHookSecret),
        (status = 400, body = ApiError, description = "Zendesk without its secret, or another source with one (`secret`); more than 720 hours (`grace_hours`)"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 404, body = ApiError, description = "Not a source the server knows"),
    ))]
async fn set_hook_secret(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiPath(source): ApiPath<String>,
    ApiJson(new): ApiJson<NewHookSecret>,
) -> ApiResult<impl IntoResponse> {
    let source = Source::parse(&source).ok_or(AppError::NotFound)?;
    let grace_hours = new.grace_hours.unwrap_or(HOOK_GRACE_HOURS_DEFAULT);
    let saved = hooks::add_secret(
        &state.db,
        source,
        new.secret,
        TimeDelta::hours(i64::from(grace_hours)),
        Some(&session.agent_id),
        Utc::now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(SavedHookSecret {
            source,
            secret: (!source.secret_is_the_helpdesks()).then_some(saved.secret),
            previous_until: saved.previous_until,
        }),
    ))
}

/// Removes every secret of a source, including one in its grace period: its deliveries
/// are refused from now on, until a secret is set again.
#[utoipa::path(delete, path = "/api/v1/admin/integrations/hooks/{source}/secrets", tag = "administration", security(("bearer" = [])),
    params(("source" = String, Path, description = "zendesk, freshdesk or generic")),
    responses(
        (status = 204),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 404, body = ApiError, description = "Not a source the server knows, or one without a secret"),
    ))]
async fn remove_hook_secrets(
    State(state): State<AppState>,
    _admin: AdminSession,
    ApiPath(source): ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    let source = Source::parse(&source).ok_or(AppError::NotFound)?;
    hooks::remove_secrets(&state.db, source, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl From<TokenError> for AppError {
    fn from(error: TokenError) -> Self {
        let invalid = |error: &TokenError, field: &str| {
            AppError::bad_request(
                ErrorCode::ValidationFailed,
                error.to_string(),
                Some(field.to_owned()),
            )
        };
        match error {
            TokenError::BadName => invalid(&error, "name"),
            TokenError::NoScope => invalid(&error, "scopes"),
            TokenError::UnknownScope(_) => invalid(&error, "scopes"),
            TokenError::NameTaken(_) => AppError::Conflict {
                code: ErrorCode::Conflict,
                message: error.to_string(),
                field: Some("name".into()),
            },
            TokenError::Unknown(_) | TokenError::NotFound => AppError::NotFound,
            TokenError::Database(error) => AppError::Database(error),
        }
    }
}

impl From<HookError> for AppError {
    fn from(error: HookError) -> Self {
        let invalid = |error: &HookError, field: &str| {
            AppError::bad_request(
                ErrorCode::ValidationFailed,
                error.to_string(),
                Some(field.to_owned()),
            )
        };
        match error {
            HookError::EmptySecret
            | HookError::LongSecret
            | HookError::SecretRequired
            | HookError::SecretMadeHere(_) => invalid(&error, "secret"),
            HookError::GraceTooLong => invalid(&error, "grace_hours"),
            HookError::UnknownSource { .. } | HookError::NoSecret(_) => AppError::NotFound,
            HookError::Database(error) => AppError::Database(error),
        }
    }
}

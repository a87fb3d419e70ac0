//! Signing in and out, and the bearer-token extractor every protected route uses.

use std::net::SocketAddr;

use std::time::Instant;

use agent_desk_core::{ApiError, ErrorCode, LoginRequest, LoginResponse};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiResult, AppError};
use super::json::ApiJson;
use crate::account::{self, AttemptRecord};
use crate::agents::{self, NewSession};
use crate::{credentials, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
}

/// The signed-in agent behind a request's bearer token.
#[derive(Debug, Clone)]
pub struct Session {
    pub session_id: String,
    pub agent_id: String,
    pub is_admin: bool,
}

impl FromRequestParts<AppState> for Session {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or(AppError::Unauthorized)?;
        let (session_id, agent_id, is_admin) =
            agents::session_by_token(&state.db, token, Utc::now())
                .await?
                .ok_or(AppError::Unauthorized)?;
        Ok(Session {
            session_id,
            agent_id,
            is_admin,
        })
    }
}

/// The peer's IP address, when the server was started with connect info (always, in `serve`).
pub fn client_address(extensions: &axum::http::Extensions) -> Option<String> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip().to_string())
}

/// The `email` of a request, normalised; 400 naming the field when it is not an address.
pub fn email_field(raw: &str) -> Result<String, AppError> {
    let email = agents::normalise_email(raw);
    if agents::is_plausible_email(&email) {
        Ok(email)
    } else {
        Err(AppError::bad_request(
            ErrorCode::InvalidEmail,
            "email is not a valid email address",
            Some("email".into()),
        ))
    }
}

/// Exchanges email and password for a bearer token. A wrong email and a wrong
/// password get the same answer.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, body = ApiError, description = "Malformed body"),
        (status = 401, body = ApiError, description = "Wrong email or password"),
        (status = 429, body = ApiError, description = "Too many failed sign-ins for this account or from this address; see Retry-After"),
    ))]
async fn login(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let email = email_field(&request.email)?;
    let ip = client_address(&extensions);
    let address_key = ip.clone().unwrap_or_default();
    let throttles = &state.throttles;
    // Checked before the password, so a blocked guess learns nothing; keyed by the
    // address asked for, so accounts that exist and those that do not behave alike.
    throttles
        .guard(&[
            (&throttles.sign_in_accounts, &email),
            (&throttles.sign_in_addresses, &address_key),
        ])
        .map_err(AppError::rate_limited)?;

    let found = agents::credentials_by_email(&state.db, &email).await?;
    let (agent_id, hash) = match found {
        Some((id, hash)) => (Some(id), hash),
        None => (None, state.decoy_password_hash.to_string()),
    };
    let password = request.password.clone();
    let matches =
        tokio::task::spawn_blocking(move || credentials::verify_password(&password, &hash))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
    let now = Utc::now();
    let attempt = AttemptRecord {
        agent_id: agent_id.as_deref(),
        email: &email,
        succeeded: matches && agent_id.is_some(),
        client_name: request.client_name.as_deref(),
        ip_address: ip.as_deref(),
    };
    account::record_sign_in(&state.db, attempt, now).await?;
    let agent_id = match agent_id {
        Some(id) if matches => id,
        _ => {
            let now = Instant::now();
            throttles.sign_in_accounts.record_failure(&email, now);
            throttles
                .sign_in_addresses
                .record_failure(&address_key, now);
            return Err(AppError::InvalidCredentials);
        }
    };
    throttles.sign_in_accounts.record_success(&email);
    let token = agents::create_session(
        &state.db,
        NewSession {
            agent_id: &agent_id,
            client_name: request.client_name.as_deref(),
            client_version: request.client_version.as_deref(),
            ip_address: ip,
        },
        now,
    )
    .await?;
    Ok(Json(LoginResponse { token }))
}

/// Ends the session of the token used; the token stops working at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ApiError)))]
async fn logout(State(state): State<AppState>, session: Session) -> ApiResult<StatusCode> {
    agents::delete_session(&state.db, &session.session_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! Password change and reset, the agent's sessions, and the policy clients show.

use agent_desk_core::account::{
    ChangePasswordRequest, PasswordResetAccepted, PasswordResetConfirm, PasswordResetRequest,
    Policy, SessionList, SessionsEnded,
};
use agent_desk_core::password::{PasswordStrength, PasswordStrengthRequest};
use agent_desk_core::{ApiError, PASSWORD_RESET_VALID_MINUTES};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{address_key, client_address, email_field, Session};
use super::error::{ApiResult, AppError};
use super::json::ApiJson;
use super::path::ApiPath;
use crate::account::{self, ResetOrigin};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(change_password))
        .routes(routes!(password_strength))
        .routes(routes!(request_password_reset))
        .routes(routes!(confirm_password_reset))
        .routes(routes!(list_sessions))
        .routes(routes!(end_session))
        .routes(routes!(sign_out_other_sessions))
        .routes(routes!(policy))
}

/// Changes the password. Other sessions are signed out unless `keep_other_sessions`.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, body = SessionsEnded),
        (status = 400, body = ApiError, description = "The new password breaks a rule (`field`: new_password)"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The current password is wrong (`field`: current_password)"),
        (status = 429, body = ApiError, description = "Too many wrong passwords; see Retry-After"),
    ))]
async fn change_password(
    State(state): State<AppState>,
    session: Session,
    ApiJson(request): ApiJson<ChangePasswordRequest>,
) -> ApiResult<Json<SessionsEnded>> {
    let key = format!("agent:{}", session.agent_id);
    let throttles = &state.throttles;
    let throttle = &throttles.sign_in_accounts;
    throttles.attempt(&[(throttle, &key)]).await?;
    let result = account::change_password(
        &state.db,
        &session.agent_id,
        &session.session_id,
        &request.current_password,
        &request.new_password,
        request.keep_other_sessions,
    )
    .await;
    match &result {
        Ok(_) => throttles.record_success(throttle, &key).await,
        // Only a wrong current password is a guess; a refused new one is not.
        Err(account::AccountError::WrongPassword) => {}
        Err(_) => throttles.refund(throttle, &key).await,
    }
    let ended = result?;
    state.hub.end_sessions(&session.agent_id, &ended);
    Ok(Json(account::sessions_ended(&ended)))
}

/// How guessable a password would be for the signed-in agent (their name and email count
/// as guessable), for the checklist the app shows while a new one is typed. Nothing is
/// stored or logged; one longer than the policy allows is not estimated (score 0).
#[utoipa::path(post, path = "/api/v1/auth/password/strength", tag = "auth", security(("bearer" = [])),
    request_body = PasswordStrengthRequest,
    responses(
        (status = 200, body = PasswordStrength),
        (status = 400, body = ApiError, description = "The body is not a password"),
        (status = 401, body = ApiError),
        (status = 429, body = ApiError, description = "Too many estimates wait already; see Retry-After"),
    ))]
async fn password_strength(
    State(state): State<AppState>,
    session: Session,
    ApiJson(request): ApiJson<PasswordStrengthRequest>,
) -> ApiResult<Json<PasswordStrength>> {
    let score = account::strength(&state.db, &session.agent_id, &request.password).await?;
    Ok(Json(PasswordStrength { score }))
}

/// Mails a single-use reset link when the address has an account. The answer is the same
/// whether or not it has, and is given before any lookup, so neither its content nor its
/// timing tells which addresses exist.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, body = PasswordResetAccepted),
        (status = 400, body = ApiError, description = "Not an email address (`field`: email)"),
        (status = 429, body = ApiError, description = "Too many requests; see Retry-After"),
    ))]
async fn request_password_reset(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    ApiJson(request): ApiJson<PasswordResetRequest>,
) -> ApiResult<(StatusCode, Json<PasswordResetAccepted>)> {
    let email = email_field(&request.email)?;
    let ip = client_address(&extensions);
    let address = address_key(&extensions);
    let throttles = &state.throttles;
    // Every request counts, whether or not the address has an account.
    throttles
        .attempt(&[
            (&throttles.reset_accounts, &email),
            (&throttles.reset_addresses, &address),
        ])
        .await?;

    let (db, mailer, public_url) = (
        state.db.clone(),
        state.mailer.clone(),
        state.config.public_url(),
    );
    tokio::spawn(async move {
        let origin = ResetOrigin {
            ip_address: ip.as_deref(),
            public_url: &public_url,
        };
        if let Err(error) = account::send_reset_link(&db, &mailer, &email, origin, Utc::now()).await
        {
            tracing::error!(%error, "password reset request failed");
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(PasswordResetAccepted {
            message: format!(
                "If an account exists for this address, a link to reset its password is on its \
                 way. It works once, for {PASSWORD_RESET_VALID_MINUTES} minutes."
            ),
            valid_minutes: PASSWORD_RESET_VALID_MINUTES,
        }),
    ))
}

/// Sets a new password with the token from a reset mail. The token then stops working
/// and every session of the agent is signed out.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "auth",
    request_body = PasswordResetConfirm,
    responses(
        (status = 200, body = SessionsEnded),
        (status = 400, body = ApiError, description = "Unknown token (`field`: token) or the new password breaks a rule (`field`: new_password)"),
        (status = 410, body = ApiError, description = "The token was used already or expired"),
        (status = 429, body = ApiError, description = "Too many unknown tokens from this address"),
    ))]
async fn confirm_password_reset(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    ApiJson(request): ApiJson<PasswordResetConfirm>,
) -> ApiResult<Json<SessionsEnded>> {
    let ended =
        reset_with_token(&state, &extensions, &request.token, &request.new_password).await?;
    Ok(Json(ended))
}

/// The reset both the API and the server's own reset page use, throttled by address so
/// tokens cannot be guessed.
pub async fn reset_with_token(
    state: &AppState,
    extensions: &axum::http::Extensions,
    token: &str,
    new_password: &str,
) -> Result<SessionsEnded, AppError> {
    let address = address_key(extensions);
    let token_key = format!("token:{}", crate::credentials::token_hash(token.trim()));
    let throttle = &state.throttles.reset_confirm_addresses;
    // Every failed attempt counts, per address and per token: a token holder cannot test
    // guesses at the current password (a reset refuses it) without limit either.
    state
        .throttles
        .attempt(&[(throttle, &address), (throttle, &token_key)])
        .await?;
    let ended = account::reset_password(&state.db, token.trim(), new_password, Utc::now()).await?;
    state.throttles.refund(throttle, &address).await;
    state.throttles.record_success(throttle, &token_key).await;
    state.hub.end_sessions(&ended.agent_id, &ended.sessions);
    Ok(account::sessions_ended(&ended.sessions))
}

/// The agent's sessions, the current one marked, and the latest sign-in attempts.
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = SessionList), (status = 401, body = ApiError)))]
async fn list_sessions(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<Json<SessionList>> {
    Ok(Json(
        account::sessions(&state.db, &session.agent_id, &session.session_id).await?,
    ))
}

/// Signs out one of the agent's sessions (the current one too, which is signing out).
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = String, Path, description = "The session's id")),
    responses(
        (status = 204),
        (status = 401, body = ApiError),
        (status = 404, body = ApiError, description = "The agent has no such session"),
    ))]
async fn end_session(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    if account::end_session(&state.db, &session.agent_id, &id).await? {
        state.hub.end_sessions(&session.agent_id, &[id]);
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

/// Signs out every session of the agent except the one making the request.
#[utoipa::path(post, path = "/api/v1/auth/sessions/sign-out-others", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = SessionsEnded), (status = 401, body = ApiError)))]
async fn sign_out_other_sessions(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<Json<SessionsEnded>> {
    let ended =
        account::end_other_sessions(&state.db, &session.agent_id, &session.session_id).await?;
    state.hub.end_sessions(&session.agent_id, &ended);
    Ok(Json(account::sessions_ended(&ended)))
}

/// The rules the server enforces, for clients to show before anyone signs in.
#[utoipa::path(get, path = "/api/v1/policy", tag = "system",
    responses((status = 200, body = Policy)))]
async fn policy(State(state): State<AppState>) -> Json<Policy> {
    Json(state.config.policy())
}

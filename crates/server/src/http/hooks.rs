//! `POST /api/v1/hooks/{source}`: webhooks from hosted helpdesks (see [`crate::hooks`]).

use agent_desk_core::{ApiError, ErrorCode, EventTarget, NewEvent, PostedEvent};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiResult, AppError};
use super::path::ApiPath;
use crate::events::EventError;
use crate::hooks::{self, Refusal, Source, TicketHook};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive))
}

/// A helpdesk's webhook: `zendesk` (signed as Zendesk signs), `freshdesk` (with the
/// secret in `X-Agent-Desk-Secret`) or `generic` (Agent Desk's event JSON, signed with
/// `X-Agent-Desk-Signature`). See docs/API.md for each body and how to set it up.
/// Nothing is stored for a refused delivery.
#[utoipa::path(post, path = "/api/v1/hooks/{source}", tag = "events",
    params(("source" = String, Path, description = "zendesk, freshdesk or generic")),
    request_body(content = NewEvent, description = "generic: the event, as for POST /api/v1/admin/events; zendesk and freshdesk: the ticket's fields from the helpdesk's placeholders (docs/API.md)"),
    responses(
        (status = 201, body = PostedEvent, description = "The event's seq and who it went to"),
        (status = 400, body = ApiError, description = "The body does not make an event; `field` names why"),
        (status = 401, body = ApiError, description = "A missing or wrong signature or secret, or a timestamp more than 5 minutes from the server's time; `field` names the header"),
        (status = 404, body = ApiError, description = "Not a source the server knows"),
        (status = 409, body = ApiError, description = "This delivery was received before"),
        (status = 429, body = ApiError, description = "Too many deliveries for this source from this address failed their signature or secret, or were copies; see Retry-After"),
    ))]
async fn receive(
    State(state): State<AppState>,
    ApiPath(source): ApiPath<String>,
    request: Request,
) -> ApiResult<(StatusCode, Json<PostedEvent>)> {
    let source = Source::parse(&source).ok_or(AppError::NotFound)?;
    // Only deliveries that fail to prove themselves are counted, by address and source,
    // and one that proves itself clears the count: a helpdesk's own bursts, and forgeries
    // sent from an address it shares, do not hold its deliveries back for long.
    let throttle_key = format!(
        "{}:{}",
        source.as_str(),
        super::auth::address_key(request.extensions())
    );
    state
        .throttles
        .check(&state.throttles.hook_addresses, &throttle_key)
        .await?;
    let headers: HeaderMap = request.headers().clone();
    let body = super::json::read_body(request, &state).await?;
    let now = Utc::now();
    let answer = accept(&state, source, &throttle_key, &headers, &body, now).await;
    let refusal = answer.as_ref().err().and_then(|error| match error {
        AppError::Database(_) | AppError::Internal(_) => None,
        refused => Some(refused.to_string()),
    });
    if answer.is_ok() || refusal.is_some() {
        if let Err(error) = hooks::count(&state.db, source, refusal.as_deref(), now).await {
            tracing::warn!(%error, "a webhook delivery could not be counted");
        }
    }
    if let Some(refusal) = &refusal {
        tracing::info!(
            source = source.as_str(),
            refusal,
            "a webhook delivery was refused"
        );
    }
    answer
}

async fn accept(
    state: &AppState,
    source: Source,
    throttle_key: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: chrono::DateTime<Utc>,
) -> ApiResult<(StatusCode, Json<PostedEvent>)> {
    let throttles = &state.throttles;
    let throttle = &throttles.hook_addresses;
    let secrets = hooks::secrets(&state.db, source, now).await?;
    let proven = match hooks::verify(source, &secrets, headers, body, now) {
        Ok(verified) => hooks::seen_before(&state.db, source, &verified)
            .await?
            .map(|()| verified),
        Err(refusal) => Err(refusal),
    };
    let verified = match proven {
        Ok(verified) => verified,
        Err(refusal) => {
            if refusal.is_unproven() {
                // Counted only: a caller already held back was refused before reading.
                match throttles.attempt(&[(throttle, throttle_key)]).await {
                    Ok(()) | Err(crate::throttle::Refused::Wait(_)) => {}
                    Err(crate::throttle::Refused::Database(error)) => {
                        tracing::warn!(%error, "an unproven delivery could not be counted");
                    }
                }
            }
            return Err(refused(refusal));
        }
    };
    throttles.record_success(throttle, throttle_key).await;
    let new = match source {
        Source::Generic => super::json::parse::<NewEvent>(body)?,
        Source::Zendesk | Source::Freshdesk => super::json::parse::<TicketHook>(body)?
            .into_event(source)
            .map_err(|unmapped| {
                AppError::bad_request(
                    ErrorCode::ValidationFailed,
                    unmapped.message,
                    Some(unmapped.field.into()),
                )
            })?,
    };
    let new = new.cleaned();
    new.validate().map_err(AppError::Invalid)?;
    let mut batch = state.hub.begin_batch(&state.db).await?;
    hooks::remember(batch.conn(), source, &verified, now)
        .await?
        .map_err(refused)?;
    let published = batch
        .publish(&new.to, &new, now)
        .await
        .map_err(|error| target_error(source, &new.to, error))?;
    batch.commit().await?;
    super::events::posted(state, new, published).await
}

fn refused(refusal: Refusal) -> AppError {
    let field = refusal.header().map(str::to_owned);
    match refusal {
        Refusal::Replayed { .. } => AppError::Conflict {
            code: ErrorCode::Conflict,
            message: refusal.to_string(),
            field,
        },
        _ => AppError::Refused {
            message: refusal.to_string(),
            field,
        },
    }
}

/// An agent or team that does not exist, named by the body's own field.
fn target_error(source: Source, target: &EventTarget, error: EventError) -> AppError {
    let field = match (source, target) {
        (Source::Generic, _) => "to",
        (_, EventTarget::Team(_)) => "group",
        _ => "assignee",
    };
    match error {
        EventError::UnknownAgent(_) | EventError::UnknownTeam(_) | EventError::EmptyTeam(_) => {
            AppError::bad_request(
                ErrorCode::ValidationFailed,
                error.to_string(),
                Some(field.into()),
            )
        }
        other => other.into(),
    }
}

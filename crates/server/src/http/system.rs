//! Liveness and the API description.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::openapi::OpenApi;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiResult;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(openapi_json))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
    version: &'static str,
}

/// Answers 200 when the server and its database work.
#[utoipa::path(get, path = "/health", tag = "system",
    responses((status = 200, body = Health), (status = 500, body = agent_desk_core::ApiError)))]
async fn health(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    crate::storage::query("SELECT 1").execute(&state.db).await?;
    Ok(Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    }))
}

/// The OpenAPI document, made into JSON once: it does not change while the server runs.
#[derive(Clone)]
pub struct ApiDocument(axum::body::Bytes);

impl ApiDocument {
    pub fn new(api: &OpenApi) -> Self {
        // A document of plain structs and strings always serialises.
        Self(serde_json::to_vec(api).unwrap_or_default().into())
    }
}

/// This document: every route of the API, generated from the code.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json(Extension(document): Extension<ApiDocument>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        document.0,
    )
}

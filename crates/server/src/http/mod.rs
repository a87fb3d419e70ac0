//! The HTTP API: one module a resource, merged here with the generated OpenAPI document.

pub mod auth;
pub mod error;
pub mod json;
pub mod profile;
pub mod system;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::{Extension, Router};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use error::AppError;

pub fn router(state: AppState) -> Router {
    let (router, api) = api_router().with_state(state).split_for_parts();
    router
        .layer(Extension(Arc::new(api)))
        .fallback(|| async { AppError::NotFound })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(json::JSON_BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
}

/// Every route with its OpenAPI description; `/api/openapi.json` serves the result.
pub fn api_router() -> OpenApiRouter<AppState> {
    let mut api = OpenApi::default();
    api.info.title = "Agent Desk server".into();
    api.info.version = env!("CARGO_PKG_VERSION").into();
    api.info.description = Some(
        "The team server of Agent Desk. Errors are always {\"error\": {code, message, field}}."
            .into(),
    );
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );

    OpenApiRouter::with_openapi(api)
        .merge(system::routes())
        .merge(auth::routes())
        .merge(profile::routes())
}

//! The HTTP API: one module a resource, merged here with the generated OpenAPI document.

pub mod account;
pub mod admin_agents;
pub mod admin_teams;
pub mod auth;
pub mod avatar;
pub mod customer_data;
pub mod departments;
pub mod error;
pub mod events;
pub mod hooks;
pub mod idempotency;
pub mod integrations;
pub mod json;
pub mod notification_prefs;
pub mod path;
pub mod people;
pub mod profile;
pub mod records;
pub mod releases;
pub mod reset_page;
pub mod routing;
pub mod slow_clients;
pub mod status;
pub mod system;
pub mod teams;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::{Extension, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use error::AppError;

pub fn router(state: AppState) -> Router {
    let pace = state.config.pace;
    let (router, api) = api_router().with_state(state.clone()).split_for_parts();
    router
        .layer(Extension(system::ApiDocument::new(&api)))
        .fallback(|| async { AppError::NotFound })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        // Inside the body limit, whose setting it reads the body with, and the pace.
        .layer(axum::middleware::from_fn_with_state(
            state,
            idempotency::layer,
        ))
        .layer(DefaultBodyLimit::max(json::JSON_BODY_LIMIT))
        .layer(axum::middleware::from_fn(move |request, next| {
            slow_clients::enforce_pace(pace, request, next)
        }))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(CatchPanicLayer::custom(answer_panic))
}

/// A handler that panicked is a bug: it is logged, and the client gets the standard
/// 500 answer rather than a dropped connection.
fn answer_panic(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "a request handler panicked");
    axum::response::IntoResponse::into_response(AppError::Internal(format!(
        "handler panicked: {message}"
    )))
}

/// The span every request is logged in: method and path only. The query string is left
/// out because a reset link carries its token there.
fn request_span(request: &Request<Body>) -> tracing::Span {
    tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
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
        .merge(account::routes())
        .merge(profile::routes())
        .merge(departments::routes())
        .merge(admin_agents::routes())
        .merge(admin_teams::routes())
        .merge(integrations::routes())
        .merge(avatar::routes())
        .merge(status::routes())
        .merge(notification_prefs::routes())
        .merge(events::routes())
        .merge(hooks::routes())
        .merge(routing::routes())
        .merge(teams::routes())
        .merge(people::routes())
        .merge(records::routes())
        .merge(customer_data::routes())
        .merge(releases::routes())
        .merge(reset_page::routes())
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    /// A handler's panic is answered with the API's 500, not a dropped connection.
    #[tokio::test]
    async fn a_panicking_handler_answers_the_standard_500() {
        let app: Router = Router::new()
            .route(
                "/boom",
                get(|| async {
                    if "sorting".len() == 7 {
                        panic!("sorting went wrong");
                    }
                    StatusCode::OK
                }),
            )
            .layer(CatchPanicLayer::custom(answer_panic));
        let response = app
            .oneshot(Request::get("/boom").body(Body::empty()).expect("request"))
            .await
            .expect("an answer");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(body["error"]["code"], "internal");
        assert_eq!(body["error"]["message"], "internal error");
    }
}

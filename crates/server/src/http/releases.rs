//! The desktop app's updates: whether a newer release was published for the app asking,
//! in the shape Tauri's updater reads, and the bundle itself. Open without a session:
//! the app checks before anyone signs in, and what it installs it first checks against
//! the signing key built into it.

use agent_desk_core::{ApiError, ErrorCode};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header::{
    CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use percent_encoding::utf8_percent_encode;
use serde::{Deserialize, Serialize};
use tokio_util::io::ReaderStream;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiResult, AppError};
use super::path::ApiPath;
use crate::releases::{self, ARCHES, BUNDLE_TYPES, TARGETS};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check_update))
        .routes(routes!(download_bundle))
}

/// A newer release, as Tauri's updater reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AvailableUpdate {
    pub version: String,
    pub notes: Option<String>,
    /// RFC 3339.
    pub pub_date: String,
    /// Where the bundle is downloaded from, on this server.
    pub url: String,
    /// The bundle's minisign signature, which the app checks before installing.
    pub signature: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct CheckParams {
    /// How the app was installed (`deb`, `rpm`, `appimage`, `msi`, `nsis`, `app`), as
    /// the updater tells it; the release of that kind is offered.
    bundle_type: Option<String>,
}

fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::bad_request(ErrorCode::ValidationFailed, message, Some(field.to_owned()))
}

/// A release newer than `current_version` for this system and processor: 204 when there
/// is none.
#[utoipa::path(get, path = "/api/v1/app/update/{target}/{arch}/{current_version}", tag = "app",
    params(
        ("target" = String, Path, description = "linux, darwin or windows"),
        ("arch" = String, Path, description = "x86_64, aarch64, i686 or armv7"),
        ("current_version" = String, Path, description = "The running app's version"),
        CheckParams,
    ),
    responses(
        (status = 200, body = AvailableUpdate),
        (status = 204, description = "Nothing newer was published"),
        (status = 400, body = ApiError, description = "An unknown system, processor or bundle type, or a version that is not semantic"),
    ))]
async fn check_update(
    State(state): State<AppState>,
    ApiPath((target, arch, current_version)): ApiPath<(String, String, String)>,
    params: Result<Query<CheckParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(params) = params.map_err(|rejection| {
        AppError::bad_request(ErrorCode::ValidationFailed, rejection.body_text(), None)
    })?;
    if !TARGETS.contains(&target.as_str()) {
        return Err(invalid(
            "target",
            format!("target must be one of {}", TARGETS.join(", ")),
        ));
    }
    if !ARCHES.contains(&arch.as_str()) {
        return Err(invalid(
            "arch",
            format!("arch must be one of {}", ARCHES.join(", ")),
        ));
    }
    let current = releases::parse_version(&current_version).ok_or_else(|| {
        invalid(
            "current_version",
            "current_version must be a semantic version such as 1.4.2",
        )
    })?;
    if let Some(kind) = params.bundle_type.as_deref() {
        if !BUNDLE_TYPES.contains(&kind) {
            return Err(invalid(
                "bundle_type",
                format!("bundle_type must be one of {}", BUNDLE_TYPES.join(", ")),
            ));
        }
    }
    let Some(release) = releases::newer(
        &state.db,
        &target,
        &arch,
        params.bundle_type.as_deref(),
        &current,
    )
    .await?
    else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let base = state
        .config
        .public_url
        .as_deref()
        .unwrap_or_default()
        .trim_end_matches('/');
    let url = format!(
        "{base}/api/v1/app/releases/{}/{}",
        release.id,
        utf8_percent_encode(&release.file_name, super::records::RFC_5987_ENCODED)
    );
    Ok(Json(AvailableUpdate {
        pub_date: release
            .published_at()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        version: release.version,
        notes: release.notes,
        url,
        signature: release.signature,
    })
    .into_response())
}

/// A published bundle's bytes.
#[utoipa::path(get, path = "/api/v1/app/releases/{id}/{file_name}", tag = "app",
    params(
        ("id" = String, Path, description = "The release's id"),
        ("file_name" = String, Path, description = "The bundle's name, as the update check gave it"),
    ),
    responses(
        (status = 200, description = "The bundle", content_type = "application/octet-stream"),
        (status = 404, body = ApiError),
    ))]
async fn download_bundle(
    State(state): State<AppState>,
    ApiPath((id, file_name)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    if !releases::is_release_id(&id) {
        return Err(AppError::NotFound);
    }
    let Some(release) = releases::find(&state.db, &id).await? else {
        return Err(AppError::NotFound);
    };
    if release.file_name != file_name {
        return Err(AppError::NotFound);
    }
    let path = releases::bundle_path(&state.config.release_dir(), &release.id);
    let Some((opened, size)) = super::records::open_stored(&path).await? else {
        tracing::warn!(release = %release.id, "a published release has no bytes");
        return Err(AppError::NotFound);
    };
    let headers = [
        (CONTENT_TYPE, "application/octet-stream".to_owned()),
        (CONTENT_LENGTH, size.to_string()),
        (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (
            CONTENT_DISPOSITION,
            super::records::attachment(&release.file_name),
        ),
    ];
    Ok((headers, Body::from_stream(ReaderStream::new(opened))).into_response())
}

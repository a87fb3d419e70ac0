//! The profile photo: `PUT|DELETE /api/v1/me/avatar` and `GET /api/v1/avatars/{id}`.
//! Uploaded bytes are decoded and re-encoded here; they are never stored or served.

use agent_desk_avatar::AvatarError;
use agent_desk_core::{ApiError, ErrorCode, Profile, AVATAR_SIZES};
use axum::body::Body;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Session;
use super::error::{ApiResult, AppError};
use super::path::ApiPath;
use super::profile::Versioned;
use crate::uploads::{self, ReceiveError, Received};
use crate::workers::WorkError;
use crate::{agents, avatars, events, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_avatar, delete_avatar))
        .routes(routes!(get_avatar))
}

/// A photo upload, received into a file and refused with the API's errors when too
/// large or not an image. Read into memory only to be decoded, one at a time.
struct ImageBody(Received);

impl FromRequest<AppState> for ImageBody {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, AppError> {
        let limit = state.config.avatar_max_bytes;
        let is_image = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|mime| mime.trim().to_ascii_lowercase().starts_with("image/"));
        if !is_image {
            return Err(AvatarError::UnsupportedFormat.into());
        }
        let declared = request
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
        if let Some(size) = declared.filter(|&size| size > limit) {
            return Err(AvatarError::TooManyBytes {
                size: Some(size),
                limit,
            }
            .into());
        }
        let slot = super::auth::upload_slot(&request, state)?;
        let incoming = uploads::incoming_dir(&state.config.data_dir);
        uploads::receive(request.into_body(), &incoming, limit, Some(slot))
            .await
            .map(ImageBody)
            .map_err(|error| match error {
                // Streamed without a length and cut off at the limit.
                ReceiveError::TooLarge { limit } => {
                    AppError::Avatar(AvatarError::TooManyBytes { size: None, limit })
                }
                other => other.into(),
            })
    }
}

/// Sets the signed-in agent's photo from an image in the body (JPEG, PNG, GIF or
/// WebP, at most the policy's `max_bytes`). The largest centred square is kept, stored
/// as 512 px and 128 px JPEGs without metadata. Answers the profile with its new ETag.
#[utoipa::path(put, path = "/api/v1/me/avatar", tag = "profile", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "image/*", description = "The image file"),
    responses(
        (status = 200, body = Profile, headers(("ETag" = String))),
        (status = 401, body = ApiError),
        (status = 413, body = ApiError, description = "Larger than the policy's max_bytes; the message states the limit"),
        (status = 415, body = ApiError, description = "Not a JPEG, PNG, GIF or WebP image"),
        (status = 422, body = ApiError, description = "Over the dimension or pixel limits, or not decodable"),
    ))]
async fn put_avatar(
    State(state): State<AppState>,
    session: Session,
    ImageBody(upload): ImageBody,
) -> ApiResult<impl IntoResponse> {
    let limits = state.config.avatar_limits();
    // Read into memory only on the decoding thread, in turn: one photo at a time.
    let encoded = state
        .photo_decoding
        .run(move || {
            let bytes = std::fs::read(upload.path())?;
            drop(upload);
            Ok::<_, std::io::Error>(agent_desk_avatar::render(
                &bytes,
                &limits,
                None,
                &AVATAR_SIZES,
            ))
        })
        .await
        .map_err(|error| match error {
            WorkError::Busy => AppError::rate_limited(std::time::Duration::from_secs(1)),
            stopped => AppError::Internal(stopped.to_string()),
        })?
        .map_err(|e| AppError::Internal(format!("reading an upload: {e}")))??;
    let dir = state.config.avatar_dir();
    let avatar_id = avatars::store(&dir, &encoded)
        .await
        .map_err(|e| AppError::Internal(format!("storing the photo failed: {e}")))?;
    let new_url = avatars::url(&avatar_id);
    let (old_url, version) =
        match avatars::set_avatar_url(&state.db, &session.agent_id, Some(&new_url), Utc::now())
            .await
        {
            Ok(done) => done,
            Err(error) => {
                avatars::remove_files(&dir, &new_url).await;
                return Err(error.into());
            }
        };
    if let Some(old_url) = old_url {
        avatars::remove_files(&dir, &old_url).await;
    }
    events::tell(events::publish_profile_updated(
        &state.db,
        &state.hub,
        &session.agent_id,
        "photo",
        Utc::now(),
    ))
    .await;
    let (profile, _) = agents::profile(&state.db, &session.agent_id).await?;
    Ok(Versioned(profile, version))
}

/// Removes the signed-in agent's photo; the apps show initials instead. Answers the
/// profile with its new ETag (unchanged when there was no photo).
#[utoipa::path(delete, path = "/api/v1/me/avatar", tag = "profile", security(("bearer" = [])),
    responses((status = 200, body = Profile, headers(("ETag" = String))), (status = 401, body = ApiError)))]
async fn delete_avatar(
    State(state): State<AppState>,
    session: Session,
) -> ApiResult<impl IntoResponse> {
    let (old_url, version) =
        avatars::set_avatar_url(&state.db, &session.agent_id, None, Utc::now()).await?;
    if let Some(old_url) = old_url {
        avatars::remove_files(&state.config.avatar_dir(), &old_url).await;
        events::tell(events::publish_profile_updated(
            &state.db,
            &state.hub,
            &session.agent_id,
            "photo",
            Utc::now(),
        ))
        .await;
    }
    let (profile, _) = agents::profile(&state.db, &session.agent_id).await?;
    Ok(Versioned(profile, version))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AvatarQuery {
    /// 512 (default) or 128.
    size: Option<u32>,
}

/// A stored photo, to any signed-in agent. Ids change with every upload, so the
/// answer may be cached for good; `ETag` / `If-None-Match` are honoured too.
#[utoipa::path(get, path = "/api/v1/avatars/{id}", tag = "profile", security(("bearer" = [])),
    params(("id" = String, Path), AvatarQuery),
    responses(
        (status = 200, content_type = "image/jpeg", body = Vec<u8>, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Not modified"),
        (status = 400, body = ApiError, description = "`size` is not 512 or 128"),
        (status = 401, body = ApiError),
        (status = 404, body = ApiError),
    ))]
async fn get_avatar(
    State(state): State<AppState>,
    _session: Session,
    ApiPath(avatar_id): ApiPath<String>,
    query: Result<Query<AvatarQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Query(query) = query.map_err(|_| size_error())?;
    let side = query.size.unwrap_or(AVATAR_SIZES[0]);
    if !AVATAR_SIZES.contains(&side) {
        return Err(size_error());
    }
    if !avatars::is_avatar_id(&avatar_id) {
        return Err(AppError::NotFound);
    }
    let etag = format!("\"{avatar_id}-{side}\"");
    let cache = [
        (
            CACHE_CONTROL,
            "private, max-age=31536000, immutable".to_owned(),
        ),
        (ETAG, etag.clone()),
    ];
    let matches = headers
        .get(IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let path = avatars::file(&state.config.avatar_dir(), &avatar_id, side);
    let bytes = match tokio::fs::read(&path).await {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(AppError::NotFound)
        }
        Err(error) => return Err(AppError::Internal(error.to_string())),
    };
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    let headers = [
        (CONTENT_TYPE, "image/jpeg".to_owned()),
        (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
    ];
    Ok((headers, cache, Body::from(bytes)).into_response())
}

fn size_error() -> AppError {
    let sizes = AVATAR_SIZES.map(|side| side.to_string()).join(" or ");
    AppError::bad_request(
        ErrorCode::ValidationFailed,
        format!("size must be {sizes}"),
        Some("size".into()),
    )
}

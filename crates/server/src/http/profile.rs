//! The signed-in agent's own profile: `GET|PATCH /api/v1/me` with ETag / If-Match.

use agent_desk_checks::validate_patch;
use agent_desk_core::{ApiError, EventType, Profile, ProfilePatch};
use axum::extract::{FromRequestParts, State};
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Session;
use super::error::{ApiResult, AppError};
use super::json::ApiJson;
use crate::departments::RequestChange;
use crate::AppState;
use crate::{agents, events};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_me, patch_me))
}

fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// A versioned resource as JSON with its version as the ETag header: the profile, the
/// notification preferences.
pub(super) struct Versioned<T>(pub T, pub i64);

impl<T: serde::Serialize> IntoResponse for Versioned<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.0).into_response();
        if let Ok(value) = HeaderValue::from_str(&etag(self.1)) {
            response.headers_mut().insert(ETAG, value);
        }
        response
    }
}

/// The version named by `If-Match`; required on every change.
pub struct IfMatch(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let value = parts
            .headers
            .get(IF_MATCH)
            .ok_or(AppError::PreconditionRequired)?;
        value
            .to_str()
            .ok()
            .map(|text| text.trim().trim_start_matches("W/").trim_matches('"'))
            .and_then(|version| version.parse().ok())
            .map(IfMatch)
            .ok_or(AppError::PreconditionRequired)
    }
}

/// The signed-in agent's profile; the `ETag` header is its version.
#[utoipa::path(get, path = "/api/v1/me", tag = "profile", security(("bearer" = [])),
    responses(
        (status = 200, body = Profile, headers(("ETag" = String, description = "The profile's version"))),
        (status = 401, body = ApiError),
    ))]
async fn get_me(State(state): State<AppState>, session: Session) -> ApiResult<impl IntoResponse> {
    let (profile, version) = agents::profile(&state.db, &session.agent_id).await?;
    Ok(Versioned(profile, version))
}

/// Changes some fields of the profile. `If-Match` must carry the ETag of the version
/// being changed. Absent fields stay; an empty string clears an optional field. The
/// department is not changed here: naming one asks an administrator for it (the answer's
/// `department_request`), and naming the one in force withdraws that request.
#[utoipa::path(patch, path = "/api/v1/me", tag = "profile", security(("bearer" = [])),
    request_body = ProfilePatch,
    params(("If-Match" = String, Header, description = "ETag from GET /api/v1/me")),
    responses(
        (status = 200, body = Profile, headers(("ETag" = String))),
        (status = 400, body = ApiError, description = "Malformed body or a field breaks a rule; `field` names it"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The email is set by an admin"),
        (status = 409, body = ApiError, description = "The profile changed since that ETag"),
        (status = 413, body = ApiError),
        (status = 415, body = ApiError),
        (status = 428, body = ApiError, description = "If-Match is missing"),
    ))]
async fn patch_me(
    State(state): State<AppState>,
    session: Session,
    IfMatch(expected_version): IfMatch,
    ApiJson(patch): ApiJson<ProfilePatch>,
) -> ApiResult<impl IntoResponse> {
    if patch.email.is_some() {
        return Err(AppError::Forbidden {
            message: "the email is set by an administrator and cannot be changed here".into(),
            field: Some("email".into()),
        });
    }
    let mut patch = validate_patch(&patch).map_err(AppError::Validation)?;
    // Normalised: "" is no department.
    let department_wish = patch.department.take();
    let (mut profile, version) = agents::profile(&state.db, &session.agent_id).await?;
    if version != expected_version {
        return Err(AppError::VersionConflict);
    }
    let changes = patch.apply_to(&mut profile);
    let edit = agents::ProfileEdit {
        profile: &profile,
        changes: &changes,
        department_wish: department_wish
            .as_deref()
            .map(|wish| Some(wish).filter(|wish| !wish.is_empty())),
    };
    let now = Utc::now();
    let (new_version, request) =
        agents::save_profile(&state.db, &session.agent_id, edit, expected_version, now).await?;
    if new_version == version {
        return Ok(Versioned(profile, version));
    }
    events::tell(events::publish_profile_updated(
        &state.db,
        &state.hub,
        &session.agent_id,
        "profile",
        now,
    ))
    .await;
    // Administrators hear of a request once; a change of mind while it waits shows in
    // their list, not as another notification.
    if let RequestChange::Requested {
        value: requested,
        replacing: false,
    } = request
    {
        let name = &profile.display_name;
        let title = match (requested, profile.department.as_deref()) {
            (Some(wanted), _) => format!("{name} asks to move to the department {wanted}"),
            (None, Some(current)) => format!("{name} asks to leave the department {current}"),
            (None, None) => format!("{name} asks to change department"),
        };
        events::tell(events::publish_to_admins(
            &state.db,
            &state.hub,
            &events::server_event(EventType::DepartmentChangeRequested, title, None),
            now,
        ))
        .await;
    }
    let (profile, _) = agents::profile(&state.db, &session.agent_id).await?;
    Ok(Versioned(profile, new_version))
}

//! The lists customers' records draw on, as administrators keep them:
//! `PATCH /api/v1/admin/organizations/{id}`, `POST /api/v1/admin/organizations/{id}/merge`,
//! `GET /api/v1/usergroups`, `POST /api/v1/admin/usergroups` and
//! `DELETE /api/v1/admin/usergroups/{id}`. Any agent makes an organization from a record
//! (`POST /api/v1/organizations`, with the records' routes).

use agent_desk_core::customers::{
    NewUsergroup, OrganizationEntry, OrganizationMerge, OrganizationName, UsergroupEntry,
    Usergroups,
};
use agent_desk_core::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{AdminSession, Session};
use super::error::ApiResult;
use super::json::ApiJson;
use super::path::ApiPath;
use crate::{customers, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(rename_organization))
        .routes(routes!(merge_organization))
        .routes(routes!(list_usergroups))
        .routes(routes!(add_usergroup))
        .routes(routes!(remove_usergroup))
}

/// Renames an organization; its people's records have the change in their logs.
#[utoipa::path(patch, path = "/api/v1/admin/organizations/{id}", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "The organization's id")),
    request_body = OrganizationName,
    responses(
        (status = 200, body = OrganizationEntry),
        (status = 400, body = ApiError, description = "An empty, long or multi-line name; `field` is `name`"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "Another organization has that name"),
    ))]
async fn rename_organization(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiPath(id): ApiPath<String>,
    ApiJson(rename): ApiJson<OrganizationName>,
) -> ApiResult<Json<OrganizationEntry>> {
    Ok(Json(
        customers::rename_organization(&state.db, &session.agent_id, &id, &rename.name, Utc::now())
            .await?,
    ))
}

/// Moves the people of this organization into `into` and deletes this one.
#[utoipa::path(post, path = "/api/v1/admin/organizations/{id}/merge", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "The organization that goes")),
    request_body = OrganizationMerge,
    responses(
        (status = 200, body = OrganizationEntry, description = "The organization that stays, with its people now"),
        (status = 400, body = ApiError, description = "`into` names no organization, or this one; `field` is `into`"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 404, body = ApiError),
    ))]
async fn merge_organization(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiPath(id): ApiPath<String>,
    ApiJson(merge): ApiJson<OrganizationMerge>,
) -> ApiResult<Json<OrganizationEntry>> {
    Ok(Json(
        customers::merge_organizations(&state.db, &session.agent_id, &id, &merge.into, Utc::now())
            .await?,
    ))
}

/// The usergroups administrators keep, for every agent's record forms.
#[utoipa::path(get, path = "/api/v1/usergroups", tag = "people", security(("bearer" = [])),
    responses((status = 200, body = Usergroups), (status = 401, body = ApiError)))]
async fn list_usergroups(
    State(state): State<AppState>,
    _session: Session,
) -> ApiResult<Json<Usergroups>> {
    Ok(Json(Usergroups {
        usergroups: customers::listed_usergroups(&state.db).await?,
    }))
}

/// Adds a usergroup to the list; from then on records take only listed groups.
#[utoipa::path(post, path = "/api/v1/admin/usergroups", tag = "administration", security(("bearer" = [])),
    request_body = NewUsergroup,
    responses(
        (status = 201, body = UsergroupEntry),
        (status = 400, body = ApiError, description = "An empty, long or multi-line name; `field` is `name`"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 409, body = ApiError, description = "Already listed"),
    ))]
async fn add_usergroup(
    State(state): State<AppState>,
    _admin: AdminSession,
    ApiJson(new): ApiJson<NewUsergroup>,
) -> ApiResult<impl IntoResponse> {
    let listed = customers::list_usergroup(&state.db, &new.name, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(listed)))
}

/// Takes a usergroup off the list; people in it stay in it.
#[utoipa::path(delete, path = "/api/v1/admin/usergroups/{id}", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "The usergroup's id")),
    responses(
        (status = 204, description = "Off the list"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 404, body = ApiError, description = "No listed usergroup has this id"),
    ))]
async fn remove_usergroup(
    State(state): State<AppState>,
    _admin: AdminSession,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    customers::unlist_usergroup(&state.db, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! The directory: `GET /api/v1/people` and `GET /api/v1/people/{id}`, each person as
//! the caller may see them.

use agent_desk_core::people::{PeoplePage, Person};
use agent_desk_core::{ApiError, ErrorCode};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Session;
use super::error::{ApiResult, AppError};
use crate::people::{self, PeopleError, PeopleQuery, Sort, ViewerRow, PAGE_DEFAULT, PAGE_MAX};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_people))
        .routes(routes!(get_person))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// `agent` or `user`; both when absent.
    kind: Option<String>,
    /// A team's id: only its members.
    team: Option<String>,
    /// Words that must each appear in the name, an email or a phone number the caller
    /// may see.
    q: Option<String>,
    /// `name` (default) or `-name`.
    sort: Option<String>,
    /// `next_cursor` of the page before.
    cursor: Option<String>,
    /// 1 to 100; 50 when absent.
    limit: Option<String>,
}

fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::bad_request(ErrorCode::ValidationFailed, message, Some(field.to_owned()))
}

/// People matching the filters, a page at a time, each as the caller may see them:
/// fields another agent's privacy settings hide are absent.
#[utoipa::path(get, path = "/api/v1/people", tag = "people", security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, body = PeoplePage),
        (status = 400, body = ApiError, description = "An unknown kind or sort, a limit out of range, or a cursor this server did not give out"),
        (status = 401, body = ApiError),
    ))]
async fn list_people(
    State(state): State<AppState>,
    session: Session,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<PeoplePage>> {
    let Query(params) = params.map_err(|rejection| {
        AppError::bad_request(ErrorCode::ValidationFailed, rejection.body_text(), None)
    })?;
    let agents = match params.kind.as_deref() {
        None | Some("agent") => true,
        // No customer records yet: the user directory is empty.
        Some("user") => false,
        Some(other) => {
            return Err(invalid(
                "kind",
                format!("kind must be agent or user, not {other:?}"),
            ))
        }
    };
    let sort = match params.sort.as_deref() {
        None | Some("name") => Sort::NameAscending,
        Some("-name") => Sort::NameDescending,
        Some(other) => {
            return Err(invalid(
                "sort",
                format!("sort must be name or -name, not {other:?}"),
            ))
        }
    };
    let limit = match params.limit.as_deref() {
        None => PAGE_DEFAULT,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=PAGE_MAX).contains(limit))
            .ok_or_else(|| {
                invalid(
                    "limit",
                    format!("limit must be a whole number from 1 to {PAGE_MAX}"),
                )
            })?,
    };
    if !agents {
        return Ok(Json(PeoplePage {
            people: Vec::new(),
            next_cursor: None,
        }));
    }
    let query = PeopleQuery {
        team: params.team.filter(|team| !team.is_empty()),
        q: params.q.filter(|q| !q.trim().is_empty()),
        sort,
        cursor: params.cursor.filter(|cursor| !cursor.is_empty()),
        limit,
    };
    let viewer = ViewerRow::load(&state.db, &session.agent_id).await?;
    Ok(Json(people::list(&state.db, &viewer, &query).await?))
}

/// One person, as the caller may see them.
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Person), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
async fn get_person(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> ApiResult<Json<Person>> {
    let viewer = ViewerRow::load(&state.db, &session.agent_id).await?;
    Ok(Json(people::find(&state.db, &viewer, &id).await?))
}

impl From<PeopleError> for AppError {
    fn from(error: PeopleError) -> Self {
        match error {
            PeopleError::NotFound => AppError::NotFound,
            PeopleError::InvalidCursor => invalid("cursor", error.to_string()),
            PeopleError::Database(error) => AppError::Database(error),
        }
    }
}

//! The parts of a person's record beyond its fields: files kept on a customer's record,
//! the ticket history, and an agent's sign-ins (the Detail tab's login activity).

use std::collections::HashMap;

use agent_desk_core::account::LoginActivity;
use agent_desk_core::attachments::{FileList, PersonFile};
use agent_desk_core::tickets::{TicketHistory, TicketSort};
use agent_desk_core::{ApiError, ErrorCode};
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::header::{
    CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tokio_util::io::ReaderStream;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Session;
use super::error::{ApiResult, AppError};
use super::path::ApiPath;
use super::people::{history_allowed, refuse_agents};
use crate::person_files::{self, FileError};
use crate::tickets::{self, Subject};
use crate::uploads::{self, ReceiveError, Received};
use crate::{account, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_files, upload_file))
        .routes(routes!(download_file, delete_file))
        .routes(routes!(list_tickets))
        .routes(routes!(list_logins))
}

/// An upload, received into a file up to the server's file limit and refused beyond it.
struct FileBody(Received);

impl FromRequest<AppState> for FileBody {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, AppError> {
        let limit = state.config.file_max_bytes;
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|size| size > limit) {
            return Err(AppError::FileTooLarge { limit });
        }
        let slot = super::auth::upload_slot(&request, state)?;
        let incoming = uploads::incoming_dir(&state.config.data_dir);
        uploads::receive(request.into_body(), &incoming, limit, Some(slot))
            .await
            .map(FileBody)
            .map_err(|error| match error {
                ReceiveError::TooLarge { limit } => AppError::FileTooLarge { limit },
                other => other.into(),
            })
    }
}

/// An upload's `name` from the query, checked before any of the body is read: a name
/// that cannot be one is refused at once, not after the whole file has arrived.
struct UploadName(String);

impl FromRequestParts<AppState> for UploadName {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let query = Query::<HashMap<String, String>>::from_request_parts(parts, state).await;
        let params = query_params(query, &["name"])?;
        let name = params.get("name").ok_or_else(|| {
            AppError::bad_request(
                ErrorCode::MissingField,
                "name is required: the file's name",
                Some("name".into()),
            )
        })?;
        let name = agent_desk_core::attachments::file_name(name).map_err(|refused| {
            AppError::bad_request(
                ErrorCode::ValidationFailed,
                refused.message,
                Some(refused.field),
            )
        })?;
        Ok(Self(name))
    }
}

type QueryParams = Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>;

/// A query's parameters, each named in `allowed`; anything else is refused by name.
fn query_params(query: QueryParams, allowed: &[&str]) -> ApiResult<HashMap<String, String>> {
    let Query(params) = query.map_err(|rejection| {
        AppError::bad_request(ErrorCode::ValidationFailed, rejection.body_text(), None)
    })?;
    if let Some(unknown) = params.keys().find(|key| !allowed.contains(&key.as_str())) {
        return Err(AppError::bad_request(
            ErrorCode::UnknownField,
            format!("unknown query parameter {unknown}"),
            Some(unknown.clone()),
        ));
    }
    Ok(params)
}

/// A customer's files, newest first, with the size an upload may have.
#[utoipa::path(get, path = "/api/v1/people/{id}/files", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = FileList), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn list_files(
    State(state): State<AppState>,
    _session: Session,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<FileList>> {
    refuse_agents(&state, &id).await?;
    Ok(Json(FileList {
        files: person_files::list(&state.db, &id).await?,
        max_bytes: state.config.file_max_bytes,
    }))
}

/// Keeps a file on a customer's record: the body is the file, any type; the type is
/// found from the bytes, not from `Content-Type`.
#[utoipa::path(post, path = "/api/v1/people/{id}/files", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path), ("name" = String, Query, description = "The file's name, as it will be offered for download")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, body = PersonFile),
        (status = 400, body = ApiError, description = "No name, or a name that cannot be one"),
        (status = 403, body = ApiError, description = "An agent's record"),
        (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "The record holds as many files as it may"),
        (status = 413, body = ApiError, description = "Larger than the server's file limit"),
    ))]
async fn upload_file(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<String>,
    UploadName(name): UploadName,
    FileBody(upload): FileBody,
) -> ApiResult<impl IntoResponse> {
    refuse_agents(&state, &id).await?;
    let file = person_files::add(
        &state.db,
        &state.config.file_dir(),
        &session.agent_id,
        &id,
        &name,
        upload,
        Utc::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(file)))
}

/// A file's bytes, as the type found when it was kept, offered as a download.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, content_type = "application/octet-stream", body = Vec<u8>, headers(("Content-Disposition" = String))),
        (status = 404, body = ApiError),
    ))]
async fn download_file(
    State(state): State<AppState>,
    _session: Session,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let file = person_files::find(&state.db, &id).await?;
    let path = person_files::bytes_path(&state.config.file_dir(), &file);
    let Some((opened, size)) = open_stored(&path).await? else {
        // Removed while it was being read, most likely.
        tracing::warn!(file = %file.id, "a listed file has no bytes");
        return Err(AppError::NotFound);
    };
    let headers = [
        (CONTENT_TYPE, file.content_type.clone()),
        (CONTENT_LENGTH, size.to_string()),
        (X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (CONTENT_DISPOSITION, attachment(&file.name)),
        // Whatever a customer's file holds (HTML, SVG), it never runs as a page.
        (CONTENT_SECURITY_POLICY, "sandbox".to_owned()),
    ];
    let body = Body::from_stream(ReaderStream::new(opened));
    Ok((headers, body).into_response())
}

/// Opens stored bytes to stream them (a large file is never held in memory whole), with
/// their size; None when they are not there.
pub(super) async fn open_stored(
    path: &std::path::Path,
) -> Result<Option<(tokio::fs::File, u64)>, AppError> {
    let opened = match tokio::fs::File::open(path).await {
        Ok(opened) => opened,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(AppError::Internal(error.to_string())),
    };
    let size = opened
        .metadata()
        .await
        .map_err(|error| AppError::Internal(error.to_string()))?
        .len();
    Ok(Some((opened, size)))
}

/// The bytes encoded in an RFC 5987 file name: all but letters, digits and `.-_~` (a
/// subset of its attr-char, which every browser reads the same). The same set keeps a
/// name whole in a URL's path.
pub(super) const RFC_5987_ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'~');

/// `attachment` with the name twice: plain ASCII for old clients, and RFC 5987's
/// percent-encoded UTF-8 for the rest.
pub(super) fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    let encoded = utf8_percent_encode(name, RFC_5987_ENCODED);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Removes a file; only the agent who added it or an administrator may.
#[utoipa::path(delete, path = "/api/v1/files/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn delete_file(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    person_files::remove(
        &state.db,
        &state.config.file_dir(),
        &session.agent_id,
        session.is_admin,
        &id,
        Utc::now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A person's tickets from the ticket events the server carried: a customer's those
/// naming one of their emails as `requester`, an agent's those delivered to them (the
/// agent and administrators only).
#[utoipa::path(get, path = "/api/v1/people/{id}/tickets", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path), ("sort" = Option<String>, Query, description = "`-updated` (default), `updated`, `-opened`, `opened`, `ticket` or `-ticket`")),
    responses((status = 200, body = TicketHistory), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn list_tickets(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<String>,
    query: QueryParams,
) -> ApiResult<Json<TicketHistory>> {
    let params = query_params(query, &["sort"])?;
    let sort = match params.get("sort").map(String::as_str) {
        None => TicketSort::default(),
        Some(text) => TicketSort::parse(text).ok_or_else(|| {
            let names: Vec<_> = TicketSort::ALL.iter().map(|sort| sort.as_str()).collect();
            AppError::bad_request(
                ErrorCode::ValidationFailed,
                format!("sort must be one of {}", names.join(", ")),
                Some("sort".into()),
            )
        })?,
    };
    let subject = history_allowed(&state, &session, &id).await?;
    let tickets = tickets::history(&state.db, subject, &id, sort).await?;
    Ok(Json(TicketHistory { tickets, sort }))
}

/// How many sign-ins the Detail tab shows.
const LOGINS_SHOWN: i64 = 20;

/// An agent's latest sign-in attempts, to the agent and administrators.
#[utoipa::path(get, path = "/api/v1/people/{id}/logins", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = LoginActivity),
        (status = 403, body = ApiError, description = "Another agent's, to one who is not an administrator"),
        (status = 404, body = ApiError, description = "No agent has this id"),
    ))]
async fn list_logins(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<LoginActivity>> {
    match history_allowed(&state, &session, &id).await? {
        Subject::Agent => Ok(Json(LoginActivity {
            sign_ins: account::sign_ins(&state.db, &id, LOGINS_SHOWN).await?,
        })),
        // Customers never sign in.
        Subject::Customer => Err(AppError::NotFound),
    }
}

impl From<FileError> for AppError {
    fn from(error: FileError) -> Self {
        let message = error.to_string();
        match error {
            FileError::PersonNotFound | FileError::NotFound => AppError::NotFound,
            FileError::Invalid(refused) => {
                AppError::bad_request(ErrorCode::ValidationFailed, message, Some(refused.field))
            }
            FileError::TooMany => AppError::Conflict {
                code: ErrorCode::Conflict,
                message,
                field: Some("file".into()),
            },
            FileError::NotUploader => AppError::Forbidden {
                message,
                field: None,
            },
            FileError::Storage(error) => AppError::Internal(error.to_string()),
            FileError::Database(error) => AppError::Database(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::attachment;

    #[test]
    fn a_download_names_the_file_safely() {
        assert_eq!(
            attachment("Rechnung März \"final\".pdf"),
            "attachment; filename=\"Rechnung M_rz _final_.pdf\"; \
             filename*=UTF-8''Rechnung%20M%C3%A4rz%20%22final%22.pdf"
        );
    }
}

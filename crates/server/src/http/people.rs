//! The directory: agents as the caller may see them and users' (customers') records,
//! with their emails and notes. Every change is one transaction.

use agent_desk_core::customers::{
    ActivityStream, AdministeredField, AdministeredFields, ChangeLog, CustomField,
    CustomFieldPatch, Customer, CustomerPatch, MergeRequest, NewCustomField, NewCustomer, NewEmail,
    Note, NoteBody, NotesPage, OrganizationEntry, OrganizationName, Organizations,
};
use agent_desk_core::people::{PeoplePage, Person};
use agent_desk_core::{ApiError, ErrorCode};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{AdminSession, Session};
use super::error::{ApiResult, AppError};
use super::json::ApiJson;
use super::path::ApiPath;
use super::profile::{IfMatch, Versioned};
use crate::customers::{self, CustomerError};
use crate::people::{self, PeopleError, PeopleQuery, Sort, ViewerRow, PAGE_DEFAULT, PAGE_MAX};
use crate::tickets::Subject;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_people, create_user))
        .routes(routes!(get_person, update_user))
        .routes(routes!(add_email))
        .routes(routes!(remove_email))
        .routes(routes!(make_primary))
        .routes(routes!(list_notes, add_note))
        .routes(routes!(edit_note, delete_note))
        .routes(routes!(list_changes))
        .routes(routes!(list_activity))
        .routes(routes!(merge_users))
        .routes(routes!(list_fields))
        .routes(routes!(list_organizations, create_organization))
        .routes(routes!(list_administered_fields, create_field))
        .routes(routes!(update_field))
}

/// Merges another customer's record (the same person writing from another address)
/// into this one: emails, notes, custom values and history move over; where both hold
/// a value this record keeps its own and the change log keeps the other.
#[utoipa::path(post, path = "/api/v1/people/{id}/merge", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path, description = "The record that stays")),
    request_body = MergeRequest,
    responses(
        (status = 200, body = Person),
        (status = 400, body = ApiError, description = "The source is this record, or not a customer's"),
        (status = 403, body = ApiError, description = "An agent's record"),
        (status = 404, body = ApiError),
    ))]
async fn merge_users(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<MergeRequest>,
) -> ApiResult<impl IntoResponse> {
    refuse_agents(&state, &id).await?;
    let customer = customers::merge(
        &state.db,
        &session.agent_id,
        &id,
        &request.source,
        Utc::now(),
    )
    .await?;
    Ok(user(customer))
}

/// The organizations customers' records name, by name, each with how many people; what
/// the directory's `org` filter takes.
#[utoipa::path(get, path = "/api/v1/organizations", tag = "people", security(("bearer" = [])),
    responses((status = 200, body = Organizations), (status = 401, body = ApiError)))]
async fn list_organizations(
    State(state): State<AppState>,
    _session: Session,
) -> ApiResult<Json<Organizations>> {
    Ok(Json(Organizations {
        organizations: customers::organizations(&state.db).await?,
    }))
}

/// Makes an organization with no people yet, from a record's picker: any agent may.
#[utoipa::path(post, path = "/api/v1/organizations", tag = "people", security(("bearer" = [])),
    request_body = OrganizationName,
    responses(
        (status = 201, body = OrganizationEntry),
        (status = 400, body = ApiError, description = "An empty, long or multi-line name; `field` is `name`"),
        (status = 401, body = ApiError),
        (status = 409, body = ApiError, description = "An organization of that name exists (`field` is `name`)"),
    ))]
async fn create_organization(
    State(state): State<AppState>,
    _session: Session,
    ApiJson(new): ApiJson<OrganizationName>,
) -> ApiResult<impl IntoResponse> {
    let made = customers::create_organization(&state.db, &new.name, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// The fields admins defined for customers' records.
#[utoipa::path(get, path = "/api/v1/custom-fields", tag = "people", security(("bearer" = [])),
    responses((status = 200, body = Vec<CustomField>), (status = 401, body = ApiError)))]
async fn list_fields(
    State(state): State<AppState>,
    _session: Session,
) -> ApiResult<Json<Vec<CustomField>>> {
    Ok(Json(customers::custom_fields(&state.db).await?))
}

/// Defines a field for every customer's record (administrators only): text, number,
/// date or a choice of options.
#[utoipa::path(post, path = "/api/v1/admin/custom-fields", tag = "people", security(("bearer" = [])),
    request_body = NewCustomField,
    responses(
        (status = 201, body = CustomField),
        (status = 400, body = ApiError, description = "An empty name, or options that do not fit the kind"),
        (status = 403, body = ApiError),
        (status = 409, body = ApiError, description = "A field of that name exists"),
    ))]
async fn create_field(
    State(state): State<AppState>,
    _admin: AdminSession,
    ApiJson(new): ApiJson<NewCustomField>,
) -> ApiResult<impl IntoResponse> {
    let field = customers::create_field(&state.db, &new, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(field)))
}

/// Every custom field, retired ones too, each with how many records have a value
/// (administrators only).
#[utoipa::path(get, path = "/api/v1/admin/custom-fields", tag = "administration", security(("bearer" = [])),
    responses(
        (status = 200, body = AdministeredFields),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
    ))]
async fn list_administered_fields(
    State(state): State<AppState>,
    _admin: AdminSession,
) -> ApiResult<Json<AdministeredFields>> {
    Ok(Json(AdministeredFields {
        fields: customers::administered_fields(&state.db).await?,
    }))
}

/// Renames a custom field, or retires it (it leaves records and their forms, its values
/// kept) or restores it (administrators only).
#[utoipa::path(patch, path = "/api/v1/admin/custom-fields/{id}", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "The field's id")),
    request_body = CustomFieldPatch,
    responses(
        (status = 200, body = AdministeredField),
        (status = 400, body = ApiError, description = "An empty, long or multi-line name; `field` is `name`"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "The caller is not an administrator"),
        (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "Another field has that name"),
    ))]
async fn update_field(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<CustomFieldPatch>,
) -> ApiResult<Json<AdministeredField>> {
    Ok(Json(
        customers::update_field(&state.db, &session.agent_id, &id, &patch, Utc::now()).await?,
    ))
}

/// How many entries a change log or activity stream answers.
const HISTORY_LIMIT: u32 = 200;

/// A customer's history is every agent's to read; an agent's profile history only the
/// agent's own and admins', as it holds values their privacy may hide. Answers whose
/// history it is.
pub(super) async fn history_allowed(
    state: &AppState,
    session: &Session,
    id: &str,
) -> ApiResult<Subject> {
    let agent = crate::storage::query_scalar::<String>("SELECT id FROM agents WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.db)
        .await?;
    if agent.is_some() {
        if session.is_admin || session.agent_id == id {
            return Ok(Subject::Agent);
        }
        return Err(AppError::Forbidden {
            message: "an agent's history is theirs and administrators' to read".into(),
            field: None,
        });
    }
    customers::find(&state.db, id).await?;
    Ok(Subject::Customer)
}

/// Every edit of a record or profile, newest first: when, who, field, old → new.
#[utoipa::path(get, path = "/api/v1/people/{id}/changes", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ChangeLog), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn list_changes(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ChangeLog>> {
    history_allowed(&state, &session, &id).await?;
    let changes = customers::changes(&state.db, &id, HISTORY_LIMIT).await?;
    Ok(Json(ChangeLog { changes }))
}

/// Notes, edits (the status and files among them) and ticket events of a person
/// together, newest first.
#[utoipa::path(get, path = "/api/v1/people/{id}/activity", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ActivityStream), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn list_activity(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ActivityStream>> {
    let subject = history_allowed(&state, &session, &id).await?;
    let activity = customers::activity(&state.db, subject, &id, HISTORY_LIMIT).await?;
    Ok(Json(ActivityStream { activity }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// `agent` or `user`; both when absent.
    kind: Option<String>,
    /// A team's id: only its members (agents).
    team: Option<String>,
    /// An organization's id: only its people (users).
    org: Option<String>,
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
    let (agents, users) = match params.kind.as_deref() {
        None => (true, true),
        Some("agent") => (true, false),
        Some("user") => (false, true),
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
    let limit = page_limit(params.limit.as_deref())?;
    let query = PeopleQuery {
        agents,
        users,
        team: params.team.filter(|team| !team.is_empty()),
        organization: params.org.filter(|org| !org.is_empty()),
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
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Person>> {
    let viewer = ViewerRow::load(&state.db, &session.agent_id).await?;
    Ok(Json(people::find(&state.db, &viewer, &id).await?))
}

/// A new user's record; the first email is the primary one.
#[utoipa::path(post, path = "/api/v1/people", tag = "people", security(("bearer" = [])),
    request_body = NewCustomer,
    responses(
        (status = 201, body = Person, headers(("ETag" = String))),
        (status = 400, body = ApiError, description = "A field breaks a rule; `field` names it (`emails[1]`)"),
        (status = 409, body = ApiError, description = "An email already belongs to someone"),
    ))]
async fn create_user(
    State(state): State<AppState>,
    session: Session,
    ApiJson(new): ApiJson<NewCustomer>,
) -> ApiResult<impl IntoResponse> {
    let customer = customers::create(&state.db, &session.agent_id, &new, Utc::now()).await?;
    Ok((StatusCode::CREATED, user(customer)))
}

fn user(customer: Customer) -> Versioned<Person> {
    let version = customer.version;
    Versioned(Person::User(customer), version)
}

/// Changes some fields of a user's record. `If-Match` carries the version read.
#[utoipa::path(patch, path = "/api/v1/people/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path), ("If-Match" = String, Header)),
    request_body = CustomerPatch,
    responses(
        (status = 200, body = Person, headers(("ETag" = String))),
        (status = 400, body = ApiError),
        (status = 403, body = ApiError, description = "An agent's profile is theirs to edit"),
        (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "Changed since that version"),
        (status = 428, body = ApiError),
    ))]
async fn update_user(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<String>,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<CustomerPatch>,
) -> ApiResult<impl IntoResponse> {
    refuse_agents(&state, &id).await?;
    let customer = customers::update(
        &state.db,
        &session.agent_id,
        &id,
        &patch,
        version,
        Utc::now(),
    )
    .await?;
    Ok(user(customer))
}

/// Agents' records are their profiles: they edit them themselves.
pub(super) async fn refuse_agents(state: &AppState, id: &str) -> ApiResult<()> {
    let agent = crate::storage::query_scalar::<String>("SELECT id FROM agents WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.db)
        .await?;
    match agent {
        Some(_) => Err(AppError::Forbidden {
            message: "an agent's record is their own profile, changed by them".into(),
            field: None,
        }),
        None => Ok(()),
    }
}

/// Adds an email; `primary: true` makes it the primary one.
#[utoipa::path(post, path = "/api/v1/people/{id}/emails", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = NewEmail,
    responses(
        (status = 200, body = Person),
        (status = 400, body = ApiError),
        (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "The address belongs to someone"),
    ))]
async fn add_email(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<String>,
    ApiJson(new): ApiJson<NewEmail>,
) -> ApiResult<impl IntoResponse> {
    refuse_agents(&state, &id).await?;
    let customer = customers::add_email(
        &state.db,
        &session.agent_id,
        &id,
        &new.address,
        new.primary.unwrap_or(false),
        Utc::now(),
    )
    .await?;
    Ok(user(customer))
}

/// Removes an email that is neither the primary one nor the last.
#[utoipa::path(delete, path = "/api/v1/people/{id}/emails/{address}", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path), ("address" = String, Path)),
    responses(
        (status = 200, body = Person),
        (status = 404, body = ApiError),
        (status = 409, body = ApiError, description = "The primary or the last email"),
    ))]
async fn remove_email(
    State(state): State<AppState>,
    session: Session,
    ApiPath((id, address)): ApiPath<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    refuse_agents(&state, &id).await?;
    let customer =
        customers::remove_email(&state.db, &session.agent_id, &id, &address, Utc::now()).await?;
    Ok(user(customer))
}

/// Makes one of the person's emails the primary one.
#[utoipa::path(post, path = "/api/v1/people/{id}/emails/{address}/primary", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path), ("address" = String, Path)),
    responses((status = 200, body = Person), (status = 404, body = ApiError)))]
async fn make_primary(
    State(state): State<AppState>,
    session: Session,
    ApiPath((id, address)): ApiPath<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    refuse_agents(&state, &id).await?;
    let customer =
        customers::make_primary(&state.db, &session.agent_id, &id, &address, Utc::now()).await?;
    Ok(user(customer))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct NotesParams {
    /// `next_cursor` of the page before.
    cursor: Option<String>,
    /// 1 to 100; 50 when absent.
    limit: Option<String>,
}

/// A person's notes, newest first.
#[utoipa::path(get, path = "/api/v1/people/{id}/notes", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path), NotesParams),
    responses((status = 200, body = NotesPage), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
async fn list_notes(
    State(state): State<AppState>,
    _session: Session,
    ApiPath(id): ApiPath<String>,
    params: Result<Query<NotesParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<NotesPage>> {
    let Query(params) = params.map_err(|rejection| {
        AppError::bad_request(ErrorCode::ValidationFailed, rejection.body_text(), None)
    })?;
    let limit = page_limit(params.limit.as_deref())?;
    let limit = u32::try_from(limit).unwrap_or(50);
    Ok(Json(
        customers::notes(&state.db, &id, params.cursor.as_deref(), limit).await?,
    ))
}

fn page_limit(text: Option<&str>) -> ApiResult<usize> {
    match text {
        None => Ok(PAGE_DEFAULT),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=PAGE_MAX).contains(limit))
            .ok_or_else(|| {
                invalid(
                    "limit",
                    format!("limit must be a whole number from 1 to {PAGE_MAX}"),
                )
            }),
    }
}

/// Adds a note, written by the caller.
#[utoipa::path(post, path = "/api/v1/people/{id}/notes", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = NoteBody,
    responses((status = 201, body = Note), (status = 400, body = ApiError), (status = 404, body = ApiError)))]
async fn add_note(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<String>,
    ApiJson(new): ApiJson<NoteBody>,
) -> ApiResult<impl IntoResponse> {
    refuse_agents(&state, &id).await?;
    let note =
        customers::add_note(&state.db, &session.agent_id, &id, &new.body, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

/// Changes a note's text; only its author may.
#[utoipa::path(patch, path = "/api/v1/notes/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = NoteBody,
    responses((status = 200, body = Note), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn edit_note(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<String>,
    ApiJson(edit): ApiJson<NoteBody>,
) -> ApiResult<Json<Note>> {
    Ok(Json(
        customers::edit_note(&state.db, &session.agent_id, &id, &edit.body, Utc::now()).await?,
    ))
}

/// Deletes a note; only its author may.
#[utoipa::path(delete, path = "/api/v1/notes/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn delete_note(
    State(state): State<AppState>,
    session: Session,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    customers::delete_note(&state.db, &session.agent_id, &id, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl From<PeopleError> for AppError {
    fn from(error: PeopleError) -> Self {
        match error {
            PeopleError::NotFound => AppError::NotFound,
            PeopleError::InvalidCursor => invalid("cursor", error.to_string()),
            PeopleError::Customer(error) => error.into(),
            PeopleError::Database(error) => AppError::Database(error),
        }
    }
}

impl From<CustomerError> for AppError {
    fn from(error: CustomerError) -> Self {
        let message = error.to_string();
        let conflict = |field: String| AppError::Conflict {
            code: ErrorCode::Conflict,
            message: message.clone(),
            field: Some(field),
        };
        match error {
            CustomerError::NotFound | CustomerError::NoteNotFound => AppError::NotFound,
            CustomerError::Invalid(refused) => {
                AppError::bad_request(ErrorCode::ValidationFailed, message, Some(refused.field))
            }
            CustomerError::EmailTaken { field, .. } => conflict(field),
            CustomerError::LastEmail | CustomerError::PrimaryEmail => conflict("address".into()),
            CustomerError::FieldNameTaken(_)
            | CustomerError::OrganizationTaken(_)
            | CustomerError::UsergroupListed(_) => conflict("name".into()),
            CustomerError::MergeIntoItself => invalid("into", message),
            CustomerError::OrganizationNotFound
            | CustomerError::UsergroupNotFound
            | CustomerError::FieldNotFound => AppError::NotFound,
            CustomerError::VersionConflict => AppError::VersionConflict,
            CustomerError::NotAuthor => AppError::Forbidden {
                message,
                field: None,
            },
            CustomerError::InvalidCursor => invalid("cursor", message),
            CustomerError::Database(error) => AppError::Database(error),
        }
    }
}

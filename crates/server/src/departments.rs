//! Changes of department: the agent asks, an administrator decides.
//!
//! Whether two agents share a department decides what "department only" profiles show
//! them, so the department in force is never something an agent sets alone. A profile
//! edit of the department opens (or replaces, or withdraws) a request; approving it
//! moves the agent, in the same transaction as the decision.

use agent_desk_core::departments::{
    DecidedDepartmentRequest, DepartmentRequest, PendingDepartmentRequest,
};
use agent_desk_core::teams::clean_note;
use agent_desk_core::ProfileField;
use chrono::{DateTime, Utc};

use uuid::Uuid;

use crate::change_log::record_change;
use crate::clock::{parse_timestamp, timestamp};
use crate::db::Db;

/// The change-log field of a request, beside `department` for the change itself.
const REQUEST_FIELD: &str = "department_request";

#[derive(Debug, thiserror::Error)]
pub enum DepartmentError {
    #[error("no such request")]
    NotFound,
    #[error("the request was already {0}")]
    AlreadyDecided(String),
    #[error("{0}")]
    InvalidNote(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What a profile edit of the department did to the agent's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestChange {
    /// Nothing: the department asked for is the one in force or already asked for.
    None,
    /// A request for this department is open now: new, or `replacing` one that was.
    Requested {
        value: Option<String>,
        replacing: bool,
    },
    /// The open request is withdrawn: the agent asked for the department in force.
    Withdrawn,
}

/// The agent's open request, if any.
pub async fn pending<'e>(
    conn: impl Into<crate::storage::Runner<'e>>,
    agent_id: &str,
) -> Result<Option<DepartmentRequest>, sqlx::Error> {
    let row = crate::storage::query_as::<(Option<String>, String)>(
        "SELECT value, requested_at FROM department_requests
         WHERE agent_id = $1 AND state = 'open'",
    )
    .bind(agent_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(value, requested_at)| DepartmentRequest {
        value,
        requested_at: parse_timestamp(&requested_at),
    }))
}

/// Records what the agent asked for, inside the caller's transaction (the profile's):
/// `wanted` is the department asked for, normalised (`None` for none); `current` the
/// one in force. Asking for the one in force withdraws an open request.
pub async fn ask(
    tx: &mut crate::storage::Conn,
    agent_id: &str,
    current: Option<&str>,
    wanted: Option<&str>,
    now: DateTime<Utc>,
) -> Result<RequestChange, sqlx::Error> {
    let open = pending(&mut *tx, agent_id).await?;
    let at = timestamp(now);
    let describe = |value: Option<&str>| Some(value.unwrap_or("(none)").to_owned());
    if same(current, wanted) {
        let Some(open) = open else {
            return Ok(RequestChange::None);
        };
        withdraw(tx, agent_id, &at).await?;
        record_change(
            tx,
            agent_id,
            agent_id,
            REQUEST_FIELD,
            &describe(open.value.as_deref()),
            &None,
            &at,
        )
        .await?;
        return Ok(RequestChange::Withdrawn);
    }
    if let Some(open) = &open {
        if same(open.value.as_deref(), wanted) {
            return Ok(RequestChange::None);
        }
    }
    let replacing = open.is_some();
    // One open request an agent: a new wish replaces the one waiting.
    withdraw(tx, agent_id, &at).await?;
    crate::storage::query(
        "INSERT INTO department_requests (id, agent_id, value, state, requested_at)
         VALUES ($1, $2, $3, 'open', $4)",
    )
    .bind(Uuid::new_v4().simple().to_string())
    .bind(agent_id)
    .bind(wanted)
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    record_change(
        tx,
        agent_id,
        agent_id,
        REQUEST_FIELD,
        &open.and_then(|open| describe(open.value.as_deref())),
        &describe(wanted),
        &at,
    )
    .await?;
    Ok(RequestChange::Requested {
        value: wanted.map(str::to_owned),
        replacing,
    })
}

/// Ends the agent's open request, if any, because an administrator set the department
/// or deactivated the agent: kept as withdrawn, the change log naming the administrator.
pub async fn withdraw_by(
    tx: &mut crate::storage::Conn,
    agent_id: &str,
    actor_id: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let Some(open) = pending(&mut *tx, agent_id).await? else {
        return Ok(());
    };
    let at = timestamp(now);
    withdraw(tx, agent_id, &at).await?;
    let asked = Some(open.value.unwrap_or_else(|| "(none)".to_owned()));
    record_change(tx, agent_id, actor_id, REQUEST_FIELD, &asked, &None, &at).await
}

/// Ends the agent's open request, if any, as withdrawn.
async fn withdraw(tx: &mut crate::storage::Conn, agent_id: &str, at: &str) -> sqlx::Result<()> {
    crate::storage::query(
        "UPDATE department_requests SET state = 'withdrawn', decided_at = $1
         WHERE agent_id = $2 AND state = 'open'",
    )
    .bind(at)
    .bind(agent_id)
    .execute(tx)
    .await?;
    Ok(())
}

/// Departments are compared as the privacy rule compares them.
fn same(a: Option<&str>, b: Option<&str>) -> bool {
    a == b || agent_desk_core::people::same_department(a, b)
}

/// Every open request, oldest first, with the agent and the department in force.
pub async fn open_requests(db: &Db) -> Result<Vec<PendingDepartmentRequest>, sqlx::Error> {
    type Row = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        String,
    );
    let rows: Vec<Row> = crate::storage::query_as(
        "SELECT r.id, r.agent_id, a.display_name, a.email, a.department, r.value, r.requested_at
         FROM department_requests r JOIN agents a ON a.id = r.agent_id
         WHERE r.state = 'open' ORDER BY r.requested_at, r.id",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, agent_id, agent_name, agent_email, current, requested, requested_at)| {
                PendingDepartmentRequest {
                    id,
                    agent_id,
                    agent_name,
                    agent_email,
                    current,
                    requested,
                    requested_at: parse_timestamp(&requested_at),
                }
            },
        )
        .collect())
}

/// A decided request: what the answer says, what was asked for and the note.
pub struct Decision {
    pub decided: DecidedDepartmentRequest,
    pub requested: Option<String>,
    pub note: Option<String>,
}

/// Approves or refuses an open request. Approving moves the agent to the department
/// asked for and bumps their profile's version, in the decision's transaction.
pub async fn decide(
    db: &Db,
    request_id: &str,
    decider_id: &str,
    approve: bool,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Decision, DepartmentError> {
    let note = clean_note(note).map_err(DepartmentError::InvalidNote)?;
    let at = timestamp(now);
    let mut tx = crate::db::begin_write(db).await?;
    // One decision: a second decider waits here and then reads the first's.
    tx.lock("department_requests", request_id).await?;
    let (agent_id, value, state) = crate::storage::query_as::<(String, Option<String>, String)>(
        "SELECT agent_id, value, state FROM department_requests WHERE id = $1",
    )
    .bind(request_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(DepartmentError::NotFound)?;
    if state != "open" {
        return Err(DepartmentError::AlreadyDecided(state));
    }
    crate::storage::query(
        "UPDATE department_requests
            SET state = $1, decided_by = $2, decided_at = $3, decision_note = $4
          WHERE id = $5",
    )
    .bind(if approve { "approved" } else { "denied" })
    .bind(decider_id)
    .bind(&at)
    .bind(&note)
    .bind(request_id)
    .execute(&mut *tx)
    .await?;
    let before: Option<String> =
        crate::storage::query_scalar("SELECT department FROM agents WHERE id = $1")
            .bind(&agent_id)
            .fetch_one(&mut *tx)
            .await?;
    // The request leaves the profile either way: its version moves so every session
    // reads it again.
    if approve {
        crate::storage::query(
            "UPDATE agents SET department = $1, version = version + 1, updated_at = $2
             WHERE id = $3",
        )
        .bind(&value)
        .bind(&at)
        .bind(&agent_id)
        .execute(&mut *tx)
        .await?;
        record_change(
            &mut tx,
            &agent_id,
            decider_id,
            ProfileField::Department.as_str(),
            &before,
            &value,
            &at,
        )
        .await?;
    } else {
        crate::storage::query("UPDATE agents SET version = version + 1 WHERE id = $1")
            .bind(&agent_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let department = if approve { value.clone() } else { before };
    Ok(Decision {
        decided: DecidedDepartmentRequest {
            id: request_id.to_owned(),
            agent_id,
            approved: approve,
            department,
        },
        requested: value,
        note,
    })
}

//! Teams: named groups of agents, with leads, that events can be addressed to.

use agent_desk_core::teams::{
    clean_note, clean_team_name, JoinRequest, JoinRequestState, Membership, Team,
};
use std::collections::HashMap;

use agent_desk_core::people::{Sight, Viewer};
use agent_desk_core::Visibility;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::agents::normalise_email;
use crate::clock::{parse_timestamp, timestamp};
use crate::db::Db;
use crate::people::ViewerRow;

#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("a team needs a name of 1 to 100 characters, one line without control or text-direction characters")]
    InvalidName,
    #[error("a team called {0} already exists")]
    NameTaken(String),
    #[error("no agent has the email {0}")]
    UnknownAgent(String),
    #[error("no such team")]
    UnknownTeam,
    #[error("no such join request")]
    UnknownRequest,
    #[error("{0}")]
    InvalidNote(String),
    #[error("you are already in this team")]
    AlreadyMember,
    #[error("you have already asked to join this team; a lead has not decided yet")]
    AlreadyRequested,
    #[error("this request was already {0}")]
    AlreadyDecided(&'static str),
    #[error("only a lead of this team or an administrator can decide on its requests")]
    NotLead,
    #[error("no such agent in this team")]
    UnknownMember,
    #[error("{0} is deactivated: reactivate them before adding them to a team")]
    Deactivated(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The demo's teams (name, leads, members) and a request waiting for the demo agent,
/// who leads Billing, to decide; `seed-demo` makes them once.
const DEMO_TEAMS: &[(&str, &[&str], &[&str])] = &[
    (
        "Customer Care",
        &["sam@agentdesk.example"],
        &["demo@agentdesk.example"],
    ),
    ("Billing", &["demo@agentdesk.example"], &[]),
    ("Escalations", &["sam@agentdesk.example"], &[]),
];
const DEMO_REQUEST: (&str, &str, &str) = (
    "robin@agentdesk.example",
    "Billing",
    "I cover the invoice queue on Fridays.",
);

/// Makes the demo's teams and its open join request, leaving any already there. No
/// events: the request is there when the demo starts, not news to it.
pub async fn seed_demo(db: &Db, now: DateTime<Utc>) -> Result<(), TeamError> {
    let emails = |list: &[&str]| {
        list.iter()
            .map(|email| (*email).to_owned())
            .collect::<Vec<_>>()
    };
    for (name, leads, members) in DEMO_TEAMS {
        match create(db, name, &emails(leads), &emails(members), now).await {
            Ok(_) | Err(TeamError::NameTaken(_)) => {}
            Err(other) => return Err(other),
        }
    }
    let (requester, team_name, note) = DEMO_REQUEST;
    let ids = crate::storage::query_as::<(String, String)>(
        "SELECT a.id, t.id FROM agents a, teams t WHERE a.email = $1 AND t.name = $2",
    )
    .bind(requester)
    .bind(team_name)
    .fetch_optional(db)
    .await?;
    if let Some((agent_id, team_id)) = ids {
        let asked_before = crate::storage::query_scalar::<i64>(
            "SELECT COUNT(*) FROM team_join_requests WHERE team_id = $1 AND agent_id = $2",
        )
        .bind(&team_id)
        .bind(&agent_id)
        .fetch_one(db)
        .await?;
        if asked_before == 0 {
            request_to_join(db, &team_id, &agent_id, Some(note), now).await?;
        }
    }
    Ok(())
}

/// Creates a team with its leads and members; an agent named as both is a lead.
/// Returns the team's id.
pub async fn create(
    db: &Db,
    name: &str,
    leads: &[String],
    members: &[String],
    now: DateTime<Utc>,
) -> Result<String, TeamError> {
    let name = clean_team_name(name).ok_or(TeamError::InvalidName)?;
    let mut tx = crate::db::begin_write(db).await?;
    let taken = crate::storage::query_scalar::<String>("SELECT id FROM teams WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(TeamError::NameTaken(name.to_owned()));
    }
    let id = Uuid::new_v4().simple().to_string();
    crate::storage::query("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(name)
        .bind(timestamp(now))
        .execute(&mut *tx)
        .await?;
    let roles = leads
        .iter()
        .map(|email| (email, "lead"))
        .chain(members.iter().map(|email| (email, "member")));
    for (email, role) in roles {
        let email = normalise_email(email);
        let agent =
            crate::storage::query_scalar::<String>("SELECT id FROM agents WHERE email = $1")
                .bind(&email)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(TeamError::UnknownAgent(email))?;
        // First role wins: leads are inserted before members.
        crate::storage::query(
            "INSERT INTO team_members (team_id, agent_id, role) VALUES ($1, $2, $3)
             ON CONFLICT (team_id, agent_id) DO NOTHING",
        )
        .bind(&id)
        .bind(&agent)
        .bind(role)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Every team, with where `agent_id` stands in each, by name.
pub async fn list(db: &Db, agent_id: &str) -> Result<Vec<Team>, TeamError> {
    read(db, agent_id, None).await
}

/// One team, as `agent_id` sees it.
pub async fn find_team(db: &Db, team_id: &str, agent_id: &str) -> Result<Team, TeamError> {
    read(db, agent_id, Some(team_id))
        .await?
        .pop()
        .ok_or(TeamError::UnknownTeam)
}

/// Teams as `agent_id` sees them: every team, or only `team_id`.
async fn read(db: &Db, agent_id: &str, team_id: Option<&str>) -> Result<Vec<Team>, TeamError> {
    let rows: Vec<TeamRow> = crate::storage::query_as(
        "SELECT teams.id, teams.name,
                (SELECT role FROM team_members
                  WHERE team_id = teams.id AND agent_id = $1) AS role,
                EXISTS (SELECT 1 FROM team_join_requests
                  WHERE team_id = teams.id AND agent_id = $1 AND state = 'open') AS requested,
                (SELECT COUNT(*) FROM team_members WHERE team_id = teams.id) AS member_count
           FROM teams
          WHERE $2 IS NULL OR teams.id = $2
          ORDER BY teams.name",
    )
    .bind(agent_id)
    .bind(team_id)
    .fetch_all(db)
    .await?;
    let lead_rows: Vec<(String, String)> = crate::storage::query_as(
        "SELECT team_members.team_id, agents.display_name
           FROM team_members JOIN agents ON agents.id = team_members.agent_id
          WHERE team_members.role = 'lead' AND ($1 IS NULL OR team_members.team_id = $1)
          ORDER BY agents.display_name",
    )
    .bind(team_id)
    .fetch_all(db)
    .await?;
    let mut leads: HashMap<String, Vec<String>> = HashMap::new();
    for (team_id, lead) in lead_rows {
        leads.entry(team_id).or_default().push(lead);
    }
    let mut teams = Vec::with_capacity(rows.len());
    for row in rows {
        let membership = match row.role.as_deref() {
            Some("lead") => Membership::Lead,
            Some(_) => Membership::Member,
            None if row.requested => Membership::Requested,
            None => Membership::None,
        };
        teams.push(Team {
            name: row.name,
            leads: leads.remove(&row.id).unwrap_or_default(),
            id: row.id,
            membership,
            member_count: u32::try_from(row.member_count).unwrap_or(u32::MAX),
        });
    }
    Ok(teams)
}

/// A team as `read` selects it for one agent.
#[derive(sqlx::FromRow)]
struct TeamRow {
    id: String,
    name: String,
    role: Option<String>,
    requested: bool,
    member_count: i64,
}

/// Asks to join a team: one open request per agent and team, none for a member.
pub async fn request_to_join(
    db: &Db,
    team_id: &str,
    agent_id: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<JoinRequest, TeamError> {
    let note = clean_note(note).map_err(TeamError::InvalidNote)?;
    let mut tx = crate::db::begin_write(db).await?;
    let team = crate::storage::query_scalar::<String>("SELECT id FROM teams WHERE id = $1")
        .bind(team_id)
        .fetch_optional(&mut *tx)
        .await?;
    if team.is_none() {
        return Err(TeamError::UnknownTeam);
    }
    let role = crate::storage::query_scalar::<String>(
        "SELECT role FROM team_members WHERE team_id = $1 AND agent_id = $2",
    )
    .bind(team_id)
    .bind(agent_id)
    .fetch_optional(&mut *tx)
    .await?;
    if role.is_some() {
        return Err(TeamError::AlreadyMember);
    }
    let id = Uuid::new_v4().simple().to_string();
    // The unique index on open requests decides a race between two clicks.
    let inserted = crate::storage::query(
        "INSERT INTO team_join_requests (id, team_id, agent_id, note, state, created_at)
         VALUES ($1, $2, $3, $4, 'open', $5)
         ON CONFLICT DO NOTHING",
    )
    .bind(&id)
    .bind(team_id)
    .bind(agent_id)
    .bind(&note)
    .bind(timestamp(now))
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(TeamError::AlreadyRequested);
    }
    tx.commit().await?;
    let requester = ViewerRow {
        id: agent_id.to_owned(),
        is_admin: false,
        department: None,
    };
    find(db, &id, &requester)
        .await?
        .ok_or(TeamError::UnknownRequest)
}

/// Approves or denies an open request. Only a lead of its team, or an administrator.
/// Approving makes the requester a member, in the same transaction.
pub async fn decide(
    db: &Db,
    request_id: &str,
    decider: &ViewerRow,
    approve: bool,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<JoinRequest, TeamError> {
    let note = clean_note(note).map_err(TeamError::InvalidNote)?;
    let mut tx = crate::db::begin_write(db).await?;
    // One decision: a second decider waits here and then reads the first's.
    tx.lock("team_join_requests", request_id).await?;
    let (team_id, requester, state): (String, String, String) = crate::storage::query_as(
        "SELECT team_id, agent_id, state FROM team_join_requests WHERE id = $1",
    )
    .bind(request_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(TeamError::UnknownRequest)?;
    if !decider.is_admin {
        let role = crate::storage::query_scalar::<String>(
            "SELECT role FROM team_members WHERE team_id = $1 AND agent_id = $2",
        )
        .bind(&team_id)
        .bind(&decider.id)
        .fetch_optional(&mut *tx)
        .await?;
        if role.as_deref() != Some("lead") {
            return Err(TeamError::NotLead);
        }
    }
    match JoinRequestState::parse(&state) {
        Some(JoinRequestState::Open) => {}
        Some(decided) => return Err(TeamError::AlreadyDecided(decided.as_str())),
        None => return Err(TeamError::UnknownRequest),
    }
    let next = if approve {
        JoinRequestState::Approved
    } else {
        JoinRequestState::Denied
    };
    crate::storage::query(
        "UPDATE team_join_requests
            SET state = $1, decided_by = $2, decided_at = $3, decision_note = $4
          WHERE id = $5",
    )
    .bind(next.as_str())
    .bind(&decider.id)
    .bind(timestamp(now))
    .bind(&note)
    .bind(request_id)
    .execute(&mut *tx)
    .await?;
    if approve {
        crate::storage::query(
            "INSERT INTO team_members (team_id, agent_id, role) VALUES ($1, $2, 'member')
             ON CONFLICT (team_id, agent_id) DO NOTHING",
        )
        .bind(&team_id)
        .bind(&requester)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    find(db, request_id, decider)
        .await?
        .ok_or(TeamError::UnknownRequest)
}

const REQUEST_COLUMNS: &str = "SELECT r.id, r.team_id, teams.name AS team_name,
        r.agent_id, requester.display_name AS requester_name, requester.email AS requester_email,
        requester.visibility AS requester_visibility, requester.department AS requester_department,
        r.note, r.state, r.created_at, decider.display_name AS decided_by, r.decided_at,
        r.decision_note
   FROM team_join_requests r
   JOIN teams ON teams.id = r.team_id
   JOIN agents requester ON requester.id = r.agent_id
   LEFT JOIN agents decider ON decider.id = r.decided_by";

/// A request as `viewer` may see it.
pub async fn find(
    db: &Db,
    request_id: &str,
    viewer: &ViewerRow,
) -> Result<Option<JoinRequest>, TeamError> {
    let row: Option<RequestRow> =
        crate::storage::query_as(format!("{REQUEST_COLUMNS} WHERE r.id = $1"))
            .bind(request_id)
            .fetch_optional(db)
            .await?;
    row.map(|row| request_from(row, &viewer.viewer()))
        .transpose()
}

/// The agent's own requests, newest first, and the open requests they can decide on.
pub async fn requests_for(
    db: &Db,
    viewer: &ViewerRow,
) -> Result<(Vec<JoinRequest>, Vec<JoinRequest>), TeamError> {
    let (agent_id, is_admin) = (&viewer.id, viewer.is_admin);
    let mine: Vec<RequestRow> = crate::storage::query_as(format!(
        "{REQUEST_COLUMNS} WHERE r.agent_id = $1 ORDER BY r.created_at DESC, r.id"
    ))
    .bind(agent_id)
    .fetch_all(db)
    .await?;
    let to_decide: Vec<RequestRow> = crate::storage::query_as(format!(
        "{REQUEST_COLUMNS} WHERE r.state = 'open' AND ($2 OR r.team_id IN
            (SELECT team_id FROM team_members WHERE agent_id = $1 AND role = 'lead'))
         ORDER BY r.created_at, r.id"
    ))
    .bind(agent_id)
    .bind(is_admin)
    .fetch_all(db)
    .await?;
    let seen_by = viewer.viewer();
    let convert = |rows: Vec<RequestRow>| {
        rows.into_iter()
            .map(|row| request_from(row, &seen_by))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok((convert(mine)?, convert(to_decide)?))
}

/// A request as `REQUEST_COLUMNS` selects it.
#[derive(sqlx::FromRow)]
struct RequestRow {
    id: String,
    team_id: String,
    team_name: String,
    agent_id: String,
    requester_name: String,
    requester_email: String,
    requester_visibility: String,
    requester_department: Option<String>,
    note: Option<String>,
    state: String,
    created_at: String,
    decided_by: Option<String>,
    decided_at: Option<String>,
    decision_note: Option<String>,
}

/// A request's row as `viewer` may see it: the requester's email only when their
/// privacy shows the viewer their details, as everywhere else.
fn request_from(row: RequestRow, viewer: &Viewer<'_>) -> Result<JoinRequest, TeamError> {
    let email_shown = Sight::details(
        viewer,
        &row.agent_id,
        Visibility::parse(&row.requester_visibility).unwrap_or(Visibility::Private),
        row.requester_department.as_deref(),
    );
    Ok(JoinRequest {
        id: row.id,
        team_id: row.team_id,
        team_name: row.team_name,
        requester_name: row.requester_name,
        requester_email: email_shown.then_some(row.requester_email),
        requester_id: row.agent_id,
        note: row.note,
        state: JoinRequestState::parse(&row.state).ok_or(TeamError::UnknownRequest)?,
        created_at: parse_timestamp(&row.created_at),
        decided_by: row.decided_by,
        decided_at: row.decided_at.as_deref().map(parse_timestamp),
        decision_note: row.decision_note,
    })
}

//! Teams: named groups of agents, with leads, that events can be addressed to.

use agent_desk_core::teams::{
    clean_note, JoinRequest, JoinRequestState, Membership, Team, TEAM_NAME_MAX,
};
use std::collections::HashMap;

use agent_desk_core::people::{Sight, Viewer};
use agent_desk_core::Visibility;
use chrono::{DateTime, Utc};
use sqlx::Row;
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
    let ids = sqlx::query_as::<_, (String, String)>(
        "SELECT a.id, t.id FROM agents a, teams t WHERE a.email = $1 AND t.name = $2",
    )
    .bind(requester)
    .bind(team_name)
    .fetch_optional(db)
    .await?;
    if let Some((agent_id, team_id)) = ids {
        let asked_before = sqlx::query_scalar::<_, i64>(
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
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > TEAM_NAME_MAX
        || agent_desk_core::text::has_hidden_controls(name, false)
    {
        return Err(TeamError::InvalidName);
    }
    let mut tx = crate::db::begin_write(db).await?;
    let taken = sqlx::query_scalar::<_, String>("SELECT id FROM teams WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(TeamError::NameTaken(name.to_owned()));
    }
    let id = Uuid::new_v4().simple().to_string();
    sqlx::query("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3)")
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
        let agent = sqlx::query_scalar::<_, String>("SELECT id FROM agents WHERE email = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(TeamError::UnknownAgent(email))?;
        // First role wins: leads are inserted before members.
        sqlx::query(
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
    let rows = sqlx::query(
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
    let lead_rows = sqlx::query(
        "SELECT team_members.team_id, agents.display_name
           FROM team_members JOIN agents ON agents.id = team_members.agent_id
          WHERE team_members.role = 'lead' AND ($1 IS NULL OR team_members.team_id = $1)
          ORDER BY agents.display_name",
    )
    .bind(team_id)
    .fetch_all(db)
    .await?;
    let mut leads: HashMap<String, Vec<String>> = HashMap::new();
    for row in lead_rows {
        leads
            .entry(row.try_get("team_id")?)
            .or_default()
            .push(row.try_get("display_name")?);
    }
    let mut teams = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("id")?;
        let role: Option<String> = row.try_get("role")?;
        let requested: bool = row.try_get("requested")?;
        let membership = match role.as_deref() {
            Some("lead") => Membership::Lead,
            Some(_) => Membership::Member,
            None if requested => Membership::Requested,
            None => Membership::None,
        };
        let member_count: i64 = row.try_get("member_count")?;
        teams.push(Team {
            name: row.try_get("name")?,
            leads: leads.remove(&id).unwrap_or_default(),
            id,
            membership,
            member_count: u32::try_from(member_count).unwrap_or(u32::MAX),
        });
    }
    Ok(teams)
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
    let team = sqlx::query_scalar::<_, String>("SELECT id FROM teams WHERE id = $1")
        .bind(team_id)
        .fetch_optional(&mut *tx)
        .await?;
    if team.is_none() {
        return Err(TeamError::UnknownTeam);
    }
    let role = sqlx::query_scalar::<_, String>(
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
    let inserted = sqlx::query(
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
    let row = sqlx::query("SELECT team_id, agent_id, state FROM team_join_requests WHERE id = $1")
        .bind(request_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(TeamError::UnknownRequest)?;
    let team_id: String = row.try_get("team_id")?;
    let requester: String = row.try_get("agent_id")?;
    let state: String = row.try_get("state")?;
    if !decider.is_admin {
        let role = sqlx::query_scalar::<_, String>(
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
    sqlx::query(
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
        sqlx::query(
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
    let row = sqlx::query(&format!("{REQUEST_COLUMNS} WHERE r.id = $1"))
        .bind(request_id)
        .fetch_optional(db)
        .await?;
    row.map(|row| request_from(&row, &viewer.viewer()))
        .transpose()
}

/// The agent's own requests, newest first, and the open requests they can decide on.
pub async fn requests_for(
    db: &Db,
    viewer: &ViewerRow,
) -> Result<(Vec<JoinRequest>, Vec<JoinRequest>), TeamError> {
    let (agent_id, is_admin) = (&viewer.id, viewer.is_admin);
    let mine = sqlx::query(&format!(
        "{REQUEST_COLUMNS} WHERE r.agent_id = $1 ORDER BY r.created_at DESC, r.id"
    ))
    .bind(agent_id)
    .fetch_all(db)
    .await?;
    let to_decide = sqlx::query(&format!(
        "{REQUEST_COLUMNS} WHERE r.state = 'open' AND ($2 OR r.team_id IN
            (SELECT team_id FROM team_members WHERE agent_id = $1 AND role = 'lead'))
         ORDER BY r.created_at, r.id"
    ))
    .bind(agent_id)
    .bind(is_admin)
    .fetch_all(db)
    .await?;
    let seen_by = viewer.viewer();
    let convert = |rows: Vec<sqlx::sqlite::SqliteRow>| {
        rows.iter()
            .map(|row| request_from(row, &seen_by))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok((convert(mine)?, convert(to_decide)?))
}

/// A request's row as `viewer` may see it: the requester's email only when their
/// privacy shows the viewer their details, as everywhere else.
fn request_from(
    row: &sqlx::sqlite::SqliteRow,
    viewer: &Viewer<'_>,
) -> Result<JoinRequest, TeamError> {
    let requester_id: String = row.try_get("agent_id")?;
    let visibility: String = row.try_get("requester_visibility")?;
    let department: Option<String> = row.try_get("requester_department")?;
    let email_shown = Sight::details(
        viewer,
        &requester_id,
        Visibility::parse(&visibility).unwrap_or(Visibility::Private),
        department.as_deref(),
    );
    let state: String = row.try_get("state")?;
    let created_at: String = row.try_get("created_at")?;
    let decided_at: Option<String> = row.try_get("decided_at")?;
    Ok(JoinRequest {
        id: row.try_get("id")?,
        team_id: row.try_get("team_id")?,
        team_name: row.try_get("team_name")?,
        requester_name: row.try_get("requester_name")?,
        requester_email: if email_shown {
            Some(row.try_get("requester_email")?)
        } else {
            None
        },
        requester_id,
        note: row.try_get("note")?,
        state: JoinRequestState::parse(&state).ok_or(TeamError::UnknownRequest)?,
        created_at: parse_timestamp(&created_at),
        decided_by: row.try_get("decided_by")?,
        decided_at: decided_at.as_deref().map(parse_timestamp),
        decision_note: row.try_get("decision_note")?,
    })
}

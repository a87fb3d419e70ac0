//! Teams as administrators manage them: every team with everyone in it, renaming and
//! deleting one, and putting an agent in a team (as a lead or a member) or taking them
//! out. Each change to an agent's place in a team is in that agent's change log as
//! `team:<name>`, old role → new role.

use std::collections::HashMap;

use agent_desk_core::teams::{
    clean_team_name, AdministeredTeam, AdministeredTeams, TeamMember, TeamRole,
};
use chrono::{DateTime, Utc};

use crate::change_log::record_change;
use crate::clock::timestamp;
use crate::db::Db;
use crate::teams::TeamError;

/// Every team by name, leads first in each, then by name.
pub async fn list(db: &Db) -> Result<AdministeredTeams, TeamError> {
    let teams = crate::storage::query_as::<(String, String, i64)>(
        "SELECT teams.id, teams.name,
                (SELECT COUNT(*) FROM team_join_requests
                  WHERE team_id = teams.id AND state = 'open') AS pending
           FROM teams ORDER BY teams.name",
    )
    .fetch_all(db)
    .await?;
    let rows = crate::storage::query_as::<(String, String, String, String, String, bool)>(
        "SELECT team_members.team_id, agents.id, agents.display_name, agents.email,
                team_members.role, agents.active
           FROM team_members JOIN agents ON agents.id = team_members.agent_id
          ORDER BY team_members.role, agents.display_name",
    )
    .fetch_all(db)
    .await?;
    let mut members: HashMap<String, Vec<TeamMember>> = HashMap::new();
    for (team_id, agent_id, display_name, email, role, active) in rows {
        members.entry(team_id).or_default().push(TeamMember {
            agent_id,
            display_name,
            email,
            // Stored by this server as one of the two.
            role: TeamRole::parse(&role).unwrap_or(TeamRole::Member),
            active,
        });
    }
    Ok(AdministeredTeams {
        teams: teams
            .into_iter()
            .map(|(id, name, pending)| AdministeredTeam {
                members: members.remove(&id).unwrap_or_default(),
                id,
                name,
                pending_requests: u32::try_from(pending).unwrap_or(u32::MAX),
            })
            .collect(),
    })
}

/// The team's name, inside a write.
async fn name_of(tx: &mut crate::storage::Conn, team_id: &str) -> Result<String, TeamError> {
    crate::storage::query_scalar::<String>("SELECT name FROM teams WHERE id = $1")
        .bind(team_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(TeamError::UnknownTeam)
}

/// A unique name already taken answers as such, whoever took it first.
fn taken_or(error: sqlx::Error, name: &str) -> TeamError {
    if crate::storage::is_unique_violation(&error) {
        TeamError::NameTaken(name.to_owned())
    } else {
        TeamError::Database(error)
    }
}

/// Renames a team; its name stays unique.
pub async fn rename(
    db: &Db,
    actor_id: &str,
    team_id: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(), TeamError> {
    let name = clean_team_name(name).ok_or(TeamError::InvalidName)?;
    let mut tx = crate::db::begin_write(db).await?;
    let old = name_of(&mut tx, team_id).await?;
    if old == name {
        return Ok(());
    }
    crate::storage::query("UPDATE teams SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(team_id)
        .execute(&mut *tx)
        .await
        .map_err(|error| taken_or(error, name))?;
    let at = timestamp(now);
    record_change(
        &mut tx,
        team_id,
        actor_id,
        "name",
        &Some(old),
        &Some(name.to_owned()),
        &at,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a team with its memberships and join requests; each agent who was in it has
/// the change in their log. Returns their ids.
pub async fn delete(
    db: &Db,
    actor_id: &str,
    team_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, TeamError> {
    let mut tx = crate::db::begin_write(db).await?;
    let name = name_of(&mut tx, team_id).await?;
    let members = crate::storage::query_as::<(String, String)>(
        "SELECT agent_id, role FROM team_members WHERE team_id = $1",
    )
    .bind(team_id)
    .fetch_all(&mut *tx)
    .await?;
    for table in ["team_members", "team_join_requests"] {
        crate::storage::query(format!("DELETE FROM {table} WHERE team_id = $1"))
            .bind(team_id)
            .execute(&mut *tx)
            .await?;
    }
    crate::storage::query("DELETE FROM teams WHERE id = $1")
        .bind(team_id)
        .execute(&mut *tx)
        .await?;
    let at = timestamp(now);
    let field = format!("team:{name}");
    for (agent_id, role) in &members {
        record_change(
            &mut tx,
            agent_id,
            actor_id,
            &field,
            &Some(role.clone()),
            &None,
            &at,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(members.into_iter().map(|(agent_id, _)| agent_id).collect())
}

/// Puts an active agent in a team with `role`, or changes their role there. An open
/// request of theirs to join it is approved by the administrator. Returns whether
/// anything changed.
pub async fn set_member(
    db: &Db,
    actor_id: &str,
    team_id: &str,
    agent_id: &str,
    role: TeamRole,
    now: DateTime<Utc>,
) -> Result<bool, TeamError> {
    let mut tx = crate::db::begin_write(db).await?;
    let name = name_of(&mut tx, team_id).await?;
    let (display_name, active) = crate::storage::query_as::<(String, bool)>(
        "SELECT display_name, active FROM agents WHERE id = $1",
    )
    .bind(agent_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(TeamError::UnknownMember)?;
    let old = crate::storage::query_scalar::<String>(
        "SELECT role FROM team_members WHERE team_id = $1 AND agent_id = $2",
    )
    .bind(team_id)
    .bind(agent_id)
    .fetch_optional(&mut *tx)
    .await?;
    if old.as_deref() == Some(role.as_str()) {
        return Ok(false);
    }
    if old.is_none() && !active {
        return Err(TeamError::Deactivated(display_name));
    }
    crate::storage::query(
        "INSERT INTO team_members (team_id, agent_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (team_id, agent_id) DO UPDATE SET role = excluded.role",
    )
    .bind(team_id)
    .bind(agent_id)
    .bind(role.as_str())
    .execute(&mut *tx)
    .await?;
    let at = timestamp(now);
    crate::storage::query(
        "UPDATE team_join_requests SET state = 'approved', decided_by = $1, decided_at = $2
          WHERE team_id = $3 AND agent_id = $4 AND state = 'open'",
    )
    .bind(actor_id)
    .bind(&at)
    .bind(team_id)
    .bind(agent_id)
    .execute(&mut *tx)
    .await?;
    record_change(
        &mut tx,
        agent_id,
        actor_id,
        &format!("team:{name}"),
        &old,
        &Some(role.as_str().to_owned()),
        &at,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Takes an agent out of a team.
pub async fn remove_member(
    db: &Db,
    actor_id: &str,
    team_id: &str,
    agent_id: &str,
    now: DateTime<Utc>,
) -> Result<(), TeamError> {
    let mut tx = crate::db::begin_write(db).await?;
    let name = name_of(&mut tx, team_id).await?;
    let old = crate::storage::query_scalar::<String>(
        "DELETE FROM team_members WHERE team_id = $1 AND agent_id = $2 RETURNING role",
    )
    .bind(team_id)
    .bind(agent_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(TeamError::UnknownMember)?;
    record_change(
        &mut tx,
        agent_id,
        actor_id,
        &format!("team:{name}"),
        &Some(old),
        &None,
        &timestamp(now),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

//! Teams: named groups of agents, with leads, that events can be addressed to.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::agents::{normalise_email, timestamp};
use crate::db::Db;

#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("a team needs a name of 1 to 100 characters")]
    InvalidName,
    #[error("a team called {0} already exists")]
    NameTaken(String),
    #[error("no agent has the email {0}")]
    UnknownAgent(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
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
    if name.is_empty() || name.chars().count() > 100 {
        return Err(TeamError::InvalidName);
    }
    let mut tx = db.begin().await?;
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

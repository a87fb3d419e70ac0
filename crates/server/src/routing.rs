//! Who a helpdesk may give tickets to now: each agent's status in force and what it
//! lets them take.

use agent_desk_core::routing::{RoutingAgent, RoutingAgents, Takes};
use agent_desk_core::Status;
use chrono::{DateTime, Utc};

use crate::clock::parse_timestamp;
use crate::db::Db;

#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    #[error("there is no team called {0}")]
    UnknownTeam(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Every agent, or a team's members, by display name.
pub async fn agents(
    db: &Db,
    team: Option<&str>,
    now: DateTime<Utc>,
) -> Result<RoutingAgents, RoutingError> {
    type Row = (String, String, String, String, Option<String>);
    let rows: Vec<Row> = match team.map(str::trim) {
        None => {
            crate::storage::query_as(
                "SELECT id, email, display_name, status, status_until FROM agents
                 WHERE active ORDER BY display_name, email",
            )
            .fetch_all(db)
            .await?
        }
        Some(name) => {
            let team_id: Option<String> =
                crate::storage::query_scalar("SELECT id FROM teams WHERE name = $1")
                    .bind(name)
                    .fetch_optional(db)
                    .await?;
            let team_id = team_id.ok_or_else(|| RoutingError::UnknownTeam(name.to_owned()))?;
            crate::storage::query_as(
                "SELECT agents.id, agents.email, agents.display_name, agents.status,
                        agents.status_until
                 FROM agents JOIN team_members ON team_members.agent_id = agents.id
                 WHERE team_members.team_id = $1 AND agents.active
                 ORDER BY agents.display_name, agents.email",
            )
            .bind(team_id)
            .fetch_all(db)
            .await?
        }
    };
    Ok(RoutingAgents {
        agents: rows
            .into_iter()
            .map(|(id, email, display_name, status, until)| {
                let (status, until) = Status::in_force(
                    Status::parse(&status).unwrap_or_default(),
                    until.as_deref().map(parse_timestamp),
                    now,
                );
                RoutingAgent {
                    id,
                    email,
                    display_name,
                    status,
                    until,
                    takes: Takes::of(status),
                }
            })
            .collect(),
    })
}

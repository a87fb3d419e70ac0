//! Each agent's notification preferences, versioned like the profile.

use agent_desk_core::NotificationPrefs;
use chrono::{DateTime, Utc};

use crate::clock::timestamp;
use crate::db::Db;

#[derive(Debug, thiserror::Error)]
pub enum PrefsError {
    #[error("the preferences changed since they were read")]
    VersionConflict,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The agent's preferences and their version; the defaults at version 0 until the
/// agent first saves. `can_configure_admin_only` is left for the caller to set.
pub async fn get(db: &Db, agent_id: &str) -> Result<(NotificationPrefs, i64), PrefsError> {
    let stored = crate::storage::query_as::<(String, i64)>(
        "SELECT prefs, version FROM notification_prefs WHERE agent_id = $1",
    )
    .bind(agent_id)
    .fetch_optional(db)
    .await?;
    Ok(match stored {
        Some((json, version)) => (parse(&json), version),
        None => (NotificationPrefs::default(), 0),
    })
}

/// Every saved choice, by the agent's email, in one query: mail about an event to
/// everyone, or the digest clock, must not cost a query an agent. Agents missing here
/// have the defaults.
pub async fn saved_by_email(
    db: &Db,
) -> Result<std::collections::HashMap<String, NotificationPrefs>, sqlx::Error> {
    let rows = crate::storage::query_as::<(String, String)>(
        "SELECT agents.email, notification_prefs.prefs FROM notification_prefs
         JOIN agents ON agents.id = notification_prefs.agent_id",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(email, json)| (email, parse(&json)))
        .collect())
}

/// Stored by this server from a checked value; a row from a newer version with fields
/// this one does not know falls back to the defaults.
fn parse(json: &str) -> NotificationPrefs {
    serde_json::from_str::<NotificationPrefs>(json)
        .ok()
        .and_then(|prefs| prefs.normalised(false).ok())
        .unwrap_or_default()
}

/// Stores checked preferences if the stored version is still `expected_version`;
/// returns the new version.
pub async fn save(
    db: &Db,
    agent_id: &str,
    prefs: &NotificationPrefs,
    expected_version: i64,
    now: DateTime<Utc>,
) -> Result<i64, PrefsError> {
    let json = serde_json::to_string(prefs).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let at = timestamp(now);
    // In a transaction, for its commit is what marks a request's Idempotency-Key applied.
    let mut tx = crate::db::begin_write(db).await?;
    let changed = if expected_version == 0 {
        crate::storage::query(
            "INSERT INTO notification_prefs (agent_id, prefs, version, updated_at)
             VALUES ($1, $2, 1, $3) ON CONFLICT (agent_id) DO NOTHING",
        )
        .bind(agent_id)
        .bind(&json)
        .bind(&at)
        .execute(&mut tx)
        .await?
    } else {
        crate::storage::query(
            "UPDATE notification_prefs SET prefs = $1, version = version + 1, updated_at = $2
             WHERE agent_id = $3 AND version = $4",
        )
        .bind(&json)
        .bind(&at)
        .bind(agent_id)
        .bind(expected_version)
        .execute(&mut tx)
        .await?
    };
    if changed.rows_affected() == 0 {
        return Err(PrefsError::VersionConflict);
    }
    tx.commit().await?;
    Ok(expected_version + 1)
}

//! Each agent's notification preferences, versioned like the profile, and the locks
//! administrators put over them for everyone.

use std::collections::HashMap;

use agent_desk_core::events::InvalidField;
use agent_desk_core::{
    EventType, LockedChange, NotificationChannel, NotificationLocks, NotificationPrefs,
};
use chrono::{DateTime, Utc};

use crate::change_log::record_change;
use crate::clock::timestamp;
use crate::db::Db;

#[derive(Debug, thiserror::Error)]
pub enum PrefsError {
    #[error("the preferences changed since they were read")]
    VersionConflict,
    #[error("{}", .0.message)]
    Invalid(InvalidField),
    /// An admin-only type switched on for someone who is not an administrator.
    #[error("{0} is for administrators only")]
    AdminOnly(EventType),
    #[error("{0}")]
    Locked(LockedChange),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The agent's preferences as they take effect (under the locks) and their version.
pub async fn effective(db: &Db, agent_id: &str) -> Result<(NotificationPrefs, i64), PrefsError> {
    let (own, version) = get(db, agent_id).await?;
    let (locks, _) = locks(db).await?;
    Ok((own.under(&locks), version))
}

/// The agent's own preferences (before the locks) and their version; the defaults at
/// version 0 until the agent first saves. `can_configure_admin_only` is left for the
/// caller to set.
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

/// Everyone's preferences as they take effect, by the agent's email.
pub struct EveryonesPrefs {
    saved: HashMap<String, NotificationPrefs>,
    defaults: NotificationPrefs,
}

impl EveryonesPrefs {
    /// The preferences of the agent with this email.
    pub fn of(&self, email: &str) -> &NotificationPrefs {
        self.saved.get(email).unwrap_or(&self.defaults)
    }

    /// Whether anyone at all has `wants`.
    pub fn anyone(&self, wants: impl Fn(&NotificationPrefs) -> bool) -> bool {
        wants(&self.defaults) || self.saved.values().any(wants)
    }
}

/// Every agent's preferences under the locks, in two queries: mail about an event to
/// everyone, or the digest clock, must not cost a query an agent.
pub async fn everyones(db: &Db) -> Result<EveryonesPrefs, sqlx::Error> {
    let rows = crate::storage::query_as::<(String, String)>(
        "SELECT agents.email, notification_prefs.prefs FROM notification_prefs
         JOIN agents ON agents.id = notification_prefs.agent_id",
    )
    .fetch_all(db)
    .await?;
    let (locks, _) = locks(db).await?;
    Ok(EveryonesPrefs {
        saved: rows
            .into_iter()
            .map(|(email, json)| (email, parse(&json).under(&locks)))
            .collect(),
        defaults: NotificationPrefs::default().under(&locks),
    })
}

/// The locks administrators set and their version (0 before the first).
pub async fn locks(db: &Db) -> Result<(NotificationLocks, i64), sqlx::Error> {
    let stored = crate::storage::query_as::<(String, i64)>(
        "SELECT locks, version FROM notification_locks WHERE id = 1",
    )
    .fetch_optional(db)
    .await?;
    Ok(match stored {
        // Stored by this server from a checked value; one it cannot read locks nothing.
        Some((json, version)) => (
            serde_json::from_str::<NotificationLocks>(&json)
                .ok()
                .and_then(|locks| locks.normalised().ok())
                .unwrap_or_default(),
            version,
        ),
        None => (NotificationLocks::default(), 0),
    })
}

/// Replaces the locks if their version is still `expected_version`; returns the
/// checked locks and the new version.
pub async fn save_locks(
    db: &Db,
    actor_id: &str,
    sent: NotificationLocks,
    expected_version: i64,
    now: DateTime<Utc>,
) -> Result<(NotificationLocks, i64), PrefsError> {
    let locks = sent.normalised().map_err(PrefsError::Invalid)?;
    let json = serde_json::to_string(&locks).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let at = timestamp(now);
    let mut tx = crate::db::begin_write(db).await?;
    let changed = if expected_version == 0 {
        crate::storage::query(
            "INSERT INTO notification_locks (id, locks, version, updated_by, updated_at)
             VALUES (1, $1, 1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&json)
        .bind(actor_id)
        .bind(&at)
        .execute(&mut tx)
        .await?
    } else {
        crate::storage::query(
            "UPDATE notification_locks SET locks = $1, version = version + 1, updated_by = $2,
                    updated_at = $3
             WHERE id = 1 AND version = $4",
        )
        .bind(&json)
        .bind(actor_id)
        .bind(&at)
        .bind(expected_version)
        .execute(&mut tx)
        .await?
    };
    if changed.rows_affected() == 0 {
        return Err(PrefsError::VersionConflict);
    }
    tx.commit().await?;
    Ok((locks, expected_version + 1))
}

/// Checks sent preferences and stores them for `agent_id` at `expected_version`:
/// admin-only types only for administrators (`can_configure_admin_only`), locked
/// channels only at their locked value. An administrator's change to someone else's
/// (`actor_id` another agent) goes into that agent's change log. Returns the
/// preferences as they take effect and the new version.
pub async fn replace(
    db: &Db,
    agent_id: &str,
    actor_id: &str,
    sent: NotificationPrefs,
    can_configure_admin_only: bool,
    expected_version: i64,
    now: DateTime<Utc>,
) -> Result<(NotificationPrefs, i64), PrefsError> {
    let prefs = sent
        .normalised(can_configure_admin_only)
        .map_err(PrefsError::Invalid)?;
    if !can_configure_admin_only {
        if let Some(kind) = prefs.enabled_admin_only() {
            return Err(PrefsError::AdminOnly(kind));
        }
    }
    let (own, version) = get(db, agent_id).await?;
    if version != expected_version {
        return Err(PrefsError::VersionConflict);
    }
    let (locks, _) = locks(db).await?;
    let prefs = prefs.within(&locks, &own).map_err(PrefsError::Locked)?;
    let recorded = (actor_id != agent_id).then_some((actor_id, &own));
    let version = save(db, agent_id, &prefs, expected_version, now, recorded).await?;
    Ok((prefs.under(&locks), version))
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
/// returns the new version. With `recorded` (who changed them, and what was there),
/// each changed channel goes into the agent's change log as
/// `notification:<type>:<channel>`.
async fn save(
    db: &Db,
    agent_id: &str,
    prefs: &NotificationPrefs,
    expected_version: i64,
    now: DateTime<Utc>,
    recorded: Option<(&str, &NotificationPrefs)>,
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
    if let Some((actor_id, before)) = recorded {
        for (field, old, new) in channel_changes(before, prefs) {
            record_change(
                &mut tx,
                agent_id,
                actor_id,
                &field,
                &Some(old),
                &Some(new),
                &at,
            )
            .await?;
        }
        if before.quiet_hours != prefs.quiet_hours {
            let describe = |hours: &agent_desk_core::QuietHours| {
                if hours.enabled {
                    format!("{}–{}", hours.start, hours.end)
                } else {
                    "off".to_owned()
                }
            };
            record_change(
                &mut tx,
                agent_id,
                actor_id,
                "notification:quiet_hours",
                &Some(describe(&before.quiet_hours)),
                &Some(describe(&prefs.quiet_hours)),
                &at,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(expected_version + 1)
}

/// Each channel whose value differs: its change-log field, old and new value.
fn channel_changes(
    before: &NotificationPrefs,
    after: &NotificationPrefs,
) -> Vec<(String, String, String)> {
    let value = |row: &agent_desk_core::EventPrefs, channel: NotificationChannel| match channel {
        NotificationChannel::Desktop => if row.desktop { "on" } else { "off" }.to_owned(),
        NotificationChannel::Sound => if row.sound { "on" } else { "off" }.to_owned(),
        NotificationChannel::Email => serde_json::to_value(row.email)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default(),
    };
    let mut changes = Vec::new();
    for row in &after.events {
        let old = before.for_type(row.event_type);
        for channel in NotificationChannel::ALL {
            let (was, is) = (value(&old, channel), value(row, channel));
            if was != is {
                changes.push((
                    format!("notification:{}:{}", row.event_type, channel.as_str()),
                    was,
                    is,
                ));
            }
        }
    }
    changes
}

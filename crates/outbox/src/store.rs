//! The outbox's file: the changes waiting, the conflicts to show, and what the agent has
//! seen, for reading while the server is away. SQLite, synchronous; every write is one
//! transaction that reaches the disk before it returns.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use crate::change::LocalChange;
use crate::merge::{FieldConflict, Fields};

/// The schema, by version (`PRAGMA user_version`).
const MIGRATIONS: &[&str] = &[r"
CREATE TABLE changes (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The Idempotency-Key it is sent under; fixed once it has been sent.
    idem_key        TEXT NOT NULL UNIQUE,
    change          TEXT NOT NULL,
    -- A photo's JPEG.
    photo           BLOB,
    -- The changed fields' values in the version the change was made on, when known.
    base            TEXT,
    target          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    -- Set before the first send: from then on the key and the body stay as they are.
    sent            INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    -- Why the server refused it for good ({status, error}); kept and shown, never dropped.
    refused         TEXT
);
CREATE TABLE conflicts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    target     TEXT NOT NULL,
    field      TEXT NOT NULL,
    replaced   TEXT NOT NULL,
    applied    TEXT NOT NULL,
    noticed_at TEXT NOT NULL,
    UNIQUE (target, field)
);
CREATE TABLE cache (
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL,
    version    INTEGER,
    fetched_at TEXT NOT NULL,
    opened_at  TEXT,
    PRIMARY KEY (kind, id)
);
"];

/// How many records the agent opened stay readable offline.
pub const RECENT_RECORDS: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the outbox on this computer could not be used: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the outbox on this computer holds a change it cannot read: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the outbox's folder could not be made: {0}")]
    Io(#[from] std::io::Error),
}

/// A change as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub seq: i64,
    pub key: String,
    pub change: LocalChange,
    pub photo: Option<Vec<u8>>,
    pub base: Option<Fields>,
    pub created_at: DateTime<Utc>,
    pub sent: bool,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub refused: Option<Value>,
}

struct RawRow {
    seq: i64,
    key: String,
    change: String,
    photo: Option<Vec<u8>>,
    base: Option<String>,
    created_at: String,
    sent: bool,
    attempts: u32,
    next_attempt_at: Option<String>,
    refused: Option<String>,
}

/// A conflict as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredConflict {
    pub id: i64,
    pub target: String,
    pub conflict: FieldConflict,
}

/// A record as last read from the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Cached {
    pub body: Value,
    pub version: Option<i64>,
    pub fetched_at: DateTime<Utc>,
}

pub struct Store {
    db: Connection,
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_default()
}

fn text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A new Idempotency-Key: 128 random bits.
pub fn new_key() -> String {
    format!("{:032x}", fastrand::u128(..))
}

impl Store {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Connection::open(path)?;
        // In WAL mode, NORMAL survives the app's crash but may lose the last commits to a
        // power cut: enough for the bookkeeping of sending; a new change is committed
        // with FULL (see `enqueue`).
        db.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
        )?;
        let version: usize = db.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(version) {
            db.execute_batch(&format!(
                "BEGIN; {migration} PRAGMA user_version = {}; COMMIT;",
                index + 1
            ))?;
        }
        Ok(Self { db })
    }

    /// Whether SQLite finds the file whole.
    pub fn integrity_ok(&self) -> Result<bool, StoreError> {
        let verdict: String = self
            .db
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
        Ok(verdict == "ok")
    }

    /// Adds a change behind those waiting, folding it into one not sent yet where the
    /// later one makes the earlier moot: the latest status, the latest photo, and one
    /// patch of the same record (the later value of each field).
    pub fn enqueue(
        &mut self,
        change: &LocalChange,
        photo: Option<&[u8]>,
        base: Option<&Fields>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        // A change said to be saved survives a power cut too.
        self.db.pragma_update(None, "synchronous", "FULL")?;
        let kept = self.enqueue_now(change, photo, base, now);
        self.db.pragma_update(None, "synchronous", "NORMAL")?;
        kept
    }

    fn enqueue_now(
        &mut self,
        change: &LocalChange,
        photo: Option<&[u8]>,
        base: Option<&Fields>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let target = change.target();
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut change = change.clone();
        let mut base = base.cloned();
        match &change {
            LocalChange::Status { .. } => {
                tx.execute(
                    "DELETE FROM changes WHERE sent = 0 AND refused IS NULL
                     AND json_extract(change, '$.kind') = 'status'",
                    [],
                )?;
            }
            LocalChange::Photo | LocalChange::PhotoRemoved => {
                tx.execute(
                    "DELETE FROM changes WHERE sent = 0 AND refused IS NULL
                     AND json_extract(change, '$.kind') IN ('photo', 'photo_removed')",
                    [],
                )?;
            }
            LocalChange::Profile { .. }
            | LocalChange::Customer { .. }
            | LocalChange::NotificationPrefs { .. } => {
                // The last change of the same record, if it has not been sent.
                let last: Option<(i64, String, Option<String>, bool)> = tx
                    .query_row(
                        "SELECT seq, change, base, sent FROM changes
                         WHERE target = ?1 AND refused IS NULL ORDER BY seq DESC LIMIT 1",
                        [&target],
                        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
                    )
                    .optional()?;
                if let Some((seq, earlier, earlier_base, false)) = last {
                    let earlier: LocalChange = serde_json::from_str(&earlier)?;
                    if let Some(folded) = fold(&earlier, &change) {
                        let mut merged_base: Fields = earlier_base
                            .as_deref()
                            .map(serde_json::from_str)
                            .transpose()?
                            .unwrap_or_default();
                        for (field, value) in base.iter().flatten() {
                            merged_base.entry(field.clone()).or_insert(value.clone());
                        }
                        tx.execute("DELETE FROM changes WHERE seq = ?1", [seq])?;
                        change = folded;
                        base = Some(merged_base);
                    }
                }
            }
            _ => {}
        }
        tx.execute(
            "INSERT INTO changes (idem_key, change, photo, base, target, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                new_key(),
                serde_json::to_string(&change)?,
                photo,
                base.as_ref().map(serde_json::to_string).transpose()?,
                target,
                text(now),
            ],
        )?;
        let seq = tx.last_insert_rowid();
        tx.commit()?;
        Ok(seq)
    }

    /// A change as read, before its JSON is.
    fn raw(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
        Ok(RawRow {
            seq: row.get(0)?,
            key: row.get(1)?,
            change: row.get(2)?,
            photo: row.get(3)?,
            base: row.get(4)?,
            created_at: row.get(5)?,
            sent: row.get(6)?,
            attempts: row.get(7)?,
            next_attempt_at: row.get(8)?,
            refused: row.get(9)?,
        })
    }

    fn parsed(row: RawRow) -> Result<Row, StoreError> {
        Ok(Row {
            seq: row.seq,
            key: row.key,
            change: serde_json::from_str(&row.change)?,
            photo: row.photo,
            base: row.base.as_deref().map(serde_json::from_str).transpose()?,
            created_at: time(&row.created_at),
            sent: row.sent,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at.as_deref().map(time),
            refused: row
                .refused
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
        })
    }

    /// Every change kept, oldest first.
    pub fn changes(&self) -> Result<Vec<Row>, StoreError> {
        let mut statement = self.db.prepare(
            "SELECT seq, idem_key, change, photo, base, created_at, sent, attempts,
                    next_attempt_at, refused
             FROM changes ORDER BY seq",
        )?;
        let rows = statement.query_map([], Self::raw)?;
        let mut changes = Vec::new();
        for row in rows {
            changes.push(Self::parsed(row?)?);
        }
        Ok(changes)
    }

    /// The first change after `seq` that the server has not refused, in order.
    pub fn next_after(&self, seq: i64) -> Result<Option<Row>, StoreError> {
        let mut statement = self.db.prepare(
            "SELECT seq, idem_key, change, photo, base, created_at, sent, attempts,
                    next_attempt_at, refused
             FROM changes WHERE seq > ?1 AND refused IS NULL ORDER BY seq LIMIT 1",
        )?;
        let mut rows = statement.query_map([seq], Self::raw)?;
        rows.next().transpose()?.map(Self::parsed).transpose()
    }

    /// Replaces a change not sent yet (a note edited before it reached the server);
    /// false when it is gone or has been sent, and so can no longer change.
    pub fn replace_unsent(&mut self, seq: i64, change: &LocalChange) -> Result<bool, StoreError> {
        let changed = self.db.execute(
            "UPDATE changes SET change = ?1 WHERE seq = ?2 AND sent = 0",
            params![serde_json::to_string(change)?, seq],
        )?;
        Ok(changed == 1)
    }

    /// Removes a change not sent yet; false when it is gone or has been sent.
    pub fn remove_unsent(&mut self, seq: i64) -> Result<bool, StoreError> {
        let removed = self
            .db
            .execute("DELETE FROM changes WHERE seq = ?1 AND sent = 0", [seq])?;
        Ok(removed == 1)
    }

    /// The JPEG of the newest photo waiting to be sent, if any.
    pub fn waiting_photo(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .db
            .query_row(
                "SELECT photo FROM changes WHERE photo IS NOT NULL AND refused IS NULL
                 ORDER BY seq DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Notes that a change is being sent: its key and body are fixed from now on.
    pub fn mark_sent(&mut self, seq: i64) -> Result<(), StoreError> {
        self.db
            .execute("UPDATE changes SET sent = 1 WHERE seq = ?1", [seq])?;
        Ok(())
    }

    /// The server has it (or it no longer needs sending).
    pub fn remove(&mut self, seq: i64) -> Result<(), StoreError> {
        self.db
            .execute("DELETE FROM changes WHERE seq = ?1", [seq])?;
        Ok(())
    }

    pub fn retry_later(&mut self, seq: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE changes SET attempts = attempts + 1, next_attempt_at = ?1 WHERE seq = ?2",
            params![text(at), seq],
        )?;
        Ok(())
    }

    pub fn refuse(&mut self, seq: i64, reason: &Value) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE changes SET refused = ?1 WHERE seq = ?2",
            params![serde_json::to_string(reason)?, seq],
        )?;
        Ok(())
    }

    /// A patch merged with a newer version of its record: sent afresh under a new key,
    /// with the conflicts found kept for the agent.
    pub fn rebase(
        &mut self,
        seq: i64,
        change: &LocalChange,
        base: &Fields,
        conflicts: &[FieldConflict],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE changes SET idem_key = ?1, change = ?2, base = ?3, sent = 0,
                 next_attempt_at = NULL WHERE seq = ?4",
            params![
                new_key(),
                serde_json::to_string(change)?,
                serde_json::to_string(base)?,
                seq
            ],
        )?;
        for conflict in conflicts {
            tx.execute(
                "INSERT INTO conflicts (target, field, replaced, applied, noticed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (target, field) DO UPDATE SET replaced = excluded.replaced,
                     applied = excluded.applied, noticed_at = excluded.noticed_at",
                params![
                    change.target(),
                    conflict.field,
                    serde_json::to_string(&conflict.replaced)?,
                    serde_json::to_string(&conflict.applied)?,
                    text(now),
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Later changes of `target`, not sent yet, build on the version the server just
    /// answered with: `If-Match` names it, and the fields just applied are their base.
    pub fn advance(
        &mut self,
        target: &str,
        version: i64,
        applied: &Fields,
    ) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let later: Vec<(i64, String, Option<String>)> = {
            let mut statement = tx.prepare(
                "SELECT seq, change, base FROM changes
                 WHERE target = ?1 AND sent = 0 AND refused IS NULL ORDER BY seq",
            )?;
            let rows =
                statement.query_map([target], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (seq, change, base) in later {
            let mut change: LocalChange = serde_json::from_str(&change)?;
            match &mut change {
                LocalChange::Profile { version: v, .. }
                | LocalChange::Customer { version: v, .. }
                | LocalChange::NotificationPrefs { version: v, .. } => *v = version,
                _ => continue,
            }
            let mut base: Fields = base
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?
                .unwrap_or_default();
            base.extend(applied.clone());
            tx.execute(
                "UPDATE changes SET change = ?1, base = ?2 WHERE seq = ?3",
                params![
                    serde_json::to_string(&change)?,
                    serde_json::to_string(&base)?,
                    seq
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn conflicts(&self) -> Result<Vec<StoredConflict>, StoreError> {
        let mut statement = self
            .db
            .prepare("SELECT id, target, field, replaced, applied FROM conflicts ORDER BY id")?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
            ))
        })?;
        let mut conflicts = Vec::new();
        for row in rows {
            let (id, target, field, replaced, applied) = row?;
            conflicts.push(StoredConflict {
                id,
                target,
                conflict: FieldConflict {
                    field,
                    replaced: serde_json::from_str(&replaced)?,
                    applied: serde_json::from_str(&applied)?,
                },
            });
        }
        Ok(conflicts)
    }

    pub fn dismiss_conflict(&mut self, id: i64) -> Result<(), StoreError> {
        self.db
            .execute("DELETE FROM conflicts WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Keeps a record as read from the server.
    pub fn cache_put(
        &mut self,
        kind: &str,
        id: &str,
        body: &Value,
        version: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO cache (kind, id, body, version, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body,
                 version = excluded.version, fetched_at = excluded.fetched_at",
            params![kind, id, serde_json::to_string(body)?, version, text(now)],
        )?;
        Ok(())
    }

    pub fn cache_get(&self, kind: &str, id: &str) -> Result<Option<Cached>, StoreError> {
        let found: Option<(String, Option<i64>, String)> = self
            .db
            .query_row(
                "SELECT body, version, fetched_at FROM cache WHERE kind = ?1 AND id = ?2",
                [kind, id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        found
            .map(|(body, version, fetched_at)| {
                Ok(Cached {
                    body: serde_json::from_str(&body)?,
                    version,
                    fetched_at: time(&fetched_at),
                })
            })
            .transpose()
    }

    /// Every copy of `kind` kept.
    pub fn cache_all(&self, kind: &str) -> Result<Vec<Cached>, StoreError> {
        let mut statement = self
            .db
            .prepare("SELECT body, version, fetched_at FROM cache WHERE kind = ?1")?;
        let rows = statement.query_map([kind], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<i64>>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let mut copies = Vec::new();
        for row in rows {
            let (body, version, fetched_at) = row?;
            copies.push(Cached {
                body: serde_json::from_str(&body)?,
                version,
                fetched_at: time(&fetched_at),
            });
        }
        Ok(copies)
    }

    /// Notes that the agent opened a record; only the last [`RECENT_RECORDS`] opened
    /// stay readable offline (a record and its notes).
    pub fn opened(&mut self, person_id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE cache SET opened_at = ?1 WHERE kind IN ('person', 'notes') AND id = ?2",
            params![text(now), person_id],
        )?;
        tx.execute(
            "DELETE FROM cache WHERE kind IN ('person', 'notes') AND id NOT IN (
                 SELECT id FROM cache WHERE kind = 'person'
                 ORDER BY opened_at IS NULL, opened_at DESC LIMIT ?1)",
            [RECENT_RECORDS as i64],
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// One patch of a record folded into the one before it, or None when the two must
/// stay apart.
fn fold(earlier: &LocalChange, later: &LocalChange) -> Option<LocalChange> {
    match (earlier, later) {
        (
            LocalChange::Profile {
                patch: before,
                version,
            },
            LocalChange::Profile { patch: after, .. },
        ) => Some(LocalChange::Profile {
            patch: overlay(before, after),
            version: *version,
        }),
        (
            LocalChange::Customer {
                person_id,
                patch: before,
                version,
            },
            LocalChange::Customer {
                person_id: later_id,
                patch: after,
                ..
            },
        ) if person_id == later_id => Some(LocalChange::Customer {
            person_id: person_id.clone(),
            patch: overlay(before, after),
            version: *version,
        }),
        (
            LocalChange::NotificationPrefs { version, .. },
            LocalChange::NotificationPrefs { prefs, .. },
        ) => Some(LocalChange::NotificationPrefs {
            prefs: prefs.clone(),
            version: *version,
        }),
        _ => None,
    }
}

/// `before` with each field of `after` laid over it; the custom fields one by one.
fn overlay(before: &Value, after: &Value) -> Value {
    let mut merged = before.as_object().cloned().unwrap_or_default();
    for (field, value) in after.as_object().into_iter().flatten() {
        match (merged.get_mut(field), value) {
            (Some(Value::Object(earlier)), Value::Object(later)) if field == "custom_fields" => {
                earlier.extend(later.clone());
            }
            _ => {
                merged.insert(field.clone(), value.clone());
            }
        }
    }
    Value::Object(merged)
}

//! The answers kept for requests that carried an `Idempotency-Key`: claimed before the
//! request runs, marked applied by the request's own write transaction, and recorded
//! with the answer once it is known (http::idempotency is the middleware).
//!
//! A key is claimed by one instance at a time. When that instance is gone (it crashed
//! mid-request), the mark tells the others what happened: applied, so the answer is
//! lost and the client must read again; or not, so the request may run afresh.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::{parse_timestamp, timestamp};
use crate::db::{Conn, Db};
use crate::storage::{query, query_as, query_scalar};

/// How long an answer is kept after it was given: a laptop may stay offline over a
/// long weekend, and its app sends what waits once it is back.
pub const RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// How often expired answers are removed, and how many at a time.
const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);
const PRUNE_BATCH: i64 = 1000;

/// Who a key belongs to, and the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyId {
    /// `agent:<id>` or `integration:<name>`.
    pub principal: String,
    pub key: String,
}

/// Set on the request's task while it runs (storage::APPLIED_MARK): the first
/// transaction it commits writes `applied_at` in that transaction.
#[derive(Debug)]
pub struct AppliedMark {
    id: KeyId,
    applied: AtomicBool,
}

impl AppliedMark {
    pub fn new(id: KeyId) -> Self {
        Self {
            id,
            applied: AtomicBool::new(false),
        }
    }

    pub fn is_applied(&self) -> bool {
        self.applied.load(Ordering::Acquire)
    }

    pub(crate) fn set_applied(&self) {
        self.applied.store(true, Ordering::Release);
    }

    /// Marks the key applied in the transaction about to commit.
    pub(crate) async fn write_into(&self, tx: &mut Conn) -> Result<(), sqlx::Error> {
        query(
            "UPDATE idempotency_keys SET applied_at = $1
             WHERE principal = $2 AND idem_key = $3 AND applied_at IS NULL",
        )
        .bind(timestamp(Utc::now()))
        .bind(&self.id.principal)
        .bind(&self.id.key)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

/// What a key holds when a request with it arrives.
#[derive(Debug)]
pub enum Claim {
    /// New: this request is now answering it.
    Claimed,
    /// Another request (different method, path or body) used the key.
    Reused,
    /// Answered before: the answer to give again.
    Answered(StoredAnswer),
    /// Applied by a request whose answer was lost.
    Lost,
    /// Being answered by an instance that is serving.
    InFlight,
}

/// An answer as it was given.
#[derive(Debug, Clone)]
pub struct StoredAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    fingerprint: String,
    state: String,
    instance_id: String,
    applied_at: Option<String>,
    status: Option<i64>,
    headers: Option<String>,
    body: Option<Vec<u8>>,
}

/// Claims `id` for a request with `fingerprint` answered by `instance`, or says what the
/// key already holds. A claim left by an instance that is gone is taken over when its
/// request changed nothing.
pub async fn claim(
    db: &Db,
    id: &KeyId,
    fingerprint: &str,
    instance: &str,
    now: DateTime<Utc>,
) -> Result<Claim, sqlx::Error> {
    let expires = expiry(now);
    // Twice at most: a take-over that another instance won is read again.
    for _ in 0..3 {
        let inserted = query(
            "INSERT INTO idempotency_keys
                 (principal, idem_key, fingerprint, state, instance_id, created_at, expires_at)
             VALUES ($1, $2, $3, 'in_flight', $4, $5, $6)
             ON CONFLICT (principal, idem_key) DO NOTHING",
        )
        .bind(&id.principal)
        .bind(&id.key)
        .bind(fingerprint)
        .bind(instance)
        .bind(timestamp(now))
        .bind(timestamp(expires))
        .execute(db)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(Claim::Claimed);
        }
        let Some(row) = query_as::<KeyRow>(
            "SELECT fingerprint, state, instance_id, applied_at, status, headers, body
             FROM idempotency_keys WHERE principal = $1 AND idem_key = $2",
        )
        .bind(&id.principal)
        .bind(&id.key)
        .fetch_optional(db)
        .await?
        else {
            // Pruned between the two statements: claim it again.
            continue;
        };
        if row.fingerprint != fingerprint {
            return Ok(Claim::Reused);
        }
        match row.state.as_str() {
            "done" => return Ok(Claim::Answered(stored_answer(row))),
            "lost" => return Ok(Claim::Lost),
            _ => {}
        }
        if row.instance_id == instance || instance_serving(db, &row.instance_id, now).await? {
            return Ok(Claim::InFlight);
        }
        if row.applied_at.is_some() {
            set_lost(db, id, now).await?;
            return Ok(Claim::Lost);
        }
        // Its instance is gone before changing anything: the request runs here.
        let taken = query(
            "UPDATE idempotency_keys SET instance_id = $1, created_at = $2
             WHERE principal = $3 AND idem_key = $4 AND instance_id = $5
               AND state = 'in_flight' AND applied_at IS NULL",
        )
        .bind(instance)
        .bind(timestamp(now))
        .bind(&id.principal)
        .bind(&id.key)
        .bind(&row.instance_id)
        .execute(db)
        .await?
        .rows_affected();
        if taken == 1 {
            return Ok(Claim::Claimed);
        }
    }
    Ok(Claim::InFlight)
}

fn stored_answer(row: KeyRow) -> StoredAnswer {
    StoredAnswer {
        status: row
            .status
            .and_then(|status| u16::try_from(status).ok())
            .unwrap_or(200),
        headers: row
            .headers
            .as_deref()
            .and_then(|headers| serde_json::from_str(headers).ok())
            .unwrap_or_default(),
        body: row.body.unwrap_or_default(),
    }
}

/// Whether `instance_id` is an instance that is still serving (its heartbeat is recent).
async fn instance_serving(
    db: &Db,
    instance_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let seen: Option<String> = query_scalar("SELECT seen_at FROM instances WHERE id = $1")
        .bind(instance_id)
        .fetch_optional(db)
        .await?;
    let gone_after = chrono::Duration::from_std(crate::instances::GONE_AFTER).unwrap_or_default();
    Ok(seen.is_some_and(|seen| now - parse_timestamp(&seen) < gone_after))
}

/// When a key answered (or claimed) at `now` may be forgotten.
fn expiry(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(RETENTION).unwrap_or_default()
}

/// Keeps the answer given under `id`, to give again for 7 days.
pub async fn record(
    db: &Db,
    id: &KeyId,
    answer: &StoredAnswer,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let headers = serde_json::to_string(&answer.headers).unwrap_or_else(|_| "[]".into());
    query(
        "UPDATE idempotency_keys
         SET state = 'done', status = $1, headers = $2, body = $3, expires_at = $4
         WHERE principal = $5 AND idem_key = $6",
    )
    .bind(i64::from(answer.status))
    .bind(headers)
    .bind(answer.body.clone())
    .bind(timestamp(expiry(now)))
    .bind(&id.principal)
    .bind(&id.key)
    .execute(db)
    .await?;
    Ok(())
}

/// Marks `id` applied with no answer to give again: a request that changed something,
/// then failed, or whose answer cannot be kept.
pub async fn set_lost(db: &Db, id: &KeyId, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    query(
        "UPDATE idempotency_keys SET state = 'lost', expires_at = $1
         WHERE principal = $2 AND idem_key = $3",
    )
    .bind(timestamp(expiry(now)))
    .bind(&id.principal)
    .bind(&id.key)
    .execute(db)
    .await?;
    Ok(())
}

/// Gives up a claim whose request changed nothing and may be tried again (it failed
/// for a passing reason: the server's error, a slow body, a busy estimator).
pub async fn release(db: &Db, id: &KeyId) -> Result<(), sqlx::Error> {
    query(
        "DELETE FROM idempotency_keys
         WHERE principal = $1 AND idem_key = $2 AND applied_at IS NULL",
    )
    .bind(&id.principal)
    .bind(&id.key)
    .execute(db)
    .await?;
    Ok(())
}

/// Gives up a claim whatever its request committed: for a refusal whose only writes
/// were bookkeeping (a throttle's count), which may be tried again.
pub async fn forget(db: &Db, id: &KeyId) -> Result<(), sqlx::Error> {
    query("DELETE FROM idempotency_keys WHERE principal = $1 AND idem_key = $2")
        .bind(&id.principal)
        .bind(&id.key)
        .execute(db)
        .await?;
    Ok(())
}

/// Removes the answers kept longer than [`RETENTION`], a batch at a time; how many.
pub async fn prune(db: &Db, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let mut removed = 0;
    loop {
        let batch = query(
            "DELETE FROM idempotency_keys WHERE (principal, idem_key) IN (
                 SELECT principal, idem_key FROM idempotency_keys
                 WHERE expires_at < $1 LIMIT $2)",
        )
        .bind(timestamp(now))
        .bind(PRUNE_BATCH)
        .execute(db)
        .await?
        .rows_affected();
        removed += batch;
        if batch < PRUNE_BATCH as u64 {
            return Ok(removed);
        }
    }
}

/// Prunes expired answers every hour, for as long as the server runs.
pub fn spawn_pruner(db: Db) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PRUNE_EVERY);
        loop {
            every.tick().await;
            match prune(&db, Utc::now()).await {
                Ok(0) => {}
                Ok(removed) => tracing::debug!(removed, "expired idempotency keys removed"),
                Err(error) => tracing::warn!(%error, "could not remove expired idempotency keys"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::storage::APPLIED_MARK;

    async fn database(dir: &tempfile::TempDir) -> Db {
        let url = format!("sqlite://{}", dir.path().join("keys.db").display());
        Db::connect(&url, 2).await.expect("database")
    }

    fn key(name: &str) -> KeyId {
        KeyId {
            principal: "agent:a1".into(),
            key: name.into(),
        }
    }

    async fn applied_at(db: &Db, id: &KeyId) -> Option<String> {
        query_scalar::<Option<String>>(
            "SELECT applied_at FROM idempotency_keys WHERE principal = $1 AND idem_key = $2",
        )
        .bind(&id.principal)
        .bind(&id.key)
        .fetch_one(db)
        .await
        .expect("the key")
    }

    /// The request's own write transaction marks the key applied as it commits, and only
    /// a transaction that commits does.
    #[tokio::test]
    async fn the_first_committed_transaction_marks_the_key_applied() {
        let dir = tempfile::tempdir().expect("dir");
        let db = database(&dir).await;
        let id = key("k1");
        let now = Utc::now();
        assert!(matches!(
            claim(&db, &id, "f", "i1", now).await.expect("claim"),
            Claim::Claimed
        ));
        let mark = Arc::new(AppliedMark::new(id.clone()));
        APPLIED_MARK
            .scope(Arc::clone(&mark), async {
                // Rolled back: nothing was applied.
                let tx = crate::db::begin_write(&db).await.expect("begin");
                drop(tx);
                assert!(!mark.is_applied());
                let tx = crate::db::begin_write(&db).await.expect("begin");
                tx.commit().await.expect("commit");
            })
            .await;
        assert!(mark.is_applied());
        assert!(applied_at(&db, &id).await.is_some());
        // Outside a request nothing is marked.
        let other = key("k2");
        claim(&db, &other, "f", "i1", now).await.expect("claim");
        let tx = crate::db::begin_write(&db).await.expect("begin");
        tx.commit().await.expect("commit");
        assert!(applied_at(&db, &other).await.is_none());
    }

    /// A claim left by an instance that is gone: taken over when its request changed
    /// nothing, answered `Lost` when it did; one still serving keeps it.
    #[tokio::test]
    async fn a_claim_of_a_gone_instance_is_taken_over_only_if_nothing_was_applied() {
        let dir = tempfile::tempdir().expect("dir");
        let db = database(&dir).await;
        let now = Utc::now();
        let long_ago = timestamp(now - chrono::Duration::seconds(60));
        for (instance, seen) in [
            ("alive", timestamp(now)),
            ("here", timestamp(now)),
            ("gone", long_ago),
        ] {
            query("INSERT INTO instances (id, name, started_at, seen_at) VALUES ($1, $1, $2, $2)")
                .bind(instance)
                .bind(seen)
                .execute(&db)
                .await
                .expect("instance");
        }
        let (untouched, applied, running) = (key("untouched"), key("applied"), key("running"));
        for (id, instance) in [
            (&untouched, "gone"),
            (&applied, "gone"),
            (&running, "alive"),
        ] {
            claim(&db, id, "f", instance, now).await.expect("claim");
        }
        query("UPDATE idempotency_keys SET applied_at = $1 WHERE idem_key = 'applied'")
            .bind(timestamp(now))
            .execute(&db)
            .await
            .expect("applied");

        let here = |id: KeyId| {
            let db = db.clone();
            async move { claim(&db, &id, "f", "here", now).await.expect("claim") }
        };
        assert!(matches!(here(untouched.clone()).await, Claim::Claimed));
        assert!(matches!(here(applied.clone()).await, Claim::Lost));
        assert!(
            matches!(here(applied).await, Claim::Lost),
            "and so it stays"
        );
        assert!(matches!(here(running).await, Claim::InFlight));
        // Taken over: a third instance finds it running here.
        assert!(matches!(
            claim(&db, &untouched, "f", "third", now)
                .await
                .expect("claim"),
            Claim::InFlight
        ));
        // Another request under the same key is refused, whatever its state.
        assert!(matches!(
            claim(&db, &untouched, "other", "here", now)
                .await
                .expect("claim"),
            Claim::Reused
        ));
    }

    #[tokio::test]
    async fn answers_are_kept_seven_days_and_then_removed() {
        let dir = tempfile::tempdir().expect("dir");
        let db = database(&dir).await;
        let now = Utc::now();
        let id = key("kept");
        claim(&db, &id, "f", "i1", now).await.expect("claim");
        let answer = StoredAnswer {
            status: 201,
            headers: vec![("content-type".into(), "application/json".into())],
            body: b"{}".to_vec(),
        };
        record(&db, &id, &answer, now).await.expect("record");
        let almost = now + chrono::Duration::days(7) - chrono::Duration::minutes(1);
        assert_eq!(prune(&db, almost).await.expect("prune"), 0);
        match claim(&db, &id, "f", "i1", almost).await.expect("claim") {
            Claim::Answered(kept) => {
                assert_eq!((kept.status, kept.body), (201, b"{}".to_vec()));
                assert_eq!(kept.headers, answer.headers);
            }
            other => panic!("not answered again: {other:?}"),
        }
        let after = now + chrono::Duration::days(7) + chrono::Duration::minutes(1);
        assert_eq!(prune(&db, after).await.expect("prune"), 1);
    }
}

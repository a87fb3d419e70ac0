//! Work that one instance does at a time, whichever it is: the helpdesk connector, the
//! status webhook's deliveries.
//!
//! A job is held under a lease: a row saying which instance holds it until when. The
//! holder renews it every [`RENEW`]; the others try to take it as often, and can only once
//! it has expired ([`TERM`] after the last renewal), so an instance that dies hands its
//! jobs over within that time. An instance that cannot renew in time stops the job
//! before the lease could be someone else's. Each take-over is logged.
//!
//! Leases compare times of different machines: their clocks are expected to agree within
//! a second or two (NTP), well inside the margin between [`RENEW`] and [`TERM`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::{parse_timestamp, timestamp};
use crate::instances::Instance;
use crate::storage::Db;

/// How long a lease lasts after it is taken or renewed.
pub const TERM: Duration = Duration::from_secs(15);
/// How often the holder renews, and the others try to take it.
pub const RENEW: Duration = Duration::from_secs(5);

/// What trying to take or renew a lease found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This instance holds it until then. `from` names the instance whose lease had
    /// expired, when it was another's.
    Held {
        until: DateTime<Utc>,
        from: Option<String>,
    },
    /// Another instance holds it.
    Elsewhere { holder: String },
}

/// Takes or renews the lease on `job` for `holder`, at `now`.
pub async fn claim(
    db: &Db,
    job: &str,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<Claim, sqlx::Error> {
    let until = now + chrono::Duration::from_std(TERM).unwrap_or_default();
    let mut tx = crate::db::begin_write(db).await?;
    tx.lock_name(&format!("lease:{job}")).await?;
    let current: Option<(String, String)> =
        crate::storage::query_as("SELECT holder, expires_at FROM leases WHERE job = $1")
            .bind(job)
            .fetch_optional(&mut tx)
            .await?;
    let from = match current {
        Some((current, expires_at)) if current != holder => {
            if parse_timestamp(&expires_at) > now {
                return Ok(Claim::Elsewhere { holder: current });
            }
            Some(current)
        }
        _ => None,
    };
    crate::storage::query(
        "INSERT INTO leases (job, holder, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
    )
    .bind(job)
    .bind(holder)
    .bind(timestamp(until))
    .execute(&mut tx)
    .await?;
    tx.commit().await?;
    Ok(Claim::Held { until, from })
}

/// Gives the lease up at once, so another instance need not wait for it to expire.
pub async fn release(db: &Db, job: &str, holder: &str) -> Result<(), sqlx::Error> {
    crate::storage::query("DELETE FROM leases WHERE job = $1 AND holder = $2")
        .bind(job)
        .bind(holder)
        .execute(db)
        .await?;
    Ok(())
}

/// Runs the job `start` makes whenever `instance` holds the lease on `job`, for as long as
/// it does, until the instance stops (then the lease is given up). A job that ends by
/// itself is started again at the next renewal.
pub fn spawn<Job, Run>(db: Db, job: &'static str, instance: Arc<Instance>, start: Run)
where
    Run: FnMut() -> Job + Send + 'static,
    Job: Future<Output = ()> + Send + 'static,
{
    let running = Arc::clone(&instance);
    running.spawn_job(hold(db, job, instance, start));
}

/// What ended a spell of holding a lease.
enum Spell {
    /// The job ended by itself.
    Ended,
    Lost(Lost),
    Stopping,
}

async fn hold<Job, Run>(db: Db, job: &'static str, instance: Arc<Instance>, mut start: Run)
where
    Run: FnMut() -> Job,
    Job: Future<Output = ()>,
{
    let holder = instance.id.clone();
    let mut announced_elsewhere: Option<String> = None;
    while !instance.is_stopping() {
        match claim(&db, job, &holder, Utc::now()).await {
            Ok(Claim::Held { until, from }) => {
                match from {
                    Some(from) => tracing::warn!(
                        job,
                        from = %from,
                        "took over work whose instance stopped renewing it"
                    ),
                    None => tracing::info!(job, "this instance does this work"),
                }
                announced_elsewhere = None;
                // The job is dropped, whatever it was doing, before anything else happens.
                let spell = {
                    let running = start();
                    tokio::select! {
                        () = running => Spell::Ended,
                        lost = keep(&db, job, &holder, until) => Spell::Lost(lost),
                        () = instance.stopped() => Spell::Stopping,
                    }
                };
                match spell {
                    Spell::Ended => {}
                    Spell::Lost(lost) => tracing::warn!(job, %lost, "stopped this work"),
                    Spell::Stopping => {
                        if let Err(error) = release(&db, job, &holder).await {
                            tracing::warn!(job, %error, "could not give up a lease; it expires by itself");
                        }
                        return;
                    }
                }
            }
            Ok(Claim::Elsewhere { holder: other }) => {
                if announced_elsewhere.as_ref() != Some(&other) {
                    tracing::info!(job, holder = %other, "another instance does this work");
                    announced_elsewhere = Some(other);
                }
            }
            Err(error) => tracing::warn!(job, %error, "could not claim work"),
        }
        tokio::select! {
            () = tokio::time::sleep(RENEW) => {}
            () = instance.stopped() => return,
        }
    }
}

/// Why a held lease was given up.
#[derive(Debug, thiserror::Error)]
enum Lost {
    #[error("{0} holds its lease now")]
    Taken(String),
    #[error("its lease could not be renewed in time")]
    Unrenewed,
}

/// Renews the lease held until `until` every [`RENEW`], and returns once it could not be:
/// a renewal's length before the lease expires at the latest, however slow the database,
/// so the job stops before anyone else could start it.
async fn keep(db: &Db, job: &str, holder: &str, mut until: DateTime<Utc>) -> Lost {
    let margin = chrono::Duration::from_std(RENEW).unwrap_or_default();
    loop {
        tokio::time::sleep(RENEW).await;
        loop {
            let Ok(left) = (until - margin - Utc::now()).to_std() else {
                return Lost::Unrenewed;
            };
            match tokio::time::timeout(left, claim(db, job, holder, Utc::now())).await {
                Err(_) => return Lost::Unrenewed,
                Ok(Ok(Claim::Held { until: next, .. })) => {
                    until = next;
                    break;
                }
                Ok(Ok(Claim::Elsewhere { holder })) => return Lost::Taken(holder),
                Ok(Err(error)) => {
                    tracing::warn!(job, %error, "could not renew a lease; trying again");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn database() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("leases.db").display());
        let db = Db::connect(&url, 2).await.expect("database");
        (dir, db)
    }

    #[tokio::test]
    async fn one_holder_at_a_time_and_an_expired_lease_is_taken_over() {
        let (_dir, db) = database().await;
        let start = Utc::now();
        let term = chrono::Duration::from_std(TERM).expect("term");
        let taken = claim(&db, "job", "a", start).await.expect("claim");
        assert_eq!(
            taken,
            Claim::Held {
                until: start + term,
                from: None
            }
        );
        assert_eq!(
            claim(&db, "job", "b", start + term / 2)
                .await
                .expect("claim"),
            Claim::Elsewhere {
                holder: "a".to_owned()
            }
        );
        // Renewed by its holder: still a's past the first term.
        let renewed = start + term / 2;
        claim(&db, "job", "a", renewed).await.expect("renew");
        assert!(matches!(
            claim(&db, "job", "b", start + term + chrono::Duration::seconds(1)).await,
            Ok(Claim::Elsewhere { .. })
        ));
        // Not renewed again: b takes it over, and a cannot get it back.
        let later = renewed + term + chrono::Duration::seconds(1);
        assert_eq!(
            claim(&db, "job", "b", later).await.expect("take over"),
            Claim::Held {
                until: later + term,
                from: Some("a".to_owned())
            }
        );
        assert!(matches!(
            claim(&db, "job", "a", later).await,
            Ok(Claim::Elsewhere { holder }) if holder == "b"
        ));
        // Other jobs are leased apart.
        assert!(matches!(
            claim(&db, "other", "a", later).await,
            Ok(Claim::Held { from: None, .. })
        ));
        // Given up: free at once.
        release(&db, "job", "b").await.expect("release");
        assert!(matches!(
            claim(&db, "job", "a", later).await,
            Ok(Claim::Held { from: None, .. })
        ));
    }
}

//! This server instance among the others serving the same database.
//!
//! Each instance has a row in `instances`, seen every [`HEARTBEAT`], and counts the event
//! streams open on it by agent in `open_streams`, written as they open and close. So the
//! rule "Offline once the last stream has closed for the grace period" counts every
//! instance's streams, not only this one's.
//!
//! An instance not seen for [`GONE_AFTER`] is gone (killed, its machine down): its streams
//! no longer count. Once the grace period since it was last seen has passed (or, after an
//! outage of every instance, since the one looking started), the agents who had streams
//! there and have none open anywhere are set Offline, and its rows are removed.
//!
//! On SQLite one instance serves, and keeps the same tables.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::{parse_timestamp, timestamp};
use crate::events::EventHub;
use crate::storage::Db;

/// How often an instance says it is alive, and looks for instances that are not.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// How long an instance may go unseen before the others take it for gone: three
/// heartbeats, so one slow write is not a death.
pub const GONE_AFTER: Duration = Duration::from_secs(15);

/// This instance: its id, its name in logs, and the agents whose stream count here
/// changed and is not written yet.
pub struct Instance {
    pub id: String,
    /// The host and the process.
    pub name: String,
    /// When it started: apps reconnecting after an outage get the grace period from then.
    started: DateTime<Utc>,
    changed: Mutex<BTreeSet<String>>,
    wake: Notify,
    /// Cancelled once the instance stops: its work under leases ends, and the streams it
    /// closes then still count, until the grace period tells whether their agents came
    /// back elsewhere.
    stopping: CancellationToken,
    /// The work it does under leases (crate::leases), waited for as it stops.
    jobs: TaskTracker,
}

impl Instance {
    /// A new instance, named after the host and the process.
    pub fn new() -> Arc<Self> {
        let host = hostname::get()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "unknown host".to_owned());
        Arc::new(Self {
            id: uuid::Uuid::new_v4().to_string(),
            name: format!("{host} pid {}", std::process::id()),
            started: Utc::now(),
            changed: Mutex::default(),
            wake: Notify::new(),
            stopping: CancellationToken::new(),
            jobs: TaskTracker::new(),
        })
    }

    /// Resolves once the instance is stopping.
    pub async fn stopped(&self) {
        self.stopping.cancelled().await;
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.is_cancelled()
    }

    /// Runs work under a lease, until it ends or the instance stops.
    pub fn spawn_job(&self, job: impl std::future::Future<Output = ()> + Send + 'static) {
        self.jobs.spawn(job);
    }

    /// The number of streams open here for `agent_id` changed: it is written soon.
    pub fn streams_changed(&self, agent_id: &str) {
        self.changed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(agent_id.to_owned());
        self.wake.notify_one();
    }

    fn take_changed(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.changed.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Says this instance is serving at `address`, then keeps saying so, writes its stream
/// counts as they change, and removes instances that are gone. Called before the first
/// stream opens.
pub async fn start(db: &Db, hub: &Arc<EventHub>, address: &str) -> Result<(), sqlx::Error> {
    let instance = Arc::clone(hub.instance());
    let name = format!("{} at {address}", instance.name);
    register(db, &instance.id, &name, Utc::now()).await?;
    tracing::info!(instance = %name, id = %instance.id, "instance serving");
    let (db_counts, hub_counts) = (db.clone(), Arc::clone(hub));
    tokio::spawn(async move { write_stream_counts(db_counts, hub_counts).await });
    let (db, hub) = (db.clone(), Arc::clone(hub));
    tokio::spawn(async move {
        let mut beat = tokio::time::interval(HEARTBEAT);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            beat.tick().await;
            if hub.instance().is_stopping() {
                return;
            }
            if let Err(error) = heartbeat(&db, &hub, &name, Utc::now()).await {
                tracing::warn!(%error, "could not say this instance is alive");
            }
        }
    });
    Ok(())
}

/// Adds this instance's row, seen at `now`.
async fn register(db: &Db, id: &str, name: &str, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    crate::storage::query(
        "INSERT INTO instances (id, name, started_at, seen_at) VALUES ($1, $2, $3, $3)",
    )
    .bind(id)
    .bind(name)
    .bind(timestamp(now))
    .execute(db)
    .await?;
    Ok(())
}

/// Marks this instance seen (again as serving, should another have taken it for gone),
/// and removes those that are gone.
async fn heartbeat(
    db: &Db,
    hub: &Arc<EventHub>,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let instance = hub.instance();
    let seen = crate::storage::query("UPDATE instances SET seen_at = $1 WHERE id = $2")
        .bind(timestamp(now))
        .bind(&instance.id)
        .execute(db)
        .await?
        .rows_affected();
    if seen == 0 {
        // Taken for gone while it could not reach the database: it serves again, and
        // writes every count it has anew.
        tracing::warn!(instance = %instance.name, "this instance was taken for gone; serving again");
        register(db, &instance.id, name, now).await?;
        for agent_id in hub.agents_with_streams() {
            instance.streams_changed(&agent_id);
        }
    }
    remove_gone(db, hub, now).await
}

/// Removes instances unseen for [`GONE_AFTER`] once the grace period since they were last
/// seen has passed, after setting Offline the agents whose streams were there and who have
/// none open anywhere now. Until then their rows stay, so whichever instance is running
/// when the time comes does it, even if the one that first noticed has stopped since; two
/// doing it at once set nobody Offline twice.
async fn remove_gone(db: &Db, hub: &Arc<EventHub>, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let gone_before = now - chrono::Duration::from_std(GONE_AFTER).unwrap_or_default();
    let gone: Vec<(String, String, String)> = crate::storage::query_as(
        "SELECT id, name, seen_at FROM instances WHERE seen_at < $1 ORDER BY id",
    )
    .bind(timestamp(gone_before))
    .fetch_all(db)
    .await?;
    let grace = chrono::Duration::from_std(hub.offline_grace()).unwrap_or_default();
    for (id, name, seen_at) in gone {
        // As if their streams had closed when it was last seen; but after an outage of
        // every instance the apps get the grace period from when this one started.
        let offline_at = (parse_timestamp(&seen_at) + grace).max(hub.instance().started + grace);
        if now < offline_at {
            continue;
        }
        let agents: Vec<String> = crate::storage::query_scalar(
            "SELECT agent_id FROM open_streams WHERE instance_id = $1 ORDER BY agent_id",
        )
        .bind(&id)
        .fetch_all(db)
        .await?;
        for agent_id in &agents {
            hub.go_offline_unless_connected(agent_id).await;
        }
        // Unless it came back meanwhile (seen again: its counts are current).
        let mut tx = crate::db::begin_write(db).await?;
        let removed = crate::storage::query("DELETE FROM instances WHERE id = $1 AND seen_at = $2")
            .bind(&id)
            .bind(&seen_at)
            .execute(&mut tx)
            .await?
            .rows_affected();
        if removed > 0 {
            crate::storage::query("DELETE FROM open_streams WHERE instance_id = $1")
                .bind(&id)
                .execute(&mut tx)
                .await?;
        }
        tx.commit().await?;
        if removed > 0 {
            tracing::warn!(
                gone = %name,
                last_seen = %seen_at,
                agents = agents.len(),
                "an instance is gone: those of its agents who did not reconnect are Offline"
            );
        }
    }
    Ok(())
}

/// Whether `agent_id` has a stream open on an instance other than this one that is
/// still serving.
pub async fn streams_elsewhere(db: &Db, this: &str, agent_id: &str) -> Result<bool, sqlx::Error> {
    let alive_since = Utc::now() - chrono::Duration::from_std(GONE_AFTER).unwrap_or_default();
    let found: Option<i64> = crate::storage::query_scalar(
        "SELECT CAST(1 AS BIGINT) FROM open_streams o JOIN instances i ON i.id = o.instance_id
         WHERE o.agent_id = $1 AND o.instance_id <> $2 AND o.streams > 0 AND i.seen_at >= $3
         LIMIT 1",
    )
    .bind(agent_id)
    .bind(this)
    .bind(timestamp(alive_since))
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

/// Writes the stream counts that changed, as soon as they change: several in one
/// transaction when many change at once.
async fn write_stream_counts(db: Db, hub: Arc<EventHub>) {
    let instance = Arc::clone(hub.instance());
    loop {
        instance.wake.notified().await;
        if instance.is_stopping() {
            return;
        }
        let changed = instance.take_changed();
        if changed.is_empty() {
            continue;
        }
        if let Err(error) = write_counts(&db, &hub, &changed).await {
            tracing::warn!(%error, "could not write the streams open here; trying again");
            // Kept for the next try.
            for agent_id in changed {
                instance.streams_changed(&agent_id);
            }
            tokio::time::sleep(HEARTBEAT).await;
        }
    }
}

async fn write_counts(
    db: &Db,
    hub: &EventHub,
    changed: &BTreeSet<String>,
) -> Result<(), sqlx::Error> {
    let instance = hub.instance();
    let mut tx = crate::db::begin_write(db).await?;
    for agent_id in changed {
        let open = i64::try_from(hub.open_streams(agent_id)).unwrap_or(i64::MAX);
        if open == 0 {
            crate::storage::query(
                "DELETE FROM open_streams WHERE instance_id = $1 AND agent_id = $2",
            )
            .bind(&instance.id)
            .bind(agent_id)
            .execute(&mut tx)
            .await?;
        } else {
            crate::storage::query(
                "INSERT INTO open_streams (instance_id, agent_id, streams) VALUES ($1, $2, $3)
                 ON CONFLICT (instance_id, agent_id) DO UPDATE SET streams = excluded.streams",
            )
            .bind(&instance.id)
            .bind(agent_id)
            .bind(open)
            .execute(&mut tx)
            .await?;
        }
    }
    tx.commit().await
}

/// How long a stopping instance waits for its work under leases to end and give them up.
const JOBS_STOPPING_LIMIT: Duration = Duration::from_secs(5);

/// Says this instance stopped, before it closes its streams: its work under leases ends
/// and gives them up (another instance takes it at once), the counts it wrote stay, and
/// the others find it gone [`GONE_AFTER`] from now. Its agents then go Offline when the
/// grace period from now ends, unless they have reconnected to another instance (or to
/// this one, restarted) by then, as when their own streams close.
pub async fn stop(db: &Db, instance: &Instance) {
    instance.stopping.cancel();
    instance.wake.notify_one();
    instance.jobs.close();
    if tokio::time::timeout(JOBS_STOPPING_LIMIT, instance.jobs.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            "work under leases still running at shutdown; its leases expire by themselves"
        );
    }
    let seen = crate::storage::query("UPDATE instances SET seen_at = $1 WHERE id = $2")
        .bind(timestamp(Utc::now()))
        .bind(&instance.id)
        .execute(db)
        .await;
    if let Err(error) = seen {
        tracing::warn!(%error, "could not say this instance stopped");
    }
}

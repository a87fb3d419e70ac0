//! Agents' status changes beyond the request that makes them: told to the agent's other
//! sessions and colleagues, lapsed by a clock when their "until" passes, and posted to
//! the status webhook a routing engine follows.

use std::time::Duration;

use agent_desk_core::integrations::StatusWebhook;
use agent_desk_core::routing::{StatusAgent, StatusCause, StatusChanged, Takes};
use agent_desk_core::Status;
use chrono::{DateTime, TimeDelta, Utc};

use crate::agents::AgentError;
use crate::clock::{parse_timestamp, timestamp};
use crate::db::Db;
use crate::events::{self, EventHub};

/// A change is posted for at most this long after it was made, then given up.
pub const DELIVERY_GIVE_UP: TimeDelta = TimeDelta::hours(24);
/// The first retry waits this long, each next one twice as long, up to the most.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MOST: Duration = Duration::from_secs(300);
/// A receiver gets this long to answer a delivery.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Agents' deliveries sent at once; each agent's go one after the other.
const DELIVERIES_AT_ONCE: i64 = 64;
/// Clocks look again at least this often, whatever they were told.
const CLOCK_LOOK_AGAIN: Duration = Duration::from_secs(60);
/// Delivered and given-up changes are kept this long after, for looking into.
const DELIVERED_KEPT: TimeDelta = TimeDelta::days(7);

/// Sets an agent's status and tells of it: their other sessions and colleagues through
/// `profile.updated`, the clock when it has an "until", and the status webhook. False
/// when it was already so.
pub async fn change(
    db: &Db,
    hub: &EventHub,
    agent_id: &str,
    status: Status,
    until: Option<DateTime<Utc>>,
    cause: StatusCause,
    now: DateTime<Utc>,
) -> Result<bool, AgentError> {
    let changed =
        crate::agents::set_status(db, agent_id, agent_id, status, until, cause, now).await?;
    if changed {
        hub.status_changed();
        events::tell(events::publish_profile_updated(
            db, hub, agent_id, "status", now,
        ))
        .await;
    }
    Ok(changed)
}

/// Queues a status change for the webhook, in the transaction that makes it, when
/// `serve` was given one: a change is posted if and only if it is saved.
pub async fn queue_webhook(
    tx: &mut crate::storage::Conn,
    agent_id: &str,
    status: Status,
    until: Option<DateTime<Utc>>,
    cause: StatusCause,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let configured: Option<String> =
        crate::storage::query_scalar("SELECT url FROM status_webhook WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
    if configured.is_none() {
        return Ok(());
    }
    let (email, display_name) = crate::storage::query_as::<(String, String)>(
        "SELECT email, display_name FROM agents WHERE id = $1",
    )
    .bind(agent_id)
    .fetch_one(&mut *tx)
    .await?;
    let body = StatusChanged {
        kind: StatusChanged::KIND.to_owned(),
        agent: StatusAgent {
            id: agent_id.to_owned(),
            email,
            display_name,
        },
        status,
        until,
        takes: Takes::of(status),
        cause,
        changed_at: at,
    };
    let body = serde_json::to_string(&body).map_err(|error| sqlx::Error::Encode(error.into()))?;
    let at = timestamp(at);
    crate::storage::query(
        "INSERT INTO status_deliveries (agent_id, body, created_at, next_attempt_at)
         VALUES ($1, $2, $3, $3)",
    )
    .bind(agent_id)
    .bind(body)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Where `serve` posts status changes (None: nowhere), saved so that changes are
/// queued only while there is somewhere to post them.
pub async fn configure_webhook(db: &Db, url: Option<&str>) -> Result<(), sqlx::Error> {
    crate::storage::query("UPDATE status_webhook SET url = $1 WHERE id = 1")
        .bind(url)
        .execute(db)
        .await?;
    Ok(())
}

/// Makes statuses set "until" a time available when it comes, as changes of their own.
pub fn spawn_clock(db: Db, hub: std::sync::Arc<EventHub>) {
    let mut told = hub.follow_status_changes();
    tokio::spawn(async move {
        loop {
            let now = Utc::now();
            match crate::agents::expire_statuses(&db, now).await {
                Ok(expired) => {
                    if !expired.is_empty() {
                        hub.status_changed();
                    }
                    for agent_id in expired {
                        events::tell(events::publish_profile_updated(
                            &db, &hub, &agent_id, "status", now,
                        ))
                        .await;
                    }
                }
                Err(error) => tracing::warn!(%error, "could not end lapsed statuses"),
            }
            let next: Option<String> = crate::storage::query_scalar(
                "SELECT MIN(status_until) FROM agents WHERE status_until IS NOT NULL",
            )
            .fetch_one(&db)
            .await
            .unwrap_or(None);
            let wait = next
                .map(|next| {
                    (parse_timestamp(&next) - Utc::now())
                        .to_std()
                        .unwrap_or_default()
                })
                .unwrap_or(CLOCK_LOOK_AGAIN)
                .min(CLOCK_LOOK_AGAIN);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                changed = told.changed() => if changed.is_err() { return },
            }
        }
    });
}

/// The status webhook: where, and the secret its deliveries are signed with.
#[derive(Clone)]
pub struct Webhook {
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Posts queued status changes, oldest first for each agent, until each is answered
/// with a 2xx or a day has passed.
/// Runs on whichever instance holds the webhook's lease (crate::leases).
pub fn spawn_webhook(db: Db, hub: std::sync::Arc<EventHub>, webhook: Webhook) {
    let instance = std::sync::Arc::clone(hub.instance());
    crate::leases::spawn(db.clone(), WEBHOOK_LEASE, instance, move || {
        deliver(db.clone(), std::sync::Arc::clone(&hub), webhook.clone())
    });
}

/// The lease the webhook's deliveries are made under: one instance posts them.
pub const WEBHOOK_LEASE: &str = "status-webhook";

/// Posts what is due, then waits for the next due or a status change; until dropped.
async fn deliver(db: Db, hub: std::sync::Arc<EventHub>, webhook: Webhook) {
    let mut told = hub.follow_status_changes();
    let http = match reqwest::Client::builder()
        .timeout(DELIVERY_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("agent-desk-server/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(http) => http,
        Err(error) => {
            tracing::error!(%error, "the status webhook cannot post");
            return;
        }
    };
    let mut swept: Option<std::time::Instant> = None;
    loop {
        if swept.is_none_or(|at| at.elapsed() >= CLOCK_LOOK_AGAIN) {
            match give_up_old(&db, Utc::now()).await {
                Ok(()) => swept = Some(std::time::Instant::now()),
                Err(error) => {
                    tracing::warn!(%error, "old status changes could not be given up")
                }
            }
        }
        let wait = match deliver_due(&db, &http, &webhook, Utc::now()).await {
            Ok(Some(wait)) => wait,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(%error, "the status webhook's queue could not be read");
                RETRY_FIRST
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            changed = told.changed() => if changed.is_err() { return },
        }
    }
}

/// The first waiting change of each agent whose time has come.
#[derive(sqlx::FromRow)]
struct Due {
    id: i64,
    body: String,
    created_at: String,
    attempts: i64,
}

/// Sends what is due. None when some went out (their agents' next may be due at once);
/// otherwise how long until the next is due.
async fn deliver_due(
    db: &Db,
    http: &reqwest::Client,
    webhook: &Webhook,
    now: DateTime<Utc>,
) -> Result<Option<Duration>, sqlx::Error> {
    let due: Vec<Due> = crate::storage::query_as(
        "SELECT d.id, d.body, d.created_at, d.attempts FROM status_deliveries d
         WHERE d.delivered_at IS NULL AND d.given_up_at IS NULL AND d.next_attempt_at <= $1
           AND d.id = (SELECT MIN(w.id) FROM status_deliveries w
                       WHERE w.agent_id = d.agent_id
                         AND w.delivered_at IS NULL AND w.given_up_at IS NULL)
         ORDER BY d.id LIMIT $2",
    )
    .bind(timestamp(now))
    .bind(DELIVERIES_AT_ONCE)
    .fetch_all(db)
    .await?;
    if due.is_empty() {
        // Only each agent's first waiting change counts: those behind it wait for it.
        let next: Option<String> = crate::storage::query_scalar(
            "SELECT MIN(d.next_attempt_at) FROM status_deliveries d
             WHERE d.delivered_at IS NULL AND d.given_up_at IS NULL
               AND d.id = (SELECT MIN(w.id) FROM status_deliveries w
                           WHERE w.agent_id = d.agent_id
                             AND w.delivered_at IS NULL AND w.given_up_at IS NULL)",
        )
        .fetch_one(db)
        .await?;
        return Ok(Some(next.map_or(CLOCK_LOOK_AGAIN, |next| {
            (parse_timestamp(&next) - now)
                .to_std()
                .unwrap_or_default()
                .min(CLOCK_LOOK_AGAIN)
        })));
    }
    let answers = futures_util::future::join_all(
        due.iter()
            .map(|delivery| post(http, webhook, delivery.id, &delivery.body)),
    )
    .await;
    let mut delivered = false;
    let now = Utc::now();
    for (delivery, answer) in due.iter().zip(answers) {
        match answer {
            Ok(()) => {
                delivered = true;
                crate::storage::query("UPDATE status_deliveries SET delivered_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2")
                    .bind(timestamp(now))
                    .bind(delivery.id)
                    .execute(db)
                    .await?;
                crate::storage::query(
                    "UPDATE status_webhook SET delivered = delivered + 1, last_delivered_at = $1,
                            last_error = NULL, last_error_at = NULL WHERE id = 1",
                )
                .bind(timestamp(now))
                .execute(db)
                .await?;
            }
            Err(error) => {
                let attempts = delivery.attempts + 1;
                let give_up = now - parse_timestamp(&delivery.created_at) >= DELIVERY_GIVE_UP;
                tracing::warn!(delivery = delivery.id, attempts, %error, give_up, "a status change could not be posted");
                let next = now + retry_after(attempts);
                crate::storage::query(
                    "UPDATE status_deliveries SET attempts = $1, next_attempt_at = $2,
                            last_error = $3, given_up_at = $4 WHERE id = $5",
                )
                .bind(attempts)
                .bind(timestamp(next))
                .bind(&error)
                .bind(give_up.then(|| timestamp(now)))
                .bind(delivery.id)
                .execute(db)
                .await?;
                crate::storage::query(
                    "UPDATE status_webhook SET given_up = given_up + $1, last_error = $2,
                            last_error_at = $3 WHERE id = 1",
                )
                .bind(i64::from(give_up))
                .bind(&error)
                .bind(timestamp(now))
                .execute(db)
                .await?;
            }
        }
    }
    Ok(if delivered { None } else { Some(RETRY_FIRST) })
}

/// Changes a day old are not posted any more, whether they failed until now or waited
/// while the server ran without the webhook; those settled a week ago are forgotten.
async fn give_up_old(db: &Db, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let mut tx = crate::db::begin_write(db).await?;
    let given_up = crate::storage::query(
        "UPDATE status_deliveries SET given_up_at = $1
         WHERE delivered_at IS NULL AND given_up_at IS NULL AND created_at <= $2",
    )
    .bind(timestamp(now))
    .bind(timestamp(now - DELIVERY_GIVE_UP))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if given_up > 0 {
        crate::storage::query("UPDATE status_webhook SET given_up = given_up + $1 WHERE id = 1")
            .bind(i64::try_from(given_up).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
    }
    crate::storage::query(
        "DELETE FROM status_deliveries
         WHERE COALESCE(delivered_at, given_up_at) < $1",
    )
    .bind(timestamp(now - DELIVERED_KEPT))
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// 1 s after the first failure, doubling up to five minutes.
fn retry_after(attempts: i64) -> TimeDelta {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(16);
    let wait = RETRY_FIRST
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(RETRY_MOST);
    TimeDelta::from_std(wait).unwrap_or(TimeDelta::minutes(5))
}

/// Posts one change, signed like a generic hook's delivery; a failure says why.
async fn post(
    http: &reqwest::Client,
    webhook: &Webhook,
    id: i64,
    body: &str,
) -> Result<(), String> {
    let delivery = format!("status-{id}");
    let stamp = Utc::now().timestamp().to_string();
    let signature =
        crate::hooks::generic_signature(&webhook.secret, &stamp, &delivery, body.as_bytes());
    let answer = http
        .post(&webhook.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(crate::hooks::DELIVERY_HEADER, &delivery)
        .header(crate::hooks::TIMESTAMP_HEADER, &stamp)
        .header(crate::hooks::SIGNATURE_HEADER, signature)
        .body(body.to_owned())
        .send()
        .await
        .map_err(without_url)?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(format!("the webhook answered {}", answer.status()))
    }
}

/// A request's error without its address, which the administrator knows.
fn without_url(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

/// What `GET /api/v1/admin/integrations` shows of the status webhook.
pub async fn webhook_state(db: &Db) -> Result<Option<StatusWebhook>, sqlx::Error> {
    type Row = (
        Option<String>,
        i64,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        i64,
    );
    // One statement, so the counters and the waiting count are of the same moment: read
    // apart, a change given up in between would be in neither.
    let (url, delivered, given_up, last_delivered_at, last_error, last_error_at, pending): Row =
        crate::storage::query_as(
            "SELECT url, delivered, given_up, last_delivered_at, last_error, last_error_at,
                    (SELECT COUNT(*) FROM status_deliveries
                      WHERE delivered_at IS NULL AND given_up_at IS NULL)
             FROM status_webhook WHERE id = 1",
        )
        .fetch_one(db)
        .await?;
    let Some(url) = url else {
        return Ok(None);
    };
    let at = |text: Option<String>| text.as_deref().map(parse_timestamp);
    Ok(Some(StatusWebhook {
        url,
        pending,
        delivered,
        given_up,
        last_delivered_at: at(last_delivered_at),
        last_error,
        last_error_at: at(last_error_at),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_five_minutes() {
        let waits: Vec<i64> = (1..=12).map(|n| retry_after(n).num_seconds()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(retry_after(i64::MAX).num_seconds(), 300);
    }
}

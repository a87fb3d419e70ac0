//! Mail about events, as each agent chose per type: one mail per event, a daily digest
//! at 09:00, or a weekly one on Monday at 09:00, in the agent's time zone.

use agent_desk_core::notifications::next_email_at;
use agent_desk_core::{EmailFrequency, Event, EventType, NewEvent, Priority};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::clock::{parse_timestamp, timestamp};
use crate::db::Db;
use crate::events::{Published, Recipients};
use crate::mail::{Mail, Mailer};
use crate::notification_prefs;

/// Mails each recipient who wants this type of event by mail at once.
pub async fn send_immediate(db: &Db, mailer: &Mailer, new: &NewEvent, published: &Published) {
    if new.event_type == EventType::ProfileUpdated {
        return;
    }
    let wants = |prefs: &agent_desk_core::NotificationPrefs| {
        prefs.for_type(new.event_type).email == EmailFrequency::Immediate
    };
    let everyones = match notification_prefs::everyones(db).await {
        Ok(everyones) => everyones,
        Err(error) => {
            tracing::warn!(%error, "event mail: preferences could not be read");
            return;
        }
    };
    // Everyone is thousands of agents: not listed when none of them wants this mail.
    if matches!(published.recipients, Recipients::Everyone) && !everyones.anyone(wants) {
        return;
    }
    let recipients = match published.emails(db).await {
        Ok(emails) => emails,
        Err(error) => {
            tracing::warn!(%error, "event mail: recipients could not be read");
            return;
        }
    };
    for recipient in &recipients {
        if !wants(everyones.of(recipient)) {
            continue;
        }
        let mut body = String::new();
        describe(
            &mut body,
            new.priority,
            &new.title,
            new.body.as_deref(),
            new.url.as_deref(),
        );
        body.push_str("\nYou get this mail because of your notification settings in Agent Desk.\n");
        let mail = Mail {
            to: recipient,
            subject: new.title.trim(),
            body,
        };
        if let Err(error) = mailer.send(mail).await {
            tracing::warn!(%error, "event mail could not be sent");
        }
    }
}

fn describe(
    out: &mut String,
    priority: Priority,
    title: &str,
    body: Option<&str>,
    url: Option<&str>,
) {
    out.push_str(&format!("[{}] {}\n", priority.as_str(), title.trim()));
    if let Some(body) = body.filter(|body| !body.trim().is_empty()) {
        out.push_str(&format!("    {}\n", body.trim()));
    }
    if let Some(url) = url {
        out.push_str(&format!("    {url}\n"));
    }
}

/// A digest lists at most this many events.
const DIGEST_MAX: u32 = 500;

/// Sends every daily and weekly digest that is due at `now`; returns how many went out.
/// The first look at an agent only starts their clock, so a new digest never contains
/// events from before it was chosen.
pub async fn send_due_digests(
    db: &Db,
    mailer: &Mailer,
    now: DateTime<Utc>,
) -> Result<usize, sqlx::Error> {
    let agents = crate::storage::query_as::<(String, String, Option<String>)>(
        "SELECT id, email, timezone FROM agents WHERE active ORDER BY id",
    )
    .fetch_all(db)
    .await?;
    let everyones = notification_prefs::everyones(db).await?;
    let mut sent = 0;
    for (agent_id, email, timezone) in agents {
        let prefs = everyones.of(&email);
        let zone: Tz = timezone
            .as_deref()
            .and_then(|zone| zone.parse().ok())
            .unwrap_or(Tz::UTC);
        for frequency in [EmailFrequency::Digest, EmailFrequency::Weekly] {
            let types: Vec<EventType> = prefs
                .events
                .iter()
                .filter(|row| row.email == frequency)
                .map(|row| row.event_type)
                .collect();
            if types.is_empty() {
                continue;
            }
            let name = match frequency {
                EmailFrequency::Weekly => "weekly",
                _ => "digest",
            };
            let last = crate::storage::query_scalar::<String>(
                "SELECT last_sent_at FROM email_digests WHERE agent_id = $1 AND frequency = $2",
            )
            .bind(&agent_id)
            .bind(name)
            .fetch_optional(db)
            .await?;
            let Some(last_text) = last else {
                crate::storage::query(
                    "INSERT INTO email_digests (agent_id, frequency, last_sent_at) VALUES ($1, $2, $3)
                     ON CONFLICT (agent_id, frequency) DO NOTHING",
                )
                .bind(&agent_id)
                .bind(name)
                .bind(timestamp(now))
                .execute(db)
                .await?;
                continue;
            };
            let last = parse_timestamp(&last_text);
            if next_email_at(frequency, zone, last).is_none_or(|due| now < due) {
                continue;
            }
            let events = crate::events::created_between(db, &agent_id, last, now, DIGEST_MAX)
                .await
                .map_err(|error| match error {
                    crate::events::EventError::Database(error) => error,
                    other => sqlx::Error::Protocol(other.to_string()),
                })?;
            let events: Vec<&Event> = events
                .iter()
                .filter(|e| types.contains(&e.event_type))
                .collect();
            // Claimed by moving on from the time read: of several servers (or runs)
            // finding it due, only the one whose update finds it unmoved sends it.
            let claimed = crate::storage::query(
                "UPDATE email_digests SET last_sent_at = $1
                 WHERE agent_id = $2 AND frequency = $3 AND last_sent_at = $4",
            )
            .bind(timestamp(now))
            .bind(&agent_id)
            .bind(name)
            .bind(&last_text)
            .execute(db)
            .await?
            .rows_affected()
                == 1;
            if !claimed || events.is_empty() {
                continue;
            }
            let subject = match frequency {
                EmailFrequency::Weekly => {
                    format!("Your week in Agent Desk: {} alerts", events.len())
                }
                _ => format!("Your Agent Desk digest: {} alerts", events.len()),
            };
            let mut body = String::new();
            for event in &events {
                describe(
                    &mut body,
                    event.priority,
                    &event.title,
                    event.body.as_deref(),
                    event.url.as_deref(),
                );
            }
            body.push_str(
                "\nYou get this mail because of your notification settings in Agent Desk.\n",
            );
            match mailer
                .send(Mail {
                    to: &email,
                    subject: &subject,
                    body,
                })
                .await
            {
                Ok(()) => sent += 1,
                Err(error) => tracing::warn!(%error, "digest mail could not be sent"),
            }
        }
    }
    Ok(sent)
}

/// Runs the digests once a minute for as long as the server runs.
pub fn spawn_digest_clock(db: Db, mailer: std::sync::Arc<Mailer>) {
    tokio::spawn(async move {
        let mut minute = tokio::time::interval(std::time::Duration::from_secs(60));
        minute.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            minute.tick().await;
            if let Err(error) = send_due_digests(&db, &mailer, Utc::now()).await {
                tracing::warn!(%error, "digests failed");
            }
        }
    });
}

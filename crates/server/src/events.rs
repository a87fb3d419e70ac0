//! Events in the database, each recipient's sequence, and the live fan-out to open
//! streams.
//!
//! The database is the record: an event is stored, with the recipient's next seq, before
//! any stream hears of it. The hub only carries stored events to the streams that are
//! open, as a shortcut; a stream that sees a gap or falls behind reads the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use agent_desk_core::{Delivery, Event, EventTarget, EventType, NewEvent, Priority, Status};
use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use crate::agents::{parse_timestamp, timestamp};
use crate::db::Db;

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("no agent has the email {0}")]
    UnknownAgent(String),
    #[error("there is no team called {0}")]
    UnknownTeam(String),
    #[error("the team {0} has no members")]
    EmptyTeam(String),
    #[error("after must be between 0 and the newest event's seq ({newest})")]
    CursorOutOfRange { newest: i64 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The agents an event is for: (id, email).
async fn recipients(db: &Db, target: &EventTarget) -> Result<Vec<(String, String)>, EventError> {
    match target {
        EventTarget::Agent(email) => {
            let email = crate::agents::normalise_email(email);
            sqlx::query_as::<_, (String, String)>("SELECT id, email FROM agents WHERE email = $1")
                .bind(&email)
                .fetch_optional(db)
                .await?
                .map(|agent| vec![agent])
                .ok_or(EventError::UnknownAgent(email))
        }
        EventTarget::Team(name) => {
            let team = sqlx::query_scalar::<_, String>("SELECT id FROM teams WHERE name = $1")
                .bind(name.trim())
                .fetch_optional(db)
                .await?
                .ok_or_else(|| EventError::UnknownTeam(name.trim().to_owned()))?;
            let members = sqlx::query_as::<_, (String, String)>(
                "SELECT agents.id, agents.email FROM team_members
                 JOIN agents ON agents.id = team_members.agent_id
                 WHERE team_members.team_id = $1 ORDER BY agents.email",
            )
            .bind(&team)
            .fetch_all(db)
            .await?;
            if members.is_empty() {
                return Err(EventError::EmptyTeam(name.trim().to_owned()));
            }
            Ok(members)
        }
        EventTarget::All => Ok(sqlx::query_as::<_, (String, String)>(
            "SELECT id, email FROM agents ORDER BY email",
        )
        .fetch_all(db)
        .await?),
    }
}

/// Stores a validated event for every recipient of its target, each with that
/// recipient's next seq, in one transaction; then hands them to the open streams.
pub async fn publish(
    db: &Db,
    hub: &EventHub,
    new: &NewEvent,
    now: DateTime<Utc>,
) -> Result<Vec<Delivery>, EventError> {
    let recipients = recipients(db, &new.to).await?;
    let stored = store(db, &recipients, new, now).await?;
    let deliveries = recipients
        .iter()
        .zip(&stored)
        .map(|((_, email), event)| Delivery {
            agent: email.clone(),
            seq: event.seq,
        })
        .collect();
    for ((agent_id, _), event) in recipients.iter().zip(stored) {
        hub.send(agent_id, Arc::new(event));
    }
    Ok(deliveries)
}

/// Tells every session of an agent that their profile or status changed.
pub async fn publish_profile_updated(
    db: &Db,
    hub: &EventHub,
    agent_id: &str,
    what: &str,
    now: DateTime<Utc>,
) -> Result<(), EventError> {
    let new = NewEvent {
        event_type: EventType::ProfileUpdated,
        to: EventTarget::All,
        priority: Priority::Low,
        title: format!("{what} changed"),
        body: None,
        ticket_id: None,
        url: None,
    };
    let recipient = [(agent_id.to_owned(), String::new())];
    for event in store(db, &recipient, &new, now).await? {
        hub.send(agent_id, Arc::new(event));
    }
    Ok(())
}

async fn store(
    db: &Db,
    recipients: &[(String, String)],
    new: &NewEvent,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, EventError> {
    let at = timestamp(now);
    let title = new.title.trim().to_owned();
    let mut stored = Vec::with_capacity(recipients.len());
    let mut tx = db.begin().await?;
    for (agent_id, _) in recipients {
        // The row lock this takes also orders concurrent publishers to one recipient.
        let seq = sqlx::query_scalar::<_, i64>(
            "UPDATE agents SET last_event_seq = last_event_seq + 1 WHERE id = $1
             RETURNING last_event_seq",
        )
        .bind(agent_id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO events (recipient_id, seq, event_type, priority, title, body, ticket_id, url, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(agent_id)
        .bind(seq)
        .bind(new.event_type.as_str())
        .bind(new.priority.as_str())
        .bind(&title)
        .bind(&new.body)
        .bind(&new.ticket_id)
        .bind(&new.url)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        stored.push(Event {
            seq,
            event_type: new.event_type,
            priority: new.priority,
            title: title.clone(),
            body: new.body.clone(),
            ticket_id: new.ticket_id.clone(),
            url: new.url.clone(),
            created_at: parse_timestamp(&at),
        });
    }
    tx.commit().await?;
    Ok(stored)
}

type EventRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

fn event_from_row(row: EventRow) -> Event {
    let (seq, event_type, priority, title, body, ticket_id, url, created_at) = row;
    Event {
        seq,
        // Only known names are ever stored; an unknown one would be from a newer server.
        event_type: EventType::parse(&event_type).unwrap_or(EventType::SystemMaintenance),
        priority: Priority::parse(&priority).unwrap_or_default(),
        title,
        body,
        ticket_id,
        url,
        created_at: parse_timestamp(&created_at),
    }
}

/// The newest seq an agent has, 0 before their first event.
pub async fn newest_seq(db: &Db, agent_id: &str) -> Result<i64, EventError> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT last_event_seq FROM agents WHERE id = $1")
            .bind(agent_id)
            .fetch_optional(db)
            .await?
            .unwrap_or(0),
    )
}

/// Refuses a cursor below 0 or beyond the agent's newest event: a client that thinks it
/// is ahead of the server has the wrong server or database, and would miss events.
pub async fn check_cursor(db: &Db, agent_id: &str, after: i64) -> Result<(), EventError> {
    let newest = newest_seq(db, agent_id).await?;
    if (0..=newest).contains(&after) {
        Ok(())
    } else {
        Err(EventError::CursorOutOfRange { newest })
    }
}

/// Up to `limit` of an agent's events after `after`, oldest first.
pub async fn after(
    db: &Db,
    agent_id: &str,
    after: i64,
    limit: u32,
) -> Result<Vec<Event>, EventError> {
    let rows = sqlx::query_as::<_, EventRow>(
        "SELECT seq, event_type, priority, title, body, ticket_id, url, created_at FROM events
         WHERE recipient_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(agent_id)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(event_from_row).collect())
}

/// Live events on their way to open streams, and how many streams each agent has open.
pub struct EventHub {
    agents: Mutex<HashMap<String, AgentStreams>>,
    db: Db,
    offline_grace: Duration,
    closing: tokio::sync::watch::Sender<bool>,
}

struct AgentStreams {
    sender: broadcast::Sender<Arc<Event>>,
    open: usize,
    /// Counts disconnections, so a grace timer knows whether the agent came back since.
    disconnections: u64,
}

/// A stream that falls this many events behind reads the rest from the database.
const STREAM_BUFFER: usize = 1024;

impl EventHub {
    pub fn new(db: Db, offline_grace: Duration) -> Arc<Self> {
        Arc::new(Self {
            agents: Mutex::default(),
            db,
            offline_grace,
            closing: tokio::sync::watch::channel(false).0,
        })
    }

    /// Ends every open stream: the server is shutting down.
    pub fn close_all(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once the server is shutting down.
    pub async fn closed(&self) {
        let mut closing = self.closing.subscribe();
        // An error means the hub is gone, which is a shutdown too.
        let _ = closing.wait_for(|closing| *closing).await;
    }

    fn send(&self, agent_id: &str, event: Arc<Event>) {
        let agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(streams) = agents.get(agent_id) {
            // No receiver is fine: the event is stored and read on the next connect.
            let _ = streams.sender.send(event);
        }
    }

    /// Registers an open stream; events sent from now on reach its receiver.
    pub fn open_stream(self: &Arc<Self>, agent_id: &str) -> OpenStream {
        let mut agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        let streams = agents
            .entry(agent_id.to_owned())
            .or_insert_with(|| AgentStreams {
                sender: broadcast::channel(STREAM_BUFFER).0,
                open: 0,
                disconnections: 0,
            });
        streams.open += 1;
        OpenStream {
            events: streams.sender.subscribe(),
            hub: Arc::clone(self),
            agent_id: agent_id.to_owned(),
        }
    }

    /// How many streams are open for an agent.
    pub fn open_streams(&self, agent_id: &str) -> usize {
        let agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        agents.get(agent_id).map_or(0, |streams| streams.open)
    }

    fn close_stream(self: &Arc<Self>, agent_id: &str) {
        let mut agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(streams) = agents.get_mut(agent_id) else {
            return;
        };
        streams.open = streams.open.saturating_sub(1);
        if streams.open > 0 {
            return;
        }
        streams.disconnections += 1;
        let disconnection = streams.disconnections;
        let hub = Arc::clone(self);
        let agent_id = agent_id.to_owned();
        // Dropped outside a runtime only at shutdown, when presence no longer matters.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                tokio::time::sleep(hub.offline_grace).await;
                hub.go_offline_if_still_away(&agent_id, disconnection).await;
            });
        }
    }

    /// After the grace period: if the agent has not reconnected since, they are Offline.
    async fn go_offline_if_still_away(&self, agent_id: &str, disconnection: u64) {
        {
            let mut agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
            match agents.get(agent_id) {
                Some(streams) if streams.open == 0 && streams.disconnections == disconnection => {
                    agents.remove(agent_id);
                }
                _ => return,
            }
        }
        let now = Utc::now();
        match crate::agents::set_status(&self.db, agent_id, agent_id, Status::Offline, None, now)
            .await
        {
            Ok(true) => {
                if let Err(error) =
                    publish_profile_updated(&self.db, self, agent_id, "status", now).await
                {
                    tracing::warn!(%error, "could not record the status change");
                }
            }
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "could not set a disconnected agent offline"),
        }
    }
}

/// An open stream's registration: events arrive on `events`; dropping it closes the
/// stream, and the agent goes Offline when it was their last for the grace period.
pub struct OpenStream {
    pub events: broadcast::Receiver<Arc<Event>>,
    hub: Arc<EventHub>,
    agent_id: String,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.hub.close_stream(&self.agent_id);
    }
}

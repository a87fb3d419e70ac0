//! Events in the database, the clock that gives them their seqs, and the live fan-out
//! to open streams.
//!
//! The database is the record: an event is stored, with the clock's next seq, before
//! any stream hears of it. The hub only carries stored events to the streams that are
//! open, in seq order, as a shortcut; a stream that falls behind reads the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use agent_desk_core::people::{Sight, Viewer};
use agent_desk_core::{
    Delivery, Event, EventTarget, EventType, NewEvent, PostedEvent, PresenceChange, Priority,
    Profile, Status,
};
use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, oneshot};
use tokio_util::task::task_tracker::TaskTrackerToken;
use tokio_util::task::TaskTracker;

use crate::clock::{parse_timestamp, timestamp};
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

/// Who receives an event.
enum Audience {
    Agent(String),
    Team(String),
    TeamLeads(String),
    Admins,
    All,
}

impl Audience {
    /// For an audience stored recipient by recipient: a condition on `agents.id`, and the
    /// value it binds as `$1`. None for everyone, whose events are stored once.
    fn filter(&self) -> Option<(&'static str, &str)> {
        match self {
            // A deactivated agent is told nothing: they cannot read it, nor be mailed it.
            Self::Agent(id) => Some(("agents.id = $1 AND agents.active", id)),
            Self::Team(team_id) => Some((
                "agents.active
                 AND agents.id IN (SELECT agent_id FROM team_members WHERE team_id = $1)",
                team_id,
            )),
            Self::TeamLeads(team_id) => Some((
                "agents.active
                 AND agents.id IN (SELECT agent_id FROM team_members
                                   WHERE team_id = $1 AND role = 'lead')",
                team_id,
            )),
            // `$1` is bound but unused: every filter binds one value.
            Self::Admins => Some(("agents.is_admin AND agents.active AND $1 = $1", "")),
            Self::All => None,
        }
    }
}

/// Checks that a target exists and turns it into an audience.
async fn audience(db: &Db, target: &EventTarget) -> Result<Audience, EventError> {
    let mut conn = db.acquire().await?;
    audience_in(&mut conn, target).await
}

async fn audience_in(
    conn: &mut crate::storage::Conn,
    target: &EventTarget,
) -> Result<Audience, EventError> {
    match target {
        EventTarget::Agent(email) => {
            let email = crate::agents::normalise_email(email);
            crate::storage::query_scalar::<String>("SELECT id FROM agents WHERE email = $1")
                .bind(&email)
                .fetch_optional(&mut *conn)
                .await?
                .map(Audience::Agent)
                .ok_or(EventError::UnknownAgent(email))
        }
        EventTarget::Team(name) => {
            let name = name.trim();
            let team =
                crate::storage::query_scalar::<String>("SELECT id FROM teams WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or_else(|| EventError::UnknownTeam(name.to_owned()))?;
            let members = crate::storage::query_scalar::<i64>(
                "SELECT COUNT(*) FROM team_members WHERE team_id = $1",
            )
            .bind(&team)
            .fetch_one(&mut *conn)
            .await?;
            if members == 0 {
                return Err(EventError::EmptyTeam(name.to_owned()));
            }
            Ok(Audience::Team(team))
        }
        EventTarget::All => Ok(Audience::All),
    }
}

/// A stored event and who it went to: listed agents (id, email), or everyone.
struct Stored {
    live: LiveEvent,
    recipients: Option<Vec<(String, String)>>,
}

/// Who a published event went to.
pub enum Recipients {
    /// These agents, by email, sorted.
    Listed(Vec<String>),
    /// Every agent whose share of events to everyone began before the event.
    Everyone,
}

/// An event that is stored and handed to the open streams.
pub struct Published {
    pub seq: i64,
    pub recipients: Recipients,
}

impl Published {
    fn of(stored: &Stored) -> Self {
        let recipients = match &stored.recipients {
            Some(recipients) => {
                let mut emails: Vec<String> =
                    recipients.iter().map(|(_, email)| email.clone()).collect();
                emails.sort_unstable();
                Recipients::Listed(emails)
            }
            None => Recipients::Everyone,
        };
        Self {
            seq: stored.live.seq,
            recipients,
        }
    }

    /// The answer to the post. For an event to everyone, only how many it reached.
    pub async fn answer(&self, db: &Db) -> Result<PostedEvent, EventError> {
        let (recipients, deliveries) = match &self.recipients {
            Recipients::Listed(emails) => (
                emails.len(),
                emails
                    .iter()
                    .map(|agent| Delivery {
                        agent: agent.clone(),
                        seq: self.seq,
                    })
                    .collect(),
            ),
            Recipients::Everyone => {
                let count: i64 = crate::storage::query_scalar(format!(
                    "SELECT count(*) FROM {EVERYONE_BEFORE_SEQ}"
                ))
                .bind(self.seq)
                .fetch_one(db)
                .await?;
                (usize::try_from(count).unwrap_or_default(), Vec::new())
            }
        };
        Ok(PostedEvent {
            seq: self.seq,
            recipients: u32::try_from(recipients).unwrap_or(u32::MAX),
            deliveries,
        })
    }

    /// The emails of the agents it went to, sorted.
    pub async fn emails(&self, db: &Db) -> Result<Vec<String>, EventError> {
        match &self.recipients {
            Recipients::Listed(emails) => Ok(emails.clone()),
            Recipients::Everyone => {
                // One text value rather than thousands of rows: sqlx hands SQLite rows
                // over one by one, about 30 µs each.
                let emails: Option<String> = crate::storage::query_scalar(format!(
                    "SELECT {} FROM {EVERYONE_BEFORE_SEQ}",
                    db.dialect().group_concat("agents.email", "\n")
                ))
                .bind(self.seq)
                .fetch_one(db)
                .await?;
                let mut emails: Vec<String> = emails
                    .as_deref()
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_owned)
                    .collect();
                emails.sort_unstable();
                Ok(emails)
            }
        }
    }
}

/// The agents an event to everyone with the seq bound as `$1` went to.
const EVERYONE_BEFORE_SEQ: &str = "agents JOIN event_feeds AS feeds \
    ON feeds.agent_id = agents.id WHERE feeds.everyone_after < $1";

/// Stores a validated event for its target and hands it to the open streams.
pub async fn publish(
    db: &Db,
    hub: &EventHub,
    new: &NewEvent,
    now: DateTime<Utc>,
) -> Result<Published, EventError> {
    let audience = audience(db, &new.to).await?;
    let stored = hub.publish(db, &audience, new, now).await?;
    Ok(Published::of(&stored))
}

/// Stores an event the server itself raises for one agent, and hands it to their streams.
pub async fn publish_to_agent(
    db: &Db,
    hub: &EventHub,
    agent_id: &str,
    new: &NewEvent,
    now: DateTime<Utc>,
) -> Result<(), EventError> {
    let audience = Audience::Agent(agent_id.to_owned());
    hub.publish(db, &audience, new, now).await.map(drop)
}

/// After a change is committed, telling of it: a failure is logged rather than
/// answered, since the change itself is saved and an error would have the client try it
/// again. (The agents concerned read the change at their next refresh.)
pub async fn tell(telling: impl std::future::Future<Output = Result<(), EventError>>) {
    if let Err(error) = telling.await {
        tracing::warn!(%error, "a saved change could not be told as an event");
    }
}

/// Stores an event for every administrator, and hands it to their streams.
pub async fn publish_to_admins(
    db: &Db,
    hub: &EventHub,
    new: &NewEvent,
    now: DateTime<Utc>,
) -> Result<(), EventError> {
    hub.publish(db, &Audience::Admins, new, now).await.map(drop)
}

/// An event the server itself raises (a request made or decided), of normal priority
/// and about no ticket; who receives it is the publisher's choice.
pub fn server_event(event_type: EventType, title: String, body: Option<String>) -> NewEvent {
    NewEvent {
        event_type,
        to: EventTarget::All,
        priority: Priority::Normal,
        title,
        body,
        ticket_id: None,
        url: None,
        requester: None,
    }
}

/// Stores an event for every lead of a team, and hands it to their streams.
pub async fn publish_to_team_leads(
    db: &Db,
    hub: &EventHub,
    team_id: &str,
    new: &NewEvent,
    now: DateTime<Utc>,
) -> Result<(), EventError> {
    let audience = Audience::TeamLeads(team_id.to_owned());
    hub.publish(db, &audience, new, now).await.map(drop)
}

/// Tells every session of an agent that their profile or status changed, and the
/// streams following presence that it did.
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
        requester: None,
    };
    publish_to_agent(db, hub, agent_id, &new, now).await?;
    hub.announce(db, agent_id).await;
    Ok(())
}

/// Tells every agent's app that the notifications administrators lock changed, so that
/// each reads its preferences again. Not an alert.
pub async fn publish_locks_changed(
    db: &Db,
    hub: &EventHub,
    now: DateTime<Utc>,
) -> Result<(), EventError> {
    let new = NewEvent {
        event_type: EventType::ProfileUpdated,
        to: EventTarget::All,
        priority: Priority::Low,
        title: "Notification settings changed".into(),
        body: None,
        ticket_id: None,
        url: None,
        requester: None,
    };
    hub.publish(db, &Audience::All, &new, now).await.map(drop)
}

/// Stores an event with the clock's next seq, in one transaction: once for everyone, or
/// a row per listed recipient, copied in one statement whatever their number.
async fn store(
    db: &Db,
    audience: &Audience,
    new: &NewEvent,
    now: DateTime<Utc>,
) -> Result<Stored, EventError> {
    let mut tx = crate::db::begin_write(db).await?;
    let stored = store_in(&mut tx, audience, new, now).await?;
    tx.commit().await?;
    Ok(stored)
}

/// Stores an event as part of a transaction the caller commits.
async fn store_in(
    tx: &mut crate::storage::Conn,
    audience: &Audience,
    new: &NewEvent,
    now: DateTime<Utc>,
) -> Result<Stored, EventError> {
    let at = timestamp(now);
    let created_at = parse_timestamp(&at);
    let title = new.title.trim().to_owned();
    // " 42" and "42" are one ticket.
    let ticket_id = new.ticket_id.as_deref().map(str::trim);
    let seq: i64 = crate::storage::query_scalar(
        "UPDATE event_clock SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq",
    )
    .fetch_one(&mut *tx)
    .await?;
    let event = Event {
        seq,
        event_type: new.event_type,
        priority: new.priority,
        title,
        body: new.body.clone(),
        ticket_id: ticket_id.map(str::to_owned),
        url: new.url.clone(),
        created_at,
    };
    let recipients = match audience.filter() {
        Some((filter, key)) => {
            // As one text value, for the reason `Published::emails` gives.
            let listed: Option<String> = crate::storage::query_scalar(format!(
                "SELECT {} FROM agents WHERE {filter}",
                tx.dialect()
                    .group_concat("agents.id || ' ' || agents.email", "\n")
            ))
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
            let insert = format!(
                "INSERT INTO events (recipient_id, seq, event_type, priority, title, body, ticket_id, url, created_at)
                 SELECT agents.id, $2, $3, $4, $5, $6, $7, $8, $9 FROM agents WHERE {filter}"
            );
            bind_columns(crate::storage::query(&insert).bind(key), &event, &at)
                .execute(&mut *tx)
                .await?;
            let listed = listed.as_deref().unwrap_or_default().lines();
            Some(
                listed
                    .filter_map(|line| line.split_once(' '))
                    .map(|(id, email)| (id.to_owned(), email.to_owned()))
                    .collect(),
            )
        }
        None => {
            let insert = crate::storage::query(
                "INSERT INTO events_to_everyone (seq, event_type, priority, title, body, ticket_id, url, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            );
            bind_columns(insert, &event, &at).execute(&mut *tx).await?;
            None
        }
    };
    if tx.dialect() == crate::storage::Dialect::Postgres {
        // Delivered at commit, in commit order, to every instance (crate::relay).
        crate::storage::query("SELECT pg_notify($1, $2)")
            .bind(crate::relay::EVENTS_CHANNEL)
            .bind(seq.to_string())
            .execute(&mut *tx)
            .await?;
    }
    if let Some(ticket_id) = ticket_id {
        let ticket_event = crate::tickets::TicketEvent {
            ticket_id,
            event_type: new.event_type,
            title: &event.title,
            url: new.url.as_deref(),
            requester: new.requester.as_deref(),
            at: &at,
        };
        crate::tickets::record(&mut *tx, &ticket_event).await?;
    }
    Ok(Stored {
        live: LiveEvent::new(&event),
        recipients,
    })
}

/// Binds an event's columns in the order both event tables have them, seq to created_at.
fn bind_columns(query: crate::storage::Query, event: &Event, at: &str) -> crate::storage::Query {
    query
        .bind(event.seq)
        .bind(event.event_type.as_str())
        .bind(event.priority.as_str())
        .bind(&event.title)
        .bind(&event.body)
        .bind(&event.ticket_id)
        .bind(&event.url)
        .bind(at)
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

/// The newest seq among an agent's events, 0 before their first.
pub async fn newest_seq(db: &Db, agent_id: &str) -> Result<i64, EventError> {
    // The view's two parts are read as a merge of two index ranges in seq order, so
    // this reads a row from each rather than all of them.
    Ok(crate::storage::query_scalar::<i64>(
        "SELECT seq FROM agent_events WHERE recipient_id = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(agent_id)
    .fetch_optional(db)
    .await?
    .unwrap_or(0))
}

/// Starts an agent's share of the events to everyone: those posted from now on. Nothing
/// changes for an agent who has one.
pub async fn start_feed(conn: &mut crate::storage::Conn, agent_id: &str) -> sqlx::Result<()> {
    // `WHERE TRUE` keeps SQLite from reading ON CONFLICT as a join's ON.
    crate::storage::query(
        "INSERT INTO event_feeds (agent_id, everyone_after) SELECT $1, last_seq FROM event_clock
         WHERE TRUE ON CONFLICT DO NOTHING",
    )
    .bind(agent_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Refuses a cursor below 0 or beyond the agent's newest event: a client that thinks it
/// is ahead of the server has the wrong server or database, and would miss events.
/// Answers the newest seq.
pub async fn check_cursor(db: &Db, agent_id: &str, after: i64) -> Result<i64, EventError> {
    let newest = newest_seq(db, agent_id).await?;
    if (0..=newest).contains(&after) {
        Ok(newest)
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
    let rows = crate::storage::query_as::<EventRow>(
        "SELECT seq, event_type, priority, title, body, ticket_id, url, created_at FROM agent_events
         WHERE recipient_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(agent_id)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(event_from_row).collect())
}

/// Up to `limit` of an agent's events created after `after` and no later than `until`.
pub async fn created_between(
    db: &Db,
    agent_id: &str,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Event>, EventError> {
    let rows = crate::storage::query_as::<EventRow>(
        "SELECT seq, event_type, priority, title, body, ticket_id, url, created_at FROM agent_events
         WHERE recipient_id = $1 AND created_at > $2 AND created_at <= $3 ORDER BY seq LIMIT $4",
    )
    .bind(agent_id)
    .bind(timestamp(after))
    .bind(timestamp(until))
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(event_from_row).collect())
}

/// The events stored with a seq above `after` and up to `upto`, in seq order, each with
/// its recipients' ids (None: everyone). For handing over what other instances stored.
pub(crate) async fn stored_between(
    db: &Db,
    after: i64,
    upto: i64,
) -> Result<Vec<(LiveEvent, Option<Vec<String>>)>, EventError> {
    let rows = crate::storage::query_as::<(
        Option<String>,
        i64,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    )>(
        "SELECT recipient_id, seq, event_type, priority, title, body, ticket_id, url, created_at
         FROM events WHERE seq > $1 AND seq <= $2
         UNION ALL
         SELECT NULL, seq, event_type, priority, title, body, ticket_id, url, created_at
         FROM events_to_everyone WHERE seq > $1 AND seq <= $2
         ORDER BY 2",
    )
    .bind(after)
    .bind(upto)
    .fetch_all(db)
    .await?;
    let mut stored: Vec<(LiveEvent, Option<Vec<String>>)> = Vec::new();
    for (recipient, seq, event_type, priority, title, body, ticket_id, url, created_at) in rows {
        match (stored.last_mut(), recipient) {
            (Some((live, Some(recipients))), Some(recipient)) if live.seq == seq => {
                recipients.push(recipient);
            }
            (_, recipient) => {
                let event = event_from_row((
                    seq, event_type, priority, title, body, ticket_id, url, created_at,
                ));
                stored.push((LiveEvent::new(&event), recipient.map(|id| vec![id])));
            }
        }
    }
    Ok(stored)
}

/// A stored event on its way to its recipients' open streams, as JSON: every recipient
/// gets the same seq, so an event to thousands is serialised once.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub seq: i64,
    json: Arc<str>,
}

impl LiveEvent {
    fn new(event: &Event) -> Self {
        Self {
            seq: event.seq,
            // Serialising a plain struct of strings and numbers cannot fail.
            json: Arc::from(serde_json::to_string(event).unwrap_or_default()),
        }
    }

    /// The event's JSON as its recipients get it.
    pub fn json(&self) -> &str {
        &self.json
    }
}

/// An agent's profile before (when known since the server started) and after a change.
#[derive(Debug)]
pub struct ProfileChange {
    pub before: Option<Arc<Profile>>,
    pub after: Arc<Profile>,
}

impl ProfileChange {
    /// What a viewer should hear of this change: their colleague's new status when they
    /// may see it and it changed (or they could not see it before); `null` once, when
    /// they could see it and now may not; nothing otherwise, so a hidden status leaves
    /// no trace, not even the moment it changed.
    pub fn as_seen_by(&self, viewer: &Viewer<'_>) -> Option<PresenceChange> {
        let sees = Sight::of(viewer, &self.after).status;
        let before = self
            .before
            .as_deref()
            .filter(|before| Sight::of(viewer, before).status);
        let unchanged = before.is_some_and(|before| {
            before.status == self.after.status && before.status_until == self.after.status_until
        });
        let (status, status_until) = match (before.is_some(), sees) {
            (_, true) if unchanged => return None,
            (_, true) => (Some(self.after.status), self.after.status_until),
            (true, false) => (None, None),
            (false, false) => return None,
        };
        Some(PresenceChange {
            agent_id: self.after.id.clone(),
            status,
            status_until,
        })
    }
}

/// Events and other writes in one transaction (`EventHub::begin_batch`). The hub's
/// turn is held until the batch ends, so seqs reach streams in order.
pub struct Batch<'h> {
    hub: &'h EventHub,
    _turn: tokio::sync::MutexGuard<'h, ()>,
    tx: crate::storage::Conn,
    stored: Vec<Stored>,
}

impl Batch<'_> {
    /// The transaction, for the writes that go with the events.
    pub fn conn(&mut self) -> &mut crate::storage::Conn {
        &mut self.tx
    }

    /// Adds an event for `target`; an agent, team or nobody that does not exist is an
    /// error, as in `publish`, and leaves the rest of the batch as it was.
    pub async fn publish(
        &mut self,
        target: &EventTarget,
        new: &NewEvent,
        now: DateTime<Utc>,
    ) -> Result<Published, EventError> {
        let audience = audience_in(&mut self.tx, target).await?;
        let stored = store_in(&mut self.tx, &audience, new, now).await?;
        let published = Published::of(&stored);
        self.stored.push(stored);
        Ok(published)
    }

    /// Commits it all, then hands the events to the open streams.
    pub async fn commit(self) -> Result<usize, EventError> {
        self.tx.commit().await?;
        for stored in &self.stored {
            self.hub.hand_over_here(stored);
        }
        Ok(self.stored.len())
    }
}

/// Live events on their way to open streams, and how many streams each agent has open.
pub struct EventHub {
    agents: Mutex<HashMap<String, AgentStreams>>,
    /// Agents' profiles before and after a change, for the streams that follow presence;
    /// each stream decides what its viewer may see. Not kept: a stream that lags skips
    /// some, and the client's directory refreshes on its own as well.
    presence: broadcast::Sender<Arc<ProfileChange>>,
    /// Each agent's profile as last announced, the "before" of their next change.
    announced: Mutex<HashMap<String, Arc<Profile>>>,
    /// Held from taking a seq until the event is handed over, so streams get events in
    /// seq order and can take anything newer than their cursor as next.
    publishing: tokio::sync::Mutex<()>,
    db: Db,
    offline_grace: Duration,
    /// Every open stream holds a token until it has said goodbye to its client. Closed,
    /// under the `agents` lock, once the server is shutting down.
    running: TaskTracker,
    /// Numbers the streams, so each can be found again when it closes.
    streams_opened: std::sync::atomic::AtomicU64,
    /// Counts status changes, for the clocks that act on them (an "until" to wait for,
    /// a webhook to post).
    status_changes: tokio::sync::watch::Sender<u64>,
    /// This instance, which counts its streams for the others.
    instance: Arc<crate::instances::Instance>,
}

struct AgentStreams {
    sender: broadcast::Sender<LiveEvent>,
    open: usize,
    /// Counts disconnections, so a grace timer knows whether the agent came back since.
    disconnections: u64,
    /// Each open stream's session, and how to tell the stream its session has ended.
    sessions: Vec<StreamSession>,
}

/// An open stream's session, by the stream's number.
struct StreamSession {
    stream: u64,
    session_id: String,
    signed_out: Option<oneshot::Sender<()>>,
}

/// A stream that falls this many events behind reads the rest from the database. Small:
/// every agent with a stream open has a buffer this long.
const STREAM_BUFFER: usize = 64;
/// Profile changes held for streams following presence; one channel for all of them.
const PRESENCE_BUFFER: usize = 256;

impl EventHub {
    pub fn new(db: Db, offline_grace: Duration) -> Arc<Self> {
        Arc::new(Self {
            agents: Mutex::default(),
            presence: broadcast::channel(PRESENCE_BUFFER).0,
            announced: Mutex::default(),
            publishing: tokio::sync::Mutex::default(),
            db,
            offline_grace,
            running: TaskTracker::new(),
            streams_opened: std::sync::atomic::AtomicU64::new(0),
            status_changes: tokio::sync::watch::channel(0).0,
            instance: crate::instances::Instance::new(),
        })
    }

    /// This instance among those serving the database.
    pub fn instance(&self) -> &Arc<crate::instances::Instance> {
        &self.instance
    }

    /// How long after an agent's last stream closes they go Offline.
    pub fn offline_grace(&self) -> Duration {
        self.offline_grace
    }

    /// The agents with a stream open on this instance.
    pub fn agents_with_streams(&self) -> Vec<String> {
        let agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        agents
            .iter()
            .filter(|(_, streams)| streams.open > 0)
            .map(|(agent_id, _)| agent_id.clone())
            .collect()
    }

    /// A status was changed (and saved): the clocks following status changes look again.
    pub fn status_changed(&self) {
        self.status_changes
            .send_modify(|count| *count = count.wrapping_add(1));
    }

    /// Hears of every status change from now on.
    pub fn follow_status_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.status_changes.subscribe()
    }

    /// Ends every open stream: the server is shutting down. Dropping the senders closes
    /// the streams' channels, and a stream opened from now on starts closed.
    pub fn close_all(&self) {
        let mut agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        self.running.close();
        agents.clear();
    }

    /// Resolves once every stream has ended after `close_all`, or after `limit`.
    pub async fn streams_ended(&self, limit: Duration) {
        if tokio::time::timeout(limit, self.running.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                open = self.running.len(),
                "event streams still open at shutdown"
            );
        }
    }

    /// Stores an event and hands it to the streams open for its recipients, in turn with
    /// other publishers.
    async fn publish(
        &self,
        db: &Db,
        audience: &Audience,
        new: &NewEvent,
        now: DateTime<Utc>,
    ) -> Result<Stored, EventError> {
        let _turn = self.publishing.lock().await;
        let stored = store(db, audience, new, now).await?;
        self.hand_over_here(&stored);
        Ok(stored)
    }

    /// Begins events published together with other writes, all in one transaction: none
    /// is stored, and none reaches a stream, unless all of it commits.
    pub async fn begin_batch(&self, db: &Db) -> Result<Batch<'_>, EventError> {
        let turn = self.publishing.lock().await;
        Ok(Batch {
            hub: self,
            _turn: turn,
            tx: crate::db::begin_write(db).await?,
            stored: Vec::new(),
        })
    }

    /// Hands an event this instance stored to the open streams of those it went to,
    /// unless events reach streams through the database, as they do on PostgreSQL,
    /// where other instances store events too (crate::relay): handing it over here as
    /// well would let a stream see it before an earlier seq stored elsewhere.
    fn hand_over_here(&self, stored: &Stored) {
        if self.db.dialect() == crate::storage::Dialect::Postgres {
            return;
        }
        let recipients = stored
            .recipients
            .as_ref()
            .map(|recipients| recipients.iter().map(|(agent_id, _)| agent_id.as_str()));
        self.hand_over(&stored.live, recipients);
    }

    /// Hands an event to the open streams of `recipients`, or of everyone.
    pub(crate) fn hand_over<'a>(
        &self,
        live: &LiveEvent,
        recipients: Option<impl Iterator<Item = &'a str>>,
    ) {
        let agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        // No receiver is fine: the event is stored and read on the next connect.
        match recipients {
            Some(recipients) => {
                for agent_id in recipients {
                    if let Some(streams) = agents.get(agent_id) {
                        let _ = streams.sender.send(live.clone());
                    }
                }
            }
            None => {
                for streams in agents.values() {
                    let _ = streams.sender.send(live.clone());
                }
            }
        }
    }

    /// Registers an open stream of a session; events sent from now on reach its
    /// receiver, and `signed_out` resolves when the session ends.
    pub fn open_stream(self: &Arc<Self>, agent_id: &str, session_id: &str) -> OpenStream {
        let stream = self
            .streams_opened
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (signal, signed_out) = oneshot::channel();
        let mut agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        if self.running.is_closed() {
            // A channel without a sender: the stream ends at once.
            return OpenStream {
                events: broadcast::channel(1).1,
                signed_out,
                hub: Arc::clone(self),
                agent_id: agent_id.to_owned(),
                stream,
                _running: self.running.token(),
            };
        }
        let streams = agents
            .entry(agent_id.to_owned())
            .or_insert_with(|| AgentStreams {
                sender: broadcast::channel(STREAM_BUFFER).0,
                open: 0,
                disconnections: 0,
                sessions: Vec::new(),
            });
        streams.open += 1;
        streams.sessions.push(StreamSession {
            stream,
            session_id: session_id.to_owned(),
            signed_out: Some(signal),
        });
        self.instance.streams_changed(agent_id);
        OpenStream {
            events: streams.sender.subscribe(),
            signed_out,
            hub: Arc::clone(self),
            agent_id: agent_id.to_owned(),
            stream,
            _running: self.running.token(),
        }
    }

    /// Closes the streams of the agent's sessions that were just ended (signed out,
    /// signed out from another session, ended by a password change or reset): each
    /// tells its client it was signed out. On PostgreSQL, other instances are told too
    /// (crate::relay), and close the streams open on them.
    pub fn end_sessions(&self, agent_id: &str, ended: &[String]) {
        self.end_sessions_here(agent_id, ended);
        if self.db.dialect() == crate::storage::Dialect::Postgres {
            let (db, agent_id, ended) = (self.db.clone(), agent_id.to_owned(), ended.to_vec());
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    crate::relay::tell_sessions_ended(&db, &agent_id, &ended).await;
                });
            }
        }
    }

    /// The ids of the sessions whose streams are open on this instance.
    pub(crate) fn sessions_here(&self) -> Vec<(String, String)> {
        let agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        agents
            .iter()
            .flat_map(|(agent_id, streams)| {
                streams
                    .sessions
                    .iter()
                    .map(move |session| (agent_id.clone(), session.session_id.clone()))
            })
            .collect()
    }

    /// Closes the streams open on this instance of the agent's ended sessions.
    pub(crate) fn end_sessions_here(&self, agent_id: &str, ended: &[String]) {
        let mut agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(streams) = agents.get_mut(agent_id) else {
            return;
        };
        for session in &mut streams.sessions {
            if ended.contains(&session.session_id) {
                if let Some(signal) = session.signed_out.take() {
                    let _ = signal.send(());
                }
            }
        }
    }

    /// Profile changes from now on, for a stream that follows presence.
    pub fn follow_presence(&self) -> broadcast::Receiver<Arc<ProfileChange>> {
        self.presence.subscribe()
    }

    /// Tells the streams following presence that an agent's profile or status changed:
    /// on PostgreSQL, those on every instance (crate::relay).
    async fn announce(&self, db: &Db, agent_id: &str) {
        if db.dialect() == crate::storage::Dialect::Postgres {
            crate::relay::tell_presence_changed(db, agent_id).await;
        } else {
            self.announce_here(db, agent_id).await;
        }
    }

    /// Tells the streams following presence on this instance that an agent's profile or
    /// status changed.
    pub(crate) async fn announce_here(&self, db: &Db, agent_id: &str) {
        let after = match crate::agents::profile(db, agent_id).await {
            Ok((profile, _)) => Arc::new(profile),
            Err(error) => {
                tracing::warn!(%error, "could not announce a presence change");
                return;
            }
        };
        let before = self
            .announced
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(agent_id.to_owned(), Arc::clone(&after));
        // No stream following is fine.
        let _ = self
            .presence
            .send(Arc::new(ProfileChange { before, after }));
    }

    /// How many streams are open for an agent.
    pub fn open_streams(&self, agent_id: &str) -> usize {
        let agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        agents.get(agent_id).map_or(0, |streams| streams.open)
    }

    fn close_stream(self: &Arc<Self>, agent_id: &str, stream: u64) {
        let mut agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(streams) = agents.get_mut(agent_id) else {
            return;
        };
        streams.sessions.retain(|session| session.stream != stream);
        streams.open = streams.open.saturating_sub(1);
        self.instance.streams_changed(agent_id);
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

    /// After the grace period: if the agent has not reconnected since, here or to another
    /// instance, they are Offline.
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
        self.go_offline_unless_connected(agent_id).await;
    }

    /// Sets the agent Offline unless they have a stream open on any instance.
    pub(crate) async fn go_offline_unless_connected(&self, agent_id: &str) {
        if self.open_streams(agent_id) > 0 {
            return;
        }
        match crate::instances::streams_elsewhere(&self.db, &self.instance.id, agent_id).await {
            Ok(false) => {}
            Ok(true) => return,
            Err(error) => {
                // Unknown: better an agent left Available a while than one set Offline
                // while connected.
                tracing::warn!(%error, "could not count an agent's streams on other instances");
                return;
            }
        }
        let now = Utc::now();
        let offline = crate::status::change(
            &self.db,
            self,
            agent_id,
            Status::Offline,
            None,
            agent_desk_core::routing::StatusCause::Disconnected,
            now,
        );
        if let Err(error) = offline.await {
            tracing::warn!(%error, "could not set a disconnected agent offline");
        }
    }
}

/// An open stream's registration: events arrive on `events`; dropping it closes the
/// stream, and the agent goes Offline when it was their last for the grace period.
pub struct OpenStream {
    pub events: broadcast::Receiver<LiveEvent>,
    /// Resolves when the stream's session has ended.
    pub signed_out: oneshot::Receiver<()>,
    hub: Arc<EventHub>,
    agent_id: String,
    stream: u64,
    _running: TaskTrackerToken,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.hub.close_stream(&self.agent_id, self.stream);
    }
}

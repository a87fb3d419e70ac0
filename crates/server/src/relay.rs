//! What is live between server instances on one PostgreSQL database: events, presence
//! changes and ended sessions.
//!
//! **Events.** Any instance may store an
//! event; each hands events to the streams open on it. The transaction that stores an
//! event notifies channel [`EVENTS_CHANNEL`] with its seq, which PostgreSQL delivers at
//! commit to every instance listening. Each instance then reads, from the tables, every
//! event after the last it handed over, and hands them over in seq order.
//!
//! The notification only wakes an instance; what it hands over always comes from the
//! tables. So a notification lost (sqlx's listener drops those sent while it
//! reconnects) costs a moment, never an event: a reconnect is followed by a catch-up,
//! and so is every later notification. Seqs become readable in the order they were
//! given out (the clock's row stays locked until the event's transaction commits), so
//! reading "after the last handed over" never skips one still being written.
//!
//! **Presence changes and ended sessions** have no seq: channels [`PRESENCE_CHANNEL`]
//! (an agent's id) and [`SESSIONS_CHANNEL`] (an agent's id and the sessions that ended)
//! tell every instance, which then reads the profile, or closes those sessions' streams
//! open on it. A presence change missed is made good by the client's own refresh of
//! the directory; a session's end missed while listening anew is found by checking,
//! once listening again, that every session with a stream here still exists.
//!
//! On SQLite there is one instance, and it does all this directly.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;

use crate::events::{self, EventHub};
use crate::storage::Db;

/// The channel events' seqs are announced on.
pub const EVENTS_CHANNEL: &str = "agent_desk_events";
/// The channel agents whose profile or status changed are announced on.
pub const PRESENCE_CHANNEL: &str = "agent_desk_presence";
/// The channel ended sessions are announced on: the agent's id, a tab, then the
/// sessions' ids separated by commas.
pub const SESSIONS_CHANNEL: &str = "agent_desk_sessions";
/// Session ids a notification carries at most, well inside PostgreSQL's 8 000-byte
/// payload.
const SESSIONS_A_NOTIFICATION: usize = 100;

/// How many seqs a catch-up reads at a time.
const PAGE: i64 = 500;
/// How long to wait before listening again after a failure, doubling up to the last.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LAST_RETRY: Duration = Duration::from_secs(10);
/// How long a listener waits for a notification before catching up anyway: a bound on
/// how late an event could be should a notification ever go missing unnoticed.
const QUIET_CATCH_UP: Duration = Duration::from_secs(30);

/// Starts handing over the events every instance stores, on PostgreSQL; nothing on
/// SQLite. Called before the first stream can open: events stored before this reach
/// streams by their own catch-up from the tables, those after it through the relay.
pub async fn start_event_relay(db: Db, hub: Arc<EventHub>) -> Result<(), events::EventError> {
    let Db::Postgres(pool) = &db else {
        return Ok(());
    };
    let pool = pool.clone();
    let mut relay = Relay {
        handed_over: clock(&db).await?,
        db,
        hub,
    };
    tokio::spawn(async move {
        let mut wait = FIRST_RETRY;
        loop {
            let error = relay.listen(&pool, &mut wait).await;
            tracing::warn!(%error, retry_in = ?wait, "listening for events failed");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(LAST_RETRY);
        }
    });
    Ok(())
}

/// The last seq given out and committed.
async fn clock(db: &Db) -> Result<i64, events::EventError> {
    Ok(
        crate::storage::query_scalar("SELECT last_seq FROM event_clock WHERE id = 1")
            .fetch_one(db)
            .await?,
    )
}

struct Relay {
    db: Db,
    hub: Arc<EventHub>,
    /// The seq up to which every event has been handed over.
    handed_over: i64,
}

impl Relay {
    /// Listens on one connection until it fails or is lost, catching up once
    /// listening, after each notification and at least every [`QUIET_CATCH_UP`];
    /// answers why it stopped.
    async fn listen(&mut self, pool: &sqlx::PgPool, wait: &mut Duration) -> events::EventError {
        let mut listener = match PgListener::connect_with(pool).await {
            Ok(listener) => listener,
            Err(error) => return error.into(),
        };
        let channels = [EVENTS_CHANNEL, PRESENCE_CHANNEL, SESSIONS_CHANNEL];
        if let Err(error) = listener.listen_all(channels).await {
            return error.into();
        }
        *wait = FIRST_RETRY;
        // Sessions ended while nobody listened.
        if let Err(error) = self.end_missing_sessions().await {
            return error.into();
        }
        loop {
            // Stored before listening began, or announced just now.
            if let Err(error) = self.catch_up().await {
                return error;
            }
            match tokio::time::timeout(QUIET_CATCH_UP, listener.try_recv()).await {
                Ok(Ok(Some(notification))) => match notification.channel() {
                    PRESENCE_CHANNEL => {
                        self.hub
                            .announce_here(&self.db, notification.payload())
                            .await;
                        // Perhaps a status: the status webhook and the "until" clock,
                        // whichever instance runs them, look again.
                        self.hub.status_changed();
                    }
                    SESSIONS_CHANNEL => {
                        if let Some((agent_id, sessions)) = notification.payload().split_once('\t')
                        {
                            let ended: Vec<String> =
                                sessions.split(',').map(str::to_owned).collect();
                            self.hub.end_sessions_here(agent_id, &ended);
                        }
                    }
                    _ => {}
                },
                // Quiet: besides the catch-up, the sessions of the streams here are
                // checked, should a notification of their end have been lost.
                Err(_) => {
                    if let Err(error) = self.end_missing_sessions().await {
                        return error.into();
                    }
                }
                // sqlx would listen again at the next call, but what is committed before
                // it does would wake nobody: listen anew, then catch up.
                Ok(Ok(None)) => {
                    return sqlx::Error::Protocol("the event listener's connection was lost".into())
                        .into()
                }
                Ok(Err(error)) => return error.into(),
            }
        }
    }

    /// Closes the streams here whose sessions no longer exist.
    async fn end_missing_sessions(&self) -> Result<(), sqlx::Error> {
        let Db::Postgres(pool) = &self.db else {
            return Ok(());
        };
        let here = self.hub.sessions_here();
        for chunk in here.chunks(1000) {
            let ids: Vec<&str> = chunk.iter().map(|(_, session)| session.as_str()).collect();
            let existing: std::collections::HashSet<String> =
                sqlx::query_scalar("SELECT id FROM sessions WHERE id = ANY($1)")
                    .bind(&ids)
                    .fetch_all(pool)
                    .await?
                    .into_iter()
                    .collect();
            for (agent_id, session_id) in chunk {
                if !existing.contains(session_id) {
                    self.hub
                        .end_sessions_here(agent_id, std::slice::from_ref(session_id));
                }
            }
        }
        Ok(())
    }

    /// Hands over every event after the last handed over, up to the clock.
    async fn catch_up(&mut self) -> Result<(), events::EventError> {
        let clock = clock(&self.db).await?;
        while self.handed_over < clock {
            let upto = clock.min(self.handed_over + PAGE);
            for (live, recipients) in
                events::stored_between(&self.db, self.handed_over, upto).await?
            {
                let recipients = recipients
                    .as_ref()
                    .map(|recipients| recipients.iter().map(String::as_str));
                self.hub.hand_over(&live, recipients);
            }
            self.handed_over = upto;
        }
        Ok(())
    }
}

/// Tells every instance that an agent's profile or status changed. A failure is only
/// logged: the change is saved, and viewers' directories refresh on their own.
pub async fn tell_presence_changed(db: &Db, agent_id: &str) {
    notify(db, PRESENCE_CHANNEL, agent_id).await;
}

/// Tells every instance that these sessions of an agent have ended. A failure is only
/// logged: the sessions are gone, and a stream finds that out by itself at its next
/// check, as every instance does when it listens anew.
pub async fn tell_sessions_ended(db: &Db, agent_id: &str, ended: &[String]) {
    for sessions in ended.chunks(SESSIONS_A_NOTIFICATION) {
        notify(
            db,
            SESSIONS_CHANNEL,
            &format!("{agent_id}\t{}", sessions.join(",")),
        )
        .await;
    }
}

async fn notify(db: &Db, channel: &str, payload: &str) {
    let sent = crate::storage::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(db)
        .await;
    if let Err(error) = sent {
        tracing::warn!(%error, channel, "could not tell the other instances");
    }
}

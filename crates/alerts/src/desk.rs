//! The alert desk: takes the agent's events in seq order, keeps the recent ones and the
//! cursor on disk, decides with the policy, and hands what should interrupt to a
//! delivery thread that shows notifications and plays sounds.
//!
//! The cursor and the inbox are written together, before anything is shown: a crash
//! after the write loses at most a notification (the alert waits, unread, in the app);
//! a crash before it means the events are fetched again, and shown then. Neither
//! replays an alert already in the inbox nor drops one.

use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use agent_desk_core::{Event, EventType, NotificationPrefs, Priority, Status, StatusState};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::coalesce::{Coalescer, Showing};
use crate::inbox::{
    Alert, AlertOutcome, AlertsState, SelfTestCheck, SelfTestItem, SelfTestProblem, SelfTestReport,
    StreamConnection,
};
use crate::notifier::{DesktopNotifier, Notice};
use crate::policy::{AlertPolicy, Interruption};

/// Alerts kept for the app's list.
pub const INBOX_SIZE: usize = 200;
/// Events closer together than this form a burst…
pub const BURST_WINDOW: Duration = Duration::from_secs(2);
/// …whose summary is redrawn at most this often.
pub const SUMMARY_REFRESH: Duration = Duration::from_millis(400);

/// Plays the alert sound for a priority on the alert device; an error says why not.
pub type PlaySound = Box<dyn Fn(Priority) -> Result<(), SoundFailure> + Send + Sync>;

/// Why the alert sound did not play.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoundFailure {
    #[error("no sound output: {0}")]
    NoDevice(String),
    #[error("{0}")]
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("the alerts could not be saved: {0}")]
    Save(String),
}

/// What newly received events changed besides the alerts, for the window to fetch again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Received {
    /// The agent's profile or status changed on the server.
    pub profile_changed: bool,
    /// A join request was made to a team the agent leads, or the agent's was decided.
    pub teams_changed: bool,
}

/// What is kept on disk: whose events, how far they were read, and the recent alerts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Stored {
    server: String,
    agent_id: String,
    /// The last seq taken in; `None` before the first connection.
    cursor: Option<i64>,
    inbox: Vec<Alert>,
    #[serde(default)]
    idle_away_minutes: Option<u32>,
}

struct Inner {
    stored: Stored,
    policy: AlertPolicy,
    status: StatusState,
    automatic_away: bool,
    connection: StreamConnection,
}

enum Job {
    Deliver(Box<Event>, Interruption),
    SelfTest(mpsc::Sender<SelfTestReport>),
}

pub struct AlertDesk {
    path: PathBuf,
    inner: Arc<Mutex<Inner>>,
    jobs: mpsc::Sender<Job>,
    on_change: Arc<dyn Fn(AlertsState) + Send + Sync>,
}

impl AlertDesk {
    /// Opens the desk of `agent_id` on `server`, from `path` when it holds theirs: another
    /// agent's or server's cursor and alerts are not carried over.
    pub fn open(
        path: PathBuf,
        server: &str,
        agent_id: &str,
        notifier: DesktopNotifier,
        play_sound: PlaySound,
        on_change: impl Fn(AlertsState) + Send + Sync + 'static,
    ) -> Self {
        let previous: Option<Stored> = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let idle_away_minutes = previous
            .as_ref()
            .map_or(Some(10), |stored| stored.idle_away_minutes);
        let stored = match previous {
            Some(stored) if stored.server == server && stored.agent_id == agent_id => stored,
            _ => Stored {
                server: server.to_owned(),
                agent_id: agent_id.to_owned(),
                cursor: None,
                inbox: Vec::new(),
                idle_away_minutes,
            },
        };
        let inner = Arc::new(Mutex::new(Inner {
            stored,
            policy: AlertPolicy {
                prefs: NotificationPrefs::default(),
                status: Status::Available,
                timezone: None,
            },
            status: StatusState {
                status: Status::Available,
                until: None,
            },
            automatic_away: false,
            connection: StreamConnection::Connecting,
        }));
        let on_change: Arc<dyn Fn(AlertsState) + Send + Sync> = Arc::new(on_change);
        let (jobs, queue) = mpsc::channel();
        let delivery = Delivery {
            inner: Arc::clone(&inner),
            notifier,
            play_sound: Arc::new(play_sound),
            coalescer: Coalescer::new(BURST_WINDOW, SUMMARY_REFRESH),
            burst_notification: None,
            on_change: Arc::clone(&on_change),
        };
        // Ends when the desk (the only sender) is dropped.
        let _ = std::thread::Builder::new()
            .name("alert-delivery".into())
            .spawn(move || delivery.run(queue));
        Self {
            path,
            inner,
            jobs,
            on_change,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The last seq taken in, to ask the server for what follows.
    pub fn cursor(&self) -> Option<i64> {
        self.lock().stored.cursor
    }

    /// Starts from `seq` when there is no cursor yet, so a first start does not replay
    /// the past as alerts.
    pub fn start_at(&self, seq: i64) -> Result<(), DeskError> {
        let mut inner = self.lock();
        if inner.stored.cursor.is_none() {
            inner.stored.cursor = Some(seq);
            save(&self.path, &inner.stored)?;
        }
        Ok(())
    }

    /// Takes in events in seq order. Seqs already taken are ignored, so a replayed
    /// stream shows nothing twice. Returns what else the new events changed.
    pub fn receive(&self, events: &[Event], now: DateTime<Utc>) -> Result<Received, DeskError> {
        let mut received = Received::default();
        let mut deliveries = Vec::new();
        let state = {
            let mut inner = self.lock();
            let mut cursor = inner.stored.cursor.unwrap_or(0);
            for event in events {
                if event.seq <= cursor {
                    continue;
                }
                cursor = event.seq;
                match event.event_type {
                    EventType::ProfileUpdated => {
                        received.profile_changed = true;
                        continue;
                    }
                    // Also an alert: a lead is asked to decide, a requester hears back.
                    EventType::TeamJoinRequested | EventType::TeamRequestDecided => {
                        received.teams_changed = true;
                    }
                    _ => {}
                }
                // A status chosen "until" a time that has passed is available again.
                inner.policy.status =
                    Status::in_force(inner.status.status, inner.status.until, now).0;
                let outcome = match inner.policy.decide(event, now) {
                    Ok(interruption) if interruption.desktop || interruption.sound => {
                        deliveries.push((event.clone(), interruption));
                        if interruption.desktop {
                            AlertOutcome::Notified
                        } else {
                            AlertOutcome::Silent
                        }
                    }
                    Ok(_) => AlertOutcome::Silent,
                    Err(outcome) => outcome,
                };
                inner.stored.inbox.insert(0, Alert::new(event, outcome));
            }
            if inner.stored.cursor == Some(cursor) {
                return Ok(Received::default());
            }
            inner.stored.cursor = Some(cursor);
            inner.stored.inbox.truncate(INBOX_SIZE);
            save(&self.path, &inner.stored)?;
            snapshot(&inner)
        };
        for (event, interruption) in deliveries {
            let _ = self.jobs.send(Job::Deliver(Box::new(event), interruption));
        }
        (self.on_change)(state);
        Ok(received)
    }

    pub fn state(&self) -> AlertsState {
        snapshot(&self.lock())
    }

    fn change(&self, apply: impl FnOnce(&mut Inner)) -> AlertsState {
        let state = {
            let mut inner = self.lock();
            apply(&mut inner);
            snapshot(&inner)
        };
        (self.on_change)(state.clone());
        state
    }

    fn change_saved(&self, apply: impl FnOnce(&mut Inner)) -> Result<AlertsState, DeskError> {
        let state = {
            let mut inner = self.lock();
            apply(&mut inner);
            save(&self.path, &inner.stored)?;
            snapshot(&inner)
        };
        (self.on_change)(state.clone());
        Ok(state)
    }

    pub fn set_prefs(&self, prefs: NotificationPrefs) -> AlertsState {
        self.change(|inner| inner.policy.prefs = prefs)
    }

    pub fn set_timezone(&self, timezone: Option<Tz>) -> AlertsState {
        self.change(|inner| inner.policy.timezone = timezone)
    }

    /// The status as the server holds it; `automatic` when idle detection set it.
    pub fn set_status(&self, status: StatusState, automatic: bool) -> AlertsState {
        self.change(|inner| {
            inner.status = status;
            inner.automatic_away = automatic && status.status == Status::Away;
        })
    }

    pub fn set_connection(&self, connection: StreamConnection) -> AlertsState {
        self.change(|inner| inner.connection = connection)
    }

    pub fn set_idle_away(&self, minutes: Option<u32>) -> Result<AlertsState, DeskError> {
        self.change_saved(|inner| inner.stored.idle_away_minutes = minutes)
    }

    pub fn idle_away(&self) -> Option<Duration> {
        self.lock()
            .stored
            .idle_away_minutes
            .map(|minutes| Duration::from_secs(u64::from(minutes) * 60))
    }

    pub fn mark_all_read(&self) -> Result<AlertsState, DeskError> {
        self.change_saved(|inner| {
            for alert in &mut inner.stored.inbox {
                alert.read = true;
            }
        })
    }

    /// Marks one alert read and returns its ticket address, if it has one.
    pub fn open_alert(&self, seq: i64) -> Result<(Option<String>, AlertsState), DeskError> {
        let mut url = None;
        let state = self.change_saved(|inner| {
            if let Some(alert) = inner.stored.inbox.iter_mut().find(|a| a.seq == seq) {
                alert.read = true;
                url.clone_from(&alert.url);
            }
        })?;
        Ok((url, state))
    }

    /// Shows a test notification and plays the alert sound, and says what failed.
    /// Blocks for up to a few seconds.
    pub fn self_test(&self) -> SelfTestReport {
        let (reply, report) = mpsc::channel();
        if self.jobs.send(Job::SelfTest(reply)).is_err() {
            return SelfTestReport {
                checks: vec![SelfTestCheck {
                    item: SelfTestItem::NotificationShown,
                    problem: Some(SelfTestProblem::ServiceNotAnswering),
                    detail: "the alert delivery has stopped".into(),
                }],
            };
        }
        report
            .recv_timeout(Duration::from_secs(15))
            .unwrap_or_else(|_| SelfTestReport {
                checks: vec![SelfTestCheck {
                    item: SelfTestItem::NotificationShown,
                    problem: Some(SelfTestProblem::ServiceNotAnswering),
                    detail: "the test did not finish in 15 s".into(),
                }],
            })
    }
}

fn snapshot(inner: &Inner) -> AlertsState {
    AlertsState {
        status: inner.status,
        automatic_away: inner.automatic_away,
        unread: inner.stored.inbox.iter().filter(|a| !a.read).count() as u32,
        connection: inner.connection,
        idle_away_minutes: inner.stored.idle_away_minutes,
        recent: inner.stored.inbox.clone(),
    }
}

/// Forgets whose alerts the file at `path` kept, and the alerts: the agent signed out,
/// and the computer may be shared. The idle setting, this computer's, stays.
pub fn forget_account(path: &std::path::Path) -> Result<(), DeskError> {
    let Some(kept) = std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Stored>(&bytes).ok())
    else {
        return Ok(());
    };
    save(
        path,
        &Stored {
            server: String::new(),
            agent_id: String::new(),
            cursor: None,
            inbox: Vec::new(),
            idle_away_minutes: kept.idle_away_minutes,
        },
    )
}

fn save(path: &std::path::Path, stored: &Stored) -> Result<(), DeskError> {
    let bytes = serde_json::to_vec(stored).map_err(|e| DeskError::Save(e.to_string()))?;
    agent_desk_core::files::write_atomically(path, &bytes)
        .map_err(|e| DeskError::Save(e.to_string()))
}

/// The delivery thread: notifications and sounds, off every other thread.
struct Delivery {
    inner: Arc<Mutex<Inner>>,
    notifier: DesktopNotifier,
    play_sound: Arc<PlaySound>,
    coalescer: Coalescer,
    /// The notification a burst began with, which its summary replaces.
    burst_notification: Option<u32>,
    on_change: Arc<dyn Fn(AlertsState) + Send + Sync>,
}

impl Delivery {
    fn run(mut self, queue: mpsc::Receiver<Job>) {
        loop {
            let wait = self
                .coalescer
                .next_due()
                .map(|due| due.saturating_duration_since(Instant::now()));
            let job = match wait {
                Some(wait) => queue.recv_timeout(wait),
                None => queue.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match job {
                Ok(Job::Deliver(event, interruption)) => self.deliver(&event, interruption),
                Ok(Job::SelfTest(reply)) => {
                    let _ = reply.send(self.self_test());
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            if let Some(summary) = self.coalescer.due(Instant::now()) {
                self.show(summary, None);
            }
            if !self.coalescer.in_burst() {
                self.burst_notification = None;
            }
        }
    }

    fn deliver(&mut self, event: &Event, interruption: Interruption) {
        if !interruption.desktop {
            self.sound(event.priority);
            return;
        }
        match self.coalescer.push(event, Instant::now()) {
            Some(showing) => {
                self.show(showing, Some(event.seq));
                if interruption.sound {
                    self.sound(event.priority);
                }
            }
            None => self.set_outcome(event.seq, AlertOutcome::Coalesced),
        }
    }

    fn show(&mut self, showing: Showing, seq: Option<i64>) {
        let critical_alone =
            matches!(&showing, Showing::One(e) if e.priority == Priority::Critical);
        let notice = match showing {
            Showing::One(event) => Notice {
                title: event.title.clone(),
                body: event.body.clone().unwrap_or_default(),
                priority: event.priority,
                url: event.url.clone(),
                replaces: None,
            },
            Showing::Summary {
                count,
                tickets_only,
                priority,
                url,
            } => Notice {
                title: if tickets_only {
                    format!("{count} new ticket alerts")
                } else {
                    format!("{count} new alerts")
                },
                body: "Open Agent Desk to see them all.".into(),
                priority,
                url,
                replaces: self.burst_notification,
            },
        };
        match self.notifier.show(&notice) {
            Ok(id) => {
                if !critical_alone && (notice.replaces.is_none() || id != 0) {
                    self.burst_notification = Some(id).filter(|id| *id != 0);
                }
            }
            Err(error) => {
                tracing_warn(&error.to_string());
                if let Some(seq) = seq {
                    self.set_outcome(seq, AlertOutcome::Failed);
                }
            }
        }
    }

    /// Plays on a thread of its own: a sound lasts up to seconds, and the next
    /// notification must not wait for it.
    fn sound(&self, priority: Priority) {
        let play_sound = Arc::clone(&self.play_sound);
        let _ = std::thread::Builder::new()
            .name("alert-sound".into())
            .spawn(move || {
                if let Err(error) = play_sound(priority) {
                    tracing_warn(&format!("the alert sound failed: {error}"));
                }
            });
    }

    fn set_outcome(&self, seq: i64, outcome: AlertOutcome) {
        let state = {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            match inner.stored.inbox.iter_mut().find(|a| a.seq == seq) {
                Some(alert) => alert.outcome = outcome,
                None => return,
            }
            snapshot(&inner)
        };
        (self.on_change)(state);
    }

    fn self_test(&self) -> SelfTestReport {
        let mut checks = Vec::new();
        let service = self.notifier.service();
        checks.push(SelfTestCheck {
            item: SelfTestItem::NotificationService,
            problem: service.as_ref().err().map(|e| e.problem()),
            detail: match &service {
                Ok(name) => name.clone(),
                Err(error) => error.to_string(),
            },
        });
        let shown = match &service {
            Ok(_) => self.notifier.show(&Notice {
                title: "Agent Desk test notification".into(),
                body: "Alerts for your tickets will look like this.".into(),
                priority: Priority::Normal,
                url: None,
                replaces: None,
            }),
            Err(error) => Err(error.clone()),
        };
        checks.push(SelfTestCheck {
            item: SelfTestItem::NotificationShown,
            problem: shown.as_ref().err().map(|e| e.problem()),
            detail: match &shown {
                Ok(_) => "shown".into(),
                Err(error) => error.to_string(),
            },
        });
        let sound = (self.play_sound)(Priority::Normal);
        checks.push(SelfTestCheck {
            item: SelfTestItem::Sound,
            problem: sound.as_ref().err().map(|error| match error {
                SoundFailure::NoDevice(_) => SelfTestProblem::NoSoundDevice,
                SoundFailure::Failed(_) => SelfTestProblem::SoundFailed,
            }),
            detail: match sound {
                Ok(()) => "played".into(),
                Err(error) => error.to_string(),
            },
        });
        SelfTestReport { checks }
    }
}

/// Failures of delivery are reported in the app (the alert's outcome); this line is for
/// the log of whoever runs the app from a terminal.
fn tracing_warn(message: &str) {
    eprintln!("agent-desk alerts: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64, priority: Priority) -> Event {
        Event {
            seq,
            event_type: EventType::TicketAssigned,
            priority,
            title: format!("#{seq}"),
            body: None,
            ticket_id: None,
            url: None,
            created_at: Utc::now(),
        }
    }

    fn desk(dir: &std::path::Path) -> AlertDesk {
        // No session bus here: notifications fail, which is recorded, and is not what
        // these tests look at.
        let notifier = DesktopNotifier::new("Agent Desk", "agent-desk", |_: &str| {});
        AlertDesk::open(
            dir.join("alerts.json"),
            "http://127.0.0.1:8787/",
            "agent",
            notifier,
            Box::new(|_| Ok(())),
            |_| {},
        )
    }

    #[test]
    fn team_and_profile_events_say_what_the_window_should_fetch_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let desk = desk(dir.path());
        let now = Utc::now();
        let ticket = desk.receive(&[event(1, Priority::Normal)], now);
        assert_eq!(ticket.expect("saved"), Received::default());
        let decided = Event {
            event_type: EventType::TeamRequestDecided,
            ..event(2, Priority::Normal)
        };
        let received = desk.receive(&[decided], now).expect("saved");
        assert!(received.teams_changed && !received.profile_changed);
        // The decision is an alert too.
        assert_eq!(desk.state().recent[0].title, "#2");
        let profile = Event {
            event_type: EventType::ProfileUpdated,
            ..event(3, Priority::Normal)
        };
        let received = desk.receive(&[profile], now).expect("saved");
        assert!(received.profile_changed && !received.teams_changed);
        // Replayed: nothing new, nothing to fetch.
        let decided_again = Event {
            event_type: EventType::TeamRequestDecided,
            ..event(2, Priority::Normal)
        };
        assert_eq!(
            desk.receive(&[decided_again], now).expect("saved"),
            Received::default()
        );
    }

    #[test]
    fn a_status_until_a_past_time_no_longer_holds_alerts() {
        let dir = tempfile::tempdir().expect("temp dir");
        let desk = desk(dir.path());
        let now = Utc::now();
        desk.set_status(
            StatusState {
                status: Status::Dnd,
                until: Some(now + chrono::Duration::minutes(30)),
            },
            false,
        );
        desk.receive(&[event(1, Priority::Normal)], now)
            .expect("saved");
        assert_eq!(desk.state().recent[0].outcome, AlertOutcome::Held);
        // An hour later the DND has ended, though nobody told the desk.
        desk.receive(
            &[event(2, Priority::Normal)],
            now + chrono::Duration::hours(1),
        )
        .expect("saved");
        assert_ne!(desk.state().recent[0].outcome, AlertOutcome::Held);
    }

    #[test]
    fn seqs_already_taken_are_ignored_and_the_cursor_survives_reopening() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = desk(dir.path());
        first.start_at(10).expect("saved");
        first
            .receive(
                &[event(9, Priority::Low), event(11, Priority::Low)],
                Utc::now(),
            )
            .expect("saved");
        first
            .receive(&[event(11, Priority::Low)], Utc::now())
            .expect("saved");
        assert_eq!(first.state().recent.len(), 1);
        drop(first);
        let again = desk(dir.path());
        assert_eq!(again.cursor(), Some(11));
        assert_eq!(again.state().unread, 1);
        // Another agent on this computer starts afresh.
        let other = AlertDesk::open(
            dir.path().join("alerts.json"),
            "http://127.0.0.1:8787/",
            "someone-else",
            DesktopNotifier::new("Agent Desk", "agent-desk", |_: &str| {}),
            Box::new(|_| Ok(())),
            |_| {},
        );
        assert_eq!(other.cursor(), None);
        assert!(other.state().recent.is_empty());
    }

    #[test]
    fn signing_out_forgets_the_alerts_and_keeps_the_computers_idle_setting() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = desk(dir.path());
        first.start_at(10).expect("saved");
        first.set_idle_away(Some(25)).expect("saved");
        first
            .receive(&[event(11, Priority::Normal)], Utc::now())
            .expect("saved");
        drop(first);
        forget_account(&dir.path().join("alerts.json")).expect("forgotten");
        let kept = std::fs::read_to_string(dir.path().join("alerts.json")).expect("file");
        assert!(!kept.contains("\"agent\""), "{kept}");
        let again = desk(dir.path());
        assert_eq!(again.cursor(), None);
        assert!(again.state().recent.is_empty());
        assert_eq!(again.state().idle_away_minutes, Some(25));
    }
}

//! Which events interrupt the agent, and how: preferences × status × quiet hours.

use agent_desk_core::{Event, EventType, NotificationPrefs, Priority, Status};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::inbox::AlertOutcome;

/// What an event may do to get the agent's attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interruption {
    pub desktop: bool,
    pub sound: bool,
}

/// The agent's situation the policy weighs an event against.
#[derive(Debug, Clone)]
pub struct AlertPolicy {
    pub prefs: NotificationPrefs,
    pub status: Status,
    /// Quiet hours are in the agent's time zone; the computer's when the profile has none.
    pub timezone: Option<Tz>,
}

impl AlertPolicy {
    /// The lowest priority that interrupts in a status: busy lets urgent and critical
    /// through, do-not-disturb only critical, offline nothing.
    pub fn threshold(status: Status) -> Option<Priority> {
        match status {
            Status::Available | Status::Away => Some(Priority::Low),
            Status::Busy => Some(Priority::Urgent),
            Status::Dnd => Some(Priority::Critical),
            Status::Offline => None,
        }
    }

    /// Whether `now` falls in the agent's quiet hours.
    pub fn in_quiet_hours(&self, now: DateTime<Utc>) -> bool {
        let local = match self.timezone {
            Some(zone) => now.with_timezone(&zone).time(),
            None => now.with_timezone(&chrono::Local).time(),
        };
        self.prefs.quiet_hours.contains(local)
    }

    /// How an event may interrupt at `now`, or why it stays in the app only.
    pub fn decide(&self, event: &Event, now: DateTime<Utc>) -> Result<Interruption, AlertOutcome> {
        if event.event_type == EventType::ProfileUpdated {
            return Err(AlertOutcome::Silent);
        }
        let row = self.prefs.for_type(event.event_type);
        if !row.desktop && !row.sound {
            return Err(AlertOutcome::Silent);
        }
        let passes_status =
            Self::threshold(self.status).is_some_and(|lowest| event.priority >= lowest);
        let passes_quiet = event.priority == Priority::Critical || !self.in_quiet_hours(now);
        if !(passes_status && passes_quiet) {
            return Err(AlertOutcome::Held);
        }
        Ok(Interruption {
            desktop: row.desktop,
            sound: row.sound,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_desk_core::QuietHours;
    use chrono::TimeZone;

    fn event(event_type: EventType, priority: Priority) -> Event {
        Event {
            seq: 1,
            event_type,
            priority,
            title: "t".into(),
            body: None,
            ticket_id: None,
            url: None,
            created_at: Utc::now(),
        }
    }

    fn policy(status: Status) -> AlertPolicy {
        AlertPolicy {
            prefs: NotificationPrefs::default(),
            status,
            timezone: Some(chrono_tz::Europe::Berlin),
        }
    }

    /// 12:00 in Berlin.
    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 11, 0, 0).unwrap()
    }

    #[test]
    fn status_sets_the_lowest_priority_that_interrupts() {
        let both = Ok(Interruption {
            desktop: true,
            sound: true,
        });
        for (status, priority, expected) in [
            (Status::Available, Priority::Low, both),
            (Status::Away, Priority::Normal, both),
            (Status::Busy, Priority::High, Err(AlertOutcome::Held)),
            (Status::Busy, Priority::Urgent, both),
            (Status::Dnd, Priority::Urgent, Err(AlertOutcome::Held)),
            (Status::Dnd, Priority::Critical, both),
            (Status::Offline, Priority::Critical, Err(AlertOutcome::Held)),
        ] {
            assert_eq!(
                policy(status).decide(&event(EventType::TicketAssigned, priority), noon()),
                expected,
                "{status:?} {priority:?}"
            );
        }
    }

    #[test]
    fn preferences_choose_the_channels() {
        let policy = policy(Status::Available);
        // Updates on watched tickets: desktop, no sound, by default.
        assert_eq!(
            policy.decide(&event(EventType::TicketUpdated, Priority::Normal), noon()),
            Ok(Interruption {
                desktop: true,
                sound: false
            })
        );
        assert_eq!(
            policy.decide(&event(EventType::RatingOther, Priority::Critical), noon()),
            Err(AlertOutcome::Silent),
            "admin-only types start off"
        );
        assert_eq!(
            policy.decide(
                &event(EventType::ProfileUpdated, Priority::Critical),
                noon()
            ),
            Err(AlertOutcome::Silent),
            "profile.updated is never an alert"
        );
    }

    #[test]
    fn quiet_hours_hold_all_but_critical_in_the_agents_time_zone() {
        let mut policy = policy(Status::Available);
        policy.prefs.quiet_hours = QuietHours {
            enabled: true,
            start: "11:30".into(),
            end: "12:30".into(),
        };
        let normal = event(EventType::TicketAssigned, Priority::Urgent);
        assert_eq!(policy.decide(&normal, noon()), Err(AlertOutcome::Held));
        assert!(policy
            .decide(
                &event(EventType::TicketAssigned, Priority::Critical),
                noon()
            )
            .is_ok());
        // Noon UTC is 13:00 in Berlin: outside.
        let later = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
        assert!(policy.decide(&normal, later).is_ok());
        // The same instant in Tokyo (21:00) is outside too.
        policy.timezone = Some(chrono_tz::Asia::Tokyo);
        assert!(policy.decide(&normal, noon()).is_ok());
    }
}

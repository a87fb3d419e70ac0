//! Bursts become one notification: the first event of a burst is shown at once, and
//! the rest update a single "N new tickets" notification in its place.

use std::time::{Duration, Instant};

use agent_desk_core::{Event, Priority};

/// What to show now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Showing {
    /// One event, as itself.
    One(Box<Event>),
    /// Several events as one notification, replacing the one the burst began with.
    Summary {
        count: u32,
        tickets_only: bool,
        /// The most urgent priority among them.
        priority: Priority,
        /// The newest event's ticket page, for "Open".
        url: Option<String>,
    },
}

/// Groups events that arrive within `window` of each other. Critical events are never
/// folded into a summary.
#[derive(Debug)]
pub struct Coalescer {
    window: Duration,
    /// How often a growing summary may be redrawn.
    refresh: Duration,
    burst: Option<Burst>,
}

#[derive(Debug)]
struct Burst {
    last_event_at: Instant,
    /// Events in the burst, the first (already shown) included.
    count: u32,
    tickets_only: bool,
    priority: Priority,
    url: Option<String>,
    /// Events since the summary was last shown.
    unshown: u32,
    shown_at: Instant,
}

impl Coalescer {
    pub fn new(window: Duration, refresh: Duration) -> Self {
        Self {
            window,
            refresh,
            burst: None,
        }
    }

    /// Takes an event that should be shown; returns what to show now, if anything.
    /// Whatever is held back comes out of [`Coalescer::due`].
    pub fn push(&mut self, event: &Event, now: Instant) -> Option<Showing> {
        if event.priority == Priority::Critical {
            return Some(Showing::One(Box::new(event.clone())));
        }
        let is_ticket = event.event_type.is_ticket();
        match &mut self.burst {
            Some(burst) if now.duration_since(burst.last_event_at) < self.window => {
                burst.last_event_at = now;
                burst.count += 1;
                burst.unshown += 1;
                burst.tickets_only &= is_ticket;
                burst.priority = burst.priority.max(event.priority);
                if event.url.is_some() {
                    burst.url.clone_from(&event.url);
                }
                None
            }
            _ => {
                self.burst = Some(Burst {
                    last_event_at: now,
                    count: 1,
                    tickets_only: is_ticket,
                    priority: event.priority,
                    url: event.url.clone(),
                    unshown: 0,
                    shown_at: now,
                });
                Some(Showing::One(Box::new(event.clone())))
            }
        }
    }

    /// When [`Coalescer::due`] next has something, if ever.
    pub fn next_due(&self) -> Option<Instant> {
        let burst = self.burst.as_ref()?;
        if burst.unshown > 0 {
            Some(burst.shown_at + self.refresh)
        } else {
            Some(burst.last_event_at + self.window)
        }
    }

    /// The summary to show or redraw at `now`, if its time has come; also ends a burst
    /// that has gone quiet.
    pub fn due(&mut self, now: Instant) -> Option<Showing> {
        let burst = self.burst.as_mut()?;
        if burst.unshown > 0 && now >= burst.shown_at + self.refresh {
            burst.unshown = 0;
            burst.shown_at = now;
            return Some(Showing::Summary {
                count: burst.count,
                tickets_only: burst.tickets_only,
                priority: burst.priority,
                url: burst.url.clone(),
            });
        }
        if burst.unshown == 0 && now >= burst.last_event_at + self.window {
            self.burst = None;
        }
        None
    }

    /// Whether a summary would replace the notification shown first in this burst.
    pub fn in_burst(&self) -> bool {
        self.burst.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_desk_core::EventType;

    fn event(seq: i64, priority: Priority) -> Event {
        Event {
            seq,
            event_type: EventType::TicketAssigned,
            priority,
            title: format!("#{seq}"),
            body: None,
            ticket_id: Some(seq.to_string()),
            url: Some(format!("https://desk.example/t/{seq}")),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_burst_shows_its_first_event_then_one_growing_summary() {
        let start = Instant::now();
        let ms = |n| start + Duration::from_millis(n);
        let mut coalescer = Coalescer::new(Duration::from_secs(2), Duration::from_millis(500));
        assert!(matches!(
            coalescer.push(&event(1, Priority::Normal), ms(0)),
            Some(Showing::One(_))
        ));
        for seq in 2..=50 {
            assert_eq!(
                coalescer.push(&event(seq, Priority::Normal), ms(seq as u64)),
                None
            );
        }
        assert_eq!(coalescer.push(&event(51, Priority::Urgent), ms(60)), None);
        assert_eq!(coalescer.next_due(), Some(ms(500)));
        assert_eq!(coalescer.due(ms(499)), None);
        assert_eq!(
            coalescer.due(ms(500)),
            Some(Showing::Summary {
                count: 51,
                tickets_only: true,
                priority: Priority::Urgent,
                url: Some("https://desk.example/t/51".into()),
            })
        );
        assert_eq!(coalescer.due(ms(1200)), None, "nothing new to redraw");
        // The burst ends 2 s after its last event; the next event stands alone.
        assert_eq!(coalescer.due(ms(2060)), None);
        assert!(!coalescer.in_burst());
        assert!(matches!(
            coalescer.push(&event(52, Priority::Normal), ms(2100)),
            Some(Showing::One(_))
        ));
    }

    #[test]
    fn critical_events_always_stand_alone() {
        let start = Instant::now();
        let mut coalescer = Coalescer::new(Duration::from_secs(2), Duration::from_millis(500));
        coalescer.push(&event(1, Priority::Normal), start);
        let critical = coalescer.push(&event(2, Priority::Critical), start);
        assert!(matches!(critical, Some(Showing::One(e)) if e.seq == 2));
        assert_eq!(coalescer.due(start + Duration::from_millis(600)), None);
    }
}

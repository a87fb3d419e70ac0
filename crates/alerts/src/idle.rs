//! Away when the computer is idle: the operating system's idle time (no keyboard or
//! mouse anywhere), not the app's, decides; and only an automatic Away is undone when
//! the agent returns.

use std::time::Duration;

use agent_desk_core::{Status, StatusUpdate};

/// What to do about the status after a look at the idle time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleAction {
    Nothing,
    /// Set Away, remembering that it was automatic.
    GoAway,
    /// Set back the status the agent had before going idle.
    Return(Status),
}

impl IdleAction {
    /// The change to ask of the server, marked as idle detection's so the server (and
    /// its status webhook) can tell it from the agent's own.
    pub fn status_update(self) -> Option<StatusUpdate> {
        let status = match self {
            Self::Nothing => return None,
            Self::GoAway => Status::Away,
            Self::Return(previous) => previous,
        };
        Some(StatusUpdate {
            status,
            until: None,
            idle: true,
        })
    }
}

/// Remembers whether Away was set automatically, and what to go back to.
#[derive(Debug, Default)]
pub struct IdleWatch {
    away_from: Option<Status>,
}

impl IdleWatch {
    /// Whether the current Away was set by this watch.
    pub fn automatic(&self) -> bool {
        self.away_from.is_some()
    }

    /// Weighs the idle time against the threshold (`None`: never go Away).
    pub fn update(
        &mut self,
        idle: Duration,
        threshold: Option<Duration>,
        status: Status,
    ) -> IdleAction {
        if let Some(previous) = self.away_from {
            if status != Status::Away {
                // The agent (or another device) chose a status meanwhile: theirs stands.
                self.away_from = None;
                return IdleAction::Nothing;
            }
            if threshold.is_none_or(|threshold| idle < threshold) {
                self.away_from = None;
                return IdleAction::Return(previous);
            }
            return IdleAction::Nothing;
        }
        match threshold {
            // Only an agent who is reachable goes Away; Busy, DND and Offline are choices
            // idle time must not override.
            Some(threshold) if idle >= threshold && status == Status::Available => {
                self.away_from = Some(status);
                IdleAction::GoAway
            }
            _ => IdleAction::Nothing,
        }
    }

    /// The automatic Away could not be set (offline, say): forget it.
    pub fn cancel(&mut self) {
        self.away_from = None;
    }
}

/// How long the whole system has had no keyboard or mouse input.
pub fn system_idle() -> Result<Duration, String> {
    system_idle_time::get_idle_time().map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_detection_asks_for_its_changes_as_its_own() {
        assert_eq!(IdleAction::Nothing.status_update(), None);
        let away = IdleAction::GoAway.status_update().expect("a change");
        assert_eq!(
            (away.status, away.until, away.idle),
            (Status::Away, None, true)
        );
        let back = IdleAction::Return(Status::Busy)
            .status_update()
            .expect("a change");
        assert_eq!((back.status, back.idle), (Status::Busy, true));
        // On the wire, so the server hears it.
        let json = serde_json::to_value(&away).expect("JSON");
        assert_eq!(json["idle"], true);
    }

    const TEN_MINUTES: Option<Duration> = Some(Duration::from_secs(600));

    fn minutes(n: u64) -> Duration {
        Duration::from_secs(n * 60)
    }

    #[test]
    fn goes_away_after_the_threshold_and_returns_when_the_agent_does() {
        let mut watch = IdleWatch::default();
        assert_eq!(
            watch.update(minutes(9), TEN_MINUTES, Status::Available),
            IdleAction::Nothing
        );
        assert_eq!(
            watch.update(minutes(10), TEN_MINUTES, Status::Available),
            IdleAction::GoAway
        );
        assert!(watch.automatic());
        assert_eq!(
            watch.update(minutes(25), TEN_MINUTES, Status::Away),
            IdleAction::Nothing
        );
        assert_eq!(
            watch.update(Duration::from_secs(2), TEN_MINUTES, Status::Away),
            IdleAction::Return(Status::Available)
        );
        assert!(!watch.automatic());
    }

    #[test]
    fn a_status_the_agent_chose_is_never_overridden() {
        let mut watch = IdleWatch::default();
        for status in [Status::Busy, Status::Dnd, Status::Offline, Status::Away] {
            assert_eq!(
                watch.update(minutes(60), TEN_MINUTES, status),
                IdleAction::Nothing
            );
        }
        // Away set automatically, then the agent picks DND from their phone: not undone.
        assert_eq!(
            watch.update(minutes(11), TEN_MINUTES, Status::Available),
            IdleAction::GoAway
        );
        assert_eq!(
            watch.update(minutes(12), TEN_MINUTES, Status::Dnd),
            IdleAction::Nothing
        );
        assert_eq!(
            watch.update(Duration::ZERO, TEN_MINUTES, Status::Dnd),
            IdleAction::Nothing
        );
    }

    #[test]
    fn never_means_never_and_switching_it_off_returns() {
        let mut watch = IdleWatch::default();
        assert_eq!(
            watch.update(minutes(600), None, Status::Available),
            IdleAction::Nothing
        );
        watch.update(minutes(11), TEN_MINUTES, Status::Available);
        assert_eq!(
            watch.update(minutes(11), None, Status::Away),
            IdleAction::Return(Status::Available)
        );
    }
}

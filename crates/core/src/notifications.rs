//! What an agent chooses to be told of, on which channel, and when to stay quiet.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::events::{EventType, InvalidField};

/// How often mail about an event type goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EmailFrequency {
    /// One mail per event.
    Immediate,
    /// One mail a day at 09:00 in the agent's time zone.
    Digest,
    /// One mail on Mondays at 09:00 in the agent's time zone.
    Weekly,
    #[default]
    Off,
}

impl EmailFrequency {
    /// Every frequency, most mail first.
    pub const ALL: [EmailFrequency; 4] = [Self::Immediate, Self::Digest, Self::Weekly, Self::Off];
}

/// The channels of one event type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct EventPrefs {
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// A native desktop notification.
    pub desktop: bool,
    /// A sound on the alert device.
    pub sound: bool,
    pub email: EmailFrequency,
    /// Only an administrator may switch this type on. Set by the server; ignored when sent.
    #[serde(default)]
    pub admin_only: bool,
}

impl EventPrefs {
    /// Whether any channel is on.
    pub fn any_on(&self) -> bool {
        self.desktop || self.sound || self.email != EmailFrequency::Off
    }

    /// What a new agent starts with.
    pub fn default_for(event_type: EventType) -> Self {
        use EventType::*;
        let (desktop, sound, email) = match event_type {
            TicketAssigned | TicketSlaWarning | TicketCustomerReply => {
                (true, true, EmailFrequency::Immediate)
            }
            TicketUpdated | TicketTeamAssigned => (true, false, EmailFrequency::Digest),
            SystemMaintenance => (true, false, EmailFrequency::Immediate),
            KbArticlePublished => (false, false, EmailFrequency::Weekly),
            ReportWeeklySummary => (false, false, EmailFrequency::Weekly),
            TeamJoinRequested | TeamRequestDecided | DepartmentRequestDecided => {
                (true, false, EmailFrequency::Immediate)
            }
            // Admin only, so off until an administrator switches it on.
            DepartmentChangeRequested => (false, false, EmailFrequency::Off),
            TicketCreated
            | TicketReplyOther
            | TicketReplyUnassigned
            | RatingOther
            | ChatAllOffline
            | ProfileUpdated => (false, false, EmailFrequency::Off),
        };
        Self {
            event_type,
            desktop,
            sound,
            email,
            admin_only: event_type.admin_only(),
        }
    }

    fn off(event_type: EventType) -> Self {
        Self {
            event_type,
            desktop: false,
            sound: false,
            email: EmailFrequency::Off,
            admin_only: event_type.admin_only(),
        }
    }
}

/// Hours in the agent's time zone when only critical events interrupt. `start` after
/// `end` spans midnight (22:00–07:00).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct QuietHours {
    pub enabled: bool,
    /// `HH:MM`, 24-hour.
    pub start: String,
    /// `HH:MM`, 24-hour.
    pub end: String,
}

impl Default for QuietHours {
    fn default() -> Self {
        Self {
            enabled: false,
            start: "22:00".into(),
            end: "07:00".into(),
        }
    }
}

impl QuietHours {
    /// Whether `local` (wall-clock time where the agent is) falls in the quiet hours.
    pub fn contains(&self, local: NaiveTime) -> bool {
        let (Some(start), Some(end)) = (parse_clock(&self.start), parse_clock(&self.end)) else {
            return false;
        };
        if !self.enabled || start == end {
            return false;
        }
        if start < end {
            start <= local && local < end
        } else {
            local >= start || local < end
        }
    }
}

/// Which end of the quiet hours a problem is with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub enum QuietHoursField {
    #[serde(rename = "quiet_hours.start")]
    Start,
    #[serde(rename = "quiet_hours.end")]
    End,
}

impl QuietHoursField {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Start => "quiet_hours.start",
            Self::End => "quiet_hours.end",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum QuietHoursIssue {
    /// Not a time as `HH:MM` (00:00 to 23:59): refused.
    Invalid,
    /// Switched on with the same start and end: kept, but it silences nothing.
    EmptySpan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct QuietHoursProblem {
    pub field: QuietHoursField,
    pub problem: QuietHoursIssue,
}

impl QuietHours {
    /// What is wrong with these quiet hours, the form's warning included: the server
    /// refuses only the `Invalid` ones.
    pub fn problems(&self) -> Vec<QuietHoursProblem> {
        let mut problems: Vec<QuietHoursProblem> = [
            (QuietHoursField::Start, &self.start),
            (QuietHoursField::End, &self.end),
        ]
        .into_iter()
        .filter(|(_, value)| parse_clock(value).is_none())
        .map(|(field, _)| QuietHoursProblem {
            field,
            problem: QuietHoursIssue::Invalid,
        })
        .collect();
        if problems.is_empty() && self.enabled && self.start == self.end {
            problems.push(QuietHoursProblem {
                field: QuietHoursField::End,
                problem: QuietHoursIssue::EmptySpan,
            });
        }
        problems
    }
}

/// `HH:MM` on a 24-hour clock.
pub fn parse_clock(text: &str) -> Option<NaiveTime> {
    let (hours, minutes) = text.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(hours.parse().ok()?, minutes.parse().ok()?, 0)
}

/// `GET|PUT /api/v1/me/notification-prefs`: a row for every configurable event type,
/// in a fixed order, and the quiet hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NotificationPrefs {
    pub events: Vec<EventPrefs>,
    pub quiet_hours: QuietHours,
    /// Whether the caller may switch on the admin-only rows. Set by the server; ignored
    /// when sent.
    #[serde(default)]
    pub can_configure_admin_only: bool,
}

impl Default for NotificationPrefs {
    fn default() -> Self {
        Self {
            events: EventType::ALL
                .into_iter()
                .filter(|kind| kind.configurable())
                .map(EventPrefs::default_for)
                .collect(),
            quiet_hours: QuietHours::default(),
            can_configure_admin_only: false,
        }
    }
}

impl NotificationPrefs {
    /// The row of one type; types that are not configurable have every channel off.
    pub fn for_type(&self, event_type: EventType) -> EventPrefs {
        self.events
            .iter()
            .find(|row| row.event_type == event_type)
            .cloned()
            .unwrap_or_else(|| EventPrefs::off(event_type))
    }

    /// Checks a sent set of preferences and puts it in the stored shape: one row per
    /// configurable type in the fixed order, absent types at their defaults, the
    /// server-set flags recomputed.
    pub fn normalised(mut self, can_configure_admin_only: bool) -> Result<Self, InvalidField> {
        let mut rows = Vec::with_capacity(self.events.len());
        for (index, row) in self.events.drain(..).enumerate() {
            if !row.event_type.configurable() {
                return Err(InvalidField::new(
                    format!("events[{index}].type"),
                    format!(
                        "{} is not a notification an agent configures",
                        row.event_type
                    ),
                ));
            }
            if rows
                .iter()
                .any(|seen: &EventPrefs| seen.event_type == row.event_type)
            {
                return Err(InvalidField::new(
                    format!("events[{index}].type"),
                    format!("{} is listed twice", row.event_type),
                ));
            }
            rows.push(row);
        }
        if let Some(problem) = self
            .quiet_hours
            .problems()
            .into_iter()
            .find(|problem| problem.problem == QuietHoursIssue::Invalid)
        {
            let name = problem.field.as_str();
            return Err(InvalidField::new(
                name,
                format!("{name} must be a time as HH:MM (00:00 to 23:59)"),
            ));
        }
        let events = EventType::ALL
            .into_iter()
            .filter(|kind| kind.configurable())
            .map(|kind| {
                let mut row = rows
                    .iter()
                    .find(|row| row.event_type == kind)
                    .cloned()
                    .unwrap_or_else(|| EventPrefs::default_for(kind));
                row.admin_only = kind.admin_only();
                row
            })
            .collect();
        Ok(Self {
            events,
            quiet_hours: self.quiet_hours,
            can_configure_admin_only,
        })
    }

    /// The first admin-only type this switches on, which only an administrator may do.
    pub fn enabled_admin_only(&self) -> Option<EventType> {
        self.events
            .iter()
            .find(|row| row.event_type.admin_only() && row.any_on())
            .map(|row| row.event_type)
    }
}

/// When the next mail of `frequency` is due after `now`: 09:00 each day (digest) or
/// on Mondays (weekly) in `timezone`. `None` for immediate or no mail.
pub fn next_email_at(
    frequency: EmailFrequency,
    timezone: Tz,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    const SEND_AT: NaiveTime = match NaiveTime::from_hms_opt(9, 0, 0) {
        Some(time) => time,
        None => NaiveTime::MIN,
    };
    let weekly = match frequency {
        EmailFrequency::Digest => false,
        EmailFrequency::Weekly => true,
        EmailFrequency::Immediate | EmailFrequency::Off => return None,
    };
    let today = now.with_timezone(&timezone).date_naive();
    (0..=8).find_map(|days_ahead| {
        let day = today + Duration::days(days_ahead);
        if weekly && day.weekday() != Weekday::Mon {
            return None;
        }
        // A 09:00 that a clock change skips is taken at the first instant after it.
        let local = timezone
            .from_local_datetime(&day.and_time(SEND_AT))
            .earliest()
            .or_else(|| {
                timezone
                    .from_local_datetime(&(day.and_time(SEND_AT) + Duration::hours(1)))
                    .earliest()
            })?;
        let at = local.with_timezone(&Utc);
        (at > now).then_some(at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(text: &str) -> NaiveTime {
        parse_clock(text).expect("clock")
    }

    #[test]
    fn quiet_hours_span_midnight_or_not() {
        let night = QuietHours {
            enabled: true,
            start: "22:00".into(),
            end: "07:00".into(),
        };
        for (time, quiet) in [
            ("21:59", false),
            ("22:00", true),
            ("03:00", true),
            ("06:59", true),
            ("07:00", false),
            ("12:00", false),
        ] {
            assert_eq!(night.contains(clock(time)), quiet, "{time}");
        }
        let lunch = QuietHours {
            enabled: true,
            start: "12:00".into(),
            end: "13:00".into(),
        };
        assert!(lunch.contains(clock("12:30")));
        assert!(!lunch.contains(clock("13:00")));
        assert!(!lunch.contains(clock("11:59")));
        let off = QuietHours {
            enabled: false,
            ..night.clone()
        };
        assert!(!off.contains(clock("03:00")));
    }

    #[test]
    fn quiet_hours_problems_name_the_end_and_what_is_wrong() {
        let hours = |enabled: bool, start: &str, end: &str| QuietHours {
            enabled,
            start: start.into(),
            end: end.into(),
        };
        let problem = |field, problem| QuietHoursProblem { field, problem };
        assert!(hours(true, "22:00", "07:00").problems().is_empty());
        assert_eq!(
            hours(true, "7:00", "24:00").problems(),
            vec![
                problem(QuietHoursField::Start, QuietHoursIssue::Invalid),
                problem(QuietHoursField::End, QuietHoursIssue::Invalid)
            ]
        );
        assert_eq!(
            hours(true, "08:00", "08:00").problems(),
            vec![problem(QuietHoursField::End, QuietHoursIssue::EmptySpan)]
        );
        // Switched off, an empty span silences nothing anyway.
        assert!(hours(false, "08:00", "08:00").problems().is_empty());
        assert_eq!(
            serde_json::to_value(problem(QuietHoursField::Start, QuietHoursIssue::EmptySpan))
                .expect("json"),
            serde_json::json!({"field": "quiet_hours.start", "problem": "empty_span"})
        );
    }

    #[test]
    fn clocks_are_strict() {
        assert_eq!(parse_clock("09:05"), NaiveTime::from_hms_opt(9, 5, 0));
        for bad in ["9:05", "24:00", "12:60", "12-00", "", "ab:cd", "12:000"] {
            assert_eq!(parse_clock(bad), None, "{bad}");
        }
    }

    #[test]
    fn normalising_fills_orders_and_recomputes_flags() {
        let sent = NotificationPrefs {
            events: vec![EventPrefs {
                event_type: EventType::KbArticlePublished,
                desktop: true,
                sound: true,
                email: EmailFrequency::Off,
                admin_only: true,
            }],
            quiet_hours: QuietHours::default(),
            can_configure_admin_only: true,
        };
        let stored = sent.normalised(false).expect("valid");
        assert_eq!(stored.events.len(), 17);
        assert_eq!(stored.events[0].event_type, EventType::TicketAssigned);
        let kb = stored.for_type(EventType::KbArticlePublished);
        assert!(kb.desktop && kb.sound && !kb.admin_only);
        assert!(stored.for_type(EventType::RatingOther).admin_only);
        assert!(!stored.can_configure_admin_only);
        assert_eq!(stored.enabled_admin_only(), None);
        assert!(!stored.for_type(EventType::ProfileUpdated).any_on());
    }

    #[test]
    fn normalising_refuses_duplicates_plumbing_and_bad_clocks() {
        let row = EventPrefs::default_for(EventType::TicketAssigned);
        let twice = NotificationPrefs {
            events: vec![row.clone(), row],
            ..NotificationPrefs::default()
        };
        assert_eq!(
            twice.normalised(false).map_err(|e| e.field),
            Err("events[1].type".to_owned())
        );
        let plumbing = NotificationPrefs {
            events: vec![EventPrefs::default_for(EventType::ProfileUpdated)],
            ..NotificationPrefs::default()
        };
        assert_eq!(
            plumbing.normalised(false).map_err(|e| e.field),
            Err("events[0].type".to_owned())
        );
        let mut bad_clock = NotificationPrefs::default();
        bad_clock.quiet_hours.end = "25:00".into();
        assert_eq!(
            bad_clock.normalised(false).map_err(|e| e.field),
            Err("quiet_hours.end".to_owned())
        );
    }

    #[test]
    fn admin_only_rows_start_off_and_are_detected_when_switched_on() {
        let mut prefs = NotificationPrefs::default();
        assert_eq!(prefs.enabled_admin_only(), None);
        if let Some(row) = prefs
            .events
            .iter_mut()
            .find(|row| row.event_type == EventType::ChatAllOffline)
        {
            row.email = EmailFrequency::Digest;
        }
        assert_eq!(prefs.enabled_admin_only(), Some(EventType::ChatAllOffline));
    }

    #[test]
    fn digests_go_at_nine_local_and_weekly_on_mondays() {
        let berlin: Tz = "Europe/Berlin".parse().expect("tz");
        // Wednesday 2026-11-25 07:30 UTC = 08:30 in Berlin: today's 09:00 is still ahead.
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 7, 30, 0).unwrap();
        assert_eq!(
            next_email_at(EmailFrequency::Digest, berlin, now),
            Some(Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0).unwrap())
        );
        // 09:00 Berlin exactly has passed once it is now: the next is tomorrow.
        let at_nine = Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0).unwrap();
        assert_eq!(
            next_email_at(EmailFrequency::Digest, berlin, at_nine),
            Some(Utc.with_ymd_and_hms(2026, 11, 26, 8, 0, 0).unwrap())
        );
        assert_eq!(
            next_email_at(EmailFrequency::Weekly, berlin, now),
            Some(Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap())
        );
        let tokyo: Tz = "Asia/Tokyo".parse().expect("tz");
        assert_eq!(
            next_email_at(EmailFrequency::Digest, tokyo, now),
            Some(Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap())
        );
        assert_eq!(next_email_at(EmailFrequency::Immediate, tokyo, now), None);
        assert_eq!(next_email_at(EmailFrequency::Off, tokyo, now), None);
    }
}

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
    /// The channels an administrator has set for everyone, which the agent cannot
    /// change. Set by the server; ignored when sent.
    #[serde(default)]
    pub locked: Vec<NotificationChannel>,
    /// Why they are locked, as the administrator wrote it. Set by the server.
    #[serde(default)]
    pub lock_reason: Option<String>,
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
            locked: Vec::new(),
            lock_reason: None,
        }
    }

    fn off(event_type: EventType) -> Self {
        Self {
            event_type,
            desktop: false,
            sound: false,
            email: EmailFrequency::Off,
            admin_only: event_type.admin_only(),
            locked: Vec::new(),
            lock_reason: None,
        }
    }

    /// Whether `self` and `other` differ on `channel`.
    fn differs_on(&self, other: &EventPrefs, channel: NotificationChannel) -> bool {
        match channel {
            NotificationChannel::Desktop => self.desktop != other.desktop,
            NotificationChannel::Sound => self.sound != other.sound,
            NotificationChannel::Email => self.email != other.email,
        }
    }

    /// Takes `channel`'s value from `from`.
    fn take(&mut self, from: &EventPrefs, channel: NotificationChannel) {
        match channel {
            NotificationChannel::Desktop => self.desktop = from.desktop,
            NotificationChannel::Sound => self.sound = from.sound,
            NotificationChannel::Email => self.email = from.email,
        }
    }
}

/// A way an agent is told of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum NotificationChannel {
    Desktop,
    Sound,
    Email,
}

impl NotificationChannel {
    pub const ALL: [NotificationChannel; 3] = [Self::Desktop, Self::Sound, Self::Email];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Desktop => "desktop",
            Self::Sound => "sound",
            Self::Email => "email",
        }
    }
}

/// The longest reason an administrator gives for a lock.
pub const LOCK_REASON_MAX_CHARS: usize = 200;

/// An administrator's choice for one event type that every agent gets and none can
/// change: each channel set (`Some`) is locked at that value, the others stay the
/// agent's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NotificationLock {
    #[serde(rename = "type")]
    pub event_type: EventType,
    #[serde(default)]
    pub desktop: Option<bool>,
    #[serde(default)]
    pub sound: Option<bool>,
    #[serde(default)]
    pub email: Option<EmailFrequency>,
    /// Shown to agents beside the locked channels.
    pub reason: String,
}

impl NotificationLock {
    /// The channels it locks.
    pub fn channels(&self) -> Vec<NotificationChannel> {
        NotificationChannel::ALL
            .into_iter()
            .filter(|channel| match channel {
                NotificationChannel::Desktop => self.desktop.is_some(),
                NotificationChannel::Sound => self.sound.is_some(),
                NotificationChannel::Email => self.email.is_some(),
            })
            .collect()
    }

    /// `row` with the locked channels at their locked values.
    fn impose(&self, row: &mut EventPrefs) {
        if let Some(desktop) = self.desktop {
            row.desktop = desktop;
        }
        if let Some(sound) = self.sound {
            row.sound = sound;
        }
        if let Some(email) = self.email {
            row.email = email;
        }
        row.locked = self.channels();
        row.lock_reason = Some(self.reason.clone());
    }
}

/// `GET|PUT /api/v1/admin/notification-locks`: the notifications administrators decide
/// for everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NotificationLocks {
    pub locks: Vec<NotificationLock>,
}

impl NotificationLocks {
    /// Checks a sent set and puts it in the stored shape: in the event types' order,
    /// reasons trimmed, types that lock nothing left out.
    pub fn normalised(self) -> Result<Self, InvalidField> {
        let mut locks: Vec<NotificationLock> = Vec::with_capacity(self.locks.len());
        for (index, mut lock) in self.locks.into_iter().enumerate() {
            let kind = lock.event_type;
            if !kind.configurable() {
                return Err(InvalidField::new(
                    format!("locks[{index}].type"),
                    format!("{kind} is not a notification an agent configures"),
                ));
            }
            if kind.admin_only() {
                return Err(InvalidField::new(
                    format!("locks[{index}].type"),
                    format!(
                        "{kind} is for administrators only; there is nothing to lock for agents"
                    ),
                ));
            }
            if locks.iter().any(|seen| seen.event_type == kind) {
                return Err(InvalidField::new(
                    format!("locks[{index}].type"),
                    format!("{kind} is listed twice"),
                ));
            }
            if lock.channels().is_empty() {
                continue;
            }
            lock.reason = lock.reason.trim().to_owned();
            if lock.reason.is_empty() {
                return Err(InvalidField::new(
                    format!("locks[{index}].reason"),
                    "say why, for the agents who see it locked",
                ));
            }
            if lock.reason.chars().count() > LOCK_REASON_MAX_CHARS {
                return Err(InvalidField::new(
                    format!("locks[{index}].reason"),
                    format!("the reason must be at most {LOCK_REASON_MAX_CHARS} characters"),
                ));
            }
            locks.push(lock);
        }
        locks.sort_by_key(|lock| {
            EventType::ALL
                .iter()
                .position(|kind| *kind == lock.event_type)
        });
        Ok(Self { locks })
    }

    fn of(&self, event_type: EventType) -> Option<&NotificationLock> {
        self.locks.iter().find(|lock| lock.event_type == event_type)
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
                row.locked.clear();
                row.lock_reason = None;
                row
            })
            .collect();
        Ok(Self {
            events,
            quiet_hours: self.quiet_hours,
            can_configure_admin_only,
        })
    }

    /// The preferences as they take effect: each locked channel at its locked value,
    /// marked locked with the reason.
    pub fn under(mut self, locks: &NotificationLocks) -> Self {
        for row in &mut self.events {
            row.locked.clear();
            row.lock_reason = None;
            if let Some(lock) = locks.of(row.event_type) {
                lock.impose(row);
            }
        }
        self
    }

    /// Checks a sent set against the locks, given what the agent had saved (`own`,
    /// before the locks): a locked channel may only come back at its locked value. What
    /// is stored keeps the agent's own value under each lock, which comes back if it is
    /// lifted.
    pub fn within(
        mut self,
        locks: &NotificationLocks,
        own: &NotificationPrefs,
    ) -> Result<Self, LockedChange> {
        for (index, row) in self.events.iter_mut().enumerate() {
            let Some(lock) = locks.of(row.event_type) else {
                continue;
            };
            let mine = own.for_type(row.event_type);
            let mut imposed = mine.clone();
            lock.impose(&mut imposed);
            for channel in lock.channels() {
                if row.differs_on(&imposed, channel) {
                    return Err(LockedChange {
                        field: format!("events[{index}].{}", channel.as_str()),
                        event_type: row.event_type,
                        channel,
                        reason: lock.reason.clone(),
                    });
                }
                row.take(&mine, channel);
            }
        }
        Ok(self)
    }

    /// The first admin-only type this switches on, which only an administrator may do.
    pub fn enabled_admin_only(&self) -> Option<EventType> {
        self.events
            .iter()
            .find(|row| row.event_type.admin_only() && row.any_on())
            .map(|row| row.event_type)
    }
}

/// A locked channel sent at another value than its lock's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedChange {
    /// Where in the sent preferences: `events[2].email`.
    pub field: String,
    pub event_type: EventType,
    pub channel: NotificationChannel,
    pub reason: String,
}

impl std::fmt::Display for LockedChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "an administrator has locked the {} channel of {}: {}",
            self.channel.as_str(),
            self.event_type,
            self.reason
        )
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
                locked: vec![NotificationChannel::Sound],
                lock_reason: Some("sent by an app".into()),
            }],
            quiet_hours: QuietHours::default(),
            can_configure_admin_only: true,
        };
        let stored = sent.normalised(false).expect("valid");
        assert_eq!(stored.events.len(), 17);
        assert_eq!(stored.events[0].event_type, EventType::TicketAssigned);
        let kb = stored.for_type(EventType::KbArticlePublished);
        assert!(kb.desktop && kb.sound && !kb.admin_only);
        assert!(kb.locked.is_empty() && kb.lock_reason.is_none());
        assert!(stored.for_type(EventType::RatingOther).admin_only);
        assert!(!stored.can_configure_admin_only);
        assert_eq!(stored.enabled_admin_only(), None);
        assert!(!stored.for_type(EventType::ProfileUpdated).any_on());
    }

    fn lock(
        event_type: EventType,
        email: Option<EmailFrequency>,
        reason: &str,
    ) -> NotificationLock {
        NotificationLock {
            event_type,
            desktop: None,
            sound: Some(true),
            email,
            reason: reason.into(),
        }
    }

    #[test]
    fn locks_are_checked_ordered_and_empty_ones_dropped() {
        let sent = NotificationLocks {
            locks: vec![
                lock(EventType::TicketUpdated, None, "  team rule  "),
                lock(
                    EventType::TicketAssigned,
                    Some(EmailFrequency::Immediate),
                    "SLA",
                ),
                NotificationLock {
                    sound: None,
                    ..lock(EventType::KbArticlePublished, None, "")
                },
            ],
        };
        let stored = sent.normalised().expect("valid");
        let kinds: Vec<EventType> = stored.locks.iter().map(|l| l.event_type).collect();
        assert_eq!(kinds, [EventType::TicketAssigned, EventType::TicketUpdated]);
        assert_eq!(stored.locks[1].reason, "team rule");
        for (locks, field) in [
            (
                vec![lock(EventType::TicketAssigned, None, " ")],
                "locks[0].reason",
            ),
            (
                vec![lock(EventType::TicketAssigned, None, &"x".repeat(201))],
                "locks[0].reason",
            ),
            (
                vec![
                    lock(EventType::TicketAssigned, None, "a"),
                    lock(EventType::TicketAssigned, None, "b"),
                ],
                "locks[1].type",
            ),
            (
                vec![lock(EventType::ProfileUpdated, None, "a")],
                "locks[0].type",
            ),
            (
                vec![lock(EventType::DepartmentChangeRequested, None, "a")],
                "locks[0].type",
            ),
        ] {
            assert_eq!(
                NotificationLocks { locks }
                    .normalised()
                    .map_err(|e| e.field),
                Err(field.to_owned())
            );
        }
    }

    #[test]
    fn locked_channels_take_effect_and_refuse_other_values_but_keep_the_agents_own() {
        let locks = NotificationLocks {
            locks: vec![lock(
                EventType::TicketAssigned,
                Some(EmailFrequency::Digest),
                "SLA",
            )],
        };
        let mut own = NotificationPrefs::default();
        own.events[0].sound = false;
        own.events[0].email = EmailFrequency::Off;
        let effective = own.clone().under(&locks);
        let row = effective.for_type(EventType::TicketAssigned);
        assert!(row.sound);
        assert_eq!(row.email, EmailFrequency::Digest);
        assert_eq!(
            row.locked,
            [NotificationChannel::Sound, NotificationChannel::Email]
        );
        assert_eq!(row.lock_reason.as_deref(), Some("SLA"));
        assert!(effective
            .for_type(EventType::TicketUpdated)
            .locked
            .is_empty());

        // Sent back as shown, with an unlocked channel changed: accepted, and the
        // agent's own values stay under the lock.
        let mut sent = effective.clone();
        sent.events[0].desktop = false;
        let kept = sent
            .within(&locks, &own)
            .expect("only unlocked channels changed");
        let row = kept.for_type(EventType::TicketAssigned);
        assert!(!row.desktop && !row.sound);
        assert_eq!(row.email, EmailFrequency::Off);

        // Sent at the agent's own value (an app that read before the lock): refused too,
        // for it is not what the agent gets.
        let stale = own
            .clone()
            .within(&locks, &own)
            .expect_err("not the locked value");
        assert_eq!(stale.field, "events[0].sound");

        // Any other value of a locked channel: refused, naming the field.
        let mut changed = effective;
        changed.events[0].email = EmailFrequency::Weekly;
        let refused = changed.within(&locks, &own).expect_err("locked");
        assert_eq!(refused.field, "events[0].email");
        assert_eq!(refused.channel, NotificationChannel::Email);
        assert_eq!(refused.reason, "SLA");
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

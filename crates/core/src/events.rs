//! Events the server delivers to agents: what happened, to whom, how urgent.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What an event is about. The wire names are dotted: `ticket.assigned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub enum EventType {
    /// A ticket was assigned to the agent.
    #[serde(rename = "ticket.assigned")]
    TicketAssigned,
    /// A ticket the agent watches changed.
    #[serde(rename = "ticket.updated")]
    TicketUpdated,
    /// A ticket's SLA deadline is near.
    #[serde(rename = "ticket.sla_warning")]
    TicketSlaWarning,
    /// The customer replied on one of the agent's tickets.
    #[serde(rename = "ticket.customer_reply")]
    TicketCustomerReply,
    /// A ticket was assigned to one of the agent's teams.
    #[serde(rename = "ticket.team_assigned")]
    TicketTeamAssigned,
    #[serde(rename = "system.maintenance")]
    SystemMaintenance,
    /// A knowledge-base article was published in one of the agent's departments.
    #[serde(rename = "kb.article_published")]
    KbArticlePublished,
    #[serde(rename = "report.weekly_summary")]
    ReportWeeklySummary,
    /// A lead asked to decide on a request to join their team.
    #[serde(rename = "team.join_requested")]
    TeamJoinRequested,
    /// A request to join a team was approved or denied.
    #[serde(rename = "team.request_decided")]
    TeamRequestDecided,
    /// An administrator approved or refused the agent's change of department.
    #[serde(rename = "department.request_decided")]
    DepartmentRequestDecided,
    /// Admin only: an agent asked to change their department.
    #[serde(rename = "department.change_requested")]
    DepartmentChangeRequested,
    /// Admin only: every new ticket.
    #[serde(rename = "ticket.created")]
    TicketCreated,
    /// Admin only: a customer replied on another agent's ticket.
    #[serde(rename = "ticket.reply_other")]
    TicketReplyOther,
    /// Admin only: a customer replied on an unassigned ticket.
    #[serde(rename = "ticket.reply_unassigned")]
    TicketReplyUnassigned,
    /// Admin only: a customer rated another agent.
    #[serde(rename = "rating.other")]
    RatingOther,
    /// Admin only: a chat is waiting and every agent is offline.
    #[serde(rename = "chat.all_offline")]
    ChatAllOffline,
    /// The agent's profile or status changed, so their other sessions refresh. Never
    /// shown as a notification.
    #[serde(rename = "profile.updated")]
    ProfileUpdated,
}

impl EventType {
    pub const ALL: [EventType; 18] = [
        Self::TicketAssigned,
        Self::TicketUpdated,
        Self::TicketSlaWarning,
        Self::TicketCustomerReply,
        Self::TicketTeamAssigned,
        Self::SystemMaintenance,
        Self::KbArticlePublished,
        Self::ReportWeeklySummary,
        Self::TeamJoinRequested,
        Self::TeamRequestDecided,
        Self::DepartmentRequestDecided,
        Self::TicketCreated,
        Self::TicketReplyOther,
        Self::TicketReplyUnassigned,
        Self::RatingOther,
        Self::ChatAllOffline,
        Self::DepartmentChangeRequested,
        Self::ProfileUpdated,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::TicketAssigned => "ticket.assigned",
            Self::TicketUpdated => "ticket.updated",
            Self::TicketSlaWarning => "ticket.sla_warning",
            Self::TicketCustomerReply => "ticket.customer_reply",
            Self::TicketTeamAssigned => "ticket.team_assigned",
            Self::SystemMaintenance => "system.maintenance",
            Self::KbArticlePublished => "kb.article_published",
            Self::ReportWeeklySummary => "report.weekly_summary",
            Self::TeamJoinRequested => "team.join_requested",
            Self::TeamRequestDecided => "team.request_decided",
            Self::DepartmentRequestDecided => "department.request_decided",
            Self::DepartmentChangeRequested => "department.change_requested",
            Self::TicketCreated => "ticket.created",
            Self::TicketReplyOther => "ticket.reply_other",
            Self::TicketReplyUnassigned => "ticket.reply_unassigned",
            Self::RatingOther => "rating.other",
            Self::ChatAllOffline => "chat.all_offline",
            Self::ProfileUpdated => "profile.updated",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    /// Types only an administrator may switch on: they are about other agents' work.
    pub const fn admin_only(self) -> bool {
        matches!(
            self,
            Self::TicketCreated
                | Self::TicketReplyOther
                | Self::TicketReplyUnassigned
                | Self::RatingOther
                | Self::ChatAllOffline
                | Self::DepartmentChangeRequested
        )
    }

    /// Whether the agent chooses how they hear of it; `profile.updated` is plumbing.
    pub const fn configurable(self) -> bool {
        !matches!(self, Self::ProfileUpdated)
    }

    /// About a ticket: these coalesce into "N new tickets" in a burst.
    pub const fn is_ticket(self) -> bool {
        matches!(
            self,
            Self::TicketAssigned
                | Self::TicketUpdated
                | Self::TicketSlaWarning
                | Self::TicketCustomerReply
                | Self::TicketTeamAssigned
                | Self::TicketCreated
                | Self::TicketReplyOther
                | Self::TicketReplyUnassigned
        )
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent an event is, in rising order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize, TS,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
    Critical,
}

impl Priority {
    pub const ALL: [Priority; 5] = [
        Self::Low,
        Self::Normal,
        Self::High,
        Self::Urgent,
        Self::Critical,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
            Self::Urgent => "urgent",
            Self::Critical => "critical",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|priority| priority.as_str() == value)
    }
}

/// Who an event is for: `{"agent": email}`, `{"team": name}` or `"all"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EventTarget {
    Agent(String),
    Team(String),
    All,
}

/// `POST /api/v1/admin/events`: an event from the helpdesk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NewEvent {
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub to: EventTarget,
    #[serde(default)]
    pub priority: Priority,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ticket_id: Option<String>,
    /// Where "Open" leads: an `http` or `https` address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub url: Option<String>,
    /// The email of the customer the ticket is from, so the ticket shows in their
    /// record's history. Needs a `ticket_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub requester: Option<String>,
}

pub const EVENT_TITLE_MAX_CHARS: usize = 200;
pub const EVENT_BODY_MAX_CHARS: usize = 2000;
pub const EVENT_TICKET_ID_MAX_CHARS: usize = 64;
pub const EVENT_URL_MAX_CHARS: usize = 2000;

impl NewEvent {
    /// The event as the helpdesk's text is kept: its title, body and ticket id without
    /// control or text-direction characters (line breaks stay in the body), and the
    /// title and body cut to their limits. Text from a helpdesk is cleaned, never
    /// refused for what it holds: the helpdesk cannot fix what a customer wrote.
    pub fn cleaned(mut self) -> Self {
        let title = crate::text::strip_hidden_controls(&self.title, false);
        self.title = crate::text::cut_to(title.trim(), EVENT_TITLE_MAX_CHARS);
        self.body = self.body.map(|body| {
            let body = crate::text::strip_hidden_controls(&body, true);
            crate::text::cut_to(body.trim_end(), EVENT_BODY_MAX_CHARS)
        });
        self.ticket_id = self
            .ticket_id
            .map(|id| crate::text::strip_hidden_controls(&id, false));
        self
    }

    /// Checks what the JSON types cannot; the first refused field is named.
    pub fn validate(&self) -> Result<(), InvalidField> {
        let title = self.title.trim();
        if title.is_empty() {
            return Err(InvalidField::new("title", "title must not be empty"));
        }
        if title.chars().count() > EVENT_TITLE_MAX_CHARS {
            return Err(InvalidField::new(
                "title",
                format!("title must be at most {EVENT_TITLE_MAX_CHARS} characters"),
            ));
        }
        if let Some(body) = &self.body {
            if body.chars().count() > EVENT_BODY_MAX_CHARS {
                return Err(InvalidField::new(
                    "body",
                    format!("body must be at most {EVENT_BODY_MAX_CHARS} characters"),
                ));
            }
        }
        if let Some(ticket_id) = &self.ticket_id {
            if ticket_id.trim().is_empty() || ticket_id.chars().count() > EVENT_TICKET_ID_MAX_CHARS
            {
                return Err(InvalidField::new(
                    "ticket_id",
                    format!("ticket_id must be 1 to {EVENT_TICKET_ID_MAX_CHARS} characters"),
                ));
            }
        }
        if let Some(url) = &self.url {
            if !is_web_address(url) {
                return Err(InvalidField::new(
                    "url",
                    format!(
                        "url must be an http:// or https:// address of at most {EVENT_URL_MAX_CHARS} characters"
                    ),
                ));
            }
        }
        if let Some(requester) = &self.requester {
            if !crate::customers::is_plausible_email(requester.trim()) {
                return Err(InvalidField::new(
                    "requester",
                    "requester must be the customer's email address",
                ));
            }
            if self.ticket_id.is_none() {
                return Err(InvalidField::new(
                    "requester",
                    "requester needs a ticket_id: it files the ticket under the customer",
                ));
            }
        }
        match &self.to {
            EventTarget::Agent(email) if email.trim().is_empty() => Err(InvalidField::new(
                "to",
                "to.agent must name an agent's email",
            )),
            EventTarget::Team(name) if name.trim().is_empty() => {
                Err(InvalidField::new("to", "to.team must name a team"))
            }
            _ => Ok(()),
        }
    }
}

/// A colleague's availability changed, as a viewer may see it: `status` is `null` when
/// their privacy has just hidden it from this viewer. A viewer hears nothing of changes
/// they may not see. Sent on the event stream, between events, to clients that asked
/// for it with `presence=true`; not an event, so it has no seq and is not kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct PresenceChange {
    pub agent_id: String,
    pub status: Option<crate::profile::Status>,
    /// When the status reverts to available; `null` when it does not, or is hidden.
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub status_until: Option<DateTime<Utc>>,
}

/// The stream's message carrying a [`PresenceChange`]: `{"presence": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresenceFrame {
    pub presence: PresenceChange,
}

/// The close code of an event stream whose session has ended: signed out, signed out
/// from another session, the password changed or reset. The client must sign in again
/// rather than reconnect. (4000–4999 are for applications, RFC 6455 §7.4.2.)
pub const STREAM_CLOSE_SIGNED_OUT: u16 = 4001;
/// The close frame's reason with [`STREAM_CLOSE_SIGNED_OUT`].
pub const STREAM_CLOSE_SIGNED_OUT_REASON: &str = "signed out";

/// A request field that breaks a rule: which, by its wire name, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidField {
    pub field: String,
    pub message: String,
}

impl InvalidField {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An absolute `http`/`https` address with a host and no spaces or control characters:
/// what a desktop may hand to the default browser.
pub fn is_web_address(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            url.len() <= EVENT_URL_MAX_CHARS
                && !host.is_empty()
                && !host.starts_with(':')
                && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// One event as its recipient sees it. `seq` comes from one clock for all events: a
/// recipient's seqs always rise, and skip the numbers that went to others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Event {
    #[ts(type = "number")]
    pub seq: i64,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub priority: Priority,
    pub title: String,
    pub body: Option<String>,
    pub ticket_id: Option<String>,
    pub url: Option<String>,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
}

/// `GET /api/v1/events?after=SEQ`: the caller's events after `after`, oldest first.
/// `next` is the `after` to ask with next time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct EventPage {
    pub events: Vec<Event>,
    #[ts(type = "number")]
    pub next: i64,
    /// The caller's newest seq: where a client with no cursor yet starts, so a first
    /// start does not replay the past as alerts.
    #[ts(type = "number")]
    pub newest: i64,
}

/// One recipient of a posted event and the seq it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Delivery {
    pub agent: String,
    #[ts(type = "number")]
    pub seq: i64,
}

/// The answer to `POST /api/v1/admin/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct PostedEvent {
    /// The event's seq. One clock numbers every event, so each recipient's copy has it.
    #[ts(type = "number")]
    pub seq: i64,
    /// How many agents the event went to.
    pub recipients: u32,
    /// For an event to an agent or a team, each recipient, in the order of their
    /// emails. Empty for an event to everyone: that is every agent, and listing
    /// thousands would hold up the delivery it follows.
    pub deliveries: Vec<Delivery>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> Result<NewEvent, serde_json::Error> {
        serde_json::from_value(json)
    }

    #[test]
    fn targets_read_as_the_api_writes_them() {
        let agent = event(serde_json::json!({"type": "ticket.assigned", "to": {"agent": "a@x.org"}, "title": "T"}))
            .expect("agent target");
        assert_eq!(agent.to, EventTarget::Agent("a@x.org".into()));
        assert_eq!(agent.priority, Priority::Normal);
        let team = event(serde_json::json!({"type": "ticket.team_assigned", "to": {"team": "Billing"}, "priority": "urgent", "title": "T"}))
            .expect("team target");
        assert_eq!(team.to, EventTarget::Team("Billing".into()));
        assert_eq!(team.priority, Priority::Urgent);
        let all =
            event(serde_json::json!({"type": "system.maintenance", "to": "all", "title": "T"}))
                .expect("all");
        assert_eq!(all.to, EventTarget::All);
        assert_eq!(
            serde_json::to_value(&all.to).expect("serialise"),
            serde_json::json!("all")
        );
    }

    #[test]
    fn unknown_types_priorities_targets_and_fields_are_refused() {
        for bad in [
            serde_json::json!({"type": "ticket.exploded", "to": "all", "title": "T"}),
            serde_json::json!({"type": "ticket.assigned", "to": "everyone", "title": "T"}),
            serde_json::json!({"type": "ticket.assigned", "to": {"robot": "x"}, "title": "T"}),
            serde_json::json!({"type": "ticket.assigned", "to": "all", "priority": "meh", "title": "T"}),
            serde_json::json!({"type": "ticket.assigned", "to": "all", "title": "T", "colour": "red"}),
            serde_json::json!({"type": "ticket.assigned", "to": "all"}),
        ] {
            assert!(event(bad.clone()).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn validation_names_the_bad_field() {
        let good = NewEvent {
            event_type: EventType::TicketAssigned,
            to: EventTarget::Agent("a@x.org".into()),
            priority: Priority::High,
            title: "Ticket #42 assigned".into(),
            body: Some("Printer on fire".into()),
            ticket_id: Some("42".into()),
            url: Some("https://desk.example/t/42".into()),
            requester: Some("ada@byron.example".into()),
        };
        assert_eq!(good.validate(), Ok(()));
        type Spoil = fn(&mut NewEvent);
        let cases: [(&str, Spoil); 8] = [
            ("requester", |e| e.requester = Some("ada".into())),
            ("requester", |e| e.ticket_id = None),
            ("title", |e| e.title = "  ".into()),
            ("title", |e| e.title = "x".repeat(EVENT_TITLE_MAX_CHARS + 1)),
            ("body", |e| {
                e.body = Some("x".repeat(EVENT_BODY_MAX_CHARS + 1))
            }),
            ("ticket_id", |e| e.ticket_id = Some(String::new())),
            ("url", |e| e.url = Some("javascript:alert(1)".into())),
            ("to", |e| e.to = EventTarget::Team(" ".into())),
        ];
        for (field, spoil) in cases {
            let mut bad = good.clone();
            spoil(&mut bad);
            assert_eq!(bad.validate().map_err(|e| e.field), Err(field.to_owned()));
        }
    }

    #[test]
    fn only_web_addresses_may_be_opened() {
        for good in [
            "https://desk.example/tickets/42",
            "http://localhost:8080/t?id=1#x",
        ] {
            assert!(is_web_address(good), "{good}");
        }
        for bad in [
            "file:///etc/passwd",
            "https://",
            "https://:80/x",
            "https://a b",
            "ftp://x",
            "HTTPS",
            "https://x\n",
        ] {
            assert!(!is_web_address(bad), "{bad}");
        }
    }

    #[test]
    fn wire_names_round_trip() {
        for kind in EventType::ALL {
            let json = serde_json::to_value(kind).expect("serialise");
            assert_eq!(json, serde_json::json!(kind.as_str()));
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
        for priority in Priority::ALL {
            assert_eq!(Priority::parse(priority.as_str()), Some(priority));
        }
        assert!(Priority::Critical > Priority::Urgent && Priority::Urgent > Priority::High);
    }
}

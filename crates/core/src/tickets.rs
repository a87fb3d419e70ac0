//! A person's ticket history as the server knows it from the ticket events it carried:
//! for a customer the tickets they asked about, for an agent those they were told of.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::events::EventType;

/// One ticket in a history: its latest title and event, and when it was first seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct TicketSummary {
    pub ticket_id: String,
    pub title: String,
    pub last_event: EventType,
    pub url: Option<String>,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub opened_at: DateTime<Utc>,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: DateTime<Utc>,
    /// How many events the ticket had.
    pub events: u32,
}

/// `GET /api/v1/people/{id}/tickets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct TicketHistory {
    pub tickets: Vec<TicketSummary>,
    pub sort: TicketSort,
}

/// The order of a ticket history; a leading `-` in the query means newest or last first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub enum TicketSort {
    #[serde(rename = "updated")]
    UpdatedOldestFirst,
    #[default]
    #[serde(rename = "-updated")]
    UpdatedNewestFirst,
    #[serde(rename = "opened")]
    OpenedOldestFirst,
    #[serde(rename = "-opened")]
    OpenedNewestFirst,
    #[serde(rename = "ticket")]
    TicketAscending,
    #[serde(rename = "-ticket")]
    TicketDescending,
}

impl TicketSort {
    pub const ALL: [Self; 6] = [
        Self::UpdatedOldestFirst,
        Self::UpdatedNewestFirst,
        Self::OpenedOldestFirst,
        Self::OpenedNewestFirst,
        Self::TicketAscending,
        Self::TicketDescending,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UpdatedOldestFirst => "updated",
            Self::UpdatedNewestFirst => "-updated",
            Self::OpenedOldestFirst => "opened",
            Self::OpenedNewestFirst => "-opened",
            Self::TicketAscending => "ticket",
            Self::TicketDescending => "-ticket",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|sort| sort.as_str() == text)
    }

    /// Puts tickets in this order. Ticket ids that are numbers compare as numbers, so
    /// #999 comes before #1000; ties keep the newest update first.
    pub fn apply(self, tickets: &mut [TicketSummary]) {
        let by_id = |a: &TicketSummary, b: &TicketSummary| match (
            a.ticket_id.parse::<u64>(),
            b.ticket_id.parse::<u64>(),
        ) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => a.ticket_id.cmp(&b.ticket_id),
        };
        tickets.sort_by(|a, b| {
            let order = match self {
                Self::UpdatedOldestFirst => a.updated_at.cmp(&b.updated_at),
                Self::UpdatedNewestFirst => b.updated_at.cmp(&a.updated_at),
                Self::OpenedOldestFirst => a.opened_at.cmp(&b.opened_at),
                Self::OpenedNewestFirst => b.opened_at.cmp(&a.opened_at),
                Self::TicketAscending => by_id(a, b),
                Self::TicketDescending => by_id(b, a),
            };
            order.then_with(|| b.updated_at.cmp(&a.updated_at))
        });
    }
}

/// A ticket event in a person's activity stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct TicketActivity {
    pub ticket_id: String,
    pub event_type: EventType,
    pub title: String,
    pub url: Option<String>,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ticket(id: &str, opened: u32, updated: u32) -> TicketSummary {
        let at = |minute| Utc.with_ymd_and_hms(2026, 11, 24, 9, minute, 0).unwrap();
        TicketSummary {
            ticket_id: id.into(),
            title: format!("#{id}"),
            last_event: EventType::TicketUpdated,
            url: None,
            opened_at: at(opened),
            updated_at: at(updated),
            events: 1,
        }
    }

    fn ids(sort: TicketSort) -> Vec<String> {
        let mut tickets = vec![
            ticket("999", 5, 30),
            ticket("1000", 1, 10),
            ticket("42", 20, 25),
        ];
        sort.apply(&mut tickets);
        tickets.into_iter().map(|t| t.ticket_id).collect()
    }

    #[test]
    fn every_sort_orders_by_its_key() {
        assert_eq!(ids(TicketSort::UpdatedNewestFirst), ["999", "42", "1000"]);
        assert_eq!(ids(TicketSort::UpdatedOldestFirst), ["1000", "42", "999"]);
        assert_eq!(ids(TicketSort::OpenedNewestFirst), ["42", "999", "1000"]);
        assert_eq!(ids(TicketSort::OpenedOldestFirst), ["1000", "999", "42"]);
        assert_eq!(ids(TicketSort::TicketAscending), ["42", "999", "1000"]);
        assert_eq!(ids(TicketSort::TicketDescending), ["1000", "999", "42"]);
    }

    #[test]
    fn sorts_parse_from_their_names_only() {
        for sort in TicketSort::ALL {
            assert_eq!(TicketSort::parse(sort.as_str()), Some(sort));
            let json = serde_json::to_string(&sort).unwrap();
            assert_eq!(json, format!("\"{}\"", sort.as_str()));
        }
        assert_eq!(TicketSort::parse("newest"), None);
        assert_eq!(TicketSort::parse(""), None);
    }
}

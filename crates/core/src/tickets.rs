//! A person's ticket history as the server knows it from the ticket events it carried:
//! for a customer the tickets they asked about, for an agent those they were told of.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::events::EventType;

/// One ticket in a history: its latest event's title, type and link, when its first and
/// last events came, and how many it had.
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

//! Ticket history: the ticket events the server carried, read back per person. A
//! customer's are those naming one of their emails as the requester; an agent's those
//! delivered to them.

use std::collections::HashMap;

use agent_desk_core::tickets::{TicketActivity, TicketSort, TicketSummary};
use agent_desk_core::{EventType, NewEvent};
use sqlx::{FromRow, SqliteConnection};

use crate::agents::{normalise_email, parse_timestamp};
use crate::db::Db;

/// Whose history: a customer's record or an agent's profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Customer,
    Agent,
}

/// How many of a person's newest ticket events a history is built from.
const EVENTS_READ: u32 = 5000;

/// Keeps a ticket event once, whoever receives it. Part of the event's transaction.
pub async fn record(
    conn: &mut SqliteConnection,
    ticket_id: &str,
    new: &NewEvent,
    title: &str,
    at: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ticket_events (ticket_id, event_type, title, url, requester_email, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(ticket_id.trim())
    .bind(new.event_type.as_str())
    .bind(title)
    .bind(&new.url)
    .bind(new.requester.as_deref().map(normalise_email))
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(FromRow)]
struct TicketEventRow {
    ticket_id: String,
    event_type: String,
    title: String,
    url: Option<String>,
    created_at: String,
}

impl TicketEventRow {
    fn into_activity(self) -> TicketActivity {
        TicketActivity {
            ticket_id: self.ticket_id,
            // Only known names are stored; an unknown one would be from a newer server.
            event_type: EventType::parse(&self.event_type).unwrap_or(EventType::TicketUpdated),
            title: self.title,
            url: self.url,
            at: parse_timestamp(&self.created_at),
        }
    }
}

/// A person's newest `limit` ticket events, newest first.
pub async fn events(
    db: &Db,
    subject: Subject,
    person_id: &str,
    limit: u32,
) -> Result<Vec<TicketActivity>, sqlx::Error> {
    let query = match subject {
        Subject::Customer => {
            "SELECT ticket_id, event_type, title, url, created_at FROM ticket_events
             WHERE requester_email IN (SELECT address FROM person_emails WHERE person_id = $1)
             ORDER BY id DESC LIMIT $2"
        }
        Subject::Agent => {
            "SELECT ticket_id, event_type, title, url, created_at FROM events
             WHERE recipient_id = $1 AND ticket_id IS NOT NULL ORDER BY seq DESC LIMIT $2"
        }
    };
    let rows = sqlx::query_as::<_, TicketEventRow>(query)
        .bind(person_id)
        .bind(i64::from(limit))
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(TicketEventRow::into_activity)
        .collect())
}

/// A person's tickets, one entry a ticket, in the order asked for.
pub async fn history(
    db: &Db,
    subject: Subject,
    person_id: &str,
    sort: TicketSort,
) -> Result<Vec<TicketSummary>, sqlx::Error> {
    let mut tickets = summarise(events(db, subject, person_id, EVENTS_READ).await?);
    sort.apply(&mut tickets);
    Ok(tickets)
}

/// Folds events (newest first) into one summary a ticket: the newest event gives the
/// title, type and link, the oldest the opening time.
fn summarise(newest_first: Vec<TicketActivity>) -> Vec<TicketSummary> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut tickets: Vec<TicketSummary> = Vec::new();
    for event in newest_first {
        match index.get(&event.ticket_id) {
            Some(&at) => {
                let ticket = &mut tickets[at];
                ticket.opened_at = event.at;
                ticket.events += 1;
                if ticket.url.is_none() {
                    ticket.url = event.url;
                }
            }
            None => {
                index.insert(event.ticket_id.clone(), tickets.len());
                tickets.push(TicketSummary {
                    ticket_id: event.ticket_id,
                    title: event.title,
                    last_event: event.event_type,
                    url: event.url,
                    opened_at: event.at,
                    updated_at: event.at,
                    events: 1,
                });
            }
        }
    }
    tickets
}

/// A demo ticket: its id, subject, the customer it is from, and its events as
/// (type, hours ago).
struct DemoTicket {
    id: &'static str,
    subject: &'static str,
    requester: &'static str,
    events: &'static [(EventType, i64)],
}

/// The demo's ticket history: a few tickets from the demo customers (`seed-demo`),
/// days old, made once.
const DEMO_TICKETS: &[DemoTicket] = &[
    DemoTicket {
        id: "4698",
        subject: "Invoice for order 1842 missing",
        requester: "ada@byron.example",
        events: &[
            (EventType::TicketAssigned, 9 * 24),
            (EventType::TicketCustomerReply, 8 * 24),
            (EventType::TicketUpdated, 7 * 24),
        ],
    },
    DemoTicket {
        id: "4702",
        subject: "Question about the contract renewal",
        requester: "charles@difference.example",
        events: &[(EventType::TicketAssigned, 4 * 24)],
    },
    DemoTicket {
        id: "4705",
        subject: "Cannot add a second seat",
        requester: "ada@byron.example",
        events: &[
            (EventType::TicketAssigned, 2 * 24),
            (EventType::TicketSlaWarning, 26),
        ],
    },
    DemoTicket {
        id: "4709",
        subject: "Facture en double",
        requester: "emile@paris.example",
        events: &[(EventType::TicketAssigned, 3)],
    },
];

pub async fn seed_demo(db: &Db, now: chrono::DateTime<chrono::Utc>) -> Result<(), sqlx::Error> {
    let seeded = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM ticket_events")
        .fetch_one(db)
        .await?;
    if seeded > 0 {
        return Ok(());
    }
    let mut events: Vec<(i64, &DemoTicket, EventType)> = DEMO_TICKETS
        .iter()
        .flat_map(|ticket| {
            ticket
                .events
                .iter()
                .map(move |(event_type, hours_ago)| (*hours_ago, ticket, *event_type))
        })
        .collect();
    // Stored oldest first, as they would have arrived.
    events.sort_by_key(|(hours_ago, ..)| std::cmp::Reverse(*hours_ago));
    let mut tx = crate::db::begin_write(db).await?;
    for (hours_ago, demo, event_type) in events {
        let (ticket, subject) = (demo.id, demo.subject);
        let title = match event_type {
            EventType::TicketAssigned => format!("#{ticket} assigned to you: {subject}"),
            EventType::TicketCustomerReply => format!("Reply on #{ticket}: {subject}"),
            EventType::TicketSlaWarning => format!("SLA: #{ticket} breaches soon"),
            _ => format!("#{ticket} updated"),
        };
        sqlx::query(
            "INSERT INTO ticket_events (ticket_id, event_type, title, url, requester_email, created_at)
             VALUES ($1, $2, $3, NULL, $4, $5)",
        )
        .bind(ticket)
        .bind(event_type.as_str())
        .bind(title)
        .bind(demo.requester)
        .bind(crate::agents::timestamp(now - chrono::Duration::hours(hours_ago)))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn event(ticket: &str, minute: u32, event_type: EventType) -> TicketActivity {
        TicketActivity {
            ticket_id: ticket.into(),
            event_type,
            title: format!("#{ticket} at {minute}"),
            url: None,
            at: Utc.with_ymd_and_hms(2026, 11, 24, 9, minute, 0).unwrap(),
        }
    }

    #[test]
    fn events_fold_into_one_summary_a_ticket() {
        let tickets = summarise(vec![
            event("7", 30, EventType::TicketUpdated),
            event("8", 20, EventType::TicketAssigned),
            event("7", 10, EventType::TicketCustomerReply),
            event("7", 5, EventType::TicketAssigned),
        ]);
        assert_eq!(tickets.len(), 2);
        assert_eq!(tickets[0].ticket_id, "7");
        assert_eq!(tickets[0].title, "#7 at 30");
        assert_eq!(tickets[0].last_event, EventType::TicketUpdated);
        assert_eq!(tickets[0].events, 3);
        assert_eq!(
            tickets[0].opened_at.to_rfc3339(),
            "2026-11-24T09:05:00+00:00"
        );
        assert_eq!(
            tickets[0].updated_at.to_rfc3339(),
            "2026-11-24T09:30:00+00:00"
        );
        assert_eq!(tickets[1].events, 1);
    }
}

//! Ticket history: the ticket events the server carried, read back per person. A
//! customer's are those naming one of their emails as the requester; an agent's those
//! delivered to them.

use agent_desk_core::tickets::{TicketActivity, TicketSort, TicketSummary};
use agent_desk_core::EventType;
use sqlx::FromRow;

use crate::agents::normalise_email;
use crate::clock::parse_timestamp;
use crate::db::Db;

/// Whose history: a customer's record or an agent's profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Customer,
    Agent,
}

/// A ticket event as kept once, whoever receives it.
pub struct TicketEvent<'a> {
    pub ticket_id: &'a str,
    pub event_type: EventType,
    pub title: &'a str,
    pub url: Option<&'a str>,
    /// The customer's email, as the helpdesk gave it.
    pub requester: Option<&'a str>,
    pub at: &'a str,
}

/// Keeps a ticket event. Part of the event's transaction.
pub async fn record(
    conn: &mut crate::storage::Conn,
    event: &TicketEvent<'_>,
) -> Result<(), sqlx::Error> {
    crate::storage::query(
        "INSERT INTO ticket_events (ticket_id, event_type, title, url, requester_email, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(event.ticket_id)
    .bind(event.event_type.as_str())
    .bind(event.title)
    .bind(event.url)
    .bind(event.requester.map(normalise_email))
    .bind(event.at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A stored event type. Only known names are stored; an unknown one would be from a
/// newer server, and reads as an update.
fn stored_type(name: &str) -> EventType {
    EventType::parse(name).unwrap_or(EventType::TicketUpdated)
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
            event_type: stored_type(&self.event_type),
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
            "SELECT ticket_id, event_type, title, url, created_at FROM agent_events
             WHERE recipient_id = $1 AND ticket_id IS NOT NULL ORDER BY seq DESC LIMIT $2"
        }
    };
    let rows = crate::storage::query_as::<TicketEventRow>(query)
        .bind(person_id)
        .bind(i64::from(limit))
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(TicketEventRow::into_activity)
        .collect())
}

#[derive(FromRow)]
struct TicketRow {
    ticket_id: String,
    event_type: String,
    title: String,
    url: Option<String>,
    opened_at: String,
    updated_at: String,
    events: i64,
    /// The first and last event's place in the order they were stored: the tie-break
    /// for times equal to the millisecond.
    first_id: i64,
    last_id: i64,
}

/// One row a ticket: its first and last event's times and places, how many it had, and
/// the last one's type, title and link.
const CUSTOMER_TICKETS: &str = "SELECT g.ticket_id, t.event_type, t.title, t.url, g.opened_at,
        g.updated_at, g.events, g.first_id, g.last_id
    FROM (SELECT ticket_id, MIN(created_at) AS opened_at, MAX(created_at) AS updated_at,
                 COUNT(*) AS events, MIN(id) AS first_id, MAX(id) AS last_id
          FROM ticket_events
          WHERE requester_email IN (SELECT address FROM person_emails WHERE person_id = $1)
          GROUP BY ticket_id) g
    JOIN ticket_events t ON t.id = g.last_id";

const AGENT_TICKETS: &str = "SELECT g.ticket_id, e.event_type, e.title, e.url, g.opened_at,
        g.updated_at, g.events, g.first_id, g.last_id
    FROM (SELECT ticket_id, MIN(created_at) AS opened_at, MAX(created_at) AS updated_at,
                 COUNT(*) AS events, MIN(seq) AS first_id, MAX(seq) AS last_id
          FROM agent_events WHERE recipient_id = $1 AND ticket_id IS NOT NULL
          GROUP BY ticket_id) g
    JOIN agent_events e ON e.recipient_id = $1 AND e.seq = g.last_id";

/// A person's tickets, one entry a ticket, in the order asked for.
pub async fn history(
    db: &Db,
    subject: Subject,
    person_id: &str,
    sort: TicketSort,
) -> Result<Vec<TicketSummary>, sqlx::Error> {
    let query = match subject {
        Subject::Customer => CUSTOMER_TICKETS,
        Subject::Agent => AGENT_TICKETS,
    };
    let mut rows = crate::storage::query_as::<TicketRow>(query)
        .bind(person_id)
        .fetch_all(db)
        .await?;
    order(sort, &mut rows);
    Ok(rows
        .into_iter()
        .map(|row| TicketSummary {
            last_event: stored_type(&row.event_type),
            ticket_id: row.ticket_id,
            title: row.title,
            url: row.url,
            opened_at: parse_timestamp(&row.opened_at),
            updated_at: parse_timestamp(&row.updated_at),
            events: u32::try_from(row.events).unwrap_or(u32::MAX),
        })
        .collect())
}

/// Events are stored in time order, so the first and last event's places order tickets
/// by when they opened and last changed, ties included. Ticket ids that are numbers
/// compare as numbers, so #999 comes before #1000, and come before ids that are not.
fn order(sort: TicketSort, rows: &mut [TicketRow]) {
    // A total order (a sort may panic on one that is not): numbers by value, then the
    // rest as text, and the text last so "007" and "7" still have an order.
    let key = |row: &TicketRow| {
        let number = row.ticket_id.parse::<u64>().ok();
        (number.is_none(), number.unwrap_or(0), row.ticket_id.clone())
    };
    let by_id = |a: &TicketRow, b: &TicketRow| key(a).cmp(&key(b));
    rows.sort_by(|a, b| match sort {
        TicketSort::UpdatedOldestFirst => a.last_id.cmp(&b.last_id),
        TicketSort::UpdatedNewestFirst => b.last_id.cmp(&a.last_id),
        TicketSort::OpenedOldestFirst => a.first_id.cmp(&b.first_id),
        TicketSort::OpenedNewestFirst => b.first_id.cmp(&a.first_id),
        TicketSort::TicketAscending => by_id(a, b),
        TicketSort::TicketDescending => by_id(b, a),
    });
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
    let seeded = crate::storage::query_scalar::<i64>("SELECT COUNT(*) FROM ticket_events")
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
        let at = crate::clock::timestamp(now - chrono::Duration::hours(hours_ago));
        let event = TicketEvent {
            ticket_id: ticket,
            event_type,
            title: &title,
            url: None,
            requester: Some(demo.requester),
            at: &at,
        };
        record(&mut tx, &event).await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ticket: &str, first_id: i64, last_id: i64) -> TicketRow {
        TicketRow {
            ticket_id: ticket.into(),
            event_type: "ticket.updated".into(),
            title: format!("#{ticket}"),
            url: None,
            opened_at: String::new(),
            updated_at: String::new(),
            events: 1,
            first_id,
            last_id,
        }
    }

    fn ids(sort: TicketSort) -> Vec<String> {
        let mut rows = vec![row("999", 2, 9), row("1000", 1, 4), row("42", 5, 7)];
        order(sort, &mut rows);
        rows.into_iter().map(|row| row.ticket_id).collect()
    }

    #[test]
    fn ids_of_numbers_and_text_mixed_sort_as_a_total_order() {
        // Before, "10" < "9a" as text, "9a" < "abc", but 9 < 10 as numbers: no order,
        // and the sort panicked on enough such rows.
        let mut rows: Vec<TicketRow> = (0..200)
            .map(|n| {
                let id = match n % 4 {
                    0 => n.to_string(),
                    1 => format!("{n}a"),
                    2 => format!("0{n}"),
                    _ => format!("RT-{n}"),
                };
                row(&id, n, n)
            })
            .collect();
        order(TicketSort::TicketAscending, &mut rows);
        let numbers: Vec<Option<u64>> = rows
            .iter()
            .map(|row| row.ticket_id.parse::<u64>().ok())
            .collect();
        let first_text = numbers.iter().position(Option::is_none).expect("text ids");
        assert_eq!(first_text, 100, "every id that is a number comes first");
        assert!(numbers[..first_text].windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(rows[0].ticket_id, "0");
        assert_eq!(rows[1].ticket_id, "02");
        assert_eq!(rows[199].ticket_id, "RT-99");
        order(TicketSort::TicketDescending, &mut rows);
        assert_eq!(rows[0].ticket_id, "RT-99");
        assert_eq!(rows[199].ticket_id, "0");
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
}

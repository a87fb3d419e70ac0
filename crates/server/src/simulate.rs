//! `agent-desk-server simulate`: a stand-in helpdesk that posts realistic ticket events
//! for an agent through the admin API, so a demo shows alerts arriving.

use std::time::Duration;

use agent_desk_core::{EventTarget, EventType, LoginRequest, LoginResponse, NewEvent, Priority};

/// Makes the next event of a plausible helpdesk day, deterministically from a seed.
pub struct TicketTraffic {
    state: u64,
    next_ticket: u32,
    public_url: String,
}

const SUBJECTS: &[&str] = &[
    "Cannot sign in after password change",
    "Invoice shows the wrong VAT rate",
    "Refund for a double charge",
    "Delivery marked as delivered but not received",
    "App crashes when exporting to PDF",
    "Upgrade to the Business plan",
    "Two-factor codes not arriving by SMS",
    "Data export for a GDPR request",
    "Printer driver missing after update",
    "Shared mailbox stopped syncing",
];

/// Who writes in: the demo's customers (`seed-demo`) among others, so their records show
/// the tickets in their history.
const CUSTOMERS: &[(&str, &str)] = &[
    ("Ada Byron", "ada@byron.example"),
    ("Mia Hoffmann", "mia.hoffmann@example.com"),
    ("Charles Babbage", "charles@difference.example"),
    ("Jonas Weber", "jonas.weber@example.com"),
    ("Émile Zola", "emile@paris.example"),
    ("Aisha Khan", "aisha.khan@example.com"),
    ("Chen Wei", "chen.wei@example.com"),
    ("Mateo García", "mateo.garcia@example.com"),
];

impl TicketTraffic {
    pub fn new(seed: u64, public_url: &str) -> Self {
        Self {
            state: seed | 1,
            next_ticket: 4711 + (seed % 1000) as u32,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// xorshift64*: enough variety for a demo, with no dependency.
    fn roll(&mut self, below: usize) -> usize {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        (self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % below.max(1)
    }

    pub fn next_event(&mut self, to: &EventTarget) -> NewEvent {
        let ticket = self.next_ticket;
        let subject = SUBJECTS[self.roll(SUBJECTS.len())];
        // One customer a ticket, whichever event of it this is.
        let (customer, customer_email) = CUSTOMERS[ticket as usize % CUSTOMERS.len()];
        let (event_type, priority, title, body) = match self.roll(100) {
            0..=34 => {
                self.next_ticket += 1;
                let priority = [
                    Priority::Normal,
                    Priority::Normal,
                    Priority::High,
                    Priority::Urgent,
                ][self.roll(4)];
                (
                    EventType::TicketAssigned,
                    priority,
                    format!("#{ticket} assigned to you: {subject}"),
                    format!("{customer} wrote in. First response due in 2 hours."),
                )
            }
            35..=64 => (
                EventType::TicketCustomerReply,
                Priority::Normal,
                format!("{customer} replied on #{ticket}"),
                format!("\u{201c}{subject}\u{201d} — thanks, I tried that, but it still happens."),
            ),
            65..=79 => (
                EventType::TicketUpdated,
                Priority::Low,
                format!("#{ticket} updated"),
                "Status changed from Pending to Open by Sam (Billing).".to_owned(),
            ),
            80..=91 => (
                EventType::TicketSlaWarning,
                Priority::Urgent,
                format!("SLA: #{ticket} breaches in 15 minutes"),
                format!("{subject} — {customer} is waiting for a first response."),
            ),
            92..=97 => (
                EventType::TicketTeamAssigned,
                Priority::Normal,
                format!("#{ticket} assigned to Customer Care"),
                subject.to_owned(),
            ),
            _ => (
                EventType::SystemMaintenance,
                Priority::Critical,
                "Telephony maintenance tonight 22:00–22:30".to_owned(),
                "Calls may drop for up to a minute while the switch restarts.".to_owned(),
            ),
        };
        NewEvent {
            event_type,
            to: to.clone(),
            priority,
            title,
            body: Some(body),
            ticket_id: event_type.is_ticket().then(|| ticket.to_string()),
            url: Some(format!("{}/tickets/{ticket}", self.public_url)),
            requester: event_type.is_ticket().then(|| customer_email.to_owned()),
        }
    }
}

pub struct Simulation {
    pub server: String,
    pub admin_email: String,
    pub admin_password: String,
    pub to: EventTarget,
    pub per_minute: u32,
    /// Stop after this many events; run until interrupted otherwise.
    pub count: Option<u64>,
}

/// Signs in as the admin and posts events at the rate asked for until interrupted.
pub async fn run(simulation: Simulation) -> anyhow::Result<()> {
    let base = simulation.server.trim_end_matches('/').to_owned();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        // Posts come further apart than the server keeps an idle connection.
        .pool_idle_timeout(Duration::from_secs(5))
        .build()?;
    let login = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&LoginRequest {
            email: simulation.admin_email.clone(),
            password: simulation.admin_password.clone(),
            client_name: Some("agent-desk-server simulate".into()),
            client_version: Some(env!("CARGO_PKG_VERSION").into()),
        })
        .send()
        .await?;
    if !login.status().is_success() {
        anyhow::bail!(
            "signing in as {} failed ({}): {}",
            simulation.admin_email,
            login.status(),
            login.text().await.unwrap_or_default()
        );
    }
    let token = login.json::<LoginResponse>().await?.token;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |elapsed| elapsed.as_nanos() as u64);
    let mut traffic = TicketTraffic::new(seed, &base);
    let every = Duration::from_secs_f64(60.0 / f64::from(simulation.per_minute.max(1)));
    let mut ticker = tokio::time::interval(every);
    let mut sent = 0u64;
    while simulation.count.is_none_or(|count| sent < count) {
        ticker.tick().await;
        let event = traffic.next_event(&simulation.to);
        let answer = http
            .post(format!("{base}/api/v1/admin/events"))
            .bearer_auth(&token)
            .json(&event)
            .send()
            .await;
        match answer {
            Ok(answer) if answer.status().is_success() => {
                sent += 1;
                println!(
                    "{:9}  {:22}  {}",
                    event.priority.as_str(),
                    event.event_type,
                    event.title
                );
            }
            Ok(answer) => anyhow::bail!(
                "the server refused an event ({}): {}",
                answer.status(),
                answer.text().await.unwrap_or_default()
            ),
            // The server restarting is part of a demo: keep going.
            Err(error) => eprintln!("posting failed, retrying with the next event: {error}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_is_varied_valid_and_repeatable() {
        let to = EventTarget::Agent("demo@agentdesk.example".into());
        let mut first = TicketTraffic::new(42, "http://127.0.0.1:8787/");
        let mut again = TicketTraffic::new(42, "http://127.0.0.1:8787");
        let events: Vec<NewEvent> = (0..200).map(|_| first.next_event(&to)).collect();
        let repeated: Vec<NewEvent> = (0..200).map(|_| again.next_event(&to)).collect();
        assert_eq!(events, repeated);
        for event in &events {
            assert_eq!(event.validate(), Ok(()), "{event:?}");
            assert!(event
                .url
                .as_deref()
                .is_some_and(|url| url.starts_with("http://127.0.0.1:8787/tickets/")));
        }
        let kinds: std::collections::HashSet<_> = events.iter().map(|e| e.event_type).collect();
        assert!(kinds.len() >= 5, "{kinds:?}");
        let priorities: std::collections::HashSet<_> = events.iter().map(|e| e.priority).collect();
        assert!(priorities.len() >= 4, "{priorities:?}");
    }
}

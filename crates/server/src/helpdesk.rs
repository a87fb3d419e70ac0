//! Following a real helpdesk: Request Tracker's changes, read by transaction id, become
//! Agent Desk's ticket events; its requestors become customers; and an agent Away long
//! enough has their tickets given back to the queue.
//!
//! Exactly once: the cursor (the last transaction read) moves in the same database
//! transaction as the events and customers it produced. RT down, slow or answering
//! something else: nothing is written, the cursor stays, and the next poll reads the
//! same changes again.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use agent_desk_core::{EventTarget, EventType, NewEvent, Priority};
use agent_desk_rt::feed::{self, Change, Update};
use agent_desk_rt::{Changes, Credentials, RtClient, RtError, Ticket, UserRef};
use chrono::{DateTime, Utc};

use crate::clock::timestamp;
use crate::customers::CustomerError;
use crate::db::Db;
use crate::events::{Batch, EventError, EventHub};

/// The connector's name in the database.
const RT: &str = "rt";
/// Who the change log names for customers the helpdesk brought.
const ACTOR: &str = "helpdesk:rt";
/// Due times are looked at, and an empty page looked past, every this many polls: once
/// a minute at the default 5 s, fine-grained enough for a warning given tens of minutes
/// ahead, and for a feed held up by changes the connector may not see.
const OCCASIONAL_POLLS: u32 = 12;
/// How long an id skipped over is asked for again: long past any transaction RT keeps
/// open.
const GAP_WINDOW: chrono::Duration = chrono::Duration::minutes(3);
/// The most skipped ids kept at once; a wider gap is a helpdesk's bulk change of other
/// things (users, groups), not transactions in flight.
const GAPS_MAX: usize = 500;

/// The longest wait between tries while RT fails.
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// How the server follows Request Tracker (`serve --rt-url …`).
#[derive(Debug, Clone)]
pub struct RtSettings {
    pub url: String,
    pub credentials: Credentials,
    pub poll: Duration,
    /// A ticket due within this is warned of, once.
    pub due_warning: Duration,
    /// Queue → team: a ticket new in the queue is the team's.
    pub queue_teams: Vec<(String, String)>,
    /// Agents Away this long have their open tickets given back to the queue.
    pub release_after_away: Option<Duration>,
    /// Offline agents' tickets too (a contact centre going home usually keeps them).
    pub release_offline: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error(transparent)]
    Rt(#[from] RtError),
    #[error("the token names no user id: RT's tokens look like 1-<user id>-<secret>")]
    TokenWithoutUser,
    #[error(transparent)]
    Event(#[from] EventError),
    #[error(transparent)]
    Customer(#[from] CustomerError),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("ticket {ticket} went back to its queue, but the comment that says why was refused: {error}")]
    CommentRefused { ticket: i64, error: RtError },
}

pub struct RtConnector {
    client: RtClient,
    settings: RtSettings,
    /// The RT user the connector signs in as: its own changes are not news.
    user: String,
    /// Queue → team name, for the teams that exist.
    teams: HashMap<String, String>,
    /// Owners whose changes were skipped, said once each.
    owners_skipped: std::sync::Mutex<std::collections::HashSet<String>>,
    db: Db,
    hub: Arc<EventHub>,
}

/// What a poll looks at besides the changes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Checks {
    /// Tickets coming due.
    pub due: bool,
    /// Past an empty page, for changes RT leaves out after it paged.
    pub look_past: bool,
}

/// What one poll did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Polled {
    pub changes: usize,
    pub events: usize,
    pub skipped: usize,
    /// Changes not told: unreadable, or about a ticket RT no longer shows.
    pub dropped: usize,
    pub released: usize,
    /// A full page was read, or a page RT emptied passed over: RT may have more at once.
    pub more: bool,
    /// A page RT emptied (changes the connector may not see) was passed over.
    pub passed_over: bool,
}

/// Keeps the helpdesk's row, so its state (and a failure to connect) shows before it
/// first answers.
pub async fn register(db: &Db, url: &str, now: DateTime<Utc>) -> sqlx::Result<()> {
    crate::storage::query(
        "INSERT INTO helpdesk_connectors (name, url, cursor, started_at) VALUES ($1, $2, -1, $3)
         ON CONFLICT (name) DO UPDATE SET url = excluded.url, started_at = excluded.started_at",
    )
    .bind(RT)
    .bind(url)
    .bind(timestamp(now))
    .execute(db)
    .await
    .map(drop)
}

/// The cursor for the RT at `base`: another RT's ids mean nothing here, so when the
/// address is another one (and has answered), it is read from its newest change, as
/// the first time, and what was kept of the other is let go.
async fn cursor_for(db: &Db, base: &str) -> sqlx::Result<i64> {
    let mut tx = db.begin().await?;
    let (cursor, read_from): (i64, Option<String>) = crate::storage::query_as(
        "SELECT cursor, cursor_url FROM helpdesk_connectors WHERE name = $1",
    )
    .bind(RT)
    .fetch_one(&mut *tx)
    .await?;
    if read_from.as_deref() == Some(base) {
        return Ok(cursor);
    }
    if read_from.is_some() {
        tracing::info!(
            url = base,
            "another Request Tracker: reading it from its newest change"
        );
    }
    crate::storage::query(
        "UPDATE helpdesk_connectors SET cursor = -1, cursor_url = $1, last_change_at = NULL,
             last_error = NULL, last_error_at = NULL, release_error = NULL, release_error_at = NULL
         WHERE name = $2",
    )
    .bind(base)
    .bind(RT)
    .execute(&mut *tx)
    .await?;
    for table in [
        "helpdesk_gaps",
        "helpdesk_due_warnings",
        "helpdesk_releases",
    ] {
        crate::storage::query(format!("DELETE FROM {table} WHERE connector = $1"))
            .bind(RT)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(-1)
}

/// Records why following the helpdesk failed, for the integrations view.
pub async fn record_error(db: &Db, error: &ConnectorError, now: DateTime<Utc>) -> sqlx::Result<()> {
    crate::storage::query(
        "UPDATE helpdesk_connectors SET last_error = $1, last_error_at = $2 WHERE name = $3",
    )
    .bind(error.to_string())
    .bind(timestamp(now))
    .bind(RT)
    .execute(db)
    .await
    .map(drop)
}

impl ConnectorError {
    /// A mistake in the setup (address, credentials) rather than RT being away.
    pub fn is_setup(&self) -> bool {
        match self {
            // A page or a redirect to a login form where the API should be: the address
            // is RT's web interface, or not RT. A proxy's 5xx page is RT being away.
            Self::Rt(RtError::NotRestApi { status, .. }) => *status < 500,
            Self::Rt(error) => !error.is_transient(),
            Self::TokenWithoutUser => true,
            _ => false,
        }
    }
}

/// The lease the connector is run under: one instance follows RT at a time.
pub const LEASE: &str = "helpdesk:rt";

/// Starts following Request Tracker in the background, on whichever instance holds the
/// connector's lease (crate::leases): another takes over, from the kept cursor, when that
/// one dies. A mistake in the setup (an address that is not RT's, credentials RT
/// refuses) is answered at once, so `serve` can say so and stop; RT merely away is tried
/// again until it answers.
pub async fn follow(
    settings: RtSettings,
    db: Db,
    hub: Arc<EventHub>,
) -> Result<(), ConnectorError> {
    register(&db, &settings.url, Utc::now()).await?;
    match RtConnector::connect(settings.clone(), db.clone(), Arc::clone(&hub)).await {
        Ok(_) => {}
        Err(error) if error.is_setup() => {
            record_error(&db, &error, Utc::now()).await?;
            return Err(error);
        }
        Err(error) => {
            tracing::warn!(%error, "Request Tracker does not answer yet; trying again");
            record_error(&db, &error, Utc::now()).await?;
        }
    }
    let instance = Arc::clone(hub.instance());
    crate::leases::spawn(db.clone(), LEASE, instance, move || {
        connect_and_run(settings.clone(), db.clone(), Arc::clone(&hub))
    });
    Ok(())
}

/// Connects, trying again while RT does not answer, then polls for good.
async fn connect_and_run(settings: RtSettings, db: Db, hub: Arc<EventHub>) {
    let mut wait = settings.poll;
    loop {
        match RtConnector::connect(settings.clone(), db.clone(), Arc::clone(&hub)).await {
            Ok(connector) => return connector.run(std::future::pending()).await,
            Err(error) => {
                tracing::warn!(%error, "Request Tracker does not answer yet; trying again");
                let _ = record_error(&db, &error, Utc::now()).await;
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2).min(BACKOFF_MAX);
            }
        }
    }
}

impl RtConnector {
    /// Checks the address and the credentials, resolves the queues' teams (warning of a
    /// team that does not exist) and, the first time, starts at RT's newest change:
    /// what happened before is not news.
    pub async fn connect(
        settings: RtSettings,
        db: Db,
        hub: Arc<EventHub>,
    ) -> Result<Self, ConnectorError> {
        let client = RtClient::new(&settings.url, settings.credentials.clone())?;
        let version = client.version().await?;
        let user = match &settings.credentials {
            // As RT spells it: its own changes are recognised by that name.
            Credentials::Password { user, .. } => {
                let named = client.user_named(user).await?.name;
                if named.is_empty() {
                    user.clone()
                } else {
                    named
                }
            }
            Credentials::Token(token) => {
                let id = token
                    .split('-')
                    .nth(1)
                    .and_then(|id| id.parse().ok())
                    .ok_or(ConnectorError::TokenWithoutUser)?;
                client.user(id).await?.name
            }
        };
        let mut teams = HashMap::new();
        for (queue, team) in &settings.queue_teams {
            let found =
                crate::storage::query_scalar::<String>("SELECT name FROM teams WHERE name = $1")
                    .bind(team.trim())
                    .fetch_optional(&db)
                    .await?;
            match found {
                Some(name) => {
                    teams.insert(queue.clone(), name);
                }
                None => tracing::warn!(
                    queue,
                    team,
                    "no such team: the queue's new tickets go to no team"
                ),
            }
        }
        let cursor = cursor_for(&db, client.base().as_str()).await?;
        if cursor < 0 {
            let newest = client.newest_transaction().await?;
            crate::storage::query(
                "UPDATE helpdesk_connectors SET cursor = $1 WHERE name = $2 AND cursor < 0",
            )
            .bind(newest)
            .bind(RT)
            .execute(&db)
            .await?;
        }
        tracing::info!(%version, url = %client.base(), user, "following Request Tracker");
        Ok(Self {
            client,
            settings,
            user,
            teams,
            owners_skipped: std::sync::Mutex::default(),
            db,
            hub,
        })
    }

    /// Polls until `stop` resolves, backing off while RT fails.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        let mut stop = std::pin::pin!(stop);
        let mut failures: u32 = 0;
        let mut polls_since_occasional: Option<u32> = None;
        let mut passing_over = false;
        loop {
            let occasional = polls_since_occasional.is_none_or(|polls| polls >= OCCASIONAL_POLLS);
            let checks = Checks {
                due: occasional,
                look_past: occasional || passing_over,
            };
            let wait = match self.poll_once(Utc::now(), checks).await {
                Ok(polled) => {
                    failures = 0;
                    passing_over = polled.passed_over;
                    polls_since_occasional = Some(if occasional {
                        1
                    } else {
                        polls_since_occasional.unwrap_or_default() + 1
                    });
                    if polled.changes > 0 || polled.released > 0 {
                        tracing::debug!(?polled, "Request Tracker read");
                    }
                    // A backlog (after an outage, or a bulk change) is read page after
                    // page, not a page a poll.
                    if polled.more {
                        Duration::ZERO
                    } else {
                        self.settings.poll
                    }
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(%error, failures, "following Request Tracker failed; trying again");
                    if let Err(error) = record_error(&self.db, &error, Utc::now()).await {
                        tracing::warn!(%error, "the connector's error could not be kept");
                    }
                    self.settings
                        .poll
                        .saturating_mul(2u32.saturating_pow(failures.min(6)))
                        .min(BACKOFF_MAX)
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = &mut stop => return,
            }
        }
    }

    /// Reads what changed since the cursor and publishes it, with the cursor, at once;
    /// then gives back the tickets of agents away long enough. A failure to give back
    /// is shown in the integrations view and holds up no alert.
    pub async fn poll_once(
        &self,
        now: DateTime<Utc>,
        checks: Checks,
    ) -> Result<Polled, ConnectorError> {
        let mut polled = self.read_changes(now, checks).await?;
        if let Err(error) = self.release_tickets_of_the_away(now, &mut polled).await {
            if matches!(&error, ConnectorError::Rt(rt) if rt.is_transient()) {
                // RT away: the next poll says so, and tries again.
                tracing::warn!(%error, "giving tickets back waits for Request Tracker");
            } else {
                tracing::warn!(%error, "tickets could not be given back");
                self.keep_release_error(&error.to_string(), now).await?;
            }
        }
        Ok(polled)
    }

    /// The feed: what changed since the cursor, told and kept with the cursor at once;
    /// with `checks.due`, the tickets coming due too.
    async fn read_changes(
        &self,
        now: DateTime<Utc>,
        checks: Checks,
    ) -> Result<Polled, ConnectorError> {
        let mut polled = Polled::default();
        let (cursor, polls): (i64, i64) = crate::storage::query_as(
            "SELECT cursor, polls FROM helpdesk_connectors WHERE name = $1",
        )
        .bind(RT)
        .fetch_one(&self.db)
        .await?;
        let gaps: Vec<i64> = crate::storage::query_scalar(
            // The newest first: the likeliest to be a change still being written.
            "SELECT transaction_id FROM helpdesk_gaps WHERE connector = $1
             ORDER BY transaction_id DESC LIMIT 100",
        )
        .bind(RT)
        .fetch_all(&self.db)
        .await?;
        let late = self.client.transactions_by_id(&gaps).await?;
        let fresh = self
            .client
            .transactions_after(cursor, checks.look_past)
            .await?;
        polled.more = fresh.more;
        polled.passed_over = fresh.passed_over_to.is_some();
        let skipped_over = gaps_between(cursor, &fresh);
        polled.dropped += late.unreadable.len() + fresh.unreadable.len();
        let read: Vec<i64> = late.ids().chain(fresh.ids()).collect();
        let mut transactions = late.transactions;
        transactions.extend(fresh.transactions.iter().cloned());
        let due = if checks.due {
            let minutes =
                u32::try_from(self.settings.due_warning.as_secs() / 60).unwrap_or(u32::MAX);
            self.client.tickets_due_within(minutes, minutes).await?
        } else {
            Vec::new()
        };
        let ids: BTreeSet<i64> = transactions.iter().map(|change| change.ticket_id).collect();
        let ids: Vec<i64> = ids.into_iter().collect();
        let tickets: HashMap<i64, Ticket> = self
            .client
            .tickets(&ids)
            .await?
            .into_iter()
            .map(|ticket| (ticket.id, ticket))
            .collect();
        // The owner a ticket was created with, when an owner change in this read came
        // after its creation: the first change's old value.
        let mut created_with: HashMap<i64, i64> = HashMap::new();
        let mut created: BTreeSet<i64> = BTreeSet::new();
        let mut named: Vec<(i64, i64)> = Vec::new();
        for change in &transactions {
            if change.kind == "Create" {
                created.insert(change.ticket_id);
            }
            if change.kind != "Set" || change.field != "Owner" {
                continue;
            }
            if let Ok(id) = change.new_value.parse::<i64>() {
                named.push((change.ticket_id, id));
            }
            if let Ok(old) = change.old_value.parse::<i64>() {
                if created.contains(&change.ticket_id) {
                    created_with.entry(change.ticket_id).or_insert(old);
                    named.push((change.ticket_id, old));
                }
            }
        }
        let mut new_owners: HashMap<i64, UserRef> = HashMap::new();
        // Owners RT will not show the connector: changes for them are skipped and counted.
        let mut unseen_owners: BTreeSet<i64> = BTreeSet::new();
        for (ticket_id, id) in named {
            if new_owners.contains_key(&id) || unseen_owners.contains(&id) {
                continue;
            }
            let current = tickets
                .get(&ticket_id)
                .map(|ticket| &ticket.owner)
                .filter(|owner| owner.id == id);
            let owner = match current {
                Some(owner) => owner.clone(),
                None => match self.client.user(id).await {
                    Ok(owner) => owner,
                    // Not a feed stopped for good.
                    Err(RtError::Refused {
                        status: 403 | 404, ..
                    }) => {
                        tracing::warn!(id, "Request Tracker does not show an owner to the connector: their changes are skipped");
                        unseen_owners.insert(id);
                        continue;
                    }
                    Err(error) => return Err(error.into()),
                },
            };
            new_owners.insert(id, owner);
        }

        let mut batch = self.hub.begin_batch(&self.db).await?;
        let mut customers_seen: BTreeSet<i64> = BTreeSet::new();
        for change in &transactions {
            polled.changes += 1;
            // A ticket RT no longer shows (deleted, moved out of sight): nothing to tell.
            let Some(ticket) = tickets.get(&change.ticket_id) else {
                polled.dropped += 1;
                continue;
            };
            if customers_seen.insert(ticket.id) {
                for requestor in &ticket.requestors {
                    crate::customers::from_helpdesk(
                        batch.conn(),
                        ACTOR,
                        &requestor.real_name,
                        &requestor.email,
                        &requestor.organization,
                        now,
                    )
                    .await?;
                }
            }
            let new_owner_id = if change.kind == "Create" {
                created_with.get(&change.ticket_id).copied()
            } else if change.kind == "Set" && change.field == "Owner" {
                change.new_value.parse::<i64>().ok()
            } else {
                None
            };
            if new_owner_id.is_some_and(|id| unseen_owners.contains(&id)) {
                polled.skipped += 1;
                continue;
            }
            let new_owner = new_owner_id.and_then(|id| new_owners.get(&id));
            // An RT user without an address cannot be an agent here.
            if let Some(owner) = new_owner
                .filter(|owner| owner.email.is_empty() && owner.name != agent_desk_rt::NOBODY)
            {
                polled.skipped += 1;
                self.say_once_skipped(&owner.name);
            }
            for told in feed::changes(change, ticket, new_owner, &self.user) {
                self.tell(&mut batch, &told, ticket, now, &mut polled)
                    .await?;
            }
        }
        for ticket in &due {
            let inserted = crate::storage::query(
                "INSERT INTO helpdesk_due_warnings (connector, ticket_id, due, warned_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(RT)
            .bind(ticket.id.to_string())
            .bind(ticket.due.map(timestamp))
            .bind(timestamp(now))
            .execute(batch.conn())
            .await?
            .rows_affected();
            if inserted == 1 {
                let minutes = ticket
                    .due
                    .map(|due| (due - now).num_minutes().max(0))
                    .unwrap_or_default();
                let new = self.event(
                    EventType::TicketSlaWarning,
                    EventTarget::Agent(ticket.owner.email.clone()),
                    ticket,
                    format!("#{} due in {minutes} min: {}", ticket.id, ticket.subject),
                    None,
                );
                self.publish(&mut batch, &new, now, true, &mut polled)
                    .await?;
            }
        }
        // The ids read late are read; ids skipped over now are asked for again later;
        // old ones are given up.
        for id in &read {
            crate::storage::query(
                "DELETE FROM helpdesk_gaps WHERE connector = $1 AND transaction_id = $2",
            )
            .bind(RT)
            .bind(id)
            .execute(batch.conn())
            .await?;
        }
        // The newest kept: an old id is the least likely still to come.
        for id in skipped_over.iter().rev().take(GAPS_MAX) {
            crate::storage::query(
                "INSERT INTO helpdesk_gaps (connector, transaction_id, seen_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .bind(RT)
            .bind(id)
            .bind(timestamp(now))
            .execute(batch.conn())
            .await?;
        }
        crate::storage::query("DELETE FROM helpdesk_gaps WHERE connector = $1 AND seen_at < $2")
            .bind(RT)
            .bind(timestamp(now - GAP_WINDOW))
            .execute(batch.conn())
            .await?;
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        // Kept only if no other read was kept since this one began.
        let kept = crate::storage::query(
            "UPDATE helpdesk_connectors SET cursor = $1, polls = polls + 1, changes_read = changes_read + $2,
                 events_published = events_published + $3,
                 skipped_unknown_owner = skipped_unknown_owner + $4,
                 changes_dropped = changes_dropped + $5,
                 last_success_at = $6, last_change_at = COALESCE($7, last_change_at),
                 last_error = NULL
             WHERE name = $8 AND polls = $9",
        )
        .bind(fresh.newest().unwrap_or(cursor).max(cursor))
        .bind(count(polled.changes))
        .bind(count(polled.events))
        .bind(count(polled.skipped))
        .bind(count(polled.dropped))
        .bind(timestamp(now))
        .bind(
            fresh
                .transactions
                .last()
                .map(|change| timestamp(change.created)),
        )
        .bind(RT)
        .bind(polls)
        .execute(batch.conn())
        .await?
        .rows_affected();
        if kept == 0 {
            // Another instance read the same changes and kept them first (it took the
            // connector over while this one still polled): nothing here is kept.
            tracing::warn!(
                cursor,
                "another instance read these changes first; dropping this read"
            );
            return Ok(Polled::default());
        }
        batch.commit().await?;
        Ok(polled)
    }

    /// One change as the events it means.
    async fn tell(
        &self,
        batch: &mut Batch<'_>,
        change: &Change,
        ticket: &Ticket,
        now: DateTime<Utc>,
        polled: &mut Polled,
    ) -> Result<(), ConnectorError> {
        let id = ticket.id;
        let subject = &ticket.subject;
        let from = requestors(ticket);
        match change {
            Change::Assigned { owner } => {
                // Given a ticket while away: looked at again at the next poll.
                crate::storage::query(
                    "DELETE FROM helpdesk_away_released WHERE connector = $1 AND email = $2",
                )
                .bind(RT)
                .bind(&owner.email)
                .execute(batch.conn())
                .await?;
                let new = self.event(
                    EventType::TicketAssigned,
                    EventTarget::Agent(owner.email.clone()),
                    ticket,
                    format!("#{id} assigned to you: {subject}"),
                    from.map(|from| format!("From {from}.")),
                );
                self.publish(batch, &new, now, true, polled).await
            }
            Change::RequestorReplied { requestor, owner } => {
                let new = self.event(
                    EventType::TicketCustomerReply,
                    EventTarget::Agent(owner.email.clone()),
                    ticket,
                    format!("#{id} {} replied: {subject}", display(requestor)),
                    None,
                );
                self.publish(batch, &new, now, true, polled).await
            }
            Change::Updated { what, to } => {
                let body = match what {
                    Update::Replied { by } => format!("{} replied.", display(by)),
                    Update::Commented { by } => format!("{} commented.", display(by)),
                    Update::Set { field, value } => format!("{field}: {value}"),
                    Update::Watchers => "The people on the ticket changed.".to_owned(),
                };
                for watcher in to {
                    let new = self.event(
                        EventType::TicketUpdated,
                        EventTarget::Agent(watcher.email.clone()),
                        ticket,
                        format!("#{id} updated: {subject}"),
                        Some(body.clone()),
                    );
                    self.publish(batch, &new, now, false, polled).await?;
                }
                Ok(())
            }
            Change::Created { queue } | Change::Released { queue } => {
                let Some(team) = self.teams.get(queue) else {
                    return Ok(());
                };
                let title = match change {
                    Change::Released { .. } => format!("#{id} back in {queue}: {subject}"),
                    _ => format!("#{id} new in {queue}: {subject}"),
                };
                let new = self.event(
                    EventType::TicketTeamAssigned,
                    EventTarget::Team(team.clone()),
                    ticket,
                    title,
                    from.map(|from| format!("From {from}.")),
                );
                self.publish(batch, &new, now, false, polled).await
            }
        }
    }

    /// Publishes in the batch. An agent or team unknown here is skipped, and counted
    /// when it was the ticket's owner.
    async fn publish(
        &self,
        batch: &mut Batch<'_>,
        new: &NewEvent,
        now: DateTime<Utc>,
        to_owner: bool,
        polled: &mut Polled,
    ) -> Result<(), ConnectorError> {
        match batch.publish(&new.to, new, now).await {
            Ok(_) => {
                polled.events += 1;
                Ok(())
            }
            Err(EventError::UnknownAgent(email)) => {
                if to_owner {
                    polled.skipped += 1;
                    self.say_once_skipped(&email);
                }
                Ok(())
            }
            Err(EventError::UnknownTeam(_) | EventError::EmptyTeam(_)) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Says, once an owner while the server runs, that their changes are skipped: the
    /// count alone does not say whose.
    fn say_once_skipped(&self, owner: &str) {
        let first = self
            .owners_skipped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(owner.to_owned());
        if first {
            // A warning: an RT owner whose email no agent has is missing their alerts.
            tracing::warn!(
                owner,
                "a ticket owner in Request Tracker is no agent here (no agent has that email): their changes are skipped and counted"
            );
        }
    }

    fn event(
        &self,
        event_type: EventType,
        to: EventTarget,
        ticket: &Ticket,
        title: String,
        body: Option<String>,
    ) -> NewEvent {
        NewEvent {
            event_type,
            to,
            priority: priority(ticket.priority),
            title,
            body,
            ticket_id: Some(ticket.id.to_string()),
            url: Some(self.client.ticket_url(ticket.id)),
            requester: ticket
                .requestors
                .first()
                .map(|requestor| requestor.email.clone())
                .filter(|email| !email.is_empty()),
        }
        .cleaned()
    }

    /// Gives back the open tickets of agents Away (or Offline, when so set) for longer
    /// than the setting, each with a comment that says why. The queue's team hears of
    /// it when the feed brings the owner change back.
    async fn release_tickets_of_the_away(
        &self,
        now: DateTime<Utc>,
        polled: &mut Polled,
    ) -> Result<(), ConnectorError> {
        let Some(after) = self.settings.release_after_away else {
            return Ok(());
        };
        self.finish_releases(polled).await?;
        let before = timestamp(now - chrono::Duration::from_std(after).unwrap_or_default());
        let statuses: &[&str] = if self.settings.release_offline {
            &["away", "offline"]
        } else {
            &["away"]
        };
        for status in statuses {
            let agents = away_agents(&self.db, status, &before, &timestamp(now)).await?;
            for (email, name, since) in agents {
                // Agents whose tickets were given back for this spell are looked up in
                // RT again only when the spell changes or a ticket is given to them.
                let handled: Option<i64> = crate::storage::query_scalar(
                    "SELECT CAST(1 AS BIGINT) FROM helpdesk_away_released
                     WHERE connector = $1 AND email = $2 AND since = $3",
                )
                .bind(RT)
                .bind(&email)
                .bind(&since)
                .fetch_optional(&self.db)
                .await?;
                if handled.is_some() {
                    continue;
                }
                if let Some(user) = self.client.user_by_email(&email).await? {
                    for ticket in self.client.open_tickets_of(&user.name).await? {
                        let why = format!(
                            "Given back to the queue by Agent Desk: {name} has been {status} since {since}."
                        );
                        crate::storage::query(
                            "INSERT INTO helpdesk_releases (connector, ticket_id, reason, started_at)
                             VALUES ($1, $2, $3, $4)
                             ON CONFLICT (connector, ticket_id)
                             DO UPDATE SET reason = excluded.reason, started_at = excluded.started_at",
                        )
                        .bind(RT)
                        .bind(ticket.id)
                        .bind(&why)
                        .bind(timestamp(now))
                        .execute(&self.db)
                        .await?;
                        match self.client.release(ticket.id).await {
                            Ok(()) => self.finish_release(ticket.id, &why, polled).await?,
                            // RT refused (the connector's user lacks ReassignTicket): said
                            // in the integrations view until a ticket is given back; the
                            // alerts keep flowing.
                            Err(RtError::NotChanged(reason)) => {
                                tracing::warn!(%reason, ticket = ticket.id, "a ticket could not be given back");
                                let refused = format!(
                                    "Request Tracker would not give ticket {} back to its queue: {reason}",
                                    ticket.id
                                );
                                forget_release(&self.db, ticket.id).await?;
                                self.keep_release_error(&refused, now).await?;
                            }
                            Err(error) => return Err(error.into()),
                        }
                    }
                }
                crate::storage::query(
                    "INSERT INTO helpdesk_away_released (connector, email, since) VALUES ($1, $2, $3)
                     ON CONFLICT (connector, email) DO UPDATE SET since = excluded.since",
                )
                .bind(RT)
                .bind(&email)
                .bind(&since)
                .execute(&self.db)
                .await?;
            }
        }
        Ok(())
    }
    /// Writes the comments owed for tickets given back before a failure (RT gone after
    /// the owner changed, the server killed): once each, only where RT shows the ticket
    /// back in the queue.
    async fn finish_releases(&self, polled: &mut Polled) -> Result<(), ConnectorError> {
        let owed: Vec<(i64, String)> = crate::storage::query_as(
            "SELECT ticket_id, reason FROM helpdesk_releases WHERE connector = $1 ORDER BY ticket_id",
        )
        .bind(RT)
        .fetch_all(&self.db)
        .await?;
        if owed.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = owed.iter().map(|(id, _)| *id).collect();
        let tickets = self.client.tickets(&ids).await?;
        for (id, why) in owed {
            let back = tickets
                .iter()
                .any(|ticket| ticket.id == id && ticket.owner.name == agent_desk_rt::NOBODY);
            if back {
                self.finish_release(id, &why, polled).await?;
            } else {
                // Never given back, or taken since: nothing to explain.
                forget_release(&self.db, id).await?;
            }
        }
        Ok(())
    }

    /// The comment that says why, then the release counted and done.
    async fn finish_release(
        &self,
        ticket: i64,
        why: &str,
        polled: &mut Polled,
    ) -> Result<(), ConnectorError> {
        match self.client.comment(ticket, why).await {
            Ok(()) => {}
            // Tried again at the next poll.
            Err(error) if error.is_transient() => return Err(error.into()),
            // Refused for good (no CommentOnTicket): the ticket is back without its
            // comment, and the integrations view says so.
            Err(error) => {
                forget_release(&self.db, ticket).await?;
                return Err(ConnectorError::CommentRefused { ticket, error });
            }
        }
        let mut tx = self.db.begin().await?;
        crate::storage::query(
            "UPDATE helpdesk_connectors SET tickets_released = tickets_released + 1,
                 release_error = NULL, release_error_at = NULL
             WHERE name = $1",
        )
        .bind(RT)
        .execute(&mut *tx)
        .await?;
        forget_release(&mut *tx, ticket).await?;
        tx.commit().await?;
        polled.released += 1;
        Ok(())
    }

    /// Why giving back failed, shown until a ticket is given back.
    async fn keep_release_error(&self, why: &str, now: DateTime<Utc>) -> sqlx::Result<()> {
        crate::storage::query(
            "UPDATE helpdesk_connectors SET release_error = $1, release_error_at = $2
             WHERE name = $3",
        )
        .bind(why)
        .bind(timestamp(now))
        .bind(RT)
        .execute(&self.db)
        .await
        .map(drop)
    }
}

/// A release done with, or never to be done.
async fn forget_release<'e>(
    executor: impl Into<crate::storage::Runner<'e>>,
    ticket: i64,
) -> sqlx::Result<()> {
    crate::storage::query("DELETE FROM helpdesk_releases WHERE connector = $1 AND ticket_id = $2")
        .bind(RT)
        .bind(ticket)
        .execute(executor)
        .await
        .map(drop)
}

/// The ids after `cursor`, up to where the page ends, that RT did not show: all of a page
/// passed over, since a change still being written there is not yet seen as hidden.
fn gaps_between(cursor: i64, page: &Changes) -> Vec<i64> {
    let Some(newest) = page.newest() else {
        return Vec::new();
    };
    let read: BTreeSet<i64> = page.ids().collect();
    (cursor + 1..=newest)
        .filter(|id| !read.contains(id))
        .collect()
}

/// Agents whose status in force is `status` since before `before`: (email, name, since).
async fn away_agents(
    db: &Db,
    status: &str,
    before: &str,
    now: &str,
) -> sqlx::Result<Vec<(String, String, String)>> {
    crate::storage::query_as(
        // A status never changed has held since the agent was made.
        "SELECT email, display_name, COALESCE(status_since, created_at) AS since FROM agents
         WHERE status = $1 AND COALESCE(status_since, created_at) <= $2
           AND (status_until IS NULL OR status_until > $3)",
    )
    .bind(status)
    .bind(before)
    .bind(now)
    .fetch_all(db)
    .await
}

/// A person as a notification names them.
fn display(user: &UserRef) -> String {
    [&user.real_name, &user.email, &user.name]
        .into_iter()
        .find(|text| !text.is_empty())
        .cloned()
        .unwrap_or_default()
}

fn requestors(ticket: &Ticket) -> Option<String> {
    let names: Vec<String> = ticket.requestors.iter().map(display).collect();
    (!names.is_empty()).then(|| names.join(", "))
}

/// RT's priority (a number; RT 5 names 0 Low, 50 Medium, 100 High) as Agent Desk's:
/// below 25 low, to 74 normal, to 99 high, 100 to 119 urgent, 120 and above critical.
pub fn priority(rt: i64) -> Priority {
    match rt {
        ..25 => Priority::Low,
        25..75 => Priority::Normal,
        75..100 => Priority::High,
        100..120 => Priority::Urgent,
        _ => Priority::Critical,
    }
}

/// A followed helpdesk's row, as the integrations view reads it.
#[derive(sqlx::FromRow)]
struct ConnectorRow {
    url: String,
    cursor: i64,
    changes_read: i64,
    events_published: i64,
    skipped_unknown_owner: i64,
    changes_dropped: i64,
    tickets_released: i64,
    last_success_at: Option<String>,
    last_change_at: Option<String>,
    last_error: Option<String>,
    last_error_at: Option<String>,
    release_error: Option<String>,
    release_error_at: Option<String>,
}

/// What `GET /api/v1/admin/integrations` shows.
pub async fn connections(
    db: &Db,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<agent_desk_core::integrations::HelpdeskConnection>> {
    let rows: Vec<ConnectorRow> = crate::storage::query_as(
        "SELECT url, cursor, changes_read, events_published, skipped_unknown_owner,
                changes_dropped, tickets_released, last_success_at, last_change_at,
                last_error, last_error_at, release_error, release_error_at
         FROM helpdesk_connectors ORDER BY name",
    )
    .fetch_all(db)
    .await?;
    let at = |text: Option<String>| text.as_deref().map(crate::clock::parse_timestamp);
    Ok(rows
        .into_iter()
        .map(|row| {
            let last_success_at = at(row.last_success_at);
            agent_desk_core::integrations::HelpdeskConnection {
                kind: "request_tracker".into(),
                url: row.url,
                cursor: row.cursor,
                lag_seconds: last_success_at.map(|success| (now - success).num_seconds().max(0)),
                last_success_at,
                last_change_at: at(row.last_change_at),
                changes_read: row.changes_read,
                events_published: row.events_published,
                skipped_unknown_owner: row.skipped_unknown_owner,
                changes_dropped: row.changes_dropped,
                tickets_released: row.tickets_released,
                last_error: row.last_error,
                last_error_at: at(row.last_error_at),
                release_error: row.release_error,
                release_error_at: at(row.release_error_at),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_skipped_over_between_the_cursor_and_the_newest_read_are_gaps() {
        let read = |id: i64| agent_desk_rt::Transaction {
            id,
            ticket_id: 1,
            kind: "Correspond".into(),
            field: String::new(),
            old_value: String::new(),
            new_value: String::new(),
            creator: UserRef::default(),
            created: Utc::now(),
        };
        let page = |read: Vec<agent_desk_rt::Transaction>, unreadable: Vec<i64>| Changes {
            transactions: read,
            unreadable,
            ..Changes::default()
        };
        assert_eq!(
            gaps_between(10, &page(vec![read(11), read(14), read(17)], vec![15])),
            vec![12, 13, 16]
        );
        assert!(gaps_between(10, &page(vec![], vec![])).is_empty());
        assert!(gaps_between(10, &page(vec![read(11)], vec![12])).is_empty());
        let passed = Changes {
            passed_over_to: Some(13),
            ..Changes::default()
        };
        assert_eq!(gaps_between(10, &passed), vec![11, 12, 13]);
    }

    #[tokio::test]
    async fn another_rt_that_answered_is_read_from_its_newest_change_and_the_same_one_goes_on() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("db").display());
        let db = crate::db::connect(&url).await.expect("a database");
        let now = Utc::now();
        let rt = "https://rt.example/";
        register(&db, rt, now).await.expect("registered");
        assert_eq!(cursor_for(&db, rt).await.expect("a cursor"), -1);
        crate::storage::query("UPDATE helpdesk_connectors SET cursor = 42")
            .execute(&db)
            .await
            .expect("read to 42");
        crate::storage::query(
            "INSERT INTO helpdesk_gaps (connector, transaction_id, seen_at) VALUES ('rt', 40, '')",
        )
        .execute(&db)
        .await
        .expect("a gap");
        assert_eq!(cursor_for(&db, rt).await.expect("a cursor"), 42);
        // A mistyped address that never answers changes nothing.
        register(&db, "https://rt.exmaple/", now)
            .await
            .expect("again");
        register(&db, rt, now).await.expect("mended");
        assert_eq!(cursor_for(&db, rt).await.expect("a cursor"), 42);
        assert_eq!(
            cursor_for(&db, "https://rt2.example/")
                .await
                .expect("a cursor"),
            -1
        );
        let gaps: i64 = crate::storage::query_scalar("SELECT COUNT(*) FROM helpdesk_gaps")
            .fetch_one(&db)
            .await
            .expect("counted");
        assert_eq!(gaps, 0);
    }

    #[test]
    fn rt_priorities_read_as_agent_desks() {
        assert_eq!(priority(0), Priority::Low);
        assert_eq!(priority(50), Priority::Normal);
        assert_eq!(priority(80), Priority::High);
        assert_eq!(priority(100), Priority::Urgent);
        assert_eq!(priority(150), Priority::Critical);
        assert_eq!(priority(-3), Priority::Low);
    }
}

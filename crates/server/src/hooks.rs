//! Webhooks from hosted helpdesks (`POST /api/v1/hooks/{source}`): their secrets, how a
//! delivery is proven to come from the helpdesk, and how its body becomes an event.
//!
//! - `generic`: Agent Desk's own event JSON, signed with `X-Agent-Desk-Signature:
//!   sha256=<hex HMAC-SHA256 of "<timestamp>.<delivery>.<body>">`. The timestamp and the
//!   delivery id are signed with the body, so a delivery seen once cannot be sent again
//!   under another id or time.
//! - `zendesk`: a trigger's JSON built from Zendesk's placeholders, signed as Zendesk
//!   signs every webhook: base64(HMAC-SHA256(timestamp + body)) with the webhook's signing
//!   secret (<https://developer.zendesk.com/documentation/webhooks/verifying/>).
//! - `freshdesk`: the same kind of body from Freshdesk's placeholders, posted by an
//!   automation rule's "Trigger webhook" action
//!   (<https://support.freshdesk.com/support/solutions/articles/132589-using-webhooks-in-automation-rules>).
//!   Freshdesk does not sign; the rule sends a secret header, which proves less.

use agent_desk_core::integrations::HOOK_GRACE_HOURS_MAX;
use agent_desk_core::{EventTarget, EventType, NewEvent, Priority};
use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::clock::{parse_timestamp, timestamp};
use crate::db::Db;

type HmacSha256 = Hmac<Sha256>;

pub const SIGNATURE_HEADER: &str = "x-agent-desk-signature";
pub const DELIVERY_HEADER: &str = "x-agent-desk-delivery";
pub const TIMESTAMP_HEADER: &str = "x-agent-desk-timestamp";
pub const SECRET_HEADER: &str = "x-agent-desk-secret";
const ZENDESK_SIGNATURE: &str = "x-zendesk-webhook-signature";
const ZENDESK_TIMESTAMP: &str = "x-zendesk-webhook-signature-timestamp";
const ZENDESK_INVOCATION: &str = "x-zendesk-webhook-invocation-id";

/// A delivery's timestamp may be this far from the server's clock, either way.
pub const TIMESTAMP_WINDOW: TimeDelta = TimeDelta::minutes(5);
/// Delivery ids are remembered this long: far beyond the timestamp window.
const DELIVERIES_KEPT: TimeDelta = TimeDelta::days(1);
/// The longest secret a helpdesk's own may be (Zendesk's are 64 characters).
const SECRET_MAX_CHARS: usize = 500;
/// The longest delivery id taken.
const DELIVERY_ID_MAX: usize = 200;

pub use agent_desk_core::integrations::WebhookSource as Source;

/// Why a delivery was refused. Nothing is stored for any of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no secret is set for {0}: run agent-desk-server add-hook --source {0}")]
    NoSecret(&'static str),
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    #[error("the {0} header does not match the body and the secret")]
    BadSignature(&'static str),
    #[error("the {0} header is not the secret set for this source")]
    WrongSecret(&'static str),
    #[error("the {header} header must be {expected}")]
    UnreadableHeader {
        header: &'static str,
        expected: &'static str,
    },
    #[error("the {0} header is more than 5 minutes from the server's time")]
    StaleTimestamp(&'static str),
    #[error("delivery {id} was received before")]
    Replayed { header: &'static str, id: String },
}

impl Refusal {
    /// Whether the caller failed to show the secret (or sent a copy of a delivery): what
    /// is throttled. A stale time with a right signature is the helpdesk's clock, and a
    /// source without a secret the administrator's to fix.
    pub fn is_unproven(&self) -> bool {
        matches!(
            self,
            Self::MissingHeader(_)
                | Self::BadSignature(_)
                | Self::WrongSecret(_)
                | Self::UnreadableHeader { .. }
                | Self::Replayed { .. }
        )
    }

    /// The header to blame.
    pub fn header(&self) -> Option<&'static str> {
        match self {
            Self::NoSecret(_) => None,
            Self::MissingHeader(header)
            | Self::BadSignature(header)
            | Self::WrongSecret(header)
            | Self::UnreadableHeader { header, .. }
            | Self::StaleTimestamp(header)
            | Self::Replayed { header, .. } => Some(header),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("{source_name} is not zendesk, freshdesk or generic")]
    UnknownSource { source_name: String },
    #[error("the secret must not be empty")]
    EmptySecret,
    #[error("the secret must be at most {SECRET_MAX_CHARS} characters on one line")]
    LongSecret,
    #[error("give Zendesk's signing secret of the webhook: Zendesk makes it")]
    SecretRequired,
    #[error("{} secrets are made by the server; send none", .0.as_str())]
    SecretMadeHere(Source),
    #[error("a replaced secret may be kept for at most {HOOK_GRACE_HOURS_MAX} hours")]
    GraceTooLong,
    #[error("{} has no secret to remove", .0.as_str())]
    NoSecret(Source),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A secret saved by `add-hook`.
pub struct SavedSecret {
    pub secret: String,
    /// Until when the secret it replaced is still accepted; None when it is the first.
    pub previous_until: Option<DateTime<Utc>>,
}

/// Saves a source's new secret (made here, or the helpdesk's own for Zendesk). The
/// secrets it replaces are accepted for `grace` more at most. `made_by` is the
/// administrator's id, None on the server's command line.
pub async fn add_secret(
    db: &Db,
    source: Source,
    given: Option<String>,
    grace: TimeDelta,
    made_by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<SavedSecret, HookError> {
    if grace > TimeDelta::hours(i64::from(HOOK_GRACE_HOURS_MAX)) || grace < TimeDelta::zero() {
        return Err(HookError::GraceTooLong);
    }
    let secret = match (given, source.secret_is_the_helpdesks()) {
        (Some(secret), true) => {
            let secret = secret.trim().to_owned();
            if secret.is_empty() {
                return Err(HookError::EmptySecret);
            }
            if secret.chars().count() > SECRET_MAX_CHARS || secret.chars().any(char::is_control) {
                return Err(HookError::LongSecret);
            }
            secret
        }
        (None, true) => return Err(HookError::SecretRequired),
        (Some(_), false) => return Err(HookError::SecretMadeHere(source)),
        (None, false) => crate::credentials::new_token(),
    };
    let retires = timestamp(now + grace);
    let mut tx = crate::db::begin_write(db).await?;
    // Two rotations at once would each keep their own secret current.
    tx.lock_name(&format!("hook_secrets:{}", source.as_str()))
        .await?;
    let replaced = crate::storage::query(
        "UPDATE hook_secrets SET retires_at = $1
         WHERE source = $2 AND (retires_at IS NULL OR retires_at > $1)",
    )
    .bind(&retires)
    .bind(source.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    crate::storage::query("DELETE FROM hook_secrets WHERE source = $1 AND retires_at <= $2")
        .bind(source.as_str())
        .bind(timestamp(now))
        .execute(&mut *tx)
        .await?;
    crate::storage::query(
        "INSERT INTO hook_secrets (id, source, secret, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(source.as_str())
    .bind(&secret)
    .bind(timestamp(now))
    .bind(made_by)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(SavedSecret {
        secret,
        // A grace of nothing leaves no secret before this one accepted.
        previous_until: (replaced > 0 && grace > TimeDelta::zero())
            .then(|| parse_timestamp(&retires)),
    })
}

/// Removes every secret of a source, the current one and any in its grace period: its
/// deliveries are refused from now on, until a secret is set again.
pub async fn remove_secrets(db: &Db, source: Source, now: DateTime<Utc>) -> Result<(), HookError> {
    let mut tx = crate::db::begin_write(db).await?;
    let removed = crate::storage::query(
        "DELETE FROM hook_secrets
         WHERE source = $1 AND (retires_at IS NULL OR retires_at > $2)",
    )
    .bind(source.as_str())
    .bind(timestamp(now))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if removed == 0 {
        return Err(HookError::NoSecret(source));
    }
    tx.commit().await?;
    Ok(())
}

/// The secrets a source's deliveries are accepted with now.
pub async fn secrets(db: &Db, source: Source, now: DateTime<Utc>) -> sqlx::Result<Vec<String>> {
    crate::storage::query_scalar(
        "SELECT secret FROM hook_secrets
         WHERE source = $1 AND (retires_at IS NULL OR retires_at > $2)
         ORDER BY retires_at IS NULL DESC, created_at DESC",
    )
    .bind(source.as_str())
    .bind(timestamp(now))
    .fetch_all(db)
    .await
}

/// The generic hook's and the status webhook's signature: `sha256=` and the hex
/// HMAC-SHA256 of `<timestamp>.<delivery>.<body>`.
pub fn generic_signature(secret: &str, timestamp: &str, delivery: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(
            generic_mac(secret, timestamp, delivery, body)
                .finalize()
                .into_bytes()
        )
    )
}

fn generic_mac(secret: &str, timestamp: &str, delivery: &str, body: &[u8]) -> HmacSha256 {
    let mut mac = keyed(secret);
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(delivery.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn keyed(secret: &str) -> HmacSha256 {
    HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length")
}

/// Zendesk's signature: base64(HMAC-SHA256(timestamp + body)).
pub fn zendesk_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = keyed(secret);
    mac.update(timestamp.as_bytes());
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, Refusal> {
    let value = headers.get(name).ok_or(Refusal::MissingHeader(name))?;
    let value = value.to_str().map_err(|_| Refusal::UnreadableHeader {
        header: name,
        expected: "visible ASCII text",
    })?;
    let value = value.trim();
    if value.is_empty() {
        return Err(Refusal::MissingHeader(name));
    }
    Ok(value)
}

fn within_window(
    header: &'static str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    if (now - at).abs() > TIMESTAMP_WINDOW {
        return Err(Refusal::StaleTimestamp(header));
    }
    Ok(())
}

/// A delivery proven to come from the helpdesk, and the keys it is remembered by.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    pub keys: Vec<(String, &'static str)>,
}

/// Proves a delivery came from the helpdesk that holds one of `secrets`: the signature
/// or secret first, so that nobody without it learns anything more, then the time.
pub fn verify(
    source: Source,
    secrets: &[String],
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Verified, Refusal> {
    if secrets.is_empty() {
        return Err(Refusal::NoSecret(source.as_str()));
    }
    match source {
        Source::Generic => {
            let signature = header(headers, SIGNATURE_HEADER)?;
            let delivery = header(headers, DELIVERY_HEADER)?;
            let stamp = header(headers, TIMESTAMP_HEADER)?;
            let unreadable = Refusal::UnreadableHeader {
                header: SIGNATURE_HEADER,
                expected: "sha256= and 64 hex digits",
            };
            let signature = signature
                .strip_prefix("sha256=")
                .and_then(|hex_digits| hex::decode(hex_digits).ok())
                .ok_or(unreadable)?;
            if !secrets.iter().any(|secret| {
                generic_mac(secret, stamp, delivery, body)
                    .verify_slice(&signature)
                    .is_ok()
            }) {
                return Err(Refusal::BadSignature(SIGNATURE_HEADER));
            }
            if delivery.chars().count() > DELIVERY_ID_MAX {
                return Err(Refusal::UnreadableHeader {
                    header: DELIVERY_HEADER,
                    expected: "at most 200 characters",
                });
            }
            let at = stamp
                .parse::<i64>()
                .ok()
                .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
                .ok_or(Refusal::UnreadableHeader {
                    header: TIMESTAMP_HEADER,
                    expected: "Unix time in seconds",
                })?;
            within_window(TIMESTAMP_HEADER, at, now)?;
            Ok(Verified {
                keys: vec![(format!("delivery:{delivery}"), DELIVERY_HEADER)],
            })
        }
        Source::Zendesk => {
            let signature = header(headers, ZENDESK_SIGNATURE)?;
            let stamp = header(headers, ZENDESK_TIMESTAMP)?;
            let decoded = STANDARD
                .decode(signature)
                .map_err(|_| Refusal::UnreadableHeader {
                    header: ZENDESK_SIGNATURE,
                    expected: "base64",
                })?;
            if !secrets.iter().any(|secret| {
                let mut mac = keyed(secret);
                mac.update(stamp.as_bytes());
                mac.update(body);
                mac.verify_slice(&decoded).is_ok()
            }) {
                return Err(Refusal::BadSignature(ZENDESK_SIGNATURE));
            }
            let at = DateTime::parse_from_rfc3339(stamp)
                .map(|at| at.with_timezone(&Utc))
                .map_err(|_| Refusal::UnreadableHeader {
                    header: ZENDESK_TIMESTAMP,
                    expected: "an ISO 8601 time such as 2026-12-06T16:00:00Z",
                })?;
            within_window(ZENDESK_TIMESTAMP, at, now)?;
            let invocation = header(headers, ZENDESK_INVOCATION)?;
            if invocation.chars().count() > DELIVERY_ID_MAX {
                return Err(Refusal::UnreadableHeader {
                    header: ZENDESK_INVOCATION,
                    expected: "at most 200 characters",
                });
            }
            // Zendesk does not sign the invocation id: the signature itself is remembered
            // too, so a copy sent under another id is refused as well.
            Ok(Verified {
                keys: vec![
                    (format!("invocation:{invocation}"), ZENDESK_INVOCATION),
                    (format!("signature:{signature}"), ZENDESK_SIGNATURE),
                ],
            })
        }
        Source::Freshdesk => {
            let given = header(headers, SECRET_HEADER)?;
            // Compared as digests, so the time taken says nothing of the secret.
            let given = Sha256::digest(given.as_bytes());
            if !secrets
                .iter()
                .any(|secret| Sha256::digest(secret.as_bytes()) == given)
            {
                return Err(Refusal::WrongSecret(SECRET_HEADER));
            }
            Ok(Verified { keys: Vec::new() })
        }
    }
}

/// A delivery received before, refused before its body is read.
pub async fn seen_before(
    db: &Db,
    source: Source,
    verified: &Verified,
) -> Result<Result<(), Refusal>, sqlx::Error> {
    for (key, header) in &verified.keys {
        let seen: bool = crate::storage::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM hook_deliveries WHERE source = $1 AND delivery_id = $2)",
        )
        .bind(source.as_str())
        .bind(key)
        .fetch_one(db)
        .await?;
        if seen {
            return Ok(Err(replayed(key, header)));
        }
    }
    Ok(Ok(()))
}

fn replayed(key: &str, header: &'static str) -> Refusal {
    let id = key.split_once(':').map_or(key, |(_, id)| id);
    Refusal::Replayed {
        header,
        id: id.to_owned(),
    }
}

/// Remembers a delivery's keys in the transaction that stores its event: a copy is
/// refused, and a delivery whose event could not be stored may be sent again.
pub async fn remember(
    tx: &mut crate::storage::Conn,
    source: Source,
    verified: &Verified,
    now: DateTime<Utc>,
) -> Result<Result<(), Refusal>, sqlx::Error> {
    crate::storage::query("DELETE FROM hook_deliveries WHERE received_at < $1")
        .bind(timestamp(now - DELIVERIES_KEPT))
        .execute(&mut *tx)
        .await?;
    for (key, header) in &verified.keys {
        let inserted = crate::storage::query(
            "INSERT INTO hook_deliveries (source, delivery_id, received_at) VALUES ($1, $2, $3)
             ON CONFLICT (source, delivery_id) DO NOTHING",
        )
        .bind(source.as_str())
        .bind(key)
        .bind(timestamp(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            // Sent twice at once: the other copy got here first.
            return Ok(Err(replayed(key, header)));
        }
    }
    Ok(Ok(()))
}

/// Counts a delivery accepted or refused, for administrators.
pub async fn count(
    db: &Db,
    source: Source,
    refusal: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let query = match refusal {
        None => {
            "INSERT INTO hook_counters (source, accepted, last_accepted_at) VALUES ($1, 1, $2)
             ON CONFLICT (source) DO UPDATE SET accepted = hook_counters.accepted + 1,
                                                last_accepted_at = $2"
        }
        Some(_) => {
            "INSERT INTO hook_counters (source, refused, last_refused_at, last_refusal)
             VALUES ($1, 1, $2, $3)
             ON CONFLICT (source) DO UPDATE SET refused = hook_counters.refused + 1,
                                                last_refused_at = $2,
                                                last_refusal = $3"
        }
    };
    crate::storage::query(query)
        .bind(source.as_str())
        .bind(timestamp(now))
        .bind(refusal)
        .execute(db)
        .await
        .map(drop)
}

/// Each source with a secret or a delivery, for `GET /api/v1/admin/integrations`.
pub async fn sources(
    db: &Db,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<agent_desk_core::integrations::HookSource>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        source: String,
        secrets: i64,
        accepted: Option<i64>,
        refused: Option<i64>,
        last_accepted_at: Option<String>,
        last_refused_at: Option<String>,
        last_refusal: Option<String>,
        secret_set_at: Option<String>,
        secret_set_by: Option<String>,
        previous_secret_until: Option<String>,
    }
    let rows: Vec<Row> = crate::storage::query_as(
        "SELECT s.source,
                (SELECT COUNT(*) FROM hook_secrets h
                 WHERE h.source = s.source AND (h.retires_at IS NULL OR h.retires_at > $1))
                    AS secrets,
                c.accepted, c.refused, c.last_accepted_at, c.last_refused_at, c.last_refusal,
                current.created_at AS secret_set_at, a.display_name AS secret_set_by,
                (SELECT MAX(h.retires_at) FROM hook_secrets h
                 WHERE h.source = s.source AND h.retires_at > $1) AS previous_secret_until
         FROM (SELECT source FROM hook_secrets UNION SELECT source FROM hook_counters) s
         LEFT JOIN hook_counters c ON c.source = s.source
         LEFT JOIN hook_secrets current
                ON current.source = s.source AND current.retires_at IS NULL
         LEFT JOIN agents a ON a.id = current.created_by
         ORDER BY s.source",
    )
    .bind(timestamp(now))
    .fetch_all(db)
    .await?;
    let at = |text: Option<String>| text.as_deref().map(parse_timestamp);
    Ok(rows
        .into_iter()
        .map(|row| agent_desk_core::integrations::HookSource {
            source: row.source,
            secrets: row.secrets,
            accepted: row.accepted.unwrap_or_default(),
            refused: row.refused.unwrap_or_default(),
            last_accepted_at: at(row.last_accepted_at),
            last_refused_at: at(row.last_refused_at),
            last_refusal: row.last_refusal,
            secret_set_at: at(row.secret_set_at),
            secret_set_by: row.secret_set_by,
            previous_secret_until: at(row.previous_secret_until),
        })
        .collect())
}

/// A body that does not make an event: the field to blame and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmapped {
    pub field: &'static str,
    pub message: String,
}

impl Unmapped {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// The body a Zendesk trigger or Freshdesk rule posts, as `docs/API.md` gives it; each
/// value a placeholder the helpdesk fills in. Fields the helpdesk adds are ignored.
#[derive(Debug, Deserialize)]
pub struct TicketHook {
    #[serde(rename = "type", default)]
    pub event_type: Option<String>,
    #[serde(default)]
    pub ticket_id: Option<PlaceholderText>,
    #[serde(default)]
    pub title: Option<String>,
    /// The agent's email.
    #[serde(default)]
    pub assignee: Option<String>,
    /// A team's name, for a ticket with no assignee.
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub requester: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// A placeholder's value: text, or a number where the body left out the quotes.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum PlaceholderText {
    Text(String),
    Number(serde_json::Number),
}

impl PlaceholderText {
    fn into_text(self) -> String {
        match self {
            Self::Text(text) => text,
            Self::Number(number) => number.to_string(),
        }
    }
}

/// A placeholder left empty: Zendesk renders nothing, or `-` for an unset priority.
fn filled(value: Option<String>) -> Option<String> {
    value
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty() && value != "-")
}

impl TicketHook {
    /// The event this body tells of. Text is cleaned and cut later, never refused.
    pub fn into_event(self, source: Source) -> Result<NewEvent, Unmapped> {
        let event_type = match filled(self.event_type) {
            None => EventType::TicketAssigned,
            Some(name) => EventType::parse(&name)
                .filter(|kind| kind.is_ticket())
                .ok_or_else(|| {
                    Unmapped::new(
                        "type",
                        format!(
                            "type {name:?} is not one of {}",
                            EventType::ALL
                                .iter()
                                .filter(|kind| kind.is_ticket())
                                .map(|kind| kind.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?,
        };
        let ticket_id = filled(self.ticket_id.map(PlaceholderText::into_text))
            .ok_or_else(|| Unmapped::new("ticket_id", "ticket_id is needed"))?;
        let title = filled(self.title).ok_or_else(|| Unmapped::new("title", "title is needed"))?;
        let to = match (filled(self.assignee), filled(self.group)) {
            (Some(email), _) => EventTarget::Agent(email),
            (None, Some(team)) => EventTarget::Team(team),
            (None, None) => {
                return Err(Unmapped::new(
                    "assignee",
                    "assignee (an agent's email) or group (a team's name) is needed",
                ))
            }
        };
        let priority = match filled(self.priority) {
            None => Priority::Normal,
            Some(priority) => vendor_priority(source, &priority).ok_or_else(|| {
                Unmapped::new(
                    "priority",
                    format!("priority {priority:?} is not low, normal, medium, high or urgent"),
                )
            })?,
        };
        let url = filled(self.url).map(|url| {
            // Zendesk's {{ticket.link}} comes without its scheme.
            if url.contains("://") {
                url
            } else {
                format!("https://{url}")
            }
        });
        Ok(NewEvent {
            event_type,
            to,
            priority,
            title,
            body: filled(self.comment),
            ticket_id: Some(ticket_id),
            url,
            requester: filled(self.requester),
        })
    }
}

/// Zendesk's priorities are low, normal, high and urgent; Freshdesk's Low, Medium, High
/// and Urgent (or their numbers, 1 to 4).
fn vendor_priority(source: Source, text: &str) -> Option<Priority> {
    let text = text.to_ascii_lowercase();
    match (source, text.as_str()) {
        (_, "low") => Some(Priority::Low),
        (Source::Zendesk, "normal") | (Source::Freshdesk, "medium") => Some(Priority::Normal),
        (_, "high") => Some(Priority::High),
        (_, "urgent") => Some(Priority::Urgent),
        (Source::Freshdesk, "1") => Some(Priority::Low),
        (Source::Freshdesk, "2") => Some(Priority::Normal),
        (Source::Freshdesk, "3") => Some(Priority::High),
        (Source::Freshdesk, "4") => Some(Priority::Urgent),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_str(value).expect("header"));
        }
        headers
    }

    const BODY: &[u8] = br#"{"title":"x"}"#;

    #[test]
    fn a_generic_signature_covers_the_time_and_the_delivery_as_well_as_the_body() {
        let now = Utc::now();
        let stamp = now.timestamp().to_string();
        let secrets = vec!["old".to_owned(), "s3cret".to_owned()];
        let signature = generic_signature("s3cret", &stamp, "d-1", BODY);
        let signed = |delivery: &str, stamp: &str| {
            headers(&[
                (SIGNATURE_HEADER, &signature),
                (DELIVERY_HEADER, delivery),
                (TIMESTAMP_HEADER, stamp),
            ])
        };
        let verified = verify(Source::Generic, &secrets, &signed("d-1", &stamp), BODY, now);
        assert_eq!(
            verified.map(|v| v.keys),
            Ok(vec![("delivery:d-1".to_owned(), DELIVERY_HEADER)])
        );
        // Another id or time under the same signature is not this delivery.
        assert_eq!(
            verify(Source::Generic, &secrets, &signed("d-2", &stamp), BODY, now),
            Err(Refusal::BadSignature(SIGNATURE_HEADER))
        );
        let later = (now.timestamp() + 1).to_string();
        assert_eq!(
            verify(Source::Generic, &secrets, &signed("d-1", &later), BODY, now),
            Err(Refusal::BadSignature(SIGNATURE_HEADER))
        );
        assert_eq!(
            verify(
                Source::Generic,
                &secrets,
                &signed("d-1", &stamp),
                b"{}",
                now
            ),
            Err(Refusal::BadSignature(SIGNATURE_HEADER))
        );
        assert_eq!(
            verify(Source::Generic, &[], &signed("d-1", &stamp), BODY, now),
            Err(Refusal::NoSecret("generic"))
        );
        // Signed properly, but six minutes old.
        let old = (now.timestamp() - 360).to_string();
        let old_signature = generic_signature("s3cret", &old, "d-3", BODY);
        let old_headers = headers(&[
            (SIGNATURE_HEADER, &old_signature),
            (DELIVERY_HEADER, "d-3"),
            (TIMESTAMP_HEADER, &old),
        ]);
        assert_eq!(
            verify(Source::Generic, &secrets, &old_headers, BODY, now),
            Err(Refusal::StaleTimestamp(TIMESTAMP_HEADER))
        );
        assert_eq!(
            verify(Source::Generic, &secrets, &headers(&[]), BODY, now),
            Err(Refusal::MissingHeader(SIGNATURE_HEADER))
        );
    }

    /// The worked example of Zendesk's documentation is not published with its secret,
    /// so the rule is checked as it is written there: base64(HMACSHA256(TIMESTAMP + BODY)).
    #[test]
    fn zendesk_signs_the_timestamp_then_the_body() {
        let now: DateTime<Utc> = "2026-12-06T16:00:10Z".parse().expect("time");
        let stamp = "2026-12-06T16:00:00Z";
        let mut mac = keyed("dGhpc19zZWNyZXRfaXNfZnJvbV96ZW5kZXNr");
        mac.update(format!("{stamp}{}", String::from_utf8_lossy(BODY)).as_bytes());
        let expected = STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(
            zendesk_signature("dGhpc19zZWNyZXRfaXNfZnJvbV96ZW5kZXNr", stamp, BODY),
            expected
        );
        let secrets = vec!["dGhpc19zZWNyZXRfaXNfZnJvbV96ZW5kZXNr".to_owned()];
        let good = headers(&[
            (ZENDESK_SIGNATURE, &expected),
            (ZENDESK_TIMESTAMP, stamp),
            (ZENDESK_INVOCATION, "8350205582"),
        ]);
        let keys = verify(Source::Zendesk, &secrets, &good, BODY, now).map(|v| v.keys);
        assert_eq!(
            keys,
            Ok(vec![
                ("invocation:8350205582".to_owned(), ZENDESK_INVOCATION),
                (format!("signature:{expected}"), ZENDESK_SIGNATURE),
            ])
        );
        assert_eq!(
            verify(Source::Zendesk, &secrets, &good, b"{ }", now),
            Err(Refusal::BadSignature(ZENDESK_SIGNATURE))
        );
    }

    #[test]
    fn freshdesk_sends_its_secret_as_a_header() {
        let now = Utc::now();
        let secrets = vec!["fd-secret".to_owned()];
        assert!(verify(
            Source::Freshdesk,
            &secrets,
            &headers(&[(SECRET_HEADER, "fd-secret")]),
            BODY,
            now
        )
        .is_ok());
        assert_eq!(
            verify(
                Source::Freshdesk,
                &secrets,
                &headers(&[(SECRET_HEADER, "fd-secreT")]),
                BODY,
                now
            ),
            Err(Refusal::WrongSecret(SECRET_HEADER))
        );
    }

    fn hook(json: serde_json::Value) -> TicketHook {
        serde_json::from_value(json).expect("a hook body")
    }

    #[test]
    fn a_zendesk_body_becomes_an_event_with_its_placeholders_mapped() {
        let event = hook(serde_json::json!({
            "ticket_id": "1234", "title": "Printer on fire", "assignee": "ada@example.com",
            "group": "Support", "requester": "cus@example.com", "priority": "Urgent",
            "url": "acme.zendesk.com/agent/tickets/1234", "comment": "", "extra": 1
        }))
        .into_event(Source::Zendesk)
        .expect("an event");
        assert_eq!(event.event_type, EventType::TicketAssigned);
        assert_eq!(event.to, EventTarget::Agent("ada@example.com".into()));
        assert_eq!(event.priority, Priority::Urgent);
        assert_eq!(
            event.url.as_deref(),
            Some("https://acme.zendesk.com/agent/tickets/1234")
        );
        assert_eq!(event.body, None);
        assert_eq!(event.ticket_id.as_deref(), Some("1234"));
        // Unassigned: the group's team hears of it.
        let event = hook(serde_json::json!({
            "type": "ticket.customer_reply", "ticket_id": 7, "title": "t", "assignee": "",
            "group": "Support", "priority": "-"
        }))
        .into_event(Source::Zendesk)
        .expect("an event");
        assert_eq!(event.to, EventTarget::Team("Support".into()));
        assert_eq!(event.priority, Priority::Normal);
        assert_eq!(event.ticket_id.as_deref(), Some("7"));
    }

    #[test]
    fn a_body_that_does_not_map_names_the_field() {
        let refused = |json: serde_json::Value, source| {
            hook(json).into_event(source).map(drop).map_err(|e| e.field)
        };
        assert_eq!(
            refused(
                serde_json::json!({"ticket_id": "1", "assignee": "a@b.c"}),
                Source::Zendesk
            ),
            Err("title")
        );
        assert_eq!(
            refused(
                serde_json::json!({"ticket_id": "1", "title": "t"}),
                Source::Zendesk
            ),
            Err("assignee")
        );
        assert_eq!(
            refused(
                serde_json::json!({"ticket_id": "1", "title": "t", "assignee": "a@b.c", "priority": "Medium"}),
                Source::Zendesk
            ),
            Err("priority")
        );
        assert_eq!(
            refused(
                serde_json::json!({"ticket_id": "1", "title": "t", "assignee": "a@b.c", "priority": "Medium"}),
                Source::Freshdesk
            ),
            Ok(())
        );
        assert_eq!(
            refused(
                serde_json::json!({"type": "team.join_requested", "ticket_id": "1", "title": "t", "assignee": "a@b.c"}),
                Source::Freshdesk
            ),
            Err("type")
        );
        assert_eq!(
            refused(
                serde_json::json!({"title": "t", "assignee": "a@b.c"}),
                Source::Freshdesk
            ),
            Err("ticket_id")
        );
    }
}

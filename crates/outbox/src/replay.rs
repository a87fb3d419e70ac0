//! Sending what waits: in the order it was made, each change under its own key, until
//! one cannot go yet. What the server says decides what becomes of each.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use agent_desk_client::{Accepted, ApiClient, ClientError};
use agent_desk_core::ErrorCode;
use chrono::Utc;
use serde_json::{json, Value};

use crate::change::LocalChange;
use crate::merge::{self, fields_of_change, fields_of_record, Fields, Shape};
use crate::store::{Row, StoreError};
use crate::{record_of, Outbox, OutboxError};

/// The longest pause between attempts while the server is away.
const LONGEST_PAUSE: Duration = Duration::from_secs(60);
/// How often one change is merged and sent again in one pass, when the record keeps
/// moving under it.
const MERGE_ROUNDS: u32 = 3;

/// How long after it was made a change sent without an answer is still sent again: a
/// day less than the server keeps answers (7 days), so that a resend always meets the
/// answer to the first send if that send arrived.
fn unconfirmed_after() -> chrono::Duration {
    chrono::Duration::days(6)
}

/// What became of one change in a pass.
#[derive(Debug, Clone)]
pub enum Outcome {
    Applied(Accepted),
    AppliedBefore,
    Refused(ClientError),
    Dropped,
}

/// The pause after `attempts` failed attempts: doubling from a second up to a minute,
/// give or take a fifth, so that many apps coming back together do not arrive together.
pub fn pause_after(attempts: u32, retry_after: Option<u64>) -> Duration {
    let doubling = Duration::from_secs(1u64 << attempts.min(6)).min(LONGEST_PAUSE);
    let base = retry_after
        .map_or(doubling, Duration::from_secs)
        .min(LONGEST_PAUSE);
    base.mul_f64(0.8 + fastrand::f64() * 0.4)
}

enum Step {
    /// On to the next change.
    Next,
    /// The same change again (merged with the record's newer version).
    Again,
    /// Nothing more can go now.
    Stop,
}

pub(crate) async fn pass(
    outbox: &Outbox,
    api: &ApiClient,
    now: bool,
) -> Result<HashMap<i64, Outcome>, OutboxError> {
    let mut outcomes = HashMap::new();
    let mut rounds: HashMap<i64, u32> = HashMap::new();
    let mut done_through = 0;
    loop {
        let next = outbox
            .with_store(move |store| store.next_after(done_through))
            .await?;
        let Some(row) = next else {
            break;
        };
        if !now && row.next_attempt_at.is_some_and(|at| at > Utc::now()) {
            break;
        }
        let seq = row.seq;
        match send_one(outbox, api, row, &mut outcomes).await? {
            Step::Next => done_through = seq,
            Step::Again => {
                let round = rounds.entry(seq).or_default();
                *round += 1;
                if *round >= MERGE_ROUNDS {
                    break;
                }
            }
            Step::Stop => break,
        }
    }
    Ok(outcomes)
}

async fn send_one(
    outbox: &Outbox,
    api: &ApiClient,
    row: Row,
    outcomes: &mut HashMap<i64, Outcome>,
) -> Result<Step, OutboxError> {
    let seq = row.seq;
    // A status set for a while that is over: sent now it would release tickets, or
    // tell the helpdesk, for a moment long gone.
    if let LocalChange::Status { update } = &row.change {
        if update.until.is_some_and(|until| until <= Utc::now()) {
            outbox.with_store(move |store| store.remove(seq)).await?;
            outcomes.insert(seq, Outcome::Dropped);
            return Ok(Step::Next);
        }
    }
    // Sent before, unanswered, and older than the server keeps answers: sent again, it
    // could be applied a second time. The agent decides.
    if row.sent && Utc::now() - row.created_at > unconfirmed_after() {
        let kept = json!({"status": 0, "error": {
            "code": "unconfirmed",
            "message": "this change was sent more than six days ago and its answer never came: \
                        check the record, then discard it or make it again",
            "field": null
        }});
        outbox
            .with_store(move |store| store.refuse(seq, &kept))
            .await?;
        return Ok(Step::Next);
    }
    let request = row
        .change
        .request(row.photo.as_deref())
        .map_err(StoreError::from)?;
    if !row.sent {
        outbox.with_store(move |store| store.mark_sent(seq)).await?;
    }
    let answer = api.send_prepared(&request, &row.key).await;
    let reachable = !matches!(answer, Err(ClientError::Unreachable { .. }));
    outbox.set_state(|state| {
        state.reachable = reachable;
        if reachable && !matches!(&answer, Err(error) if error.is_unauthorized()) {
            state.needs_sign_in = false;
            // In touch again: screens read their records afresh as changes arrive.
            state.as_of = None;
        }
    });
    match answer {
        Ok(accepted) => {
            applied(outbox, &row, &accepted).await?;
            outcomes.insert(seq, Outcome::Applied(accepted));
            Ok(Step::Next)
        }
        Err(error) => failed(outbox, api, row, error, outcomes).await,
    }
}

/// The server has the change: it goes, the copy of its record is the server's answer,
/// and later changes of the same record build on it.
async fn applied(outbox: &Outbox, row: &Row, accepted: &Accepted) -> Result<(), OutboxError> {
    let seq = row.seq;
    let change = row.change.clone();
    let body: Option<Value> = serde_json::from_slice(&accepted.body).ok();
    let etag_version = accepted
        .etag
        .as_deref()
        .and_then(|etag| etag.trim_matches('"').parse::<i64>().ok());
    outbox
        .with_store(move |store| {
            store.remove(seq)?;
            let Some(body) = body else {
                return Ok(());
            };
            let now = Utc::now();
            match &change {
                LocalChange::Profile { .. } | LocalChange::Photo | LocalChange::PhotoRemoved => {
                    if let Some(version) = etag_version {
                        let etag = format!("\"{version}\"");
                        let kept = json!({"profile": body, "etag": etag});
                        store.cache_put("profile", "", &kept, Some(version), now)?;
                        if let LocalChange::Profile { patch, .. } = &change {
                            let fields = fields_of_change(Shape::Profile, patch);
                            store.advance("profile", version, &fields)?;
                        }
                    }
                }
                LocalChange::NotificationPrefs { prefs, .. } => {
                    if let Some(version) = etag_version {
                        let etag = format!("\"{version}\"");
                        let kept = json!({"prefs": body, "etag": etag});
                        store.cache_put("prefs", "", &kept, Some(version), now)?;
                        store.advance("prefs", version, &fields_of_change(Shape::Prefs, prefs))?;
                    }
                }
                LocalChange::Customer {
                    person_id, patch, ..
                } => {
                    if let Some(version) = body.get("version").and_then(Value::as_i64) {
                        store.cache_put("person", person_id, &body, Some(version), now)?;
                        let fields = fields_of_change(Shape::Customer, patch);
                        store.advance(&change.target(), version, &fields)?;
                    }
                }
                LocalChange::EmailAdded { person_id, .. }
                | LocalChange::EmailRemoved { person_id, .. }
                | LocalChange::EmailMadePrimary { person_id, .. } => {
                    let version = body.get("version").and_then(Value::as_i64);
                    store.cache_put("person", person_id, &body, version, now)?;
                    if let Some(version) = version {
                        store.advance(&change.target(), version, &Fields::new())?;
                    }
                }
                _ => {}
            }
            Ok(())
        })
        .await
}

async fn failed(
    outbox: &Outbox,
    api: &ApiClient,
    row: Row,
    error: ClientError,
    outcomes: &mut HashMap<i64, Outcome>,
) -> Result<Step, OutboxError> {
    let seq = row.seq;
    let (status, code, field) = match &error {
        ClientError::Server { status, body } => (*status, Some(body.code), body.field.clone()),
        ClientError::UnexpectedResponse { status, .. } => (*status, None, None),
        ClientError::Unreachable { .. } => (0, None, None),
        _ => {
            // Not signed in, or something of this computer's: nothing goes now.
            return Ok(Step::Stop);
        }
    };
    match (status, code) {
        (_, Some(ErrorCode::Unauthorized)) => {
            outbox.set_state(|state| state.needs_sign_in = true);
            Ok(Step::Stop)
        }
        (409, Some(ErrorCode::AlreadyApplied)) => {
            outbox.with_store(move |store| store.remove(seq)).await?;
            outcomes.insert(seq, Outcome::AppliedBefore);
            Ok(Step::Next)
        }
        (409, Some(ErrorCode::VersionConflict)) if row.change.shape().is_some() => {
            merge_with_newer(outbox, api, row, outcomes).await
        }
        (400, _)
            if matches!(row.change, LocalChange::Status { .. })
                && field.as_deref() == Some("until") =>
        {
            outbox.with_store(move |store| store.remove(seq)).await?;
            outcomes.insert(seq, Outcome::Dropped);
            Ok(Step::Next)
        }
        (0 | 408 | 429, _) | (500.., _) | (409, Some(ErrorCode::IdempotencyInFlight)) => {
            try_again_later(outbox, &row, &error).await
        }
        _ => {
            let kept = match &error {
                ClientError::Server { status, body } => json!({"status": status, "error": body}),
                other => json!({"status": status, "error": {
                    "code": "unexpected_response", "message": other.to_string(), "field": null
                }}),
            };
            outbox
                .with_store(move |store| store.refuse(seq, &kept))
                .await?;
            outcomes.insert(seq, Outcome::Refused(error));
            Ok(Step::Next)
        }
    }
}

/// A patch made on a version the server has moved past: read the record, keep the
/// server's value of every field the agent did not touch, and send the agent's fields
/// again under a new key, noting each one whose value on the server had changed too.
async fn merge_with_newer(
    outbox: &Outbox,
    api: &ApiClient,
    row: Row,
    outcomes: &mut HashMap<i64, Outcome>,
) -> Result<Step, OutboxError> {
    let seq = row.seq;
    let Some(shape) = row.change.shape() else {
        return Ok(Step::Next);
    };
    let fresh = match &row.change {
        LocalChange::Profile { .. } => api.me().await.map(|versioned| {
            let version = versioned.etag.trim_matches('"').parse::<i64>().ok();
            (
                serde_json::to_value(&versioned).unwrap_or(Value::Null),
                version,
                "profile",
                String::new(),
            )
        }),
        LocalChange::NotificationPrefs { .. } => api.notification_prefs().await.map(|versioned| {
            let version = versioned.etag.trim_matches('"').parse::<i64>().ok();
            (
                serde_json::to_value(&versioned).unwrap_or(Value::Null),
                version,
                "prefs",
                String::new(),
            )
        }),
        LocalChange::Customer { person_id, .. } => api.person(person_id).await.map(|person| {
            let body = serde_json::to_value(&person).unwrap_or(Value::Null);
            let version = body.get("version").and_then(Value::as_i64);
            (body, version, "person", person_id.clone())
        }),
        _ => return Ok(Step::Next),
    };
    let (body, version, kind, id) = match fresh {
        Ok((body, Some(version), kind, id)) => (body, version, kind, id),
        Ok(_) => return Ok(Step::Stop),
        Err(error) => return failed_read(outbox, row, error).await,
    };
    let record = record_of(kind, &body).clone();
    let (mine, base) = match &row.change {
        LocalChange::NotificationPrefs { prefs, .. } => {
            let all = fields_of_change(shape, prefs);
            let changed: Fields = match &row.base {
                Some(base) => all
                    .into_iter()
                    .filter(|(path, value)| base.get(path) != Some(value))
                    .collect(),
                None => all,
            };
            (changed, row.base.clone())
        }
        LocalChange::Profile { patch, .. } | LocalChange::Customer { patch, .. } => {
            (fields_of_change(shape, patch), row.base.clone())
        }
        _ => return Ok(Step::Next),
    };
    let theirs = fields_of_record(shape, &record, mine.keys());
    let merged = merge::merge(&mine, base.as_ref(), &theirs);
    let new_change = match &row.change {
        LocalChange::Profile { .. } => LocalChange::Profile {
            patch: merge::patch_body(shape, &merged.send),
            version,
        },
        LocalChange::Customer { person_id, .. } => LocalChange::Customer {
            person_id: person_id.clone(),
            patch: merge::patch_body(shape, &merged.send),
            version,
        },
        LocalChange::NotificationPrefs { .. } => LocalChange::NotificationPrefs {
            prefs: merge::with_fields(&record, &merged.send),
            version,
        },
        _ => return Ok(Step::Next),
    };
    let new_base = match shape {
        Shape::Prefs => fields_of_change(shape, &record),
        _ => theirs,
    };
    let cached = body.clone();
    let nothing_left = merged.send.is_empty();
    outbox
        .with_store(move |store| {
            store.cache_put(kind, &id, &cached, Some(version), Utc::now())?;
            if nothing_left {
                store.remove(seq)
            } else {
                store.rebase(seq, &new_change, &new_base, &merged.conflicts, Utc::now())
            }
        })
        .await?;
    if nothing_left {
        // The server holds every value the change set already.
        outcomes.insert(seq, Outcome::AppliedBefore);
        return Ok(Step::Next);
    }
    Ok(Step::Again)
}

/// Reading the record to merge with failed: as a send that failed would.
async fn failed_read(outbox: &Outbox, row: Row, error: ClientError) -> Result<Step, OutboxError> {
    if error.is_unauthorized() {
        outbox.set_state(|state| state.needs_sign_in = true);
        return Ok(Step::Stop);
    }
    try_again_later(outbox, &row, &error).await
}

/// The change goes again after a pause (longer each time, or as the server asked), and
/// nothing after it goes before it.
async fn try_again_later(
    outbox: &Outbox,
    row: &Row,
    error: &ClientError,
) -> Result<Step, OutboxError> {
    let seq = row.seq;
    let pause = pause_after(row.attempts, error.retry_after_seconds());
    let at = Utc::now() + chrono::Duration::from_std(pause).unwrap_or_default();
    outbox
        .with_store(move |store| store.retry_later(seq, at))
        .await?;
    Ok(Step::Stop)
}

/// Sends what waits for as long as the account is signed in: when woken, when a
/// failed attempt's pause is over, and once a minute while anything waits.
pub(crate) async fn run(outbox: Arc<Outbox>, api: ApiClient) {
    loop {
        // A pass that failed on the file leaves the changes where they were: the next
        // wake tries again.
        let now = outbox.now.swap(false, std::sync::atomic::Ordering::SeqCst);
        let _ = outbox.send_waiting(&api, now).await;
        let rows = outbox
            .with_store(|store| store.changes())
            .await
            .unwrap_or_default();
        let due = rows
            .iter()
            .filter(|row| row.refused.is_none())
            .map(|row| row.next_attempt_at.unwrap_or_else(Utc::now))
            .min();
        let wait = match due {
            Some(due) => (due - Utc::now())
                .to_std()
                .unwrap_or_default()
                .max(Duration::from_millis(50))
                .min(LONGEST_PAUSE),
            None => Duration::from_secs(3600),
        };
        tokio::select! {
            () = outbox.wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_a_minute_and_follow_retry_after() {
        for _ in 0..50 {
            let first = pause_after(0, None);
            assert!(first >= Duration::from_millis(800) && first <= Duration::from_millis(1200));
            let late = pause_after(30, None);
            assert!(late <= Duration::from_secs(72) && late >= Duration::from_secs(48));
            let told = pause_after(0, Some(10));
            assert!(told >= Duration::from_secs(8) && told <= Duration::from_secs(12));
        }
    }
}

//! Nothing an agent saves is lost: every change is first written to a file on this
//! computer, then sent under an `Idempotency-Key` until the server has it, so that it is
//! applied once however often it is sent. A patch that meets a newer version of its
//! record is merged field by field. What the agent has seen stays readable offline.
//!
//! Each signed-in account has a folder of its own ([`account_dir`]), removed when the
//! agent signs out: the computer may be shared, and one agent's changes are never sent
//! with another's session.

pub mod change;
pub mod merge;
pub mod overlay;
mod replay;
pub mod store;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use agent_desk_client::{Accepted, ApiClient, ClientError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::{watch, Notify};
use ts_rs::TS;

pub use change::LocalChange;
pub use merge::FieldConflict;
pub use replay::Outcome;
pub use store::{Cached, StoreError};

use merge::{fields_of_change, fields_of_record, Fields};
use store::Store;

/// The folder of one account's outbox and offline copies, under the app's data folder.
pub fn account_dir(data_dir: &Path, server_url: &str, agent_id: &str) -> PathBuf {
    let hash = Sha256::digest(format!("{server_url}\n{agent_id}").as_bytes());
    let name: String = hash[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    data_dir.join("accounts").join(name)
}

/// What the agent sees of the outbox.
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct OutboxState {
    /// Changes not yet on the server, refused ones included, oldest first.
    pub changes: Vec<WaitingChange>,
    /// Whether the last attempt reached the server.
    pub reachable: bool,
    /// The server ended the session: the changes wait until the agent signs in again.
    pub needs_sign_in: bool,
    /// Fields where a change replaced a value someone else had set meanwhile.
    pub conflicts: Vec<MergeConflict>,
    /// When what is shown was read from the server, while it is shown from the copies
    /// kept on this computer; none while reads reach the server.
    #[ts(type = "string | null")]
    pub as_of: Option<DateTime<Utc>>,
}

impl OutboxState {
    /// How many changes wait to be sent (refused ones aside).
    pub fn waiting(&self) -> usize {
        self.changes
            .iter()
            .filter(|change| change.refused.is_none())
            .count()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct WaitingChange {
    #[ts(type = "number")]
    pub seq: i64,
    pub change: LocalChange,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    /// Why the server refused it, for good: the change is kept until the agent edits or
    /// discards it.
    pub refused: Option<Refusal>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Refusal {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct MergeConflict {
    #[ts(type = "number")]
    pub id: i64,
    /// `profile`, `prefs` or `person:<id>`.
    pub target: String,
    #[serde(flatten)]
    pub conflict: FieldConflict,
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the outbox stopped: {0}")]
    Stopped(String),
}

/// What became of a change sent at once.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    /// The server has it; its answer.
    Applied(Accepted),
    /// The server had it already, from an earlier send whose answer was lost: the
    /// record should be read again.
    AppliedBefore,
    /// Kept on this computer; it goes when the server can be reached.
    Waiting,
    /// No longer worth sending (a status whose time has passed).
    Dropped,
}

pub struct Outbox {
    store: Arc<Mutex<Store>>,
    dir: PathBuf,
    state: watch::Sender<OutboxState>,
    wake: Notify,
    /// The next pass also sends what waits out a pause after a failed attempt.
    now: std::sync::atomic::AtomicBool,
    /// One pass over the changes at a time, in order.
    pass: tokio::sync::Mutex<()>,
}

impl Outbox {
    /// Opens (or makes) the outbox in `dir`.
    pub fn open(dir: &Path) -> Result<Arc<Self>, OutboxError> {
        std::fs::create_dir_all(dir).map_err(StoreError::from)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The folder holds the agent's unsent words and copies of records.
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(StoreError::from)?;
        }
        let store = Store::open(&dir.join("outbox.sqlite3"))?;
        let outbox = Arc::new(Self {
            store: Arc::new(Mutex::new(store)),
            dir: dir.to_owned(),
            state: watch::Sender::new(OutboxState {
                reachable: true,
                ..OutboxState::default()
            }),
            wake: Notify::new(),
            now: std::sync::atomic::AtomicBool::new(false),
            pass: tokio::sync::Mutex::new(()),
        });
        outbox.publish_blocking()?;
        Ok(outbox)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `job` on the store off the async threads: a write waits for the disk.
    async fn with_store<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, OutboxError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            let mut store = store.lock().unwrap_or_else(PoisonError::into_inner);
            job(&mut store)
        })
        .await
        .map_err(|error| OutboxError::Stopped(error.to_string()))?
        .map_err(OutboxError::from)
    }

    /// Keeps `change` on this computer (on disk when this returns) and wakes the sender.
    pub async fn enqueue(
        &self,
        change: LocalChange,
        photo: Option<Vec<u8>>,
    ) -> Result<i64, OutboxError> {
        let seq = self
            .with_store(move |store| {
                let base = base_of(store, &change)?;
                store.enqueue(&change, photo.as_deref(), base.as_ref(), Utc::now())
            })
            .await?;
        self.publish().await?;
        self.wake.notify_one();
        Ok(seq)
    }

    /// Keeps `change` and sends what waits at once, this change included, telling what
    /// became of it. A change the server refuses is not kept: the agent is looking at it.
    pub async fn save(
        &self,
        api: &ApiClient,
        change: LocalChange,
        photo: Option<Vec<u8>>,
    ) -> Result<Result<Sent, ClientError>, OutboxError> {
        let seq = self.enqueue(change, photo).await?;
        let mut outcomes = self.send_waiting(api, true).await?;
        let outcome = match outcomes.remove(&seq) {
            Some(replay::Outcome::Refused(error)) => {
                self.with_store(move |store| store.remove(seq)).await?;
                self.publish().await?;
                Err(error)
            }
            Some(replay::Outcome::Applied(accepted)) => Ok(Sent::Applied(accepted)),
            Some(replay::Outcome::AppliedBefore) => Ok(Sent::AppliedBefore),
            Some(replay::Outcome::Dropped) => Ok(Sent::Dropped),
            None => Ok(Sent::Waiting),
        };
        Ok(outcome)
    }

    /// Sends the changes that wait, in order, until one cannot go yet. `now`: also the
    /// ones waiting out a pause after a failed attempt (the agent asked, or the
    /// connection came back).
    pub async fn send_waiting(
        &self,
        api: &ApiClient,
        now: bool,
    ) -> Result<std::collections::HashMap<i64, Outcome>, OutboxError> {
        let _pass = self.pass.lock().await;
        let outcomes = replay::pass(self, api, now).await;
        self.publish().await?;
        outcomes
    }

    /// Sends what waits whenever woken, a failed attempt's pause is over, or the session
    /// changes; runs until dropped (at sign-out). The caller spawns it on its runtime.
    pub fn sender(
        self: &Arc<Self>,
        api: ApiClient,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        replay::run(Arc::clone(self), api)
    }

    /// Sends what is due.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Sends everything that waits, pauses after failed attempts or not: the connection
    /// is back, or the agent asked.
    pub fn wake_now(&self) {
        self.now.store(true, std::sync::atomic::Ordering::SeqCst);
        self.wake.notify_one();
    }

    pub fn subscribe(&self) -> watch::Receiver<OutboxState> {
        self.state.subscribe()
    }

    pub fn state(&self) -> OutboxState {
        self.state.borrow().clone()
    }

    /// Changes a change that has not been sent yet; false once it has (it can then be
    /// changed only on the server, once it is there).
    pub async fn replace_unsent(&self, seq: i64, change: LocalChange) -> Result<bool, OutboxError> {
        let replaced = self
            .with_store(move |store| store.replace_unsent(seq, &change))
            .await?;
        self.publish().await?;
        Ok(replaced)
    }

    /// Takes back a change that has not been sent yet; false once it has.
    pub async fn take_back(&self, seq: i64) -> Result<bool, OutboxError> {
        let removed = self
            .with_store(move |store| store.remove_unsent(seq))
            .await?;
        self.publish().await?;
        Ok(removed)
    }

    /// The JPEG of the newest photo waiting to be sent, to show until the server has it.
    pub async fn waiting_photo(&self) -> Result<Option<Vec<u8>>, OutboxError> {
        self.with_store(|store| store.waiting_photo()).await
    }

    /// Drops a change the agent gave up on.
    pub async fn discard(&self, seq: i64) -> Result<(), OutboxError> {
        self.with_store(move |store| store.remove(seq)).await?;
        self.publish().await
    }

    pub async fn dismiss_conflict(&self, id: i64) -> Result<(), OutboxError> {
        self.with_store(move |store| store.dismiss_conflict(id))
            .await?;
        self.publish().await
    }

    /// Keeps a record as the server sent it, to read while the server is away.
    pub async fn remember(
        &self,
        kind: &'static str,
        id: String,
        body: Value,
        version: Option<i64>,
    ) -> Result<(), OutboxError> {
        self.with_store(move |store| store.cache_put(kind, &id, &body, version, Utc::now()))
            .await
    }

    /// A record as last read from the server.
    pub async fn remembered(
        &self,
        kind: &'static str,
        id: String,
    ) -> Result<Option<Cached>, OutboxError> {
        self.with_store(move |store| store.cache_get(kind, &id))
            .await
    }

    /// Every copy of `kind` kept (the pages of notes of each record opened).
    pub async fn remembered_all(&self, kind: &'static str) -> Result<Vec<Cached>, OutboxError> {
        self.with_store(move |store| store.cache_all(kind)).await
    }

    /// Notes that the agent opened a person's record (kept with the last 20 opened).
    pub async fn opened(&self, person_id: String) -> Result<(), OutboxError> {
        self.with_store(move |store| store.opened(&person_id, Utc::now()))
            .await
    }

    /// A read reached the server: what is shown is current.
    pub fn read_reached_server(&self) {
        self.set_state(|state| {
            state.reachable = true;
            state.as_of = None;
        });
    }

    /// A read did not reach the server, and a copy read at `fetched_at` is shown: the
    /// oldest copy shown tells how old the picture may be.
    pub fn showing_copy(&self, fetched_at: DateTime<Utc>) {
        self.set_state(|state| {
            state.reachable = false;
            state.as_of = Some(
                state
                    .as_of
                    .map_or(fetched_at, |shown| shown.min(fetched_at)),
            );
        });
    }

    /// The changes waiting for `target` (`profile`, `prefs`, `person:<id>`), oldest
    /// first, refused ones aside: to show a record as it will be.
    pub fn waiting_for(&self, target: &str) -> Vec<LocalChange> {
        self.state
            .borrow()
            .changes
            .iter()
            .filter(|waiting| waiting.refused.is_none() && waiting.change.target() == target)
            .map(|waiting| waiting.change.clone())
            .collect()
    }

    /// Sets a field back to the value a change replaced (see [`MergeConflict`]), on the
    /// version of the record last read, and forgets the conflict.
    pub async fn restore_replaced(
        &self,
        api: &ApiClient,
        conflict_id: i64,
    ) -> Result<Result<Sent, ClientError>, OutboxError> {
        let Some(found) = self
            .state()
            .conflicts
            .into_iter()
            .find(|conflict| conflict.id == conflict_id)
        else {
            return Ok(Ok(Sent::Dropped));
        };
        let fields: Fields = [(
            found.conflict.field.clone(),
            found.conflict.replaced.clone(),
        )]
        .into_iter()
        .collect();
        let (kind, id) = match found.target.split_once(':') {
            Some(("person", id)) => ("person", id.to_owned()),
            _ if found.target == "prefs" => ("prefs", String::new()),
            _ => ("profile", String::new()),
        };
        let cached = self.remembered(kind, id.clone()).await?;
        let Some((record, version)) = cached
            .and_then(|cached| Some((record_of(kind, &cached.body).clone(), cached.version?)))
        else {
            return Ok(Ok(Sent::Dropped));
        };
        let change = match kind {
            "person" => LocalChange::Customer {
                person_id: id,
                patch: merge::patch_body(merge::Shape::Customer, &fields),
                version,
            },
            "prefs" => LocalChange::NotificationPrefs {
                prefs: merge::with_fields(&record, &fields),
                version,
            },
            _ => LocalChange::Profile {
                patch: merge::patch_body(merge::Shape::Profile, &fields),
                version,
            },
        };
        self.dismiss_conflict(conflict_id).await?;
        self.save(api, change, None).await
    }

    fn set_state(&self, update: impl FnOnce(&mut OutboxState)) {
        self.state.send_if_modified(|state| {
            let before = state.clone();
            update(state);
            *state != before
        });
    }

    async fn publish(&self) -> Result<(), OutboxError> {
        let (changes, conflicts) = self
            .with_store(|store| Ok((store.changes()?, store.conflicts()?)))
            .await?;
        self.show(changes, conflicts);
        Ok(())
    }

    fn publish_blocking(&self) -> Result<(), OutboxError> {
        let (changes, conflicts) = {
            let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
            (store.changes()?, store.conflicts()?)
        };
        self.show(changes, conflicts);
        Ok(())
    }

    fn show(&self, changes: Vec<store::Row>, conflicts: Vec<store::StoredConflict>) {
        let changes = changes
            .into_iter()
            .map(|row| WaitingChange {
                seq: row.seq,
                change: row.change,
                created_at: row.created_at,
                refused: row.refused.as_ref().map(refusal),
            })
            .collect();
        let conflicts = conflicts
            .into_iter()
            .map(|stored| MergeConflict {
                id: stored.id,
                target: stored.target,
                conflict: stored.conflict,
            })
            .collect();
        self.set_state(|state| {
            state.changes = changes;
            state.conflicts = conflicts;
        });
    }
}

/// A refusal as kept ({status, error: {code, message, field}}), for the agent.
fn refusal(kept: &Value) -> Refusal {
    let text = |pointer: &str| kept.pointer(pointer).and_then(Value::as_str);
    Refusal {
        status: kept
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|status| u16::try_from(status).ok())
            .unwrap_or_default(),
        code: text("/error/code").unwrap_or("internal").to_owned(),
        message: text("/error/message").unwrap_or_default().to_owned(),
        field: text("/error/field").map(str::to_owned),
    }
}

/// The values a patch's fields had in the version it was made on, from the copy kept of
/// that version; None when the copy is of another version.
fn base_of(store: &Store, change: &LocalChange) -> Result<Option<Fields>, StoreError> {
    let (kind, id, version, body) = match change {
        LocalChange::Profile { patch, version } => ("profile", String::new(), *version, patch),
        LocalChange::Customer {
            person_id,
            patch,
            version,
        } => ("person", person_id.clone(), *version, patch),
        LocalChange::NotificationPrefs { prefs, version } => {
            ("prefs", String::new(), *version, prefs)
        }
        _ => return Ok(None),
    };
    let Some(shape) = change.shape() else {
        return Ok(None);
    };
    let Some(cached) = store.cache_get(kind, &id)? else {
        return Ok(None);
    };
    if cached.version != Some(version) {
        return Ok(None);
    }
    let record = record_of(kind, &cached.body);
    Ok(Some(match shape {
        // Every switch: which ones the agent changed is known only against all of them.
        merge::Shape::Prefs => fields_of_change(shape, record),
        _ => {
            let wanted = fields_of_change(shape, body);
            fields_of_record(shape, record, wanted.keys())
        }
    }))
}

/// The record inside a cached body: a profile is kept with its ETag, as the app has it.
fn record_of<'a>(kind: &str, body: &'a Value) -> &'a Value {
    match kind {
        "profile" => body.get("profile").unwrap_or(body),
        "prefs" => body.get("prefs").unwrap_or(body),
        _ => body,
    }
}

//! The signed-in account's outbox on this computer: opened when the agent signs in (or
//! the session is restored, with the server there or not), sending in the background,
//! its state shown in the window; deleted when the agent signs out.

use std::sync::Arc;

use agent_desk_client::ClientError;
use agent_desk_ipc::Event;
use agent_desk_outbox::{account_dir, Outbox};
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Manager, Runtime};

use crate::error::CommandError;
use crate::events::OutboxChanged;
use crate::state::DeskState;

/// The open outbox of the signed-in account and what works for it.
pub struct Account {
    pub outbox: Arc<Outbox>,
    sender: JoinHandle<()>,
    watcher: JoinHandle<()>,
}

impl Account {
    fn stop(self) -> Arc<Outbox> {
        self.sender.abort();
        self.watcher.abort();
        self.outbox
    }
}

/// Opens `agent_id`'s outbox on the server signed in to, and starts sending what waits
/// in it. The same account's open outbox is kept.
pub fn open<R: Runtime>(app: &AppHandle<R>, agent_id: &str) -> Result<Arc<Outbox>, CommandError> {
    let state = app.state::<DeskState>();
    let api = state.session.api()?;
    let dir = account_dir(state.data_dir(), api.server_url(), agent_id);
    if let Some(outbox) = state.outbox().filter(|outbox| outbox.dir() == dir) {
        return Ok(outbox);
    }
    let outbox = Outbox::open(&dir)?;
    let sender = tauri::async_runtime::spawn(outbox.sender(api));
    let watcher = {
        let app = app.clone();
        let mut changes = outbox.subscribe();
        let _ = OutboxChanged(changes.borrow().clone()).emit(&app);
        tauri::async_runtime::spawn(async move {
            while changes.changed().await.is_ok() {
                let state = changes.borrow_and_update().clone();
                let _ = OutboxChanged(state).emit(&app);
            }
        })
    };
    let previous = state.replace_account(Some(Account {
        outbox: Arc::clone(&outbox),
        sender,
        watcher,
    }));
    if let Some(previous) = previous {
        previous.stop();
    }
    Ok(outbox)
}

/// Stops the account's outbox; with `forget`, its folder goes too: the changes that
/// waited, the conflicts and the copies of records (the computer may be shared).
pub fn close<R: Runtime>(app: &AppHandle<R>, forget: bool) -> std::io::Result<()> {
    let state = app.state::<DeskState>();
    let Some(account) = state.replace_account(None) else {
        return Ok(());
    };
    let outbox = account.stop();
    let dir = outbox.dir().to_owned();
    drop(outbox);
    if forget {
        match std::fs::remove_dir_all(&dir) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
    }
    Ok(())
}

/// The signed-in account's outbox.
pub fn outbox_of(state: &DeskState) -> Result<Arc<Outbox>, CommandError> {
    state.outbox().ok_or(CommandError::NotSignedIn)
}

/// Reads from the server and keeps what it answered as the account's copy (`kind`, `id`);
/// when the server cannot be reached, answers with that copy instead, if there is one.
pub async fn read_or_copy<T>(
    state: &DeskState,
    kind: &'static str,
    id: &str,
    read: impl std::future::Future<Output = Result<T, ClientError>>,
    version_of: impl Fn(&T) -> Option<i64>,
) -> Result<T, CommandError>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let outbox = state.outbox();
    match read.await {
        Ok(value) => {
            if let Some(outbox) = &outbox {
                outbox.read_reached_server();
                if let Ok(body) = serde_json::to_value(&value) {
                    // A copy that could not be kept only means less to read offline.
                    let _ = outbox
                        .remember(kind, id.to_owned(), body, version_of(&value))
                        .await;
                }
            }
            Ok(value)
        }
        Err(error @ ClientError::Unreachable { .. }) => {
            let Some(outbox) = outbox else {
                return Err(error.into());
            };
            let Some(copy) = outbox.remembered(kind, id.to_owned()).await? else {
                return Err(error.into());
            };
            let value = serde_json::from_value(copy.body).map_err(|_| error)?;
            outbox.showing_copy(copy.fetched_at);
            Ok(value)
        }
        Err(error) => Err(error.into()),
    }
}

/// The version an ETag names (`"7"`).
pub fn etag_version(etag: &str) -> Option<i64> {
    etag.trim_matches('"').parse().ok()
}

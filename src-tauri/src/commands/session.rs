use agent_desk_client::session::SignedIn;
use agent_desk_client::{ClientError, VersionedProfile};
use agent_desk_ipc::command;
use serde::Deserialize;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use crate::account;
use crate::error::CommandError;
use crate::state::DeskState;

/// The session kept from an earlier run, if the server still accepts it. While the server
/// cannot be reached, the agent works on with the copies kept on this computer.
#[command]
pub async fn restore_session<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
) -> Result<Option<VersionedProfile>, CommandError> {
    let restored = match state.restore().await {
        Ok(Some(profile)) => open_account(&app, &profile).await.map(|()| Some(profile)),
        Ok(None) => Ok(None),
        Err(error @ ClientError::Unreachable { .. }) => match offline_profile(&app, &state).await {
            Some(profile) => Ok(Some(profile)),
            None => Err(error.into()),
        },
        Err(error) => Err(error.into()),
    };
    match &restored {
        Ok(Some(profile)) => start_presence(&app, profile),
        // Started with the session but not signed in (no session kept, the server or the
        // network not there yet): a hidden window would leave the agent without alerts
        // and without knowing it.
        _ if crate::computer::started_at_login() => crate::show_window(&app),
        _ => {}
    }
    restored
}

/// Opens the agent's outbox and keeps their profile as read.
async fn open_account<R: Runtime>(
    app: &AppHandle<R>,
    profile: &VersionedProfile,
) -> Result<(), CommandError> {
    let outbox = account::open(app, &profile.profile.id)?;
    outbox.read_reached_server();
    if let Ok(body) = serde_json::to_value(profile) {
        outbox
            .remember(
                "profile",
                String::new(),
                body,
                account::etag_version(&profile.etag),
            )
            .await?;
    }
    Ok(())
}

/// The profile kept on this computer for the agent signed in last, as it will be once
/// what waits is sent; None when nothing was kept.
async fn offline_profile<R: Runtime>(
    app: &AppHandle<R>,
    state: &DeskState,
) -> Option<VersionedProfile> {
    let agent_id = state.session.settings().agent_id?;
    let outbox = account::open(app, &agent_id).ok()?;
    let copy = outbox.remembered("profile", String::new()).await.ok()??;
    let fetched_at = copy.fetched_at;
    let profile: VersionedProfile = serde_json::from_value(copy.body).ok()?;
    outbox.showing_copy(fetched_at);
    Some(crate::commands::profile::with_waiting_changes(
        &outbox, profile,
    ))
}

#[command]
pub async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
    server_url: String,
    email: String,
    password: String,
) -> Result<SignedIn, CommandError> {
    let signed_in = state
        .session
        .sign_in(&server_url, &email, &password)
        .await?;
    open_account(&app, &signed_in.profile).await?;
    start_presence(&app, &signed_in.profile);
    crate::updates::check_after_sign_in(&app);
    // Only a session kept in the credential store can sign in at the next login.
    if signed_in.remembered {
        crate::computer::start_at_login_after_first_sign_in(&app, &state.kept);
    }
    Ok(signed_in)
}

/// Presence and alerts start beside the first screen, not before it.
fn start_presence<R: Runtime>(app: &AppHandle<R>, profile: &VersionedProfile) {
    let app = app.clone();
    let profile = profile.clone();
    tauri::async_runtime::spawn(async move { crate::alerts::start(&app, &profile).await });
}

/// What signing out does with changes that have not reached the server yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum WaitingOnSignOut {
    /// Refuse with `changes_waiting` when there are any: the UI asks the agent.
    Ask,
    /// Delete them with everything else kept for the account.
    Discard,
    /// Keep the account's folder, to send them when the same agent signs in again on
    /// this computer (the server ended the session; the agent did not choose to leave).
    Keep,
}

/// Goes Offline, ends the session on the server and forgets its token, and deletes what
/// this computer kept for the account (see [`WaitingOnSignOut`] for changes not sent).
#[command]
pub async fn sign_out<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DeskState>,
    waiting: WaitingOnSignOut,
) -> Result<(), CommandError> {
    let count = state
        .outbox()
        .map_or(0, |outbox| outbox.state().changes.len());
    if count > 0 && waiting == WaitingOnSignOut::Ask {
        return Err(CommandError::ChangesWaiting { count });
    }
    state.set_unsaved_changes(false);
    crate::alerts::go_offline(&app).await;
    crate::alerts::stop(&app);
    // The session ends first: a folder that cannot be deleted must not keep it alive.
    let signed_out = state.session.sign_out().await;
    let forget = !(count > 0 && waiting == WaitingOnSignOut::Keep);
    account::close(&app, forget).map_err(|error| {
        ClientError::LocalFile(format!(
            "what this computer kept for the account could not be deleted: {error}"
        ))
    })?;
    if forget {
        // The recent alerts are the account's too.
        agent_desk_alerts::desk::forget_account(&state.config_dir().join("alerts.json"))?;
    }
    Ok(signed_out?)
}

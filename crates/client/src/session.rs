//! The signed-in agent: signing in and out, restoring the session after a restart,
//! and reading and changing the profile.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use agent_desk_core::account::{
    ChangePasswordRequest, PasswordResetAccepted, Policy, SessionList, SessionsEnded,
};
use agent_desk_core::password::{check_rules, worth_estimating, PasswordCheck};
use agent_desk_core::people::{PeopleFilter, PeoplePage, Person};
use agent_desk_core::teams::{JoinDecision, JoinRequest, JoinRequests, Team};
use agent_desk_core::{validate_patch, ProfilePatch};
use serde::Serialize;
use ts_rs::TS;

use crate::api::{ApiClient, VersionedProfile};
use crate::error::ClientError;
use crate::settings::Settings;
use crate::tokens::TokenStore;

/// The result of signing in.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct SignedIn {
    pub profile: VersionedProfile,
    /// False when the OS credential store refused the token: the agent stays signed in
    /// until the app quits, and is told so.
    pub remembered: bool,
}

/// What the UI needs before anyone signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct AppInfo {
    pub version: String,
    /// The server last used, or the one `make run` started.
    pub server_url: Option<String>,
    pub email: Option<String>,
}

pub struct AgentSession {
    config_dir: PathBuf,
    tokens: Arc<dyn TokenStore>,
    client: Mutex<Option<ApiClient>>,
}

fn account_key(server_url: &str, email: &str) -> String {
    format!("{server_url}#{}", email.trim().to_lowercase())
}

impl AgentSession {
    pub fn new(config_dir: impl Into<PathBuf>, tokens: Arc<dyn TokenStore>) -> Self {
        Self {
            config_dir: config_dir.into(),
            tokens,
            client: Mutex::new(None),
        }
    }

    pub fn settings(&self) -> Settings {
        Settings::load(&self.config_dir)
    }

    /// The signed-in API client, for work that outlives one call (the event stream).
    pub fn api(&self) -> Result<ApiClient, ClientError> {
        self.client()
    }

    fn client(&self) -> Result<ApiClient, ClientError> {
        // A thread that panicked while holding the lock left a whole value behind.
        self.client
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(ClientError::NotSignedIn)
    }

    fn set_client(&self, client: Option<ApiClient>) {
        *self.client.lock().unwrap_or_else(PoisonError::into_inner) = client;
    }

    async fn with_tokens<T: Send + 'static>(
        &self,
        job: impl FnOnce(&dyn TokenStore) -> Result<T, ClientError> + Send + 'static,
    ) -> Result<T, ClientError> {
        // Credential stores answer over D-Bus or OS calls that may block.
        let tokens = Arc::clone(&self.tokens);
        tokio::task::spawn_blocking(move || job(tokens.as_ref()))
            .await
            .map_err(|e| ClientError::CredentialStore(e.to_string()))?
    }

    pub async fn sign_in(
        &self,
        server_url: &str,
        email: &str,
        password: &str,
    ) -> Result<SignedIn, ClientError> {
        let client = ApiClient::new(server_url)?;
        let token = client.login(email, password).await?;
        let client = client.with_token(token.clone());
        let profile = client.me().await?;
        let server_url = client.server_url().to_owned();
        let account = account_key(&server_url, &profile.profile.email);
        let remembered = self
            .with_tokens(move |tokens| tokens.save(&account, &token))
            .await
            .is_ok();
        Settings {
            server_url: Some(server_url),
            email: Some(profile.profile.email.clone()),
            signed_in: remembered,
            agent_id: Some(profile.profile.id.clone()),
        }
        .save(&self.config_dir)?;
        self.set_client(Some(client));
        Ok(SignedIn {
            profile,
            remembered,
        })
    }

    /// Reconnects with the token kept from an earlier run. `Ok(None)` means the agent
    /// has to sign in; an unreachable server is an error, and the session is kept so a
    /// retry can succeed.
    pub async fn restore(&self) -> Result<Option<VersionedProfile>, ClientError> {
        let settings = self.settings();
        let (Some(server_url), Some(email), true) =
            (&settings.server_url, &settings.email, settings.signed_in)
        else {
            return Ok(None);
        };
        let account = account_key(server_url, email);
        let Some(token) = self
            .with_tokens(move |tokens| tokens.load(&account))
            .await?
        else {
            return Ok(None);
        };
        let client = ApiClient::new(server_url)?.with_token(token);
        self.set_client(Some(client.clone()));
        match client.me().await {
            Ok(profile) => {
                if settings.agent_id.as_deref() != Some(profile.profile.id.as_str()) {
                    Settings {
                        agent_id: Some(profile.profile.id.clone()),
                        ..settings
                    }
                    .save(&self.config_dir)?;
                }
                Ok(Some(profile))
            }
            Err(error) if error.is_unauthorized() => {
                self.forget(settings).await?;
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// Ends the session on the server (when reachable) and forgets the token here.
    pub async fn sign_out(&self) -> Result<(), ClientError> {
        if let Ok(client) = self.client() {
            // Signing out must work offline too; the server's session then ends when
            // an admin or the agent ends it from another device.
            let _ = client.logout().await;
        }
        self.forget(self.settings()).await
    }

    async fn forget(&self, settings: Settings) -> Result<(), ClientError> {
        self.set_client(None);
        if let (Some(server_url), Some(email)) = (&settings.server_url, &settings.email) {
            let account = account_key(server_url, email);
            self.with_tokens(move |tokens| tokens.delete(&account))
                .await?;
        }
        Settings {
            signed_in: false,
            ..settings
        }
        .save(&self.config_dir)
    }

    pub async fn profile(&self) -> Result<VersionedProfile, ClientError> {
        self.client()?.me().await
    }

    /// Validates with the same rules as the server, then sends the change.
    pub async fn update_profile(
        &self,
        patch: &ProfilePatch,
        etag: &str,
    ) -> Result<VersionedProfile, ClientError> {
        let patch = validate_patch(patch).map_err(ClientError::Validation)?;
        self.client()?.update_me(&patch, etag).await
    }

    /// Sets the agent's status on the server.
    pub async fn set_status(
        &self,
        update: &agent_desk_core::StatusUpdate,
    ) -> Result<agent_desk_core::StatusState, ClientError> {
        self.client()?.set_status(update).await
    }

    pub async fn people(&self, filter: &PeopleFilter) -> Result<PeoplePage, ClientError> {
        self.client()?.people(filter).await
    }

    pub async fn person(&self, id: &str) -> Result<Person, ClientError> {
        self.client()?.person(id).await
    }

    /// Every team, each with the agent's membership in it.
    pub async fn teams(&self) -> Result<Vec<Team>, ClientError> {
        self.client()?.teams().await
    }

    pub async fn request_to_join(
        &self,
        team_id: &str,
        note: Option<String>,
    ) -> Result<JoinRequest, ClientError> {
        self.client()?.request_to_join(team_id, note).await
    }

    /// The agent's own requests and those waiting for the agent's decision as a lead.
    pub async fn join_requests(&self) -> Result<JoinRequests, ClientError> {
        self.client()?.join_requests().await
    }

    pub async fn decide_join_request(
        &self,
        request_id: &str,
        decision: &JoinDecision,
    ) -> Result<JoinRequest, ClientError> {
        self.client()?
            .decide_join_request(request_id, decision)
            .await
    }

    pub async fn notification_prefs(
        &self,
    ) -> Result<crate::api::VersionedNotificationPrefs, ClientError> {
        self.client()?.notification_prefs().await
    }

    pub async fn save_notification_prefs(
        &self,
        prefs: &agent_desk_core::NotificationPrefs,
        etag: &str,
    ) -> Result<crate::api::VersionedNotificationPrefs, ClientError> {
        self.client()?.save_notification_prefs(prefs, etag).await
    }

    pub async fn policy(&self) -> Result<Policy, ClientError> {
        self.client()?.policy().await
    }

    /// Changes the password; this session stays signed in and its token stays valid.
    pub async fn change_password(
        &self,
        current_password: &str,
        new_password: &str,
        keep_other_sessions: bool,
    ) -> Result<SessionsEnded, ClientError> {
        let change = ChangePasswordRequest {
            current_password: current_password.to_owned(),
            new_password: new_password.to_owned(),
            keep_other_sessions,
        };
        self.client()?.change_password(&change).await
    }

    /// Checks a new password against every rule of the policy as the agent types it: the
    /// strength estimate is the server's (it holds the dictionaries), the rest runs here.
    pub async fn check_password(
        &self,
        candidate: &str,
        current: Option<&str>,
    ) -> Result<PasswordCheck, ClientError> {
        // Nothing to estimate, and nothing to send.
        let score = if worth_estimating(candidate) {
            self.client()?.password_strength(candidate).await?
        } else {
            0
        };
        Ok(check_rules(candidate, current, score))
    }

    /// Asks `server_url` to mail a reset link to `email`; works signed out.
    pub async fn request_password_reset(
        &self,
        server_url: &str,
        email: &str,
    ) -> Result<PasswordResetAccepted, ClientError> {
        ApiClient::new(server_url)?
            .request_password_reset(email)
            .await
    }

    pub async fn sessions(&self) -> Result<SessionList, ClientError> {
        self.client()?.sessions().await
    }

    /// Ends one of the agent's sessions. Ending this app's own session signs it out here
    /// too, as signing out does.
    pub async fn end_session(&self, session_id: &str) -> Result<(), ClientError> {
        let client = self.client()?;
        let is_current = client
            .sessions()
            .await?
            .sessions
            .iter()
            .any(|session| session.current && session.id == session_id);
        client.end_session(session_id).await?;
        if is_current {
            self.forget(self.settings()).await?;
        }
        Ok(())
    }

    pub async fn sign_out_other_sessions(&self) -> Result<SessionsEnded, ClientError> {
        self.client()?.sign_out_other_sessions().await
    }

    pub async fn upload_avatar(&self, jpeg: Vec<u8>) -> Result<VersionedProfile, ClientError> {
        self.client()?.put_avatar(jpeg).await
    }

    pub async fn remove_avatar(&self) -> Result<VersionedProfile, ClientError> {
        self.client()?.delete_avatar().await
    }

    pub async fn avatar(&self, avatar_url: &str, side: u32) -> Result<Vec<u8>, ClientError> {
        self.client()?.avatar(avatar_url, side).await
    }
}

//! A typed client of the team server's HTTP API.

use std::time::Duration;

use agent_desk_core::account::{
    ChangePasswordRequest, LoginActivity, PasswordResetAccepted, PasswordResetRequest, Policy,
    SessionList, SessionsEnded,
};
use agent_desk_core::attachments::{FileList, PersonFile};
use agent_desk_core::customers::{
    ActivityStream, ChangeLog, CustomerPatch, MergeRequest, NewCustomer, NewEmail, Note, NoteBody,
    NotesPage, Organizations,
};
use agent_desk_core::password::{PasswordStrength, PasswordStrengthRequest};
use agent_desk_core::people::{PeopleFilter, PeoplePage, Person};
use agent_desk_core::teams::{JoinDecision, JoinRequest, JoinRequests, NewJoinRequest, Team};
use agent_desk_core::tickets::{TicketHistory, TicketSort};
use agent_desk_core::{
    ApiError, EventPage, LoginRequest, LoginResponse, NotificationPrefs, Profile, ProfilePatch,
    StatusState, StatusUpdate,
};
use reqwest::header::{CONTENT_TYPE, ETAG, IF_MATCH};
use reqwest::{RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use url::{Host, Url};

use crate::error::ClientError;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// An idle connection is let go before the server closes it (it waits 10 s by default
/// for the next request's head), so a request is never sent on one being closed.
const IDLE_CONNECTION_LIMIT: Duration = Duration::from_secs(5);
/// For a file's bytes, which may take a while on a slow line.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(300);

/// The profile and the ETag to send back with a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct VersionedProfile {
    pub profile: Profile,
    pub etag: String,
}

/// The notification preferences and the ETag to send back with a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct VersionedNotificationPrefs {
    pub prefs: NotificationPrefs,
    pub etag: String,
}

#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

/// Parses what an agent typed as the server address: `https` (or `http` to this
/// computer), a host, and optionally a path prefix (a server behind a reverse proxy).
/// Every address the client talks to comes through here, a saved one included.
pub fn parse_server_url(input: &str) -> Result<Url, ClientError> {
    let invalid = |reason: &str| ClientError::InvalidServerUrl {
        reason: reason.to_owned(),
    };
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(invalid("the server address is required"));
    }
    if !trimmed.contains("://") {
        return Err(invalid(
            "the server address must start with https:// (or http:// for this computer)",
        ));
    }
    let mut url = Url::parse(trimmed).map_err(|e| invalid(&format!("not a valid address: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(
            "the server address must start with https:// (or http:// for this computer)",
        ));
    }
    let Some(host) = url.host().filter(|host| host != &Host::Domain("")) else {
        return Err(invalid("the server address has no host name"));
    };
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(invalid(
            "the server address must not contain a query, fragment or user name",
        ));
    }
    // The password and the session token would cross the network in clear.
    if url.scheme() == "http" && !is_this_computer(&host) {
        return Err(ClientError::InsecureServerUrl {
            host: host.to_string(),
        });
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// A loopback address (127.0.0.0/8, `::1`) or the name `localhost` itself: traffic to
/// these never leaves this computer. Names under `localhost` are not taken, since some
/// resolvers send them to DNS.
fn is_this_computer(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        // `url` has lowercased the name already; the trailing dot is the same name, rooted.
        Host::Domain(name) => matches!(*name, "localhost" | "localhost."),
    }
}

impl ApiClient {
    pub fn new(server_url: &str) -> Result<Self, ClientError> {
        let base = parse_server_url(server_url)?;
        // reqwest brings no crypto of its own here: ring, as the updater and the event
        // stream use. Installed once per process; a later call finds it there.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .pool_idle_timeout(IDLE_CONNECTION_LIMIT)
            // A redirect could send the sign-in's body (the password) to another
            // address, even a plain http:// one: the server is where the agent said.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("AgentDesk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::InvalidServerUrl {
                reason: e.to_string(),
            })?;
        Ok(Self {
            http,
            base,
            token: None,
        })
    }

    pub fn with_token(mut self, token: String) -> Self {
        self.token = Some(token);
        self
    }

    /// The normalised server address, ending in `/`.
    pub fn server_url(&self) -> &str {
        self.base.as_str()
    }

    pub(crate) fn url(&self, path: &str) -> Result<Url, ClientError> {
        self.base
            .join(path)
            .map_err(|e| ClientError::InvalidServerUrl {
                reason: e.to_string(),
            })
    }

    pub(crate) fn http_client(&self) -> &reqwest::Client {
        &self.http
    }

    /// `api/v1/` followed by `segments`, each percent-encoded as one segment.
    pub(crate) fn api_url(&self, segments: &[&str]) -> Result<Url, ClientError> {
        self.url_with_segments("api/v1", segments)
    }

    pub(crate) fn authorised(
        &self,
        request: RequestBuilder,
    ) -> Result<RequestBuilder, ClientError> {
        let token = self.token.as_deref().ok_or(ClientError::NotSignedIn)?;
        Ok(request.bearer_auth(token))
    }

    pub(crate) async fn send(&self, request: RequestBuilder) -> Result<Response, ClientError> {
        let response = request.send().await.map_err(|e| ClientError::Unreachable {
            url: self.base.to_string(),
            reason: describe_transport_error(&e),
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let bytes = response.bytes().await.unwrap_or_default();
        match serde_json::from_slice::<ApiError>(&bytes) {
            Ok(ApiError { error }) => Err(ClientError::Server {
                status: status.as_u16(),
                body: error,
            }),
            Err(_) => Err(ClientError::UnexpectedResponse {
                status: status.as_u16(),
                reason: format!(
                    "{} (is this an Agent Desk server?)",
                    status.canonical_reason().unwrap_or("error")
                ),
            }),
        }
    }

    pub(crate) async fn json<T: DeserializeOwned>(response: Response) -> Result<T, ClientError> {
        let status = response.status().as_u16();
        response
            .json::<T>()
            .await
            .map_err(|e| ClientError::UnexpectedResponse {
                status,
                reason: format!("the answer could not be read: {e}"),
            })
    }

    /// Signs in and returns the session token.
    pub async fn login(&self, email: &str, password: &str) -> Result<String, ClientError> {
        let body = LoginRequest {
            email: email.trim().to_owned(),
            password: password.to_owned(),
            client_name: Some("Agent Desk".into()),
            client_version: Some(env!("CARGO_PKG_VERSION").into()),
        };
        let response = self
            .send(self.http.post(self.url("api/v1/auth/login")?).json(&body))
            .await?;
        Ok(Self::json::<LoginResponse>(response).await?.token)
    }

    /// Ends this session on the server.
    pub async fn logout(&self) -> Result<(), ClientError> {
        let request = self.authorised(self.http.post(self.url("api/v1/auth/logout")?))?;
        self.send(request).await.map(drop)
    }

    pub async fn me(&self) -> Result<VersionedProfile, ClientError> {
        let request = self.authorised(self.http.get(self.url("api/v1/me")?))?;
        Self::versioned(self.send(request).await?).await
    }

    /// Sends a change of the profile version `etag` names. The patch should already be
    /// validated; the server checks it again.
    pub async fn update_me(
        &self,
        patch: &ProfilePatch,
        etag: &str,
    ) -> Result<VersionedProfile, ClientError> {
        let request = self
            .authorised(self.http.patch(self.url("api/v1/me")?))?
            .header(IF_MATCH, etag)
            .json(patch);
        Self::versioned(self.send(request).await?).await
    }

    /// The rules the server enforces; needs no sign-in.
    pub async fn policy(&self) -> Result<Policy, ClientError> {
        let response = self.send(self.http.get(self.url("api/v1/policy")?)).await?;
        Self::json(response).await
    }

    pub async fn change_password(
        &self,
        change: &ChangePasswordRequest,
    ) -> Result<SessionsEnded, ClientError> {
        let request = self
            .authorised(self.http.post(self.url("api/v1/auth/password")?))?
            .json(change);
        Self::json(self.send(request).await?).await
    }

    /// How guessable `password` would be for the signed-in agent, as the server estimates it.
    pub async fn password_strength(&self, password: &str) -> Result<u8, ClientError> {
        let body = PasswordStrengthRequest {
            password: password.to_owned(),
        };
        let request = self
            .authorised(self.http.post(self.url("api/v1/auth/password/strength")?))?
            .json(&body);
        let strength: PasswordStrength = Self::json(self.send(request).await?).await?;
        Ok(strength.score)
    }

    /// Asks for a reset link; needs no sign-in.
    pub async fn request_password_reset(
        &self,
        email: &str,
    ) -> Result<PasswordResetAccepted, ClientError> {
        let body = PasswordResetRequest {
            email: email.trim().to_owned(),
        };
        let request = self
            .http
            .post(self.url("api/v1/auth/password-reset")?)
            .json(&body);
        Self::json(self.send(request).await?).await
    }

    pub async fn sessions(&self) -> Result<SessionList, ClientError> {
        self.get_json("api/v1/auth/sessions", &[]).await
    }

    pub async fn end_session(&self, session_id: &str) -> Result<(), ClientError> {
        let mut url = self.url("api/v1/auth/sessions")?;
        // Pushed as a path segment, so the id is percent-encoded whatever it contains.
        url.path_segments_mut()
            .map_err(|()| ClientError::InvalidServerUrl {
                reason: "the server address cannot have a path".into(),
            })?
            .push(session_id);
        let request = self.authorised(self.http.delete(url))?;
        self.send(request).await.map(drop)
    }

    pub async fn sign_out_other_sessions(&self) -> Result<SessionsEnded, ClientError> {
        let request = self.authorised(
            self.http
                .post(self.url("api/v1/auth/sessions/sign-out-others")?),
        )?;
        Self::json(self.send(request).await?).await
    }

    /// Sets the profile photo from an encoded image; the server re-encodes it.
    pub async fn put_avatar(&self, jpeg: Vec<u8>) -> Result<VersionedProfile, ClientError> {
        let request = self
            .authorised(self.http.put(self.url("api/v1/me/avatar")?))?
            .header(CONTENT_TYPE, "image/jpeg")
            .body(jpeg);
        Self::versioned(self.send(request).await?).await
    }

    pub async fn delete_avatar(&self) -> Result<VersionedProfile, ClientError> {
        let request = self.authorised(self.http.delete(self.url("api/v1/me/avatar")?))?;
        Self::versioned(self.send(request).await?).await
    }

    /// A stored photo, `side` pixels square, from an `avatar_url` of a profile. Only
    /// photo paths are fetched: the token is not sent anywhere a URL happens to point.
    pub async fn avatar(&self, avatar_url: &str, side: u32) -> Result<Vec<u8>, ClientError> {
        let path = avatar_url
            .strip_prefix('/')
            .filter(|path| {
                path.starts_with("api/v1/avatars/")
                    && !path.contains(['?', '#'])
                    && !path.contains("..")
            })
            .ok_or_else(|| ClientError::UnexpectedResponse {
                status: 0,
                reason: format!("{avatar_url:?} is not a photo address"),
            })?;
        let mut url = self.url(path)?;
        url.query_pairs_mut().append_pair("size", &side.to_string());
        let response = self.send(self.authorised(self.http.get(url))?).await?;
        self.body_bytes(response).await
    }

    /// Sets the agent's status, optionally until a time.
    pub async fn set_status(&self, update: &StatusUpdate) -> Result<StatusState, ClientError> {
        let request = self
            .authorised(self.http.put(self.url("api/v1/me/status")?))?
            .json(update);
        Self::json(self.send(request).await?).await
    }

    pub async fn notification_prefs(&self) -> Result<VersionedNotificationPrefs, ClientError> {
        let request = self.authorised(self.http.get(self.url("api/v1/me/notification-prefs")?))?;
        Self::versioned_prefs(self.send(request).await?).await
    }

    pub async fn save_notification_prefs(
        &self,
        prefs: &NotificationPrefs,
        etag: &str,
    ) -> Result<VersionedNotificationPrefs, ClientError> {
        let request = self
            .authorised(self.http.put(self.url("api/v1/me/notification-prefs")?))?
            .header(IF_MATCH, etag)
            .json(prefs);
        Self::versioned_prefs(self.send(request).await?).await
    }

    /// Every team, with where the agent stands in each.
    pub async fn teams(&self) -> Result<Vec<Team>, ClientError> {
        self.get_json("api/v1/teams", &[]).await
    }

    /// Asks to join a team; its leads decide.
    pub async fn request_to_join(
        &self,
        team_id: &str,
        note: Option<String>,
    ) -> Result<JoinRequest, ClientError> {
        let url = self.url_with_segments("api/v1/teams", &[team_id, "join-requests"])?;
        let request = self
            .authorised(self.http.post(url))?
            .json(&NewJoinRequest { note });
        Self::json(self.send(request).await?).await
    }

    /// The agent's own requests and those they decide on as a lead.
    pub async fn join_requests(&self) -> Result<JoinRequests, ClientError> {
        self.get_json("api/v1/join-requests", &[]).await
    }

    /// Approves or denies a request to join a team the agent leads.
    pub async fn decide_join_request(
        &self,
        request_id: &str,
        decision: &JoinDecision,
    ) -> Result<JoinRequest, ClientError> {
        let url = self.url_with_segments("api/v1/join-requests", &[request_id, "decision"])?;
        let request = self.authorised(self.http.post(url))?.json(decision);
        Self::json(self.send(request).await?).await
    }

    /// A page of the directory, each person as the server lets this agent see them.
    pub async fn people(&self, filter: &PeopleFilter) -> Result<PeoplePage, ClientError> {
        let mut url = self.url("api/v1/people")?;
        let pairs = filter.query_pairs();
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        let request = self.authorised(self.http.get(url))?;
        Self::json(self.send(request).await?).await
    }

    pub async fn person(&self, id: &str) -> Result<Person, ClientError> {
        self.get_json("api/v1/people", &[id]).await
    }

    /// A new user's record; the first email is the primary one.
    pub async fn create_user(&self, new: &NewCustomer) -> Result<Person, ClientError> {
        let request = self
            .authorised(self.http.post(self.url("api/v1/people")?))?
            .json(new);
        Self::json(self.send(request).await?).await
    }

    /// Changes some fields of a user's record read at `version`.
    pub async fn update_user(
        &self,
        id: &str,
        patch: &CustomerPatch,
        version: i64,
    ) -> Result<Person, ClientError> {
        let url = self.url_with_segments("api/v1/people", &[id])?;
        let request = self
            .authorised(self.http.patch(url))?
            .header(IF_MATCH, format!("\"{version}\""))
            .json(patch);
        Self::json(self.send(request).await?).await
    }

    pub async fn add_email(&self, id: &str, new: &NewEmail) -> Result<Person, ClientError> {
        let url = self.url_with_segments("api/v1/people", &[id, "emails"])?;
        let request = self.authorised(self.http.post(url))?.json(new);
        Self::json(self.send(request).await?).await
    }

    pub async fn remove_email(&self, id: &str, address: &str) -> Result<Person, ClientError> {
        let url = self.url_with_segments("api/v1/people", &[id, "emails", address])?;
        let request = self.authorised(self.http.delete(url))?;
        Self::json(self.send(request).await?).await
    }

    pub async fn make_primary_email(&self, id: &str, address: &str) -> Result<Person, ClientError> {
        let url = self.url_with_segments("api/v1/people", &[id, "emails", address, "primary"])?;
        let request = self.authorised(self.http.post(url))?;
        Self::json(self.send(request).await?).await
    }

    /// A person's notes, newest first.
    pub async fn notes(&self, id: &str, cursor: Option<&str>) -> Result<NotesPage, ClientError> {
        let mut url = self.url_with_segments("api/v1/people", &[id, "notes"])?;
        if let Some(cursor) = cursor {
            url.query_pairs_mut().append_pair("cursor", cursor);
        }
        let request = self.authorised(self.http.get(url))?;
        Self::json(self.send(request).await?).await
    }

    pub async fn add_note(&self, id: &str, body: &str) -> Result<Note, ClientError> {
        let url = self.url_with_segments("api/v1/people", &[id, "notes"])?;
        let request = self.authorised(self.http.post(url))?.json(&NoteBody {
            body: body.to_owned(),
        });
        Self::json(self.send(request).await?).await
    }

    pub async fn edit_note(&self, note_id: &str, body: &str) -> Result<Note, ClientError> {
        let url = self.url_with_segments("api/v1/notes", &[note_id])?;
        let request = self.authorised(self.http.patch(url))?.json(&NoteBody {
            body: body.to_owned(),
        });
        Self::json(self.send(request).await?).await
    }

    pub async fn delete_note(&self, note_id: &str) -> Result<(), ClientError> {
        let url = self.url_with_segments("api/v1/notes", &[note_id])?;
        let request = self.authorised(self.http.delete(url))?;
        self.send(request).await?;
        Ok(())
    }

    /// Merges the customer `source` into `id`; `source` is gone after.
    pub async fn merge_users(&self, id: &str, source: &str) -> Result<Person, ClientError> {
        let url = self.url_with_segments("api/v1/people", &[id, "merge"])?;
        let request = self.authorised(self.http.post(url))?.json(&MergeRequest {
            source: source.to_owned(),
        });
        Self::json(self.send(request).await?).await
    }

    /// Every edit of a record or profile, newest first.
    pub async fn changes(&self, id: &str) -> Result<ChangeLog, ClientError> {
        self.get_json("api/v1/people", &[id, "changes"]).await
    }

    /// Notes and edits of a person together, newest first.
    pub async fn activity(&self, id: &str) -> Result<ActivityStream, ClientError> {
        self.get_json("api/v1/people", &[id, "activity"]).await
    }

    /// Every organization, for the directory's filter and a record's picker.
    pub async fn organizations(&self) -> Result<Organizations, ClientError> {
        self.get_json("api/v1/organizations", &[]).await
    }

    /// Makes an organization with nobody in it yet.
    pub async fn create_organization(
        &self,
        name: &str,
    ) -> Result<agent_desk_core::customers::OrganizationEntry, ClientError> {
        let request = self
            .authorised(self.http.post(self.url("api/v1/organizations")?))?
            .json(&agent_desk_core::customers::OrganizationName {
                name: name.to_owned(),
            });
        Self::json(self.send(request).await?).await
    }

    /// The usergroups administrators keep.
    pub async fn usergroups(&self) -> Result<agent_desk_core::customers::Usergroups, ClientError> {
        self.get_json("api/v1/usergroups", &[]).await
    }

    /// A customer's files and the server's size limit for a new one.
    pub async fn files(&self, id: &str) -> Result<FileList, ClientError> {
        self.get_json("api/v1/people", &[id, "files"]).await
    }

    /// Keeps a file on a customer's record; the server finds its type from the bytes.
    pub async fn upload_file(
        &self,
        id: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<PersonFile, ClientError> {
        let mut url = self.url_with_segments("api/v1/people", &[id, "files"])?;
        url.query_pairs_mut().append_pair("name", name);
        let request = self
            .authorised(self.http.post(url))?
            .header(CONTENT_TYPE, "application/octet-stream")
            .timeout(TRANSFER_TIMEOUT)
            .body(bytes);
        Self::json(self.send(request).await?).await
    }

    /// A file's bytes.
    pub async fn download_file(&self, file_id: &str) -> Result<Vec<u8>, ClientError> {
        let url = self.url_with_segments("api/v1/files", &[file_id])?;
        let request = self
            .authorised(self.http.get(url))?
            .timeout(TRANSFER_TIMEOUT);
        let response = self.send(request).await?;
        self.body_bytes(response).await
    }

    pub async fn delete_file(&self, file_id: &str) -> Result<(), ClientError> {
        let url = self.url_with_segments("api/v1/files", &[file_id])?;
        let request = self.authorised(self.http.delete(url))?;
        self.send(request).await?;
        Ok(())
    }

    /// A person's tickets in the order asked for.
    pub async fn tickets(&self, id: &str, sort: TicketSort) -> Result<TicketHistory, ClientError> {
        let mut url = self.url_with_segments("api/v1/people", &[id, "tickets"])?;
        url.query_pairs_mut().append_pair("sort", sort.as_str());
        let request = self.authorised(self.http.get(url))?;
        Self::json(self.send(request).await?).await
    }

    /// An agent's latest sign-ins: their own, or anyone's to an administrator.
    pub async fn logins(&self, id: &str) -> Result<LoginActivity, ClientError> {
        self.get_json("api/v1/people", &[id, "logins"]).await
    }

    /// A response's whole body; a connection lost while reading it is an unreachable server.
    async fn body_bytes(&self, response: Response) -> Result<Vec<u8>, ClientError> {
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ClientError::Unreachable {
                url: self.base.to_string(),
                reason: describe_transport_error(&e),
            })?;
        Ok(bytes.to_vec())
    }

    /// GETs `path` followed by `segments` (see `url_with_segments`), as JSON.
    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        segments: &[&str],
    ) -> Result<T, ClientError> {
        let url = self.url_with_segments(path, segments)?;
        let request = self.authorised(self.http.get(url))?;
        Self::json(self.send(request).await?).await
    }

    /// `path` followed by `segments`, each percent-encoded as one segment, so an id can
    /// never reach another route.
    pub(crate) fn url_with_segments(
        &self,
        path: &str,
        segments: &[&str],
    ) -> Result<Url, ClientError> {
        let mut url = self.url(path)?;
        url.path_segments_mut()
            .map_err(|()| ClientError::InvalidServerUrl {
                reason: "the server address cannot have a path".into(),
            })?
            .extend(segments);
        Ok(url)
    }

    /// The agent's events after `after`, at most `limit`.
    pub async fn events(&self, after: i64, limit: u32) -> Result<EventPage, ClientError> {
        let mut url = self.url("api/v1/events")?;
        url.query_pairs_mut()
            .append_pair("after", &after.to_string())
            .append_pair("limit", &limit.to_string());
        let request = self.authorised(self.http.get(url))?;
        Self::json(self.send(request).await?).await
    }

    /// The WebSocket address of the event stream after `after`, with colleagues'
    /// presence changes when `presence`, and the bearer token.
    pub fn event_stream_request(
        &self,
        after: i64,
        presence: bool,
    ) -> Result<(Url, String), ClientError> {
        let token = self.token.clone().ok_or(ClientError::NotSignedIn)?;
        let mut url = self.url("api/v1/events/stream")?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .map_err(|()| ClientError::InvalidServerUrl {
                reason: "the server address cannot carry a WebSocket".into(),
            })?;
        url.query_pairs_mut()
            .append_pair("after", &after.to_string());
        if presence {
            url.query_pairs_mut().append_pair("presence", "true");
        }
        Ok((url, token))
    }

    pub(crate) async fn versioned_prefs(
        response: Response,
    ) -> Result<VersionedNotificationPrefs, ClientError> {
        let etag = etag_of(&response, "the notification preferences")?;
        let prefs = Self::json::<NotificationPrefs>(response).await?;
        Ok(VersionedNotificationPrefs { prefs, etag })
    }

    async fn versioned(response: Response) -> Result<VersionedProfile, ClientError> {
        let etag = etag_of(&response, "the profile")?;
        let profile = Self::json::<Profile>(response).await?;
        Ok(VersionedProfile { profile, etag })
    }
}

pub(crate) fn etag_of(response: &Response, what: &str) -> Result<String, ClientError> {
    response
        .headers()
        .get(ETAG)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| ClientError::UnexpectedResponse {
            status: response.status().as_u16(),
            reason: format!("{what} came without an ETag"),
        })
}

fn describe_transport_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "the server did not answer in time".into()
    } else if error.is_connect() {
        "the connection was refused or the host is unknown".into()
    } else {
        error.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_checked_and_normalised() {
        assert_eq!(
            parse_server_url(" http://127.0.0.1:8787 ")
                .map(|u| u.to_string())
                .ok()
                .as_deref(),
            Some("http://127.0.0.1:8787/")
        );
        assert_eq!(
            parse_server_url("https://desk.example/agent")
                .map(|u| u.to_string())
                .ok()
                .as_deref(),
            Some("https://desk.example/agent/")
        );
        for bad in [
            "",
            "desk.example",
            "ftp://desk.example",
            "http://",
            "https://desk.example/?x=1",
            "http://user@desk.example",
        ] {
            assert!(
                matches!(
                    parse_server_url(bad),
                    Err(ClientError::InvalidServerUrl { .. })
                ),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn plain_http_is_only_for_this_computer() {
        for local in [
            "http://127.0.0.1:8787",
            "http://127.1.2.3",
            "http://127.255.255.254:9000/desk",
            "http://[::1]:8787",
            "http://[::ffff:127.0.0.1]",
            "http://localhost",
            "http://LOCALHOST.:8787",
            "https://10.0.0.1",
            "https://desk.example",
        ] {
            assert!(parse_server_url(local).is_ok(), "{local:?} refused");
        }
        for remote in [
            "http://10.0.0.1",
            "http://192.168.1.20:8787",
            "http://0.0.0.0:8787",
            "http://128.0.0.1",
            "http://[::2]",
            "http://[fe80::1]",
            "http://[::ffff:10.0.0.1]",
            "http://desk.example",
            "http://localhost.evil.example",
            "http://evil.localhost",
            "http://127.0.0.1.nip.io",
            "HTTP://Desk.Example:8787/agent",
        ] {
            let refused = parse_server_url(remote);
            assert!(
                matches!(refused, Err(ClientError::InsecureServerUrl { .. })),
                "{remote:?}: {refused:?}"
            );
        }
    }

    #[test]
    fn an_insecure_address_is_its_own_code_on_the_server_url_field() {
        let Err(error) = parse_server_url("http://10.0.0.1:8787") else {
            panic!("accepted");
        };
        assert_eq!(error.code(), crate::ClientErrorCode::InsecureServerUrl);
        assert_eq!(error.field(), Some("server_url"));
        assert!(error.message().contains("https://"), "{}", error.message());
        let wire = serde_json::to_value(error.code()).expect("serialise");
        assert_eq!(wire, "insecure_server_url");
    }
}

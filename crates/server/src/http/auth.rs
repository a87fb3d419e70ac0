//! Signing in and out, and the bearer-token extractor every protected route uses.

use std::net::{IpAddr, SocketAddr};

use agent_desk_core::{ApiError, ErrorCode, LoginRequest, LoginResponse};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiResult, AppError};
use super::json::ApiJson;
use crate::account::{self, AccountError, AttemptRecord};
use crate::agents::{self, NewSession, TokenSession};
use crate::integration_tokens::{Integration, Scope};
use crate::{credentials, AppState};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
}

/// The signed-in agent behind a request's bearer token.
#[derive(Debug, Clone)]
pub struct Session {
    pub session_id: String,
    pub agent_id: String,
    pub is_admin: bool,
}

impl FromRequestParts<AppState> for Session {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        // Looked up already by the Idempotency-Key layer.
        if let Some(session) = parts.extensions.get::<Session>() {
            return Ok(session.clone());
        }
        let token = bearer_token(parts)?;
        let session = session_of(state, token)
            .await?
            .ok_or(AppError::Unauthorized)?;
        // For a body's extractor, which runs after this one (an upload's slot).
        parts.extensions.insert(session.clone());
        Ok(session)
    }
}

/// The live session a bearer token belongs to; None when it is unknown or has just
/// ended by its age (its streams end with it).
pub(super) async fn session_of(state: &AppState, token: &str) -> Result<Option<Session>, AppError> {
    Ok(
        match agents::session_by_token(&state.db, token, Utc::now()).await? {
            TokenSession::Live {
                session_id,
                agent_id,
                is_admin,
            } => Some(Session {
                session_id,
                agent_id,
                is_admin,
            }),
            TokenSession::Expired {
                session_id,
                agent_id,
            } => {
                state.hub.end_sessions(&agent_id, &[session_id]);
                None
            }
            TokenSession::Unknown => None,
        },
    )
}

/// The request's bearer token.
pub(super) fn bearer_token(parts: &Parts) -> Result<&str, AppError> {
    parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or(AppError::Unauthorized)
}

/// Who calls a route that integrations may call as well as administrators.
#[derive(Debug, Clone)]
pub enum Caller {
    Admin(Session),
    Integration(Integration),
}

/// An administrator, or an integration whose token has `scope`. An integration's token
/// works nowhere else: every other route looks for a session and finds none.
async fn admin_or_integration(
    parts: &mut Parts,
    state: &AppState,
    scope: Scope,
) -> Result<Caller, AppError> {
    let token = bearer_token(parts)?;
    if token.starts_with(crate::integration_tokens::TOKEN_PREFIX) {
        let integration = crate::integration_tokens::by_token(&state.db, token, Utc::now())
            .await?
            .ok_or(AppError::Unauthorized)?;
        if !integration.may(scope) {
            return Err(AppError::Forbidden {
                message: format!(
                    "the integration {} has no {} scope",
                    integration.name,
                    scope.as_str()
                ),
                field: None,
            });
        }
        return Ok(Caller::Integration(integration));
    }
    let AdminSession(session) = AdminSession::from_request_parts(parts, state).await?;
    Ok(Caller::Admin(session))
}

/// May post events: an administrator, or an integration with `events:write`.
#[derive(Debug, Clone)]
pub struct EventsWriter(pub Caller);

impl FromRequestParts<AppState> for EventsWriter {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        admin_or_integration(parts, state, Scope::EventsWrite)
            .await
            .map(Self)
    }
}

/// May read agents' availability: an administrator, or an integration with
/// `routing:read`.
#[derive(Debug, Clone)]
pub struct RoutingReader(pub Caller);

impl FromRequestParts<AppState> for RoutingReader {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        admin_or_integration(parts, state, Scope::RoutingRead)
            .await
            .map(Self)
    }
}

/// A slot for the signed-in agent's upload (see [`crate::uploads::PER_AGENT`]); 429 when
/// they have as many arriving as they may. The route's [`Session`] runs first.
pub fn upload_slot(
    request: &axum::extract::Request,
    state: &AppState,
) -> Result<crate::uploads::UploadSlot, AppError> {
    let session = request
        .extensions()
        .get::<Session>()
        .ok_or(AppError::Unauthorized)?;
    state
        .upload_slots
        .take(&session.agent_id)
        .ok_or(AppError::rate_limited(std::time::Duration::from_secs(1)))
}

/// The signed-in agent behind a request's bearer token, who must be an administrator.
/// Taken from the request's head, before any body is read: a caller who is not an
/// administrator gets 403 whatever they send, and learns nothing of what a body
/// should hold.
#[derive(Debug, Clone)]
pub struct AdminSession(pub Session);

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let session = Session::from_request_parts(parts, state).await?;
        if !session.is_admin {
            return Err(AppError::Forbidden {
                message: "only an administrator can do this".into(),
                field: None,
            });
        }
        Ok(Self(session))
    }
}

/// The address a request comes from: the peer's, unless the peer is a trusted proxy;
/// then the nearest address in `X-Forwarded-For` (read from the right, as each proxy
/// appends the one it heard from) that is not a trusted proxy itself. A client can put
/// anything at the left of the header, so only what trusted proxies added counts.
pub fn forwarded_client(
    peer: SocketAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[ipnet::IpNet],
) -> SocketAddr {
    let is_trusted = |ip: &IpAddr| {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(*ip, IpAddr::V4),
            v4 => *v4,
        };
        trusted.iter().any(|net| net.contains(&ip))
    };
    if !is_trusted(&peer.ip()) {
        return peer;
    }
    // Read from the right: each trusted proxy appended the address it heard from, and
    // whatever stands further left was written by someone the server does not trust.
    let mut client = peer.ip();
    for value in headers.get_all("x-forwarded-for").iter().rev() {
        // By bytes: bytes a client wrote that are not text leave the rest readable.
        for hop in value.as_bytes().rsplit(|&byte| byte == b',') {
            let Some(hop) = std::str::from_utf8(hop).ok().and_then(hop_address) else {
                return SocketAddr::new(client, peer.port());
            };
            client = hop;
            if !is_trusted(&hop) {
                return SocketAddr::new(client, peer.port());
            }
        }
    }
    SocketAddr::new(client, peer.port())
}

/// One address of `X-Forwarded-For`, with or without a port (`192.0.2.7:4711`,
/// `[2001:db8::7]:4711`); `unknown` and anything else that is not an address are None.
fn hop_address(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|address| address.ip()))
}

/// The client's IP address (see [`forwarded_client`]), when the server was started with
/// connect info (always, in `serve`).
pub fn client_address(extensions: &axum::http::Extensions) -> Option<String> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip().to_string())
}

/// The `email` of a request, normalised; 400 naming the field when it is not an address.
pub fn email_field(raw: &str) -> Result<String, AppError> {
    let email = agents::normalise_email(raw);
    if agents::is_plausible_email(&email) {
        Ok(email)
    } else {
        Err(AppError::bad_request(
            ErrorCode::InvalidEmail,
            "email is not a valid email address",
            Some("email".into()),
        ))
    }
}

/// What throttling counts a client under: its IP address, or for IPv6 its /64 network,
/// since one host commonly holds a whole /64.
pub fn address_key(extensions: &axum::http::Extensions) -> String {
    match extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
    {
        Some(IpAddr::V6(ip)) if ip.to_ipv4_mapped().is_none() => {
            let [a, b, c, d, ..] = ip.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
        Some(IpAddr::V6(ip)) => ip
            .to_ipv4_mapped()
            .map(|v4| v4.to_string())
            .unwrap_or_default(),
        Some(IpAddr::V4(ip)) => ip.to_string(),
        None => String::new(),
    }
}

/// Exchanges email and password for a bearer token. A wrong email and a wrong
/// password get the same answer.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, body = ApiError, description = "Malformed body"),
        (status = 401, body = ApiError, description = "Wrong email or password"),
        (status = 403, body = ApiError, description = "The right password for an account an administrator deactivated (`account_deactivated`)"),
        (status = 429, body = ApiError, description = "Too many failed sign-ins for this account or from this address; see Retry-After"),
    ))]
async fn login(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let email = email_field(&request.email)?;
    let ip = client_address(&extensions);
    let address = address_key(&extensions);
    let throttles = &state.throttles;
    let account = throttles.sign_in_key(&email, &address).await?;
    // Counted before the password is checked, so a blocked guess learns nothing and
    // simultaneous guesses cannot slip past; keyed by the address asked for, so accounts
    // that exist and those that do not behave alike.
    throttles
        .attempt(&[
            (&throttles.sign_in_accounts, &account),
            (&throttles.sign_in_addresses, &address),
        ])
        .await?;

    let found = agents::credentials_by_email(&state.db, &email).await?;
    let (agent_id, hash, active) = match found {
        Some((id, hash, active)) => (Some(id), hash, active),
        None => (None, state.decoy_password_hash.to_string(), false),
    };
    let matches = credentials::verify_password_queued(&request.password, &hash)
        .await
        .map_err(AccountError::from)?;
    let now = Utc::now();
    let attempt = AttemptRecord {
        agent_id: agent_id.as_deref(),
        email: &email,
        succeeded: matches && active && agent_id.is_some(),
        client_name: request.client_name.as_deref(),
        ip_address: ip.as_deref(),
    };
    account::record_sign_in(&state.db, attempt, now).await?;
    let agent_id = match agent_id {
        Some(id) if matches => id,
        _ => return Err(AppError::InvalidCredentials),
    };
    // Only with the right password: anyone else learns no more than from a wrong one.
    if !active {
        return Err(AppError::AccountDeactivated);
    }
    throttles
        .record_success(&throttles.sign_in_accounts, &account)
        .await;
    throttles
        .refund(&throttles.sign_in_addresses, &address)
        .await;
    throttles.signed_in(&email, &address).await;
    let token = agents::create_session(
        &state.db,
        NewSession {
            agent_id: &agent_id,
            client_name: request.client_name.as_deref(),
            client_version: request.client_version.as_deref(),
            ip_address: ip,
        },
        now,
    )
    .await?
    .ok_or(AppError::AccountDeactivated)?;
    Ok(Json(LoginResponse { token }))
}

/// Ends the session of the token used; the token stops working at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ApiError)))]
async fn logout(State(state): State<AppState>, session: Session) -> ApiResult<StatusCode> {
    agents::delete_session(&state.db, &session.session_id).await?;
    state
        .hub
        .end_sessions(&session.agent_id, &[session.session_id]);
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn forwarded(peer: &str, header: Option<&str>, trusted: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        if let Some(header) = header {
            headers.insert(
                "x-forwarded-for",
                HeaderValue::from_bytes(header.as_bytes()).expect("header"),
            );
        }
        let trusted: Vec<ipnet::IpNet> = trusted
            .iter()
            .map(|net| net.parse().expect("a network"))
            .collect();
        let peer: SocketAddr = if peer.contains(':') {
            format!("[{peer}]:4000")
        } else {
            format!("{peer}:4000")
        }
        .parse()
        .expect("an address");
        forwarded_client(peer, &headers, &trusted).ip().to_string()
    }

    #[test]
    fn only_a_trusted_proxy_says_who_the_client_is() {
        // No proxy trusted: the header is anyone's to write.
        assert_eq!(
            forwarded("203.0.113.9", Some("10.0.0.1"), &[]),
            "203.0.113.9"
        );
        // From the proxy: the address it heard from.
        assert_eq!(
            forwarded("127.0.0.1", Some("198.51.100.7"), &["127.0.0.1/32"]),
            "198.51.100.7"
        );
        // What the client wrote at the left is passed over for what the proxy added.
        assert_eq!(
            forwarded("127.0.0.1", Some("1.2.3.4, 198.51.100.7"), &["127.0.0.0/8"]),
            "198.51.100.7"
        );
        // Through two trusted proxies.
        assert_eq!(
            forwarded("10.0.0.2", Some("198.51.100.7, 10.0.0.1"), &["10.0.0.0/24"]),
            "198.51.100.7"
        );
        // A client not behind the proxy sends the header itself: ignored.
        assert_eq!(
            forwarded("198.51.100.7", Some("127.0.0.1"), &["127.0.0.1/32"]),
            "198.51.100.7"
        );
        // What the client wrote at the left cannot hide what the proxy added.
        for written in ["x", "unknown", "é", "1.2.3.4:80:90"] {
            assert_eq!(
                forwarded(
                    "127.0.0.1",
                    Some(&format!("{written}, 198.51.100.7")),
                    &["127.0.0.1/32"]
                ),
                "198.51.100.7",
                "{written}"
            );
        }
        // Ports and brackets as some proxies write them.
        assert_eq!(
            forwarded("127.0.0.1", Some("198.51.100.7:4711"), &["127.0.0.1/32"]),
            "198.51.100.7"
        );
        assert_eq!(
            forwarded("127.0.0.1", Some("[2001:db8::7]:4711"), &["127.0.0.1/32"]),
            "2001:db8::7"
        );
        // The proxy sent nothing usable: the proxy it is.
        assert_eq!(
            forwarded("127.0.0.1", Some("garbage"), &["127.0.0.1/32"]),
            "127.0.0.1"
        );
        assert_eq!(forwarded("127.0.0.1", None, &["127.0.0.1/32"]), "127.0.0.1");
        assert_eq!(
            forwarded("::ffff:127.0.0.1", Some("2001:db8::7"), &["127.0.0.1/32"]),
            "2001:db8::7"
        );
    }
}

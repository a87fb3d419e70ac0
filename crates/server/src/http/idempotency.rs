//! `Idempotency-Key` on every mutating route: the same request sent again under the same
//! key — after a timeout, a crash, a week offline — gets the answer the first one got,
//! and is applied once. Storage and crash recovery are in [`crate::idempotency`].
//!
//! The request runs on a task of its own, so that a client that hangs up mid-request
//! (an app killed while sending) does not cancel it half-way: its answer is still kept,
//! and the app's retry gets it.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use agent_desk_core::ErrorCode;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{CONTENT_TYPE, ETAG, IF_MATCH, LOCATION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::Utc;
use futures_util::FutureExt;
use http_body::Frame;
use sha2::{Digest, Sha256};

use super::error::AppError;
use crate::idempotency::{self, AppliedMark, Claim, KeyId, StoredAnswer};
use crate::AppState;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const CONTENT_DIGEST: HeaderName = HeaderName::from_static("content-digest");
/// On an answer given again from what was kept.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Routes that ignore the header: signing in (no one to keep it for yet), estimates that
/// change nothing, the password-reset steps (their token is single-use already), and the
/// helpdesks' hooks (their deliveries carry ids of their own, de-duplicated by source).
const EXCLUDED: &[(Method, &str)] = &[
    (Method::POST, "/api/v1/auth/login"),
    (Method::POST, "/api/v1/auth/password/strength"),
    (Method::POST, "/api/v1/auth/password-reset"),
    (Method::POST, "/api/v1/auth/password-reset/confirm"),
    (Method::POST, "/reset"),
    (Method::POST, "/api/v1/hooks/{source}"),
];

/// Routes whose body is a file streamed to disk: its bytes are fingerprinted through the
/// `Content-Digest` the client sends, checked as the body arrives.
const UPLOADS: &[(Method, &str)] = &[
    (Method::PUT, "/api/v1/me/avatar"),
    (Method::POST, "/api/v1/people/{id}/files"),
];

/// Routes whose body holds passwords: a fast hash of it must not be kept, so the
/// fingerprint leaves the body out, and only a successful answer is kept (a retry
/// with the right current password runs afresh).
/// A webhook's secret given by its helpdesk is such a body too.
const SECRET_BODIES: &[(Method, &str)] = &[
    (Method::POST, "/api/v1/auth/password"),
    (
        Method::POST,
        "/api/v1/admin/integrations/hooks/{source}/secrets",
    ),
];

/// Routes whose successful answer holds a credential shown once: it is not kept, so a
/// retry under the same key is answered `already_applied` (the credential was made, and
/// whoever lost it revokes it and makes another) rather than with a copy stored for days.
const SECRET_ANSWERS: &[(Method, &str)] = &[
    (Method::POST, "/api/v1/admin/integrations/tokens"),
    (
        Method::POST,
        "/api/v1/admin/integrations/hooks/{source}/secrets",
    ),
];

/// Answers larger than this are not kept: such a request, once applied, answers a
/// retry with `already_applied`. The API's mutating answers are a few KiB.
const KEPT_ANSWER_LIMIT: usize = 256 * 1024;

/// Headers of an answer that are given again with it.
const KEPT_HEADERS: &[HeaderName] = &[CONTENT_TYPE, ETAG, LOCATION];

fn listed(list: &[(Method, &str)], method: &Method, path: &str) -> bool {
    list.iter()
        .any(|(listed_method, listed_path)| listed_method == method && *listed_path == path)
}

/// Whether a route takes the header: every POST, PUT, PATCH and DELETE but [`EXCLUDED`].
pub fn honours(method: &Method, route: &str) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) && !listed(EXCLUDED, method, route)
}

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match keyed(state, request, next).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn keyed(state: AppState, request: Request, next: Next) -> Result<Response, AppError> {
    let Some(raw_key) = request.headers().get(IDEMPOTENCY_KEY).cloned() else {
        return Ok(next.run(request).await);
    };
    let method = request.method().clone();
    let Some(route) = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
    else {
        return Ok(next.run(request).await);
    };
    if !honours(&method, &route) {
        return Ok(next.run(request).await);
    }
    let key = parse_key(&raw_key)?;
    let (mut parts, body) = request.into_parts();
    let Some(principal) = principal(&state, &mut parts).await? else {
        // No one to keep it for: the route answers 401 as it would without the key.
        return Ok(next.run(Request::from_parts(parts, body)).await);
    };
    let id = KeyId { principal, key };

    let secret_body = listed(SECRET_BODIES, &method, &route);
    let secret_answer = listed(SECRET_ANSWERS, &method, &route);
    let body_fault = Arc::new(OnceLock::new());
    let (body, body_digest) = if listed(UPLOADS, &method, &route) {
        let expected = content_digest(&parts.headers)?;
        let digest = hex::encode(expected);
        let checked = DigestBody::new(body, expected, Arc::clone(&body_fault));
        (Body::new(checked), digest)
    } else {
        let bytes =
            super::json::read_body(Request::from_parts(parts.clone(), body), &state).await?;
        let digest = if secret_body {
            String::new()
        } else {
            hex::encode(Sha256::digest(&bytes))
        };
        (Body::from(bytes), digest)
    };
    let fingerprint = fingerprint(&method, &parts, &body_digest);

    let instance = state.hub.instance().id.clone();
    match idempotency::claim(&state.db, &id, &fingerprint, &instance, Utc::now()).await? {
        Claim::Claimed => {}
        Claim::Reused => return Err(reused()),
        Claim::Answered(answer) => return Ok(replay(answer)),
        Claim::Lost => return Err(already_applied()),
        Claim::InFlight => return Ok(in_flight()),
    }

    let request = Request::from_parts(parts, body);
    let db = state.db.clone();
    let run = tokio::spawn(async move {
        let mark = Arc::new(AppliedMark::new(id.clone()));
        let answered = AssertUnwindSafe(crate::storage::APPLIED_MARK.scope(
            Arc::clone(&mark),
            async move {
                let response = next.run(request).await;
                let (parts, body) = response.into_parts();
                let body = axum::body::to_bytes(body, usize::MAX).await;
                (parts, body)
            },
        ))
        .catch_unwind()
        .await;
        let applied = mark.is_applied();
        let (parts, body) = match answered {
            Ok(answered) => answered,
            Err(panic) => {
                settle_failed(&db, &id, applied).await;
                return Err(panic);
            }
        };
        let body = match body {
            Ok(body) => body,
            Err(error) => {
                settle_failed(&db, &id, applied).await;
                return Ok(
                    AppError::Internal(format!("reading an answer: {error}")).into_response()
                );
            }
        };
        // An upload whose bytes were cut off or altered on the way was not the request the
        // client sent: its retry, with the bytes whole, must run rather than get this answer.
        let body_fault = body_fault.get().copied();
        let transient = matches!(
            parts.status,
            StatusCode::UNAUTHORIZED | StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS
        ) || parts.status.is_server_error()
            || body_fault.is_some();
        let settled = if secret_body && !parts.status.is_success() {
            // A refused password change changed nothing but the throttle's count of
            // attempts, whose commit came first and marked the key applied: the retry
            // with the right password must run, as SECRET_BODIES promises.
            idempotency::forget(&db, &id).await
        } else if transient
            || body.len() > KEPT_ANSWER_LIMIT
            || (secret_answer && parts.status.is_success())
        {
            if applied {
                idempotency::set_lost(&db, &id, Utc::now()).await
            } else {
                idempotency::release(&db, &id).await
            }
        } else {
            let answer = StoredAnswer {
                status: parts.status.as_u16(),
                headers: kept_headers(&parts.headers),
                body: body.to_vec(),
            };
            idempotency::record(&db, &id, &answer, Utc::now()).await
        };
        if let Err(error) = settled {
            // The claim stays in flight; once this instance is gone, its mark settles it.
            tracing::warn!(%error, "could not keep the answer of an idempotent request");
        }
        if body_fault == Some(BodyFault::Mismatch) && !parts.status.is_success() {
            return Ok(digest_mismatch().into_response());
        }
        Ok(Response::from_parts(parts, Body::from(body)))
    });
    match run.await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(error) => Err(AppError::Internal(format!(
            "an idempotent request ended: {error}"
        ))),
    }
}

/// What a request that failed on the way leaves: nothing to give again, and either a key
/// another try may run under, or the note that it changed something.
async fn settle_failed(db: &crate::db::Db, id: &KeyId, applied: bool) {
    let settled = if applied {
        idempotency::set_lost(db, id, Utc::now()).await
    } else {
        idempotency::release(db, id).await
    };
    if let Err(error) = settled {
        tracing::warn!(%error, "could not settle a failed idempotent request");
    }
}

/// The key, as a structured-field string (`"…"`) or bare: 1 to 255 visible ASCII
/// characters.
fn parse_key(value: &HeaderValue) -> Result<String, AppError> {
    let invalid = || {
        AppError::bad_request(
            ErrorCode::InvalidIdempotencyKey,
            "Idempotency-Key must be 1 to 255 visible ASCII characters, quoted as a string",
            Some("Idempotency-Key".into()),
        )
    };
    let text = value.to_str().map_err(|_| invalid())?.trim();
    let key = match text.strip_prefix('"') {
        Some(quoted) => quoted.strip_suffix('"').ok_or_else(invalid)?,
        None => text,
    };
    let visible = key
        .bytes()
        .all(|byte| (0x21..=0x7e).contains(&byte) && byte != b'"' && byte != b'\\');
    if key.is_empty() || key.len() > 255 || !visible {
        return Err(invalid());
    }
    Ok(key.to_owned())
}

/// Who the key belongs to: the agent of a live session (kept in the request for the
/// route's own extractor), or an integration. None when the token is no one's.
async fn principal(
    state: &AppState,
    parts: &mut axum::http::request::Parts,
) -> Result<Option<String>, AppError> {
    let Ok(token) = super::auth::bearer_token(parts).map(str::to_owned) else {
        return Ok(None);
    };
    if token.starts_with(crate::integration_tokens::TOKEN_PREFIX) {
        let integration =
            crate::integration_tokens::by_token(&state.db, &token, Utc::now()).await?;
        return Ok(integration.map(|integration| format!("integration:{}", integration.name)));
    }
    let session = super::auth::session_of(state, &token).await?;
    Ok(session.map(|session| {
        let principal = format!("agent:{}", session.agent_id);
        parts.extensions.insert(session);
        principal
    }))
}

/// The SHA-256 a client declared for an upload's bytes (RFC 9530).
fn content_digest(headers: &HeaderMap) -> Result<[u8; 32], AppError> {
    let required = || {
        AppError::bad_request(
            ErrorCode::ContentDigestRequired,
            "an upload sent with Idempotency-Key needs Content-Digest: sha-256=:<base64>:",
            Some("Content-Digest".into()),
        )
    };
    let value = headers
        .get(CONTENT_DIGEST)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(required)?;
    value
        .split(',')
        .filter_map(|member| member.trim().split_once('='))
        .find(|(algorithm, _)| algorithm.trim().eq_ignore_ascii_case("sha-256"))
        .and_then(|(_, digest)| digest.trim().strip_prefix(':')?.strip_suffix(':'))
        .and_then(|digest| {
            base64::engine::general_purpose::STANDARD
                .decode(digest)
                .ok()
        })
        .and_then(|digest| <[u8; 32]>::try_from(digest).ok())
        .ok_or_else(required)
}

/// What makes two requests the same: method, path and query, content type, `If-Match`
/// and the body's digest.
fn fingerprint(method: &Method, parts: &axum::http::request::Parts, body_digest: &str) -> String {
    let header = |name: &HeaderName| {
        parts
            .headers
            .get(name)
            .map(|value| value.as_bytes().to_vec())
            .unwrap_or_default()
    };
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update(b"\n");
    hasher.update(
        parts
            .uri
            .path_and_query()
            .map(|path| path.as_str())
            .unwrap_or("/")
            .as_bytes(),
    );
    hasher.update(b"\n");
    hasher.update(header(&CONTENT_TYPE));
    hasher.update(b"\n");
    hasher.update(header(&IF_MATCH));
    hasher.update(b"\n");
    hasher.update(body_digest.as_bytes());
    hex::encode(hasher.finalize())
}

fn kept_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = headers.get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.to_owned()))
        })
        .collect()
}

/// The answer kept under the key, given again.
fn replay(answer: StoredAnswer) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

fn reused() -> AppError {
    AppError::Unprocessable {
        code: ErrorCode::IdempotencyKeyReused,
        message:
            "this Idempotency-Key was used for a different request (route, body or If-Match); \
                  nothing was done"
                .into(),
        field: Some("Idempotency-Key".into()),
    }
}

fn already_applied() -> AppError {
    AppError::Conflict {
        code: ErrorCode::AlreadyApplied,
        message: "the request with this Idempotency-Key was applied, but its answer was not kept: \
                  read the resource again"
            .into(),
        field: Some("Idempotency-Key".into()),
    }
}

fn in_flight() -> Response {
    let error = AppError::Conflict {
        code: ErrorCode::IdempotencyInFlight,
        message: "the request with this Idempotency-Key is still being answered; try again shortly"
            .into(),
        field: Some("Idempotency-Key".into()),
    };
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

fn digest_mismatch() -> AppError {
    AppError::bad_request(
        ErrorCode::ContentDigestRequired,
        "the upload's bytes do not match its Content-Digest (altered or cut off on the way); \
         nothing was stored",
        Some("Content-Digest".into()),
    )
}

/// Why an upload's body failed as the route read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyFault {
    /// Its bytes do not match the declared digest.
    Mismatch,
    /// It broke off: the client hung up, or sent too slowly.
    Broken,
}

/// An upload's body that fails at its end when its bytes do not match the digest the
/// client declared, so that the route refuses it and keeps nothing. What failed is noted
/// in `fault` for the layer, which keeps no answer to such a request.
struct DigestBody {
    inner: Body,
    hasher: Sha256,
    expected: [u8; 32],
    fault: Arc<OnceLock<BodyFault>>,
}

impl DigestBody {
    fn new(inner: Body, expected: [u8; 32], fault: Arc<OnceLock<BodyFault>>) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            expected,
            fault,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the body does not match its Content-Digest")]
pub struct DigestMismatch;

impl http_body::Body for DigestBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.hasher.update(data);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => {
                let digest: [u8; 32] = std::mem::take(&mut this.hasher).finalize().into();
                if digest == this.expected {
                    Poll::Ready(None)
                } else {
                    let _ = this.fault.set(BodyFault::Mismatch);
                    Poll::Ready(Some(Err(axum::Error::new(DigestMismatch))))
                }
            }
            Poll::Ready(Some(Err(error))) => {
                let _ = this.fault.set(BodyFault::Broken);
                Poll::Ready(Some(Err(error)))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_quoted_or_bare() {
        let parse = |text: &str| parse_key(&HeaderValue::from_str(text).expect("header"));
        assert_eq!(parse("\"abc-123\"").expect("quoted"), "abc-123");
        assert_eq!(parse("abc_123").expect("bare"), "abc_123");
        for bad in [
            "\"\"",
            "",
            "\"a b\"",
            "\"abc",
            &"k".repeat(256),
            "\"a\\\"b\"",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} is refused");
        }
        assert!(parse(&"k".repeat(255)).is_ok());
    }

    #[test]
    fn digests_are_read_as_rfc_9530_says() {
        let digest = Sha256::digest(b"photo");
        let encoded = base64::engine::general_purpose::STANDARD.encode(digest);
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_DIGEST,
            HeaderValue::from_str(&format!("sha-512=:AAAA:, sha-256=:{encoded}:")).expect("h"),
        );
        assert_eq!(content_digest(&headers).expect("found")[..], digest[..]);
        headers.insert(CONTENT_DIGEST, HeaderValue::from_static("sha-256=:AAAA:"));
        assert!(content_digest(&headers).is_err(), "not 32 bytes");
        assert!(content_digest(&HeaderMap::new()).is_err(), "missing");
    }

    #[test]
    fn every_mutating_method_but_the_excluded_routes_is_honoured() {
        assert!(honours(&Method::PATCH, "/api/v1/me"));
        assert!(honours(&Method::DELETE, "/api/v1/notes/{id}"));
        assert!(!honours(&Method::GET, "/api/v1/me"));
        assert!(!honours(&Method::POST, "/api/v1/auth/login"));
        assert!(!honours(&Method::POST, "/api/v1/hooks/{source}"));
    }
}

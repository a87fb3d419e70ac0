//! Changes sent as they were prepared, under an `Idempotency-Key`: the same bytes each
//! time, so that the server answers a resend as it answered the first and applies it
//! once. The outbox sends what it keeps through here.

use base64::Engine;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_MATCH};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::api::ApiClient;
use crate::error::ClientError;

/// A mutating request, ready to send again byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreparedRequest {
    pub method: ChangeMethod,
    /// The path under `api/v1/`, one segment each, percent-encoded when sent.
    pub segments: Vec<String>,
    /// `If-Match`, for a change of a versioned resource.
    pub if_match: Option<String>,
    pub body: Option<PreparedBody>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeMethod {
    Post,
    Put,
    Patch,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreparedBody {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl PreparedBody {
    pub fn json(value: &impl Serialize) -> Result<Self, serde_json::Error> {
        Ok(Self {
            content_type: "application/json".into(),
            bytes: serde_json::to_vec(value)?,
        })
    }
}

/// What the server answered a prepared request with, when it accepted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub status: u16,
    pub etag: Option<String>,
    pub body: Vec<u8>,
    /// Answered from what the server kept: the change was applied by an earlier send.
    pub replayed: bool,
}

impl Accepted {
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ClientError> {
        serde_json::from_slice(&self.body).map_err(|error| ClientError::UnexpectedResponse {
            status: self.status,
            reason: format!("the answer could not be read: {error}"),
        })
    }
}

/// `Content-Digest` (RFC 9530) of a body's bytes, which the server checks an upload
/// against.
fn content_digest(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!(
        "sha-256=:{}:",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

impl ApiClient {
    /// Sends `request` under `key`. A refusal is `ClientError::Server`, with the status.
    pub async fn send_prepared(
        &self,
        request: &PreparedRequest,
        key: &str,
    ) -> Result<Accepted, ClientError> {
        let segments: Vec<&str> = request.segments.iter().map(String::as_str).collect();
        let url = self.api_url(&segments)?;
        let method = match request.method {
            ChangeMethod::Post => reqwest::Method::POST,
            ChangeMethod::Put => reqwest::Method::PUT,
            ChangeMethod::Patch => reqwest::Method::PATCH,
            ChangeMethod::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self
            .authorised(self.http_client().request(method, url))?
            .header("Idempotency-Key", format!("\"{key}\""));
        if let Some(if_match) = &request.if_match {
            builder = builder.header(IF_MATCH, if_match);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, &body.content_type)
                .header("Content-Digest", content_digest(&body.bytes))
                .body(body.bytes.clone());
        }
        let response = self.send(builder).await?;
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let replayed = response.headers().contains_key("idempotent-replayed");
        let body = response
            .bytes()
            .await
            .map_err(|error| ClientError::Unreachable {
                url: self.server_url().to_owned(),
                reason: format!("the answer was cut off: {error}"),
            })?
            .to_vec();
        Ok(Accepted {
            status,
            etag,
            body,
            replayed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_rfc_9530s_sha_256() {
        // printf 'hello' | sha256sum | xxd -r -p | base64
        assert_eq!(
            content_digest(b"hello"),
            "sha-256=:LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=:"
        );
    }
}

//! The arguments of a raw call: bytes as the body, the rest as percent-encoded headers.
//! Read by the code `#[command]` writes for `#[ipc(body)]` and `#[ipc(header)]`.

use percent_encoding::percent_decode_str;
use tauri::ipc::{InvokeBody, Request};

/// A raw call that lacks what its command takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RawArgumentError {
    /// The body came as JSON, not as bytes.
    #[error("The {0} did not arrive as bytes.")]
    NotBytes(&'static str),
    /// A header is absent, or not valid percent-encoded UTF-8.
    #[error("The call has no {0}.")]
    MissingHeader(&'static str),
}

pub fn body(request: &Request<'_>, name: &'static str) -> Result<Vec<u8>, RawArgumentError> {
    match request.body() {
        InvokeBody::Raw(bytes) => Ok(bytes.clone()),
        InvokeBody::Json(_) => Err(RawArgumentError::NotBytes(name)),
    }
}

pub fn header(request: &Request<'_>, name: &'static str) -> Result<String, RawArgumentError> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .and_then(decoded)
        .ok_or(RawArgumentError::MissingHeader(name))
}

/// A header's value as the wrapper wrote it with `encodeURIComponent`.
fn decoded(value: &str) -> Option<String> {
    percent_decode_str(value)
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
}

#[cfg(test)]
mod tests {
    use super::decoded;

    #[test]
    fn a_header_is_read_back_as_encodeuricomponent_wrote_it() {
        // encodeURIComponent("Angebot März/2026 (final).pdf")
        assert_eq!(
            decoded("Angebot%20M%C3%A4rz%2F2026%20(final).pdf").as_deref(),
            Some("Angebot März/2026 (final).pdf")
        );
        assert_eq!(decoded("plain").as_deref(), Some("plain"));
        // Not UTF-8 once decoded: refused, not replaced.
        assert_eq!(decoded("%FF%FE"), None);
    }
}

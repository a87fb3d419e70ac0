//! A JSON body extractor whose every refusal names the field and fits the API's error shape.

use agent_desk_core::ErrorCode;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::AppError;

/// Bodies above this are refused with 413 before they are read to the end.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let is_json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(AppError::UnsupportedMediaType);
        }
        parse(&read_body(request, state).await?).map(ApiJson)
    }
}

/// A request's whole body, refused with the API's answers when it is too large, too
/// slow or cannot be read.
pub async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, AppError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge {
                    limit: JSON_BODY_LIMIT,
                }
            } else if super::slow_clients::is_too_slow(&rejection) {
                AppError::RequestTimeout
            } else {
                AppError::bad_request(ErrorCode::MalformedJson, "the body could not be read", None)
            }
        })
}

/// Parses in two steps so that broken JSON and a well-formed body of the wrong shape
/// get different, precise answers.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        AppError::bad_request(
            ErrorCode::MalformedJson,
            format!("the body is not valid JSON: {e}"),
            None,
        )
    })?;
    if !value.is_object() {
        return Err(AppError::bad_request(
            ErrorCode::WrongType,
            "the body must be a JSON object",
            None,
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner().to_string();
        let field = (path != ".").then_some(path);
        if let Some(name) = quoted_name(&inner, "unknown field") {
            let name = qualified(field.as_deref(), &name);
            AppError::bad_request(
                ErrorCode::UnknownField,
                format!("unknown field `{name}`"),
                Some(name),
            )
        } else if let Some(name) = quoted_name(&inner, "missing field") {
            let name = qualified(field.as_deref(), &name);
            AppError::bad_request(
                ErrorCode::MissingField,
                format!("`{name}` is required"),
                Some(name),
            )
        } else {
            AppError::bad_request(ErrorCode::WrongType, inner, field)
        }
    })
}

/// A field's name with the path of the object it is in, as `contact_prefs.show_phone`.
fn qualified(path: Option<&str>, name: &str) -> String {
    match path {
        Some(path) if path == name || path.ends_with(&format!(".{name}")) => path.to_owned(),
        Some(path) => format!("{path}.{name}"),
        None => name.to_owned(),
    }
}

/// The name in serde's "unknown field `x`…" / "missing field `x`" messages.
fn quoted_name(message: &str, prefix: &str) -> Option<String> {
    let rest = message
        .strip_prefix(prefix)?
        .trim_start()
        .strip_prefix('`')?;
    rest.split_once('`').map(|(name, _)| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_desk_core::ProfilePatch;

    fn refusal(body: &str) -> (ErrorCode, Option<String>) {
        match parse::<ProfilePatch>(body.as_bytes()) {
            Err(AppError::BadRequest { code, field, .. }) => (code, field),
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    #[test]
    fn each_kind_of_bad_body_is_named() {
        assert_eq!(refusal("{").0, ErrorCode::MalformedJson);
        assert_eq!(refusal("[1]").0, ErrorCode::WrongType);
        assert_eq!(
            refusal(r#"{"job_title": 5}"#),
            (ErrorCode::WrongType, Some("job_title".into()))
        );
        assert_eq!(
            refusal(r#"{"nickname": "x"}"#),
            (ErrorCode::UnknownField, Some("nickname".into()))
        );
        assert_eq!(
            refusal(r#"{"use_signature": "yes"}"#),
            (ErrorCode::WrongType, Some("use_signature".into()))
        );
    }

    #[test]
    fn fields_of_a_nested_object_are_named_with_its_path() {
        let prefs =
            r#""allow_direct_messages": true, "show_phone": true, "show_online_status": true"#;
        assert_eq!(
            refusal(&format!(r#"{{"contact_prefs": {{{prefs}}}}}"#)),
            (
                ErrorCode::MissingField,
                Some("contact_prefs.calendar_integration".into())
            )
        );
        assert_eq!(
            refusal(&format!(
                r#"{{"contact_prefs": {{{prefs}, "calendar_integration": true, "fax": true}}}}"#
            )),
            (ErrorCode::UnknownField, Some("contact_prefs.fax".into()))
        );
        assert_eq!(
            refusal(r#"{"visibility": "friends"}"#),
            (ErrorCode::WrongType, Some("visibility".into()))
        );
    }

    #[test]
    fn a_good_body_parses() {
        let patch: ProfilePatch = parse(br#"{"job_title": "Lead"}"#).expect("valid");
        assert_eq!(patch.job_title.as_deref(), Some("Lead"));
    }
}

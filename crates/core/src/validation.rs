//! Field rules for the profile. The server enforces them on every write and the app
//! runs the very same code as the agent types, so the two can never disagree. One check
//! is the server's alone: whether a phone number exists in its country's numbering plan
//! (`agent-desk-checks`), whose data would be a twentieth of the app; the app checks the
//! number's shape and hears the rest at save.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::locale::{is_app_language, parse_timezone};
use crate::profile::{ProfileField, ProfilePatch};

pub const DISPLAY_NAME_MAX: usize = 100;
pub const JOB_TITLE_MAX: usize = 100;
pub const DEPARTMENT_MAX: usize = 100;
pub const OFFICE_LOCATION_MAX: usize = 200;
pub const SIGNATURE_MAX: usize = 2000;
pub const OPERATOR_ID_MAX: usize = 32;

/// Why a field was refused. The UI picks its localised message by this code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ValidationCode {
    Required,
    TooLong,
    ControlCharacters,
    InvalidPhone,
    PhoneNeedsCountryCode,
    UnknownTimezone,
    UnsupportedLanguage,
    InvalidOperatorId,
    ReadOnly,
    InvalidEmail,
}

/// A refused field: which, why (code, for the UI), a plain English message (for the
/// API and logs) and, for length rules, the limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct FieldError {
    pub field: ProfileField,
    pub code: ValidationCode,
    pub message: String,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
}

impl FieldError {
    fn new(field: ProfileField, code: ValidationCode, message: impl Into<String>) -> Self {
        Self {
            field,
            code,
            message: message.into(),
            max: None,
        }
    }

    /// A sign-in address that is not an email address.
    pub fn invalid_email() -> Self {
        Self::new(
            ProfileField::Email,
            ValidationCode::InvalidEmail,
            "is not a valid email address",
        )
    }

    /// A phone number that is not one: out of shape here, or outside its country's plan
    /// (`agent-desk-checks`).
    pub fn invalid_phone(field: ProfileField) -> Self {
        Self::new(
            field,
            ValidationCode::InvalidPhone,
            "is not a valid phone number",
        )
    }

    fn too_long(field: ProfileField, max: usize) -> Self {
        Self {
            max: Some(u32::try_from(max).unwrap_or(u32::MAX)),
            ..Self::new(
                field,
                ValidationCode::TooLong,
                format!("must be at most {max} characters"),
            )
        }
    }
}

/// Checks every field the patch sets and returns it normalised: text trimmed (phone
/// numbers, too: the server puts them in E.164). `email` is refused as read-only: only an
/// admin sets it.
pub fn validate_patch(patch: &ProfilePatch) -> Result<ProfilePatch, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut keep = |result: Result<Option<String>, FieldError>| match result {
        Ok(value) => value,
        Err(error) => {
            errors.push(error);
            None
        }
    };

    let normalised = ProfilePatch {
        email: None,
        display_name: keep(map(&patch.display_name, display_name)),
        job_title: keep(map(&patch.job_title, |v| {
            line(ProfileField::JobTitle, v, JOB_TITLE_MAX)
        })),
        department: keep(map(&patch.department, |v| {
            line(ProfileField::Department, v, DEPARTMENT_MAX)
        })),
        phone: keep(map(&patch.phone, |v| phone(ProfileField::Phone, v))),
        mobile: keep(map(&patch.mobile, |v| phone(ProfileField::Mobile, v))),
        office_location: keep(map(&patch.office_location, |v| {
            line(ProfileField::OfficeLocation, v, OFFICE_LOCATION_MAX)
        })),
        timezone: keep(map(&patch.timezone, timezone)),
        language: keep(map(&patch.language, language)),
        signature: keep(map(&patch.signature, signature)),
        use_signature: patch.use_signature,
        operator_id: keep(map(&patch.operator_id, operator_id)),
        visibility: patch.visibility,
        contact_prefs: patch.contact_prefs,
    };
    if patch.email.is_some() {
        errors.push(FieldError::new(
            ProfileField::Email,
            ValidationCode::ReadOnly,
            "is set by an administrator and cannot be changed here",
        ));
    }
    if errors.is_empty() {
        Ok(normalised)
    } else {
        Err(errors)
    }
}

fn map(
    value: &Option<String>,
    rule: impl FnOnce(&str) -> Result<String, FieldError>,
) -> Result<Option<String>, FieldError> {
    value.as_deref().map(rule).transpose()
}

fn has_control_characters(value: &str, allow_newlines: bool) -> bool {
    crate::text::has_hidden_controls(value, allow_newlines)
}

/// Required, 1–100 characters after trimming, one line.
pub fn display_name(value: &str) -> Result<String, FieldError> {
    let field = ProfileField::DisplayName;
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(
            field,
            ValidationCode::Required,
            "is required",
        ));
    }
    line(field, trimmed, DISPLAY_NAME_MAX)
}

/// An optional single line of text; empty clears it.
fn line(field: ProfileField, value: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if has_control_characters(trimmed, false) {
        return Err(FieldError::new(
            field,
            ValidationCode::ControlCharacters,
            "must be a single line without control or text-direction characters",
        ));
    }
    if trimmed.chars().count() > max {
        return Err(FieldError::too_long(field, max));
    }
    Ok(trimmed.to_owned())
}

/// The fewest digits an international number has (country code included): the shortest
/// plans' numbers, such as Niue's, have seven.
pub const PHONE_MIN_DIGITS: usize = 7;
/// The most, as E.164 allows.
pub const PHONE_MAX_DIGITS: usize = 15;

/// An international number (with its country code), trimmed; empty clears it. Its shape
/// is checked here — a plus (or 00), then digits a person types with spaces, dashes, dots,
/// slashes or parentheses, 7 to 15 of them, the first not 0 — and whether it exists in its
/// country's plan by `agent-desk-checks`, on the server.
pub fn phone(field: ProfileField, value: &str) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    let Some(rest) = trimmed
        .strip_prefix('+')
        .or_else(|| trimmed.strip_prefix("00"))
    else {
        return Err(FieldError::new(
            field,
            ValidationCode::PhoneNeedsCountryCode,
            "must start with the country code, e.g. +49 30 1234567",
        ));
    };
    let invalid = || FieldError::invalid_phone(field);
    // Letters (vanity digits) never appear in an agent's direct line.
    if trimmed.len() > 40
        || !rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '/' | '(' | ')'))
    {
        return Err(invalid());
    }
    let digits: Vec<char> = rest.chars().filter(char::is_ascii_digit).collect();
    if !(PHONE_MIN_DIGITS..=PHONE_MAX_DIGITS).contains(&digits.len()) || digits[0] == '0' {
        return Err(invalid());
    }
    Ok(trimmed.to_owned())
}

/// An IANA time zone name; empty clears it.
pub fn timezone(value: &str) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    parse_timezone(trimmed)
        .map(|tz| tz.name().to_owned())
        .ok_or_else(|| {
            FieldError::new(
                ProfileField::Timezone,
                ValidationCode::UnknownTimezone,
                "is not a known time zone (use an IANA name such as Europe/Berlin)",
            )
        })
}

/// One of the app's languages; required (there is always a UI language).
pub fn language(value: &str) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if is_app_language(trimmed) {
        Ok(trimmed.to_owned())
    } else {
        Err(FieldError::new(
            ProfileField::Language,
            ValidationCode::UnsupportedLanguage,
            "is not a language the app is translated into",
        ))
    }
}

/// Up to 2000 characters, several lines allowed; trailing white space is dropped.
pub fn signature(value: &str) -> Result<String, FieldError> {
    let field = ProfileField::Signature;
    let trimmed = value.trim_end();
    if has_control_characters(trimmed, true) {
        return Err(FieldError::new(
            field,
            ValidationCode::ControlCharacters,
            "must not contain control or text-direction characters",
        ));
    }
    if trimmed.chars().count() > SIGNATURE_MAX {
        return Err(FieldError::too_long(field, SIGNATURE_MAX));
    }
    Ok(trimmed.to_owned())
}

/// Letters, digits, `.`, `_` and `-`, up to 32 characters; empty clears it.
pub fn operator_id(value: &str) -> Result<String, FieldError> {
    let field = ProfileField::OperatorId;
    let trimmed = value.trim();
    if trimmed.chars().count() > OPERATOR_ID_MAX {
        return Err(FieldError::too_long(field, OPERATOR_ID_MAX));
    }
    if !trimmed
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(FieldError::new(
            field,
            ValidationCode::InvalidOperatorId,
            "may contain only letters, digits, '.', '_' and '-'",
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(patch: ProfilePatch) -> Vec<(ProfileField, ValidationCode)> {
        validate_patch(&patch)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn display_name_is_trimmed_and_required() {
        let ok = validate_patch(&ProfilePatch {
            display_name: Some("  Ada Lovelace ".into()),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(ok.display_name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(
            codes(ProfilePatch {
                display_name: Some("   ".into()),
                ..Default::default()
            }),
            vec![(ProfileField::DisplayName, ValidationCode::Required)]
        );
    }

    #[test]
    fn display_name_limit_counts_characters_not_bytes() {
        let hundred = "Ż".repeat(100);
        assert!(display_name(&hundred).is_ok());
        let error = display_name(&format!("{hundred}x")).expect_err("too long");
        assert_eq!(
            (error.code, error.max),
            (ValidationCode::TooLong, Some(100))
        );
    }

    #[test]
    fn phones_in_an_international_shape_are_kept_as_typed() {
        assert_eq!(
            phone(ProfileField::Phone, " +49 30 901820 ").as_deref(),
            Ok("+49 30 901820")
        );
        assert_eq!(
            phone(ProfileField::Phone, "0044 (20) 7946-0958").as_deref(),
            Ok("0044 (20) 7946-0958")
        );
        assert_eq!(phone(ProfileField::Mobile, "").as_deref(), Ok(""));
    }

    #[test]
    fn phones_without_country_code_or_out_of_shape_are_refused() {
        let code = |v: &str| phone(ProfileField::Phone, v).expect_err(v).code;
        assert_eq!(code("030 901820"), ValidationCode::PhoneNeedsCountryCode);
        assert_eq!(code("+49 12"), ValidationCode::InvalidPhone);
        assert_eq!(code("+1 800 FLOWERS"), ValidationCode::InvalidPhone);
        assert_eq!(code("+abc"), ValidationCode::InvalidPhone);
        assert_eq!(code("+0 30 901820"), ValidationCode::InvalidPhone);
        assert_eq!(code("+49 30 9018 2012 3456"), ValidationCode::InvalidPhone);
        assert_eq!(code("+49 30 901820; drop"), ValidationCode::InvalidPhone);
    }

    #[test]
    fn timezones_and_languages_come_from_fixed_lists() {
        assert_eq!(timezone("Europe/Berlin").as_deref(), Ok("Europe/Berlin"));
        assert_eq!(
            timezone("Mars/Olympus").expect_err("unknown").code,
            ValidationCode::UnknownTimezone
        );
        assert!(language("de").is_ok());
        assert_eq!(
            language("xx").expect_err("unknown").code,
            ValidationCode::UnsupportedLanguage
        );
    }

    #[test]
    fn signature_allows_lines_but_not_control_characters() {
        assert_eq!(signature("Best,\nAda\n\n").as_deref(), Ok("Best,\nAda"));
        assert_eq!(
            signature("a\u{0007}").expect_err("bell").code,
            ValidationCode::ControlCharacters
        );
        assert_eq!(
            signature(&"x".repeat(2001)).expect_err("long").code,
            ValidationCode::TooLong
        );
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let got = codes(ProfilePatch {
            email: Some("new@example.com".into()),
            phone: Some("12".into()),
            operator_id: Some("op 7".into()),
            ..Default::default()
        });
        assert_eq!(
            got,
            vec![
                (ProfileField::Phone, ValidationCode::PhoneNeedsCountryCode),
                (ProfileField::OperatorId, ValidationCode::InvalidOperatorId),
                (ProfileField::Email, ValidationCode::ReadOnly),
            ]
        );
    }
}

//! The helpdesk's users (customers) as agents keep them: contact details, an
//! organization, notes. The rules here run on the server for every write.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::profile::EmailAddress;

pub const NAME_MAX: usize = 200;
pub const SHORT_MAX: usize = 200;
pub const ADDRESS_MAX: usize = 1000;
pub const SUMMARY_MAX: usize = 5000;
pub const NOTE_MAX: usize = 10_000;
pub const EMAILS_MAX: usize = 20;
pub const FIELD_NAME_MAX: usize = 100;
pub const FIELD_TEXT_MAX: usize = 500;
pub const CHOICES_MAX: usize = 50;
pub const USERGROUPS_MAX: usize = 20;

/// What a custom field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FieldKind {
    Text,
    Number,
    /// `YYYY-MM-DD`.
    Date,
    /// One of the field's choices.
    Choice,
}

impl FieldKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "number",
            Self::Date => "date",
            Self::Choice => "choice",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Text, Self::Number, Self::Date, Self::Choice]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// A field admins defined for customers' records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct CustomField {
    pub id: String,
    pub name: String,
    pub kind: FieldKind,
    /// The options of a choice; empty for other kinds.
    pub choices: Vec<String>,
}

/// `POST /api/v1/admin/custom-fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NewCustomField {
    pub name: String,
    pub kind: FieldKind,
    #[serde(default)]
    #[ts(optional)]
    pub choices: Option<Vec<String>>,
}

/// A custom field as administrators manage it: retired ones too, with how many records
/// have a value for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AdministeredField {
    pub field: CustomField,
    /// Off customers' records; its values are kept.
    pub retired: bool,
    pub values: u32,
}

/// `GET /api/v1/admin/custom-fields`: every field, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct AdministeredFields {
    pub fields: Vec<AdministeredField>,
}

/// `PATCH /api/v1/admin/custom-fields/{id}`: a new name, or retired or restored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CustomFieldPatch {
    #[serde(default)]
    #[ts(optional)]
    pub name: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub retired: Option<bool>,
}

/// A record's value of a custom field; `null` when it has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct FieldValue {
    pub field: CustomField,
    pub value: Option<String>,
}

impl CustomField {
    /// A value as stored, checked against the field's kind; empty clears it (`None`).
    pub fn clean(&self, value: &str) -> Result<Option<String>, RecordError> {
        let path = format!("custom_fields.{}", self.id);
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        match self.kind {
            FieldKind::Text => clean_line(&path, value, FIELD_TEXT_MAX),
            FieldKind::Number => value
                .parse::<f64>()
                .ok()
                .filter(|number| number.is_finite())
                .map(|_| Some(value.to_owned()))
                .ok_or_else(|| RecordError::new(path, format!("{} must be a number", self.name))),
            FieldKind::Date => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .map(|date| Some(date.format("%Y-%m-%d").to_string()))
                .map_err(|_| {
                    RecordError::new(path, format!("{} must be a date as YYYY-MM-DD", self.name))
                }),
            FieldKind::Choice => {
                if self.choices.iter().any(|choice| choice == value) {
                    Ok(Some(value.to_owned()))
                } else {
                    Err(RecordError::new(
                        path,
                        format!("{} must be one of: {}", self.name, self.choices.join(", ")),
                    ))
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Organization {
    pub id: String,
    pub name: String,
}

/// An organization and how many customers' records name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct OrganizationEntry {
    pub id: String,
    pub name: String,
    pub people: u32,
}

/// `POST /api/v1/organizations` (any agent) and `PATCH /api/v1/admin/organizations/{id}`:
/// the organization's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct OrganizationName {
    pub name: String,
}

/// `POST /api/v1/admin/organizations/{id}/merge`: the organization whose people move
/// into the other, which stays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct OrganizationMerge {
    /// The id of the organization that stays.
    pub into: String,
}

/// A usergroup administrators list, and how many people are in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct UsergroupEntry {
    pub id: String,
    pub name: String,
    pub people: u32,
}

/// `GET /api/v1/usergroups`: the usergroups administrators keep, by name. While the list
/// is empty a record may name any group; once it has one, only those listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Usergroups {
    pub usergroups: Vec<UsergroupEntry>,
}

/// `POST /api/v1/admin/usergroups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NewUsergroup {
    pub name: String,
}

/// `GET /api/v1/organizations`: every organization by name, with its people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Organizations {
    pub organizations: Vec<OrganizationEntry>,
}

/// A user's record. Optional fields are `null` when not filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Customer {
    pub id: String,
    /// The record's number, unique like a ticket's: what agents say and search by
    /// (`#1042` or `1042`).
    #[ts(type = "number")]
    pub number: i64,
    pub name: String,
    /// Exactly one is primary, listed first.
    pub emails: Vec<EmailAddress>,
    pub organization: Option<Organization>,
    /// E.164.
    pub phone: Option<String>,
    pub website: Option<String>,
    pub im: Option<String>,
    /// The handle, without `@`.
    pub twitter: Option<String>,
    pub linkedin: Option<String>,
    pub facebook: Option<String>,
    pub address: Option<String>,
    pub summary: Option<String>,
    pub timezone: Option<String>,
    pub language: Option<String>,
    /// Automatic replies to this person are not sent.
    pub suppress_auto_replies: bool,
    /// Names of the usergroups the person is in, sorted.
    pub usergroups: Vec<String>,
    /// Every field admins defined, with this record's value or `null`.
    pub custom_fields: Vec<FieldValue>,
    /// The record's version, for `If-Match`.
    #[ts(type = "number")]
    pub version: i64,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: DateTime<Utc>,
}

/// `POST /api/v1/people`: a new user. The first email is the primary one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NewCustomer {
    pub name: String,
    pub emails: Vec<String>,
    /// An organization's name: the one of that name, or a new one.
    #[serde(default)]
    #[ts(optional)]
    pub organization: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub phone: Option<String>,
}

/// `PATCH /api/v1/people/{id}`: absent fields stay, an empty string clears one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct CustomerPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub name: Option<String>,
    /// An organization's name (picked or created); empty for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub organization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub im: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub twitter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub linkedin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub facebook: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub suppress_auto_replies: Option<bool>,
    /// Values by field id; an empty string clears one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub custom_fields: Option<std::collections::BTreeMap<String, String>>,
    /// The usergroups the person is in, by name (picked or made); replaces the set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub usergroups: Option<Vec<String>>,
}

/// A usergroup set as stored: names trimmed, none empty or repeated (ignoring case),
/// sorted.
pub fn clean_usergroups(names: &[String]) -> Result<Vec<String>, RecordError> {
    if names.len() > USERGROUPS_MAX {
        return Err(RecordError::new(
            "usergroups",
            format!("a person is in at most {USERGROUPS_MAX} usergroups"),
        ));
    }
    let mut cleaned: Vec<String> = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let field = format!("usergroups[{index}]");
        let name = clean_line(&field, name, FIELD_NAME_MAX)?
            .ok_or_else(|| RecordError::new(field.clone(), "is empty"))?;
        if cleaned
            .iter()
            .any(|other| other.to_lowercase() == name.to_lowercase())
        {
            return Err(RecordError::new(field, "is listed twice"));
        }
        cleaned.push(name);
    }
    cleaned.sort_by_key(|name| name.to_lowercase());
    Ok(cleaned)
}

/// A note on a person: who wrote it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Note {
    pub id: String,
    pub person_id: String,
    pub author_id: Option<String>,
    /// `null` once the author's account is gone.
    pub author_name: Option<String>,
    pub body: String,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: DateTime<Utc>,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: DateTime<Utc>,
}

/// Newest first, a page at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct NotesPage {
    pub notes: Vec<Note>,
    pub total: u32,
    pub next_cursor: Option<String>,
}

/// `POST /api/v1/people/{id}/notes` and `PATCH /api/v1/notes/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NoteBody {
    pub body: String,
}

/// `POST /api/v1/people/{id}/merge`: the record to merge into this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct MergeRequest {
    /// The id of the record that is merged in and then gone.
    pub source: String,
}

/// `POST /api/v1/people/{id}/emails`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct NewEmail {
    pub address: String,
    /// Make it the primary address at once.
    #[serde(default)]
    #[ts(optional)]
    pub primary: Option<bool>,
}

/// One edit of a record or profile: when, by whom, which field, from what to what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Change {
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub changed_at: DateTime<Utc>,
    pub actor_id: String,
    /// `null` once the agent's account is gone.
    pub actor_name: Option<String>,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// `GET /api/v1/people/{id}/changes`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct ChangeLog {
    pub changes: Vec<Change>,
}

/// One entry of a person's activity stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Activity {
    /// A note was written.
    Note(Note),
    /// A field of the record or profile changed (the status among them), or a file
    /// was added or removed (field `file`).
    Change(Change),
    /// A ticket event about the person.
    Ticket(crate::tickets::TicketActivity),
}

/// `GET /api/v1/people/{id}/activity`: notes, changes and ticket events, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct ActivityStream {
    pub activity: Vec<Activity>,
}

/// A refused field of a record: which (its wire name) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct RecordError {
    pub field: String,
    pub message: String,
}

impl RecordError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Whether an address looks like one mail can reach: one `@`, a dotted domain, no
/// spaces. Delivery is the proof; this only refuses what cannot be one.
pub fn is_plausible_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                && email.len() <= 254
        }
        None => false,
    }
}

/// An email as stored: trimmed and lower-case.
pub fn clean_email(field: &str, address: &str) -> Result<String, RecordError> {
    let address = address.trim().to_lowercase();
    if is_plausible_email(&address) {
        Ok(address)
    } else {
        Err(RecordError::new(field, "is not a valid email address"))
    }
}

/// One line of text: trimmed, no control or text-direction characters, at most `max`
/// characters. Empty clears the field (`None`).
pub fn clean_line(field: &str, value: &str, max: usize) -> Result<Option<String>, RecordError> {
    let value = value.trim();
    if crate::text::has_hidden_controls(value, false) {
        return Err(RecordError::new(
            field,
            "must be one line without control or text-direction characters",
        ));
    }
    clean_text(field, value, max)
}

/// Free text of several lines: trimmed, line breaks as `\n`, no other control or
/// text-direction characters, at most `max` characters.
pub fn clean_text(field: &str, value: &str, max: usize) -> Result<Option<String>, RecordError> {
    let value = value.replace("\r\n", "\n");
    let value = value.trim();
    if crate::text::has_hidden_controls(value, true) {
        return Err(RecordError::new(
            field,
            "must not contain control or text-direction characters",
        ));
    }
    if value.chars().count() > max {
        return Err(RecordError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

pub fn clean_name(value: &str) -> Result<String, RecordError> {
    clean_line("name", value, NAME_MAX)?.ok_or_else(|| RecordError::new("name", "is required"))
}

/// A web address: `http` or `https` with a host. A bare `example.com` gets `https://`.
pub fn clean_url(field: &str, value: &str) -> Result<Option<String>, RecordError> {
    let Some(value) = clean_line(field, value, SHORT_MAX)? else {
        return Ok(None);
    };
    let with_scheme = if value.contains("://") {
        value
    } else {
        format!("https://{value}")
    };
    let parsed = url::Url::parse(&with_scheme)
        .map_err(|_| RecordError::new(field, "is not a valid web address"))?;
    let host_ok = parsed
        .host_str()
        .is_some_and(|host| host.contains('.') && !host.starts_with('.'));
    if !matches!(parsed.scheme(), "http" | "https") || !host_ok {
        return Err(RecordError::new(
            field,
            "must be an http or https address with a domain",
        ));
    }
    Ok(Some(parsed.to_string()))
}

/// A profile URL on one site: `linkedin.com` or `facebook.com` (any subdomain).
pub fn clean_profile_url(
    field: &str,
    value: &str,
    site: &str,
) -> Result<Option<String>, RecordError> {
    let Some(url) = clean_url(field, value)? else {
        return Ok(None);
    };
    let host = url::Url::parse(&url)
        .ok()
        .and_then(|parsed| parsed.host_str().map(str::to_owned))
        .unwrap_or_default();
    if host == site || host.ends_with(&format!(".{site}")) {
        Ok(Some(url))
    } else {
        Err(RecordError::new(field, format!("must be a {site} address")))
    }
}

/// A Twitter/X handle, stored without `@`: 1–15 letters, digits or `_`. A profile URL
/// is reduced to its handle.
pub fn clean_twitter(value: &str) -> Result<Option<String>, RecordError> {
    let Some(value) = clean_line("twitter", value, SHORT_MAX)? else {
        return Ok(None);
    };
    let handle = value
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("www.")
        .trim_start_matches("twitter.com/")
        .trim_start_matches("x.com/")
        .trim_start_matches('@')
        .trim_end_matches('/');
    let valid = (1..=15).contains(&handle.len())
        && handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(Some(handle.to_owned()))
    } else {
        Err(RecordError::new(
            "twitter",
            "must be a handle of up to 15 letters, digits or _",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: FieldKind) -> CustomField {
        CustomField {
            id: "f1".into(),
            name: "Plan".into(),
            kind,
            choices: vec!["Free".into(), "Team".into()],
        }
    }

    #[test]
    fn usergroups_are_trimmed_sorted_and_not_repeated() {
        let names = |list: &[&str]| {
            list.iter()
                .map(|name| (*name).to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            clean_usergroups(&names(&[" VIP ", "beta testers"])).expect("valid"),
            names(&["beta testers", "VIP"])
        );
        assert_eq!(
            clean_usergroups(&names(&["VIP", "vip"]))
                .expect_err("twice")
                .field,
            "usergroups[1]"
        );
        assert_eq!(
            clean_usergroups(&names(&["  "])).expect_err("empty").field,
            "usergroups[0]"
        );
    }

    #[test]
    fn custom_values_follow_their_kind() {
        assert_eq!(
            field(FieldKind::Number).clean(" 12.5 ").expect("number"),
            Some("12.5".into())
        );
        assert!(field(FieldKind::Number).clean("twelve").is_err());
        assert!(field(FieldKind::Number).clean("inf").is_err());
        assert_eq!(
            field(FieldKind::Date).clean("2027-02-28").expect("date"),
            Some("2027-02-28".into())
        );
        assert!(field(FieldKind::Date).clean("2027-02-30").is_err());
        assert!(field(FieldKind::Date).clean("28.02.2027").is_err());
        assert_eq!(
            field(FieldKind::Choice).clean("Team").expect("choice"),
            Some("Team".into())
        );
        let refused = field(FieldKind::Choice)
            .clean("Gold")
            .expect_err("not a choice");
        assert_eq!(refused.field, "custom_fields.f1");
        assert_eq!(field(FieldKind::Text).clean("  ").expect("empty"), None);
        assert!(field(FieldKind::Text)
            .clean(&"x".repeat(FIELD_TEXT_MAX + 1))
            .is_err());
    }

    #[test]
    fn urls_get_a_scheme_and_need_a_domain() {
        assert_eq!(
            clean_url("website", " example.com/shop ")
                .expect("valid")
                .as_deref(),
            Some("https://example.com/shop")
        );
        assert_eq!(clean_url("website", "").expect("empty"), None);
        for bad in [
            "ftp://example.com",
            "https://localhost",
            "http://",
            "not a url at all",
        ] {
            let error = clean_url("website", bad).expect_err(bad);
            assert_eq!(error.field, "website");
        }
    }

    #[test]
    fn profile_urls_must_be_on_their_site() {
        assert!(clean_profile_url(
            "linkedin",
            "https://www.linkedin.com/in/ada",
            "linkedin.com"
        )
        .is_ok());
        assert!(clean_profile_url("linkedin", "linkedin.com/in/ada", "linkedin.com").is_ok());
        let error = clean_profile_url("linkedin", "https://notlinkedin.com/in/ada", "linkedin.com")
            .expect_err("another site");
        assert_eq!(error.field, "linkedin");
        assert!(clean_profile_url(
            "facebook",
            "https://facebook.com.evil.example/x",
            "facebook.com"
        )
        .is_err());
    }

    #[test]
    fn twitter_handles_lose_the_at_and_the_url() {
        for input in [
            "@ada_l",
            "ada_l",
            "https://twitter.com/ada_l",
            "x.com/ada_l/",
        ] {
            assert_eq!(
                clean_twitter(input).expect(input).as_deref(),
                Some("ada_l"),
                "{input}"
            );
        }
        assert!(clean_twitter("@has space").is_err());
        assert!(clean_twitter("@sixteen_chars_xx").is_err());
    }

    #[test]
    fn emails_are_lower_case_and_plausible() {
        assert_eq!(
            clean_email("emails", " Ada@Example.COM ").expect("valid"),
            "ada@example.com"
        );
        for bad in ["ada", "ada@localhost", "a b@example.com", "@example.com"] {
            assert!(clean_email("emails", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_is_bounded_and_lines_stay_single() {
        assert!(clean_text("summary", &"x".repeat(SUMMARY_MAX), SUMMARY_MAX).is_ok());
        assert!(clean_text("summary", &"x".repeat(SUMMARY_MAX + 1), SUMMARY_MAX).is_err());
        assert!(clean_line("im", "two\nlines", SHORT_MAX).is_err());
        assert!(clean_name("   ").is_err());
    }
}

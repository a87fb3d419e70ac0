//! The agent's own profile as the server stores it and the app edits it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Availability. Queue eligibility follows it on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Status {
    Available,
    Busy,
    Away,
    Dnd,
    #[default]
    Offline,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Available => "available",
            Status::Busy => "busy",
            Status::Away => "away",
            Status::Dnd => "dnd",
            Status::Offline => "offline",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == value)
    }
}

impl Status {
    pub const ALL: [Status; 5] = [
        Self::Available,
        Self::Busy,
        Self::Away,
        Self::Dnd,
        Self::Offline,
    ];

    /// The status in force at `now`: one set "until" a time that has passed is
    /// available again.
    pub fn in_force(
        status: Status,
        until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> (Status, Option<DateTime<Utc>>) {
        match until {
            Some(until) if until <= now => (Status::Available, None),
            _ => (status, until),
        }
    }
}

/// How far ahead a status may be set "until": a year. Further is a typing slip, and
/// beyond year 9999 the time could not even be stored.
pub const STATUS_UNTIL_MAX: chrono::TimeDelta = chrono::TimeDelta::days(366);

/// `PUT /api/v1/me/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct StatusUpdate {
    pub status: Status,
    /// RFC 3339; after it the status reverts to available. Absent: until changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub until: Option<DateTime<Utc>>,
    /// Set by the app's idle detection (Away while the computer is idle, and back),
    /// not by the agent: the status webhook says so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(as = "Option<bool>", optional)]
    pub idle: bool,
}

/// The agent's status as the server holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct StatusState {
    pub status: Status,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub until: Option<DateTime<Utc>>,
}

/// One of the agent's email addresses; exactly one is primary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct EmailAddress {
    pub address: String,
    pub primary: bool,
}

/// Who sees the profile beyond the agent's name and photo. Admins always see all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Visibility {
    /// Every agent.
    #[default]
    Public,
    /// Agents of the same department.
    Department,
    /// Nobody but admins.
    Private,
}

impl Visibility {
    pub const ALL: [Visibility; 3] = [Self::Public, Self::Department, Self::Private];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Department => "department",
            Self::Private => "private",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|visibility| visibility.as_str() == value)
    }
}

/// How the agent prefers colleagues to reach them, shown on their record in the
/// directory, and what of their contact details colleagues see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ContactPrefs {
    /// A preference shown to colleagues: the agent welcomes direct messages (in whatever
    /// chat the team uses; Agent Desk carries none).
    pub allow_direct_messages: bool,
    /// Phone and mobile number shown to colleagues who see the profile.
    pub show_phone: bool,
    /// Status (presence) shown to colleagues who see the profile.
    pub show_online_status: bool,
    /// A preference shown to colleagues: the agent is open to calendar invitations.
    /// Agent Desk reads no calendar.
    pub calendar_integration: bool,
}

impl Default for ContactPrefs {
    fn default() -> Self {
        Self {
            allow_direct_messages: true,
            show_phone: true,
            show_online_status: true,
            calendar_integration: false,
        }
    }
}

/// The profile as `GET /api/v1/me` returns it. Optional text fields are `null` when unset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Profile {
    pub id: String,
    /// Sign-in address, set by an admin; read-only for the agent.
    pub email: String,
    pub emails: Vec<EmailAddress>,
    pub display_name: String,
    pub job_title: Option<String>,
    /// The department in force: what colleagues see and what "department only" privacy
    /// compares. The agent changes it by request (`department_request`).
    pub department: Option<String>,
    /// A change of department the agent asked for, waiting for an administrator.
    #[serde(default)]
    pub department_request: Option<crate::departments::DepartmentRequest>,
    /// E.164; the number colleagues and the helpdesk reach the agent on.
    pub phone: Option<String>,
    /// E.164.
    pub mobile: Option<String>,
    pub office_location: Option<String>,
    /// IANA time zone name, e.g. `Europe/Berlin`.
    pub timezone: Option<String>,
    /// BCP 47 tag; set from [`crate::locale::APP_LANGUAGES`], the app's UI languages.
    pub language: String,
    pub signature: Option<String>,
    pub use_signature: bool,
    /// Telephony operator ID.
    pub operator_id: Option<String>,
    pub avatar_url: Option<String>,
    pub visibility: Visibility,
    pub contact_prefs: ContactPrefs,
    pub status: Status,
    /// When a status chosen "until …" ends and reverts to available.
    #[serde(default)]
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub status_until: Option<DateTime<Utc>>,
    /// Set with `add-agent --admin`; read-only. An administrator sees every colleague's
    /// details and history and may remove anyone's file.
    #[serde(default)]
    pub is_admin: bool,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: DateTime<Utc>,
}

/// A partial update for `PATCH /api/v1/me`. Absent fields stay as they are; an empty
/// string clears an optional text field. Unknown fields are refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct ProfilePatch {
    /// Accepted only to be refused with 403: the sign-in address is set by an admin.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub job_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub department: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub mobile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub office_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub timezone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub use_signature: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub operator_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub visibility: Option<Visibility>,
    /// All four preferences together.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub contact_prefs: Option<ContactPrefs>,
}

/// The fields an agent edits, by their wire names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ProfileField {
    Email,
    DisplayName,
    JobTitle,
    Department,
    Phone,
    Mobile,
    OfficeLocation,
    Timezone,
    Language,
    Signature,
    UseSignature,
    OperatorId,
    AvatarUrl,
    Visibility,
    /// The contact preferences, one change-log field each.
    #[serde(rename = "contact_prefs.allow_direct_messages")]
    AllowDirectMessages,
    #[serde(rename = "contact_prefs.show_phone")]
    ShowPhone,
    #[serde(rename = "contact_prefs.show_online_status")]
    ShowOnlineStatus,
    #[serde(rename = "contact_prefs.calendar_integration")]
    CalendarIntegration,
    /// Availability; in the change log, not in a patch.
    Status,
}

impl ProfileField {
    pub const fn as_str(self) -> &'static str {
        match self {
            ProfileField::Email => "email",
            ProfileField::DisplayName => "display_name",
            ProfileField::JobTitle => "job_title",
            ProfileField::Department => "department",
            ProfileField::Phone => "phone",
            ProfileField::Mobile => "mobile",
            ProfileField::OfficeLocation => "office_location",
            ProfileField::Timezone => "timezone",
            ProfileField::Language => "language",
            ProfileField::Signature => "signature",
            ProfileField::UseSignature => "use_signature",
            ProfileField::OperatorId => "operator_id",
            ProfileField::AvatarUrl => "avatar_url",
            ProfileField::Visibility => "visibility",
            ProfileField::AllowDirectMessages => "contact_prefs.allow_direct_messages",
            ProfileField::ShowPhone => "contact_prefs.show_phone",
            ProfileField::ShowOnlineStatus => "contact_prefs.show_online_status",
            ProfileField::CalendarIntegration => "contact_prefs.calendar_integration",
            ProfileField::Status => "status",
        }
    }
}

impl std::fmt::Display for ProfileField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field's value before and after a change, as the change log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: ProfileField,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl ProfilePatch {
    /// True when the patch sets nothing.
    pub fn is_empty(&self) -> bool {
        self == &ProfilePatch::default()
    }

    /// Applies an already validated patch and lists what actually changed.
    pub fn apply_to(&self, profile: &mut Profile) -> Vec<FieldChange> {
        let mut changes = Vec::new();
        let mut text = |field, target: &mut Option<String>, value: &Option<String>| {
            if let Some(value) = value {
                let new = (!value.is_empty()).then(|| value.clone());
                if *target != new {
                    changes.push(FieldChange {
                        field,
                        old: target.clone(),
                        new: new.clone(),
                    });
                    *target = new;
                }
            }
        };
        text(
            ProfileField::JobTitle,
            &mut profile.job_title,
            &self.job_title,
        );
        text(
            ProfileField::Department,
            &mut profile.department,
            &self.department,
        );
        text(ProfileField::Phone, &mut profile.phone, &self.phone);
        text(ProfileField::Mobile, &mut profile.mobile, &self.mobile);
        text(
            ProfileField::OfficeLocation,
            &mut profile.office_location,
            &self.office_location,
        );
        text(
            ProfileField::Timezone,
            &mut profile.timezone,
            &self.timezone,
        );
        text(
            ProfileField::Signature,
            &mut profile.signature,
            &self.signature,
        );
        text(
            ProfileField::OperatorId,
            &mut profile.operator_id,
            &self.operator_id,
        );

        let mut required = |field, target: &mut String, value: &Option<String>| {
            if let Some(value) = value {
                if target != value {
                    changes.push(FieldChange {
                        field,
                        old: Some(target.clone()),
                        new: Some(value.clone()),
                    });
                    *target = value.clone();
                }
            }
        };
        required(
            ProfileField::DisplayName,
            &mut profile.display_name,
            &self.display_name,
        );
        required(
            ProfileField::Language,
            &mut profile.language,
            &self.language,
        );

        let mut flag = |field, target: &mut bool, value: Option<bool>| {
            if let Some(value) = value {
                if *target != value {
                    changes.push(FieldChange {
                        field,
                        old: Some(target.to_string()),
                        new: Some(value.to_string()),
                    });
                    *target = value;
                }
            }
        };
        flag(
            ProfileField::UseSignature,
            &mut profile.use_signature,
            self.use_signature,
        );
        let prefs = self.contact_prefs;
        let current = &mut profile.contact_prefs;
        flag(
            ProfileField::AllowDirectMessages,
            &mut current.allow_direct_messages,
            prefs.map(|prefs| prefs.allow_direct_messages),
        );
        flag(
            ProfileField::ShowPhone,
            &mut current.show_phone,
            prefs.map(|prefs| prefs.show_phone),
        );
        flag(
            ProfileField::ShowOnlineStatus,
            &mut current.show_online_status,
            prefs.map(|prefs| prefs.show_online_status),
        );
        flag(
            ProfileField::CalendarIntegration,
            &mut current.calendar_integration,
            prefs.map(|prefs| prefs.calendar_integration),
        );

        if let Some(visibility) = self.visibility {
            if profile.visibility != visibility {
                changes.push(FieldChange {
                    field: ProfileField::Visibility,
                    old: Some(profile.visibility.as_str().to_owned()),
                    new: Some(visibility.as_str().to_owned()),
                });
                profile.visibility = visibility;
            }
        }
        changes
    }
}

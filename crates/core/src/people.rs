//! The directory: people as another agent sees them, through the privacy rules.
//!
//! An agent's profile is shown in full to the agent and to admins. Everyone else sees
//! the name and photo, and the rest only as the profile's [`Visibility`] allows; the
//! phone numbers and the status also only as its [`ContactPrefs`] allow. What a viewer
//! may not see is left out of the JSON, not sent empty: a field that is there and
//! `null` is one the person has not filled in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::customers::Customer;
use crate::profile::{ContactPrefs, EmailAddress, Profile, Status, Visibility};

/// Who is looking.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub id: &'a str,
    pub is_admin: bool,
    pub department: Option<&'a str>,
}

/// What of a colleague's profile a viewer sees beyond the name and photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Sight {
    /// Job title, department, emails, office, time zone, language, teams, preferences.
    pub details: bool,
    pub phones: bool,
    pub status: bool,
}

impl Sight {
    pub fn of(viewer: &Viewer<'_>, subject: &Profile) -> Self {
        if viewer.is_admin || viewer.id == subject.id {
            return Self {
                details: true,
                phones: true,
                status: true,
            };
        }
        let details = Self::colleague_sees_details(
            subject.visibility,
            viewer.department,
            subject.department.as_deref(),
        );
        Self::under(details, &subject.contact_prefs)
    }

    /// Phones and status follow the details, and then the contact preferences.
    fn under(details: bool, contact_prefs: &ContactPrefs) -> Self {
        Self {
            details,
            phones: details && contact_prefs.show_phone,
            status: details && contact_prefs.show_online_status,
        }
    }

    /// Whether a viewer sees a colleague's details (their emails among them), from the
    /// parts of the profile that decide it.
    pub fn details(
        viewer: &Viewer<'_>,
        subject_id: &str,
        visibility: Visibility,
        department: Option<&str>,
    ) -> bool {
        viewer.is_admin
            || viewer.id == subject_id
            || Self::colleague_sees_details(visibility, viewer.department, department)
    }

    /// Whether another agent, not an administrator, sees the details.
    fn colleague_sees_details(
        visibility: Visibility,
        viewer_department: Option<&str>,
        department: Option<&str>,
    ) -> bool {
        match visibility {
            Visibility::Public => true,
            Visibility::Department => same_department(viewer_department, department),
            Visibility::Private => false,
        }
    }
}

/// What colleagues will see of a profile under privacy settings being edited: the
/// Privacy screen's preview, worked out by the same rule the server applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PrivacyPreview {
    /// A colleague of the agent's own department.
    pub same_department: Sight,
    /// A colleague of another department, or of none.
    pub other_department: Sight,
}

impl PrivacyPreview {
    pub fn of(
        visibility: Visibility,
        contact_prefs: &ContactPrefs,
        department: Option<&str>,
    ) -> Self {
        let sight = |viewer_department: Option<&str>| {
            let details = Sight::colleague_sees_details(visibility, viewer_department, department);
            Sight::under(details, contact_prefs)
        };
        Self {
            same_department: sight(department),
            other_department: sight(None),
        }
    }
}

/// Departments are free text: compared trimmed and ignoring case. No department is
/// nobody's department.
pub fn same_department(viewer: Option<&str>, subject: Option<&str>) -> bool {
    let key = |department: Option<&str>| {
        department
            .map(str::trim)
            .filter(|department| !department.is_empty())
            .map(str::to_lowercase)
    };
    matches!((key(viewer), key(subject)), (Some(a), Some(b)) if a == b)
}

/// A field the viewer may see (`Some`) holding a value or `null`, and absent when not
/// (`None`, through `skip_serializing_if` and `default`).
mod shown {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value
            .as_ref()
            .and_then(Option::as_ref)
            .serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

/// An agent in the directory, as the viewer may see them. Fields the viewer may not
/// see are absent; optional fields the agent left empty are `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Colleague {
    pub id: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub emails: Option<Vec<EmailAddress>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "shown")]
    #[ts(optional, type = "string | null")]
    pub job_title: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "shown")]
    #[ts(optional, type = "string | null")]
    pub department: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "shown")]
    #[ts(optional, type = "string | null")]
    pub office_location: Option<Option<String>>,
    /// IANA name; the app shows the local time from it.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "shown")]
    #[ts(optional, type = "string | null")]
    pub timezone: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub language: Option<String>,
    /// Names of the agent's teams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub teams: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub visibility: Option<Visibility>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub contact_prefs: Option<ContactPrefs>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "shown")]
    #[ts(optional, type = "string | null")]
    pub phone: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "shown")]
    #[ts(optional, type = "string | null")]
    pub mobile: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "shown")]
    #[ts(optional, type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub status_until: Option<Option<DateTime<Utc>>>,
    /// An administrator deactivated the agent: they cannot sign in, their history stays.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(as = "Option<bool>", optional)]
    pub deactivated: bool,
}

impl Colleague {
    /// `subject` as `viewer` may see it; `teams` are the names of the subject's teams.
    pub fn seen_by(viewer: &Viewer<'_>, subject: &Profile, teams: Vec<String>) -> Self {
        let sight = Sight::of(viewer, subject);
        let details = |value: &Option<String>| sight.details.then(|| value.clone());
        let phones = |value: &Option<String>| sight.phones.then(|| value.clone());
        Self {
            id: subject.id.clone(),
            display_name: subject.display_name.clone(),
            avatar_url: subject.avatar_url.clone(),
            emails: sight.details.then(|| subject.emails.clone()),
            job_title: details(&subject.job_title),
            department: details(&subject.department),
            office_location: details(&subject.office_location),
            timezone: details(&subject.timezone),
            language: sight.details.then(|| subject.language.clone()),
            teams: sight.details.then_some(teams),
            visibility: sight.details.then_some(subject.visibility),
            contact_prefs: sight.details.then_some(subject.contact_prefs),
            phone: phones(&subject.phone),
            mobile: phones(&subject.mobile),
            status: sight.status.then_some(subject.status),
            status_until: sight.status.then_some(subject.status_until),
            deactivated: false,
        }
    }
}

/// Someone in the directory, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Person {
    Agent(Colleague),
    User(Customer),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PersonKind {
    Agent,
    User,
}

impl PersonKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::User => "user",
        }
    }
}

/// What the app asks `GET /api/v1/people` for; absent parts do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct PeopleFilter {
    #[serde(default)]
    #[ts(optional)]
    pub kind: Option<PersonKind>,
    /// A team's id.
    #[serde(default)]
    #[ts(optional)]
    pub team: Option<String>,
    /// An organization's id.
    #[serde(default)]
    #[ts(optional)]
    pub org: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub q: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub cursor: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub limit: Option<u32>,
}

impl PeopleFilter {
    /// The query string pairs, leaving out what is absent or empty.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let text = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        [
            ("kind", self.kind.map(|kind| kind.as_str().to_owned())),
            ("team", text(&self.team)),
            ("org", text(&self.org)),
            ("q", text(&self.q)),
            ("cursor", text(&self.cursor)),
            ("limit", self.limit.map(|limit| limit.to_string())),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.map(|value| (key, value)))
        .collect()
    }
}

/// One page of `GET /api/v1/people`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct PeoplePage {
    pub people: Vec<Person>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(visibility: Visibility, prefs: ContactPrefs) -> Profile {
        Profile {
            id: "subject".into(),
            email: "sam@example.com".into(),
            emails: vec![EmailAddress {
                address: "sam@example.com".into(),
                primary: true,
            }],
            display_name: "Sam".into(),
            job_title: Some("Lead".into()),
            department: Some("Billing".into()),
            department_request: None,
            phone: Some("+442071838750".into()),
            mobile: None,
            office_location: None,
            timezone: Some("Europe/London".into()),
            language: "en".into(),
            signature: Some("private signature".into()),
            use_signature: true,
            operator_id: Some("op-7".into()),
            avatar_url: None,
            visibility,
            contact_prefs: prefs,
            status: Status::Busy,
            status_until: None,
            is_admin: false,
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn a_filter_sends_only_what_it_has() {
        let filter = PeopleFilter {
            kind: Some(PersonKind::Agent),
            team: Some(String::new()),
            org: Some("org-1".into()),
            q: Some("  ada ".into()),
            cursor: None,
            limit: Some(20),
        };
        assert_eq!(
            filter.query_pairs(),
            vec![
                ("kind", "agent".to_owned()),
                ("org", "org-1".to_owned()),
                ("q", "ada".to_owned()),
                ("limit", "20".to_owned())
            ]
        );
        assert!(PeopleFilter::default().query_pairs().is_empty());
    }

    #[test]
    fn departments_match_ignoring_case_and_spaces_and_none_matches_nothing() {
        assert!(same_department(Some(" billing "), Some("Billing")));
        assert!(!same_department(Some("Billing"), Some("Sales")));
        assert!(!same_department(None, None));
        assert!(!same_department(Some(""), Some(" ")));
    }

    #[test]
    fn hidden_fields_are_absent_and_empty_ones_null() {
        let viewer = Viewer {
            id: "viewer",
            is_admin: false,
            department: Some("Sales"),
        };
        let public = Colleague::seen_by(
            &viewer,
            &subject(Visibility::Public, ContactPrefs::default()),
            vec!["Billing".into()],
        );
        let json = serde_json::to_value(&public).expect("json");
        assert_eq!(json["mobile"], serde_json::Value::Null);
        assert!(json.as_object().expect("object").contains_key("mobile"));
        // Never part of what another agent sees, whatever the settings.
        assert!(json.get("signature").is_none());
        assert!(json.get("operator_id").is_none());
        let back: Colleague = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, public);

        let hidden = ContactPrefs {
            show_phone: false,
            ..ContactPrefs::default()
        };
        let json = serde_json::to_value(Colleague::seen_by(
            &viewer,
            &subject(Visibility::Public, hidden),
            vec![],
        ))
        .expect("json");
        assert!(json.get("phone").is_none() && json.get("mobile").is_none());
        assert_eq!(json["status"], "busy");
    }

    #[test]
    fn the_preview_is_what_colleagues_of_each_department_are_shown() {
        let (same, other) = (
            Viewer {
                id: "viewer",
                is_admin: false,
                department: Some(" billing"),
            },
            Viewer {
                id: "viewer",
                is_admin: false,
                department: Some("Sales"),
            },
        );
        for visibility in [
            Visibility::Public,
            Visibility::Department,
            Visibility::Private,
        ] {
            for (show_phone, show_online_status) in
                [(true, true), (true, false), (false, true), (false, false)]
            {
                let prefs = ContactPrefs {
                    show_phone,
                    show_online_status,
                    ..ContactPrefs::default()
                };
                let profile = subject(visibility, prefs);
                let preview = PrivacyPreview::of(visibility, &prefs, profile.department.as_deref());
                assert_eq!(preview.same_department, Sight::of(&same, &profile));
                assert_eq!(preview.other_department, Sight::of(&other, &profile));
            }
        }
        // Without a department, "my department" is nobody.
        let preview = PrivacyPreview::of(Visibility::Department, &ContactPrefs::default(), None);
        assert!(!preview.same_department.details && !preview.other_department.details);
    }
}

//! The changes an agent makes that the outbox keeps, and the request each one is.

use agent_desk_client::{ChangeMethod, PreparedBody, PreparedRequest};
use agent_desk_core::customers::{NewEmail, NoteBody};
use agent_desk_core::teams::NewJoinRequest;
use agent_desk_core::StatusUpdate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use crate::merge::Shape;

/// One change, as the agent made it. Patches are kept as JSON objects with the fields
/// the agent changed, and the version of the record they were made on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum LocalChange {
    /// Fields of the agent's own profile (privacy included).
    Profile {
        #[ts(type = "Record<string, unknown>")]
        patch: Value,
        #[ts(type = "number")]
        version: i64,
    },
    /// The agent's status.
    Status {
        update: StatusUpdate,
    },
    /// The notification preferences and quiet hours, whole.
    NotificationPrefs {
        #[ts(type = "Record<string, unknown>")]
        prefs: Value,
        #[ts(type = "number")]
        version: i64,
    },
    /// A new profile photo; its JPEG is kept beside the change.
    Photo,
    PhotoRemoved,
    /// Fields of a customer's record.
    Customer {
        person_id: String,
        #[ts(type = "Record<string, unknown>")]
        patch: Value,
        #[ts(type = "number")]
        version: i64,
    },
    EmailAdded {
        person_id: String,
        email: NewEmail,
    },
    EmailRemoved {
        person_id: String,
        address: String,
    },
    EmailMadePrimary {
        person_id: String,
        address: String,
    },
    NoteAdded {
        person_id: String,
        body: String,
    },
    NoteEdited {
        note_id: String,
        body: String,
    },
    NoteDeleted {
        note_id: String,
    },
    JoinRequested {
        team_id: String,
        note: Option<String>,
    },
}

impl LocalChange {
    /// What the change is to, for the merge of a patch that meets a newer version.
    pub fn shape(&self) -> Option<Shape> {
        match self {
            Self::Profile { .. } => Some(Shape::Profile),
            Self::Customer { .. } => Some(Shape::Customer),
            Self::NotificationPrefs { .. } => Some(Shape::Prefs),
            _ => None,
        }
    }

    /// The record a change is to, as the conflicts and the cache name it:
    /// `profile`, `prefs`, `person:<id>`, `note:<id>`, `team:<id>`.
    pub fn target(&self) -> String {
        match self {
            Self::Profile { .. } | Self::Status { .. } | Self::Photo | Self::PhotoRemoved => {
                "profile".into()
            }
            Self::NotificationPrefs { .. } => "prefs".into(),
            Self::Customer { person_id, .. }
            | Self::EmailAdded { person_id, .. }
            | Self::EmailRemoved { person_id, .. }
            | Self::EmailMadePrimary { person_id, .. }
            | Self::NoteAdded { person_id, .. } => format!("person:{person_id}"),
            Self::NoteEdited { note_id, .. } | Self::NoteDeleted { note_id } => {
                format!("note:{note_id}")
            }
            Self::JoinRequested { team_id, .. } => format!("team:{team_id}"),
        }
    }

    /// The request that makes the change; `photo` is the JPEG of a [`LocalChange::Photo`].
    pub fn request(&self, photo: Option<&[u8]>) -> Result<PreparedRequest, serde_json::Error> {
        let path = |segments: &[&str]| segments.iter().map(|s| (*s).to_owned()).collect();
        let version = |version: i64| Some(format!("\"{version}\""));
        let (method, segments, if_match, body) = match self {
            Self::Profile { patch, version: v } => (
                ChangeMethod::Patch,
                path(&["me"]),
                version(*v),
                Some(PreparedBody::json(patch)?),
            ),
            Self::Status { update } => (
                ChangeMethod::Put,
                path(&["me", "status"]),
                None,
                Some(PreparedBody::json(update)?),
            ),
            Self::NotificationPrefs { prefs, version: v } => (
                ChangeMethod::Put,
                path(&["me", "notification-prefs"]),
                version(*v),
                Some(PreparedBody::json(prefs)?),
            ),
            Self::Photo => (
                ChangeMethod::Put,
                path(&["me", "avatar"]),
                None,
                Some(PreparedBody {
                    content_type: "image/jpeg".into(),
                    bytes: photo.unwrap_or_default().to_vec(),
                }),
            ),
            Self::PhotoRemoved => (ChangeMethod::Delete, path(&["me", "avatar"]), None, None),
            Self::Customer {
                person_id,
                patch,
                version: v,
            } => (
                ChangeMethod::Patch,
                path(&["people", person_id]),
                version(*v),
                Some(PreparedBody::json(patch)?),
            ),
            Self::EmailAdded { person_id, email } => (
                ChangeMethod::Post,
                path(&["people", person_id, "emails"]),
                None,
                Some(PreparedBody::json(email)?),
            ),
            Self::EmailRemoved { person_id, address } => (
                ChangeMethod::Delete,
                path(&["people", person_id, "emails", address]),
                None,
                None,
            ),
            Self::EmailMadePrimary { person_id, address } => (
                ChangeMethod::Post,
                path(&["people", person_id, "emails", address, "primary"]),
                None,
                None,
            ),
            Self::NoteAdded { person_id, body } => (
                ChangeMethod::Post,
                path(&["people", person_id, "notes"]),
                None,
                Some(PreparedBody::json(&NoteBody { body: body.clone() })?),
            ),
            Self::NoteEdited { note_id, body, .. } => (
                ChangeMethod::Patch,
                path(&["notes", note_id]),
                None,
                Some(PreparedBody::json(&NoteBody { body: body.clone() })?),
            ),
            Self::NoteDeleted { note_id } => {
                (ChangeMethod::Delete, path(&["notes", note_id]), None, None)
            }
            Self::JoinRequested { team_id, note } => (
                ChangeMethod::Post,
                path(&["teams", team_id, "join-requests"]),
                None,
                Some(PreparedBody::json(&NewJoinRequest { note: note.clone() })?),
            ),
        };
        Ok(PreparedRequest {
            method,
            segments,
            if_match,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use agent_desk_core::Status;
    use serde_json::json;

    use super::*;

    #[test]
    fn each_change_is_its_route() {
        let patch = LocalChange::Customer {
            person_id: "p/1".into(),
            patch: json!({"summary": "VIP"}),
            version: 4,
        }
        .request(None)
        .expect("prepared");
        assert_eq!(patch.method, ChangeMethod::Patch);
        // The id stays one segment, however it is spelt.
        assert_eq!(patch.segments, ["people", "p/1"]);
        assert_eq!(patch.if_match.as_deref(), Some("\"4\""));
        assert_eq!(
            patch.body.expect("body").bytes,
            br#"{"summary":"VIP"}"#.to_vec()
        );
        let status = LocalChange::Status {
            update: StatusUpdate {
                status: Status::Busy,
                until: None,
                idle: false,
            },
        }
        .request(None)
        .expect("prepared");
        assert_eq!(status.segments, ["me", "status"]);
        let photo = LocalChange::Photo.request(Some(b"jpeg")).expect("prepared");
        assert_eq!(photo.body.expect("body").content_type, "image/jpeg");
    }

    #[test]
    fn the_same_change_is_the_same_bytes_every_time() {
        let change = LocalChange::Profile {
            patch: json!({"job_title": "Lead", "display_name": "Ada"}),
            version: 2,
        };
        let stored = serde_json::to_string(&change).expect("stored");
        let again: LocalChange = serde_json::from_str(&stored).expect("read");
        assert_eq!(
            change.request(None).expect("first"),
            again.request(None).expect("again")
        );
    }
}

//! `agentdesk://` links, which open the app at a place from a helpdesk, a chat or a web
//! page. Anyone can make a link, so each is read strictly: only the forms below, nothing
//! added, and what is refused says why.

use serde::Serialize;
use ts_rs::TS;

use crate::Status;

/// The scheme the packages register for the app.
pub const SCHEME: &str = "agentdesk";

/// Longer than any link the app makes; a longer one is refused unread.
const LINK_MAX: usize = 200;
/// A person's id: the server's ids are at most this long.
const ID_MAX: usize = 64;

/// Where a link asks the app to go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum AppLink {
    /// `agentdesk://people/{id}`: that person's record.
    Person { id: String },
    /// `agentdesk://status/{available|busy|away|dnd}`: this status, once the agent
    /// confirms (a web page must not be able to silence anyone's alerts).
    Status { status: Status },
    /// `agentdesk://devices`: the device check.
    Devices,
}

/// Why a link was refused: a code, and the part of the link it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, TS)]
#[serde(tag = "code", content = "part", rename_all = "snake_case")]
#[ts(export)]
pub enum LinkRefused {
    #[error("it is not an agentdesk:// link")]
    NotAnAppLink,
    #[error("it is longer than {LINK_MAX} characters")]
    TooLong,
    #[error("it carries more than a place to open (a query, a fragment, a user or a port)")]
    ExtraParts,
    #[error("the app has no place called \"{0}\"")]
    UnknownPlace(String),
    #[error("\"{0}\" is not a person's id")]
    NotAPersonId(String),
    #[error("\"{0}\" is not a status a link may set (available, busy, away or dnd)")]
    NotAStatus(String),
}

impl AppLink {
    /// The link that opens this place.
    pub fn to_link(&self) -> String {
        match self {
            Self::Person { id } => format!("{SCHEME}://people/{id}"),
            Self::Status { status } => format!("{SCHEME}://status/{}", status.as_str()),
            Self::Devices => format!("{SCHEME}://devices"),
        }
    }

    /// Reads a link as the operating system handed it over.
    pub fn parse(text: &str) -> Result<Self, LinkRefused> {
        if text.len() > LINK_MAX {
            return Err(LinkRefused::TooLong);
        }
        let url = url::Url::parse(text).map_err(|_| LinkRefused::NotAnAppLink)?;
        if url.scheme() != SCHEME {
            return Err(LinkRefused::NotAnAppLink);
        }
        if url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
            || url.port().is_some()
        {
            return Err(LinkRefused::ExtraParts);
        }
        let place = url.host_str().unwrap_or_default();
        let path = url.path().trim_end_matches('/');
        let parts: Vec<&str> = path.split('/').skip(1).collect();
        match (place, parts.as_slice()) {
            ("people", [id]) if is_person_id(id) => Ok(Self::Person {
                id: (*id).to_owned(),
            }),
            ("people", [other]) => Err(LinkRefused::NotAPersonId(shown(other))),
            ("status", [status]) => match Status::parse(status) {
                Some(status) if status != Status::Offline => Ok(Self::Status { status }),
                _ => Err(LinkRefused::NotAStatus(shown(status))),
            },
            ("devices", []) => Ok(Self::Devices),
            _ => Err(LinkRefused::UnknownPlace(shown(
                text.strip_prefix("agentdesk://").unwrap_or(text),
            ))),
        }
    }
}

fn is_person_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= ID_MAX
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// A part of a link as it may be shown back: control characters dropped, kept short.
fn shown(part: &str) -> String {
    part.chars().filter(|c| !c.is_control()).take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_places_are_read_and_written_alike() {
        for (text, link) in [
            (
                "agentdesk://people/0b5e6f1c-2d7a-4c1e-9f3b-7a8c9d0e1f2a",
                AppLink::Person {
                    id: "0b5e6f1c-2d7a-4c1e-9f3b-7a8c9d0e1f2a".into(),
                },
            ),
            (
                "agentdesk://status/dnd",
                AppLink::Status {
                    status: Status::Dnd,
                },
            ),
            ("agentdesk://devices", AppLink::Devices),
        ] {
            assert_eq!(AppLink::parse(text), Ok(link.clone()), "{text}");
            assert_eq!(link.to_link(), text);
        }
        // A trailing slash, as some chat apps add, is the same place.
        assert_eq!(AppLink::parse("agentdesk://devices/"), Ok(AppLink::Devices));
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        use LinkRefused::*;
        for (text, refused) in [
            ("https://desk.example/people/1", NotAnAppLink),
            (
                "agentdesk:people/1",
                UnknownPlace("agentdesk:people/1".into()),
            ),
            ("not a link", NotAnAppLink),
            ("agentdesk://people/1?then=delete", ExtraParts),
            ("agentdesk://people/1#x", ExtraParts),
            ("agentdesk://admin@people/1", ExtraParts),
            ("agentdesk://people:8080/1", ExtraParts),
            (
                "agentdesk://people/..%2Fadmin",
                NotAPersonId("..%2Fadmin".into()),
            ),
            ("agentdesk://people/", UnknownPlace("people/".into())),
            (
                "agentdesk://people/1/edit",
                UnknownPlace("people/1/edit".into()),
            ),
            ("agentdesk://status/offline", NotAStatus("offline".into())),
            ("agentdesk://status/gone", NotAStatus("gone".into())),
            ("agentdesk://settings", UnknownPlace("settings".into())),
            (
                "agentdesk://devices/speaker",
                UnknownPlace("devices/speaker".into()),
            ),
        ] {
            assert_eq!(AppLink::parse(text), Err(refused), "{text}");
        }
        let long = format!("agentdesk://people/{}", "a".repeat(200));
        assert_eq!(AppLink::parse(&long), Err(TooLong));
        let id = format!("agentdesk://people/{}", "a".repeat(65));
        assert!(matches!(AppLink::parse(&id), Err(NotAPersonId(_))));
    }
}

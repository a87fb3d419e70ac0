//! `agentdesk://` links the desktop hands over: as the arguments of a second launch while
//! the app runs (single-instance passes them on), or of the launch a link started. Each
//! is kept until the window takes it, since a link that starts the app arrives before
//! the page can listen.

use agent_desk_core::links::{AppLink, LinkRefused};
use agent_desk_ipc::Event;
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime};
use ts_rs::TS;

use crate::events::LinkArrived;
use crate::state::DeskState;

/// What became of the last link handed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[ts(export)]
pub enum LinkOpened {
    /// A place to go to (a status only once the agent confirms).
    Open { link: AppLink },
    /// Not acted on: the link as it may be shown, and why.
    Refused { link: String, why: LinkRefused },
}

impl LinkOpened {
    pub fn read(text: &str) -> Self {
        match AppLink::parse(text) {
            Ok(link) => Self::Open { link },
            Err(why) => Self::Refused {
                link: text.chars().filter(|c| !c.is_control()).take(120).collect(),
                why,
            },
        }
    }
}

/// Links arrived: the last one counts (the others were overtaken). The window is told,
/// and comes forward for a link it acts on; a refused one, from whoever made it, does not
/// get to pull the window in front of the agent's work.
pub fn arrived<R: Runtime>(app: &AppHandle<R>, links: &[url::Url]) {
    let Some(last) = links.last() else {
        return;
    };
    let opened = LinkOpened::read(last.as_str());
    let acted_on = matches!(opened, LinkOpened::Open { .. });
    app.state::<DeskState>().set_pending_link(opened);
    if acted_on {
        crate::show_window(app);
    }
    let _ = LinkArrived.emit(app);
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_desk_core::Status;

    #[test]
    fn a_link_is_opened_or_refused_with_its_reason_as_data() {
        assert_eq!(
            serde_json::to_value(LinkOpened::read("agentdesk://status/busy")).expect("json"),
            serde_json::json!({"outcome": "open", "link": {"kind": "status", "status": "busy"}})
        );
        assert_eq!(
            LinkOpened::read("agentdesk://status/busy"),
            LinkOpened::Open {
                link: AppLink::Status {
                    status: Status::Busy
                }
            }
        );
        let refused =
            serde_json::to_value(LinkOpened::read("agentdesk://admin/drop\u{7}")).expect("json");
        assert_eq!(
            refused,
            serde_json::json!({"outcome": "refused", "link": "agentdesk://admin/drop",
                "why": {"code": "unknown_place", "part": "admin/drop"}})
        );
    }
}

//! The event stream, run into the alert desk.

use std::sync::Arc;

use agent_desk_client::stream::{self, StreamNews};
use agent_desk_client::ApiClient;
use agent_desk_core::PresenceChange;
use chrono::Utc;
use tokio::sync::mpsc;

use crate::desk::AlertDesk;
use crate::inbox::StreamConnection;

/// What the owner of the stream has to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamSignal {
    /// The agent's profile or status changed on the server.
    ProfileChanged,
    /// A join request to a team the agent leads arrived, or the agent's was decided.
    TeamsChanged,
    /// A colleague's status changed, as this agent may see it.
    Presence(PresenceChange),
    /// The server ended the session; the stream has stopped.
    SessionEnded,
    /// The stream (re)connected: the server can be reached again.
    Connected,
}

/// Follows the agent's events from the desk's cursor into the desk until the session
/// ends or the future is dropped.
pub async fn run(api: ApiClient, desk: Arc<AlertDesk>, on_signal: impl Fn(StreamSignal)) {
    let (news, mut incoming) = mpsc::channel(64);
    let follower = tokio::spawn(stream::follow(api, desk.cursor(), news));
    // Stops following when this future is dropped, as well as when it ends.
    let _stop = AbortOnDrop(follower);
    while let Some(news) = incoming.recv().await {
        match news {
            StreamNews::StartAt(seq) | StreamNews::CursorReset(seq) => {
                if let Err(error) = desk.start_at(seq) {
                    eprintln!("agent-desk alerts: {error}");
                }
            }
            StreamNews::Connected => {
                desk.set_connection(StreamConnection::Connected);
                on_signal(StreamSignal::Connected);
            }
            StreamNews::Disconnected { .. } => {
                desk.set_connection(StreamConnection::Offline);
            }
            StreamNews::Events(events) => match desk.receive(&events, Utc::now()) {
                Ok(received) => {
                    if received.profile_changed {
                        on_signal(StreamSignal::ProfileChanged);
                    }
                    if received.teams_changed {
                        on_signal(StreamSignal::TeamsChanged);
                    }
                }
                // Not saved: the cursor stays, and the events come again next time.
                Err(error) => eprintln!("agent-desk alerts: {error}"),
            },
            StreamNews::Presence(change) => on_signal(StreamSignal::Presence(change)),
            StreamNews::SessionEnded => {
                desk.set_connection(StreamConnection::Offline);
                on_signal(StreamSignal::SessionEnded);
                return;
            }
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

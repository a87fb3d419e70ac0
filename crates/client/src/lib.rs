//! Agent Desk's client side, with no GUI in it: the typed HTTP client of the team's
//! server, the signed-in session (token in the OS credential store), and local settings.

pub mod admin;
pub mod api;
pub mod downloads;
pub mod error;
pub mod photo;
pub mod prepared;
pub mod session;
pub mod settings;
pub mod stream;
pub mod tokens;

pub use admin::{VersionedAgent, VersionedNotificationLocks};
pub use api::{ApiClient, VersionedNotificationPrefs, VersionedProfile};
pub use error::{ClientError, ClientErrorCode};
pub use photo::PhotoEditor;
pub use prepared::{Accepted, ChangeMethod, PreparedBody, PreparedRequest};
pub use session::AgentSession;
pub use settings::Settings;
pub use tokens::{KeyringTokenStore, MemoryTokenStore, TokenStore};

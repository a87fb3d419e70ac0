//! Agent Desk's team server: an axum HTTP API over sqlx.
//!
//! The binary (`main.rs`) only parses the command line; everything it does is here so
//! tests and other crates can start a real server in-process.

pub mod agents;
pub mod credentials;
pub mod db;
pub mod http;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use agents::{NewAgent, DEMO_ACCOUNTS};
pub use db::Db;

/// Where the server keeps its data.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `sqlite://PATH`; defaults to `<data_dir>/agent-desk.db`.
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
}

impl ServerConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            database_url: None,
            data_dir: data_dir.into(),
        }
    }

    /// The per-user default: `~/.local/share/agent-desk-server` on Linux.
    pub fn default_data_dir() -> PathBuf {
        dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("agent-desk-server")
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!("sqlite://{}", self.data_dir.join("agent-desk.db").display())
        })
    }
}

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<ServerConfig>,
    /// Verified against when an email is unknown, so a wrong email costs as long as a
    /// wrong password and sign-in timing does not reveal which accounts exist.
    pub decoy_password_hash: Arc<str>,
}

impl AppState {
    /// Creates the data dir, opens the database and brings its schema up to date.
    pub async fn open(config: ServerConfig) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)?;
        let db = db::connect(&config.database_url()).await?;
        let decoy = credentials::hash_password("decoy password never matches")?;
        Ok(Self {
            db,
            config: Arc::new(config),
            decoy_password_hash: decoy.into(),
        })
    }
}

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

//! Agent Desk's team server: an axum HTTP API over sqlx.
//!
//! The binary (`main.rs`) only parses the command line; everything it does is here so
//! tests and other crates can start a real server in-process.

pub mod account;
pub mod admin_agents;
pub mod admin_teams;
pub mod agents;
pub mod avatars;
/// Writing the change log, one row an edited field.
pub(crate) mod change_log;
/// Timestamps as the database stores them.
pub mod clock;
pub mod credentials;
pub mod customers;
pub mod db;
/// Seeding the demo: its agents, teams, customers and tickets.
pub mod demo;
pub mod departments;
pub mod event_mail;
pub mod events;
pub mod helpdesk;
pub mod hooks;
pub mod http;
pub mod idempotency;
pub mod instances;
pub mod integration_tokens;
pub mod leases;
pub mod mail;
pub mod notification_prefs;
pub mod people;
pub mod person_files;
pub mod relay;
pub mod releases;
pub mod routing;
pub mod seed_people;
pub mod simulate;
pub mod status;
pub mod storage;
pub mod teams;
pub mod throttle;
pub mod tickets;
pub mod uploads;
pub mod workers;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use agents::NewAgent;
pub use db::Db;
pub use demo::DEMO_ACCOUNTS;

use mail::Mailer;
use throttle::Throttles;

/// Where the server keeps its data.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `sqlite://PATH` or `postgres://…`; defaults to `<data_dir>/agent-desk.db`.
    pub database_url: Option<String>,
    /// Connections kept to the database at most.
    pub database_max_connections: u32,
    pub data_dir: PathBuf,
    /// The address agents reach the server at, for links in mail; defaults to the
    /// listening address. Links are never built from a request's Host header, which a
    /// client chooses.
    pub public_url: Option<String>,
    /// `smtp://…` or `smtps://user:password@host`; without it mail goes to the outbox.
    pub smtp_url: Option<String>,
    /// The sender of the server's mail.
    pub mail_from: String,
    /// Largest profile photo accepted, in bytes.
    pub avatar_max_bytes: u64,
    /// Largest file a customer's record takes, in bytes.
    pub file_max_bytes: u64,
    /// How long after an agent's last event stream closes they are set Offline; a
    /// reconnect within it (a network blip, a restart) changes nothing.
    pub offline_grace: std::time::Duration,
    /// How often an event stream pings; a client silent for two and a half times this
    /// long is gone.
    pub stream_ping: std::time::Duration,
    /// How fast a client must send its request.
    pub pace: http::slow_clients::ClientPace,
    /// Reverse proxies whose `X-Forwarded-For` names the client: behind them, throttles
    /// and the sessions list go by the agent's address rather than the proxy's.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Where every status change is posted, signed; None: nowhere.
    pub status_webhook: Option<status::Webhook>,
}

impl ServerConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            database_url: None,
            database_max_connections: storage::DEFAULT_MAX_CONNECTIONS,
            data_dir: data_dir.into(),
            public_url: None,
            smtp_url: None,
            mail_from: Self::DEFAULT_MAIL_FROM.to_owned(),
            avatar_max_bytes: agent_desk_core::AVATAR_DEFAULT_MAX_BYTES,
            file_max_bytes: agent_desk_core::attachments::FILE_DEFAULT_MAX_BYTES,
            offline_grace: Self::DEFAULT_OFFLINE_GRACE,
            stream_ping: Self::DEFAULT_STREAM_PING,
            pace: http::slow_clients::ClientPace::DEFAULT,
            trusted_proxies: Vec::new(),
            status_webhook: None,
        }
    }

    pub const DEFAULT_OFFLINE_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

    pub const DEFAULT_STREAM_PING: std::time::Duration = std::time::Duration::from_secs(10);

    pub const DEFAULT_MAIL_FROM: &'static str = "Agent Desk <agent-desk@localhost>";

    pub fn public_url(&self) -> String {
        self.public_url
            .as_deref()
            .unwrap_or("http://127.0.0.1:8787")
            .trim_end_matches('/')
            .to_owned()
    }

    /// Where the stored photos are, as `<id>-<side>.jpg`.
    pub fn avatar_dir(&self) -> PathBuf {
        self.data_dir.join("avatars")
    }

    /// Where files kept on records are, each named by its id.
    pub fn file_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }

    /// Published releases of the desktop app (`publish-release`).
    pub fn release_dir(&self) -> PathBuf {
        self.data_dir.join("releases")
    }

    pub fn avatar_limits(&self) -> agent_desk_avatar::Limits {
        agent_desk_avatar::Limits {
            max_bytes: self.avatar_max_bytes,
            ..agent_desk_avatar::Limits::default()
        }
    }

    /// What `GET /api/v1/policy` answers.
    pub fn policy(&self) -> agent_desk_core::account::Policy {
        let limits = self.avatar_limits();
        agent_desk_core::account::Policy {
            password: agent_desk_core::PasswordPolicy::default(),
            password_reset_valid_minutes: agent_desk_core::PASSWORD_RESET_VALID_MINUTES,
            avatar: agent_desk_core::AvatarPolicy {
                max_bytes: limits.max_bytes,
                accepted_types: agent_desk_avatar::Format::ALL
                    .iter()
                    .map(|format| format.mime().to_owned())
                    .collect(),
                max_side: limits.max_side,
                max_pixels: limits.max_pixels,
                min_side: agent_desk_core::AVATAR_MIN_SIDE,
            },
        }
    }

    /// Where mail is written when there is no SMTP server.
    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
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

/// Photos waiting to be decoded at most; beyond, an upload is answered 429.
const PHOTOS_WAITING: usize = 32;

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<ServerConfig>,
    /// Verified against when an email is unknown, so a wrong email costs as long as a
    /// wrong password and sign-in timing does not reveal which accounts exist.
    pub decoy_password_hash: Arc<str>,
    pub throttles: Arc<Throttles>,
    pub mailer: Arc<Mailer>,
    /// Photos are read into memory and decoded on one thread of their own, one at a
    /// time, once received whole: hostile uploads cannot add up in memory, slow ones hold
    /// nothing, and the decoder's buffers are that one thread's.
    pub photo_decoding: Arc<workers::WorkerPool>,
    /// Live events to open streams, and who has a stream open.
    pub hub: Arc<events::EventHub>,
    /// Uploads under way, by agent.
    pub upload_slots: Arc<uploads::UploadSlots>,
}

impl AppState {
    /// Creates the data dir, opens the database and brings its schema up to date.
    pub async fn open(config: ServerConfig) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)?;
        let db =
            storage::Db::connect(&config.database_url(), config.database_max_connections).await?;
        let decoy = credentials::hash_password("decoy password never matches")?;
        let mailer = Mailer::new(
            &config.mail_from,
            config.smtp_url.as_deref(),
            config.outbox_dir(),
        )?;
        let hub = events::EventHub::new(db.clone(), config.offline_grace);
        let throttles = Arc::new(Throttles::new(db.clone()));
        Ok(Self {
            hub,
            db,
            config: Arc::new(config),
            decoy_password_hash: decoy.into(),
            throttles,
            photo_decoding: Arc::new(workers::WorkerPool::new(
                "photo-decoding",
                1,
                PHOTOS_WAITING,
            )),
            upload_slots: Arc::default(),
            mailer: Arc::new(mailer),
        })
    }
}

/// How long a shutting-down server waits for its event streams to send their close.
const STREAMS_CLOSING_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a shutting-down server waits for requests under way to be answered.
const REQUESTS_CLOSING_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves the API on `listener` until `shutdown` resolves.
///
/// Connections are served by hyper directly rather than `axum::serve`, which cannot
/// bound how long a client takes to send its request head: a client that sends half a
/// header would hold its connection for ever.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto;
    use hyper_util::server::graceful::GracefulShutdown;
    use tower::ServiceExt;

    let mut state = state;
    if state.config.public_url.is_none() {
        let mut config = ServerConfig::clone(&state.config);
        config.public_url = Some(format!("http://{}", listener.local_addr()?));
        state.config = Arc::new(config);
    }
    // Only the server that receives uploads clears what a crash left half received; a
    // command run beside it (add-agent) must not touch its uploads under way.
    uploads::clear_incoming(
        &state.config.data_dir,
        state.db.dialect() == storage::Dialect::Sqlite,
    );
    let hub = Arc::clone(&state.hub);
    let header_timeout = state.config.pace.header_timeout;
    let trusted_proxies: Arc<[ipnet::IpNet]> = state.config.trusted_proxies.clone().into();
    event_mail::spawn_digest_clock(state.db.clone(), Arc::clone(&state.mailer));
    idempotency::spawn_pruner(state.db.clone());
    let webhook = state.config.status_webhook.clone();
    status::configure_webhook(
        &state.db,
        webhook.as_ref().map(|webhook| webhook.url.as_str()),
    )
    .await
    .map_err(std::io::Error::other)?;
    instances::start(&state.db, &hub, &listener.local_addr()?.to_string())
        .await
        .map_err(std::io::Error::other)?;
    relay::start_event_relay(state.db.clone(), Arc::clone(&hub))
        .await
        .map_err(std::io::Error::other)?;
    status::spawn_clock(state.db.clone(), Arc::clone(&hub));
    if let Some(webhook) = webhook {
        status::spawn_webhook(state.db.clone(), Arc::clone(&hub), webhook);
    }
    let db = state.db.clone();
    let app = http::router(state);
    let connections = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it was
                    // taken: wait a moment rather than spin, and go on.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let proxies = Arc::clone(&trusted_proxies);
        let service = app.clone().map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                // Who the client is, for throttles and the sessions list: the peer, or
                // behind a trusted proxy the address it forwards for.
                let client = http::auth::forwarded_client(peer, request.headers(), &proxies);
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(client));
                request.map(axum::body::Body::new)
            },
        );
        let watcher = connections.watcher();
        tokio::spawn(async move {
            // HTTP/1.1 only: the app, a browser opening a reset link and a reverse proxy
            // all speak it, and a cleartext HTTP/2 connection would have no head timeout.
            let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let service = hyper_util::service::TowerToHyperService::new(service);
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(error) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%error, "a connection ended with an error");
            }
        });
    }
    drop(listener);
    instances::stop(&db, hub.instance()).await;
    // Open event streams never end by themselves.
    hub.close_all();
    if tokio::time::timeout(REQUESTS_CLOSING_LIMIT, connections.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still under way at shutdown");
    }
    // Upgraded connections are no longer the server's: give the streams a moment to
    // say goodbye to their clients before the process goes.
    hub.streams_ended(STREAMS_CLOSING_LIMIT).await;
    Ok(())
}

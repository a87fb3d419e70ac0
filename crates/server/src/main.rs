//! `agent-desk-server`: serve the API, add agents, seed the demo accounts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use agent_desk_server::agents::{self, AgentError};
use agent_desk_server::http::slow_clients::ClientPace;
use agent_desk_server::{
    hooks, integration_tokens, simulate, teams, AppState, NewAgent, ServerConfig,
};
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "agent-desk-server",
    version,
    about = "Agent Desk's team server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once at start: the size of `serve`'s arguments does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API.
    Serve {
        /// Address and port to listen on.
        #[arg(long, env = "AGENT_DESK_LISTEN", default_value = "127.0.0.1:8787")]
        listen: SocketAddr,
        #[command(flatten)]
        storage: Storage,
        #[command(flatten)]
        mail: MailArgs,
        /// Largest profile photo accepted, in bytes.
        #[arg(long, env = "AGENT_DESK_AVATAR_MAX_BYTES", default_value_t = agent_desk_core::AVATAR_DEFAULT_MAX_BYTES,
              value_parser = clap::value_parser!(u64).range(1_000..=50_000_000))]
        avatar_max_bytes: u64,
        /// Largest file a customer's record takes, in bytes (at most 100 MB).
        #[arg(long, env = "AGENT_DESK_FILE_MAX_BYTES", default_value_t = agent_desk_core::attachments::FILE_DEFAULT_MAX_BYTES,
              value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
        file_max_bytes: u64,
        /// Seconds after an agent's last event stream closes before they are set Offline.
        #[arg(long, env = "AGENT_DESK_OFFLINE_GRACE_SECONDS", default_value_t = 60,
              value_parser = clap::value_parser!(u64).range(0..=86_400))]
        offline_grace_seconds: u64,
        /// Seconds between an event stream's pings. A stream whose client answers nothing
        /// for two and a half times this long is closed: with the default 10, a dead
        /// connection is noticed within 30 s. At most 10, since the desktop app takes 30 s
        /// without a ping for a dead connection.
        #[arg(long, env = "AGENT_DESK_STREAM_PING_SECONDS", default_value_t = 10,
              value_parser = clap::value_parser!(u64).range(1..=10))]
        stream_ping_seconds: u64,
        /// Seconds a client has to send a request's head (and an idle kept-alive
        /// connection stays open).
        #[arg(long, env = "AGENT_DESK_HEADER_TIMEOUT_SECONDS", default_value_t = 10,
              value_parser = clap::value_parser!(u64).range(1..=300))]
        header_timeout_seconds: u64,
        /// A request body must bring at least 1 KiB a second over every window of this
        /// many seconds, or it is cut off (408).
        #[arg(long, env = "AGENT_DESK_BODY_WINDOW_SECONDS", default_value_t = 10,
              value_parser = clap::value_parser!(u64).range(1..=300))]
        body_window_seconds: u64,
        /// A reverse proxy in front of the server (an address or a network, such as
        /// 127.0.0.1 or 10.0.0.0/24), whose `X-Forwarded-For` names the client; repeat for
        /// several.
        #[arg(long = "trusted-proxy", env = "AGENT_DESK_TRUSTED_PROXIES", value_delimiter = ',',
              value_parser = parse_network)]
        trusted_proxies: Vec<ipnet::IpNet>,
        #[command(flatten)]
        rt: RtArgs,
        /// Post every agent's status change to this address, signed with
        /// AGENT_DESK_STATUS_WEBHOOK_SECRET as a generic hook's deliveries are (docs/API.md).
        #[arg(long, env = "AGENT_DESK_STATUS_WEBHOOK", value_parser = parse_web_address)]
        status_webhook: Option<String>,
    },
    /// Set the secret a helpdesk's webhooks are checked with, or rotate it: the one it
    /// replaces is accepted for --grace-hours more. Zendesk makes its own signing secret:
    /// give it on standard input. For freshdesk and generic a secret is made and printed
    /// once.
    AddHook {
        #[arg(long, value_parser = ["zendesk", "freshdesk", "generic"])]
        source: String,
        /// Hours the replaced secret is still accepted.
        #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(0..=720))]
        grace_hours: u32,
        #[command(flatten)]
        storage: Storage,
    },
    /// Make a token for an integration, printed once: it works only for what its scopes
    /// allow (events:write: POST /api/v1/admin/events; routing:read: GET
    /// /api/v1/routing/agents).
    AddIntegration {
        #[arg(long)]
        name: String,
        /// Comma-separated: events:write, routing:read.
        #[arg(long)]
        scope: String,
        #[command(flatten)]
        storage: Storage,
    },
    /// End an integration's token at once.
    RevokeIntegration {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        storage: Storage,
    },
    /// Create a team with its leads and members.
    AddTeam {
        #[arg(long)]
        name: String,
        /// A lead's email; repeat for several.
        #[arg(long = "lead")]
        leads: Vec<String>,
        /// A member's email; repeat for several.
        #[arg(long = "member")]
        members: Vec<String>,
        #[command(flatten)]
        storage: Storage,
    },
    /// Post realistic ticket events for an agent, as a helpdesk would, until interrupted.
    Simulate {
        /// The running server.
        #[arg(long, default_value = "http://127.0.0.1:8787")]
        server: String,
        /// Events a minute.
        #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=60_000))]
        rate: u32,
        /// The agent the events are for [default: the demo agent]
        #[arg(long)]
        to: Option<String>,
        /// Stop after this many events.
        #[arg(long)]
        count: Option<u64>,
        /// An administrator to post as [default: the demo admin]
        #[arg(long, env = "AGENT_DESK_ADMIN_EMAIL")]
        admin_email: Option<String>,
        #[arg(long, env = "AGENT_DESK_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: Option<String>,
    },
    /// Create an agent account.
    AddAgent {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        password: String,
        /// Give the agent administrator rights.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        storage: Storage,
    },
    /// For load tests and benchmarks: create N agents sharing one password, each with a
    /// session, and write their bearer tokens to a file, one a line.
    SeedLoad {
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        agents: u32,
        #[arg(long, default_value = "Load-test-agent-2026!")]
        password: String,
        /// Where the tokens go (mode 600).
        #[arg(long)]
        tokens_file: PathBuf,
        #[command(flatten)]
        storage: Storage,
    },
    /// Publish a release of the desktop app to the app's updater: the bundle the
    /// bundler built, with its signature. The app installs it only if the signature
    /// matches the key it was built with.
    PublishRelease {
        #[command(flatten)]
        release: ReleaseOf,
        /// The bundle: .deb, .rpm, .AppImage, .msi, .exe (NSIS) or .app.tar.gz.
        #[arg(long)]
        file: PathBuf,
        /// The bundler's signature file for it (<bundle>.sig).
        #[arg(long)]
        signature: PathBuf,
        /// What is new, shown to agents with the offer to update.
        #[arg(long)]
        notes: Option<String>,
        #[command(flatten)]
        storage: Storage,
    },
    /// Take a published release back, such as one published by mistake: the app no
    /// longer offers it (an app that downloaded it already keeps its copy).
    WithdrawRelease {
        #[command(flatten)]
        release: ReleaseOf,
        /// Only this kind of bundle (deb, rpm, appimage, msi, nsis, app); every kind if left out.
        #[arg(long)]
        bundle_type: Option<String>,
        #[command(flatten)]
        storage: Storage,
    },
    /// Bring the database's tables up to date, then stop: to upgrade once before
    /// starting several servers on one database, or to prepare one in advance.
    Migrate {
        #[command(flatten)]
        storage: Storage,
    },
    /// Create the demo agent and demo admin if they do not exist yet.
    SeedDemo {
        #[command(flatten)]
        storage: Storage,
    },
    /// Add a large directory of users with notes, for measuring (the first user gets
    /// 1000 notes). The same data every run.
    SeedPeople {
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
        people: u32,
        #[arg(long, default_value_t = 0)]
        notes: u32,
        #[command(flatten)]
        storage: Storage,
    },
}

/// Following Request Tracker. The credentials come from the environment only, never
/// the command line (which other users of the machine can read).
#[derive(Args)]
struct RtArgs {
    /// Request Tracker's web address (RT 5 with its REST 2.0 API), such as
    /// https://rt.example.com/. Sign in with AGENT_DESK_RT_USER and AGENT_DESK_RT_PASSWORD,
    /// or AGENT_DESK_RT_TOKEN (an auth token from RT's Preferences).
    #[arg(long, env = "AGENT_DESK_RT_URL")]
    rt_url: Option<String>,
    /// Seconds between reads of RT's changes.
    #[arg(long, env = "AGENT_DESK_RT_POLL_SECONDS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    rt_poll_seconds: u64,
    /// Minutes before a ticket's Due time its owner is warned (ticket.sla_warning).
    #[arg(long, env = "AGENT_DESK_RT_SLA_WARNING_MINUTES", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=10_080))]
    rt_sla_warning_minutes: u64,
    /// A queue's new tickets go to a team (ticket.team_assigned): QUEUE=TEAM; repeat for
    /// several.
    #[arg(long = "rt-queue-team", value_parser = parse_queue_team)]
    rt_queue_teams: Vec<(String, String)>,
    /// An agent Away this many minutes has their open RT tickets given back to the
    /// queue, each with a comment saying why.
    #[arg(long, env = "AGENT_DESK_RT_RELEASE_AFTER_AWAY_MINUTES",
          value_parser = clap::value_parser!(u64).range(0..=10_080))]
    rt_release_after_away_minutes: Option<u64>,
    /// Give back Offline agents' tickets too (with --rt-release-after-away-minutes).
    #[arg(long, requires = "rt_release_after_away_minutes")]
    rt_release_offline: bool,
}

impl RtArgs {
    fn settings(self) -> anyhow::Result<Option<agent_desk_server::helpdesk::RtSettings>> {
        let Some(url) = self.rt_url else {
            return Ok(None);
        };
        let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let credentials = match (
            variable("AGENT_DESK_RT_TOKEN"),
            variable("AGENT_DESK_RT_USER"),
            variable("AGENT_DESK_RT_PASSWORD"),
        ) {
            (Some(token), _, _) => agent_desk_rt::Credentials::Token(token),
            (None, Some(user), Some(password)) => agent_desk_rt::Credentials::Password { user, password },
            _ => anyhow::bail!(
                "--rt-url needs RT's credentials: set AGENT_DESK_RT_USER and AGENT_DESK_RT_PASSWORD, or AGENT_DESK_RT_TOKEN"
            ),
        };
        let minutes = |minutes: u64| std::time::Duration::from_secs(minutes * 60);
        Ok(Some(agent_desk_server::helpdesk::RtSettings {
            url,
            credentials,
            poll: std::time::Duration::from_secs(self.rt_poll_seconds),
            due_warning: minutes(self.rt_sla_warning_minutes),
            queue_teams: self.rt_queue_teams,
            release_after_away: self.rt_release_after_away_minutes.map(minutes),
            release_offline: self.rt_release_offline,
        }))
    }
}

fn parse_queue_team(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((queue, team)) if !queue.trim().is_empty() && !team.trim().is_empty() => {
            Ok((queue.trim().to_owned(), team.trim().to_owned()))
        }
        _ => Err(format!("{text} is not QUEUE=TEAM")),
    }
}

/// Which release of the desktop app.
#[derive(Args)]
struct ReleaseOf {
    /// Its version, such as 1.4.2.
    #[arg(long)]
    version: String,
    /// The system it is for: linux, darwin or windows.
    #[arg(long)]
    target: String,
    /// The processor it is for: x86_64, aarch64, i686 or armv7.
    #[arg(long)]
    arch: String,
}

#[derive(Args)]
struct Storage {
    /// Database URL: sqlite:///var/lib/agent-desk/agent-desk.db, or
    /// postgres://USER:PASSWORD@HOST/DATABASE for PostgreSQL [default: <data-dir>/agent-desk.db]
    #[arg(long, env = "AGENT_DESK_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// Connections this process keeps to the database at most (PostgreSQL counts them
    /// against its max_connections, for every server instance).
    #[arg(long, env = "AGENT_DESK_DATABASE_MAX_CONNECTIONS",
          default_value_t = agent_desk_server::storage::DEFAULT_MAX_CONNECTIONS,
          value_parser = clap::value_parser!(u32).range(1..=1_000))]
    database_max_connections: u32,
    /// Folder for the database and stored files [default: the user's data folder]
    #[arg(long, env = "AGENT_DESK_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Args)]
struct MailArgs {
    /// The address agents open the server at, for links in mail [default: http://<listen>]
    #[arg(long, env = "AGENT_DESK_PUBLIC_URL")]
    public_url: Option<String>,
    /// Send mail through this SMTP server, e.g. smtps://user:password@mail.example.com
    /// [default: write each mail as an .eml file into <data-dir>/outbox/]
    #[arg(long, env = "AGENT_DESK_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The sender of the server's mail.
    #[arg(long, env = "AGENT_DESK_MAIL_FROM", default_value = ServerConfig::DEFAULT_MAIL_FROM)]
    mail_from: String,
}

impl Storage {
    fn config(self) -> ServerConfig {
        ServerConfig {
            database_url: self.database,
            database_max_connections: self.database_max_connections,
            ..ServerConfig::new(self.data_dir.unwrap_or_else(ServerConfig::default_data_dir))
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse().command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("agent-desk-server: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            listen,
            storage,
            mail,
            avatar_max_bytes,
            file_max_bytes,
            offline_grace_seconds,
            stream_ping_seconds,
            header_timeout_seconds,
            body_window_seconds,
            trusted_proxies,
            rt,
            status_webhook,
        } => {
            warn_about_reset_links(listen, mail.public_url.as_deref());
            let rt = rt.settings()?;
            let status_webhook = match status_webhook {
                None => None,
                Some(url) => {
                    let secret = std::env::var("AGENT_DESK_STATUS_WEBHOOK_SECRET")
                        .ok()
                        .filter(|secret| !secret.trim().is_empty())
                        .ok_or_else(|| {
                            anyhow::anyhow!(
                                "--status-webhook needs the secret its deliveries are signed with in AGENT_DESK_STATUS_WEBHOOK_SECRET"
                            )
                        })?;
                    Some(agent_desk_server::status::Webhook { url, secret })
                }
            };
            let config = ServerConfig {
                public_url: Some(
                    mail.public_url
                        .unwrap_or_else(|| format!("http://{listen}")),
                ),
                smtp_url: mail.smtp_url,
                mail_from: mail.mail_from,
                avatar_max_bytes,
                file_max_bytes,
                offline_grace: std::time::Duration::from_secs(offline_grace_seconds),
                stream_ping: std::time::Duration::from_secs(stream_ping_seconds),
                pace: ClientPace::with_window(
                    std::time::Duration::from_secs(header_timeout_seconds),
                    std::time::Duration::from_secs(body_window_seconds),
                ),
                trusted_proxies,
                status_webhook,
                ..storage.config()
            };
            let state = AppState::open(config).await?;
            // Every agent's event stream holds a connection all day: a service's default
            // of 1 024 open files would refuse connections long before anything else ran
            // short. The hard limit is the system's to set.
            #[cfg(unix)]
            match rlimit::increase_nofile_limit(u64::MAX) {
                Ok(limit) => tracing::debug!(limit, "open files"),
                Err(error) => tracing::warn!(%error, "could not raise the open-files limit"),
            }
            let listener = tokio::net::TcpListener::bind(listen).await?;
            if let Some(rt) = rt {
                let url = rt.url.clone();
                agent_desk_server::helpdesk::follow(
                    rt,
                    state.db.clone(),
                    std::sync::Arc::clone(&state.hub),
                )
                .await
                .map_err(|error| anyhow::anyhow!("Request Tracker at {url}: {error}"))?;
            }
            tracing::info!(address = %listener.local_addr()?, "serving");
            agent_desk_server::serve(listener, state, shutdown_signal()).await?;
        }
        Command::AddAgent {
            email,
            name,
            password,
            admin,
            storage,
        } => {
            let state = AppState::open(storage.config()).await?;
            let new = NewAgent {
                email: &email,
                display_name: &name,
                password: &password,
                is_admin: admin,
            };
            match agents::create(&state.db, new, chrono::Utc::now()).await {
                Ok(profile) => println!("created agent {} ({})", profile.email, profile.id),
                Err(error @ AgentError::EmailTaken(_)) => anyhow::bail!(error),
                Err(error) => return Err(error.into()),
            }
        }
        Command::AddHook {
            source,
            grace_hours,
            storage,
        } => {
            let source = hooks::Source::parse(&source)
                .ok_or_else(|| anyhow::anyhow!("{source} is not zendesk, freshdesk or generic"))?;
            let given = if source.secret_is_the_helpdesks() {
                eprintln!(
                    "Paste Zendesk's signing secret for the webhook (Admin Center > Apps and integrations > Webhooks > the webhook > Reveal secret), then press Enter:"
                );
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                Some(line)
            } else {
                None
            };
            let state = AppState::open(storage.config()).await?;
            let saved = hooks::add_secret(
                &state.db,
                source,
                given,
                chrono::TimeDelta::hours(i64::from(grace_hours)),
                None,
                chrono::Utc::now(),
            )
            .await?;
            match saved.previous_until {
                Some(until) => println!(
                    "{}: new secret saved; the previous one is accepted until {}",
                    source.as_str(),
                    until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                None => println!("{}: secret saved", source.as_str()),
            }
            if !source.secret_is_the_helpdesks() {
                println!("The secret, shown this once (see docs/API.md for where it goes):");
                println!("{}", saved.secret);
            }
        }
        Command::AddIntegration {
            name,
            scope,
            storage,
        } => {
            let scopes = integration_tokens::parse_scopes(&scope)?;
            let state = AppState::open(storage.config()).await?;
            let token =
                integration_tokens::create(&state.db, &name, &scopes, None, chrono::Utc::now())
                    .await?
                    .token;
            println!(
                "integration {} may {}; its token, shown this once:",
                name.trim(),
                scopes
                    .iter()
                    .map(|scope| scope.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            println!("{token}");
        }
        Command::RevokeIntegration { name, storage } => {
            let state = AppState::open(storage.config()).await?;
            integration_tokens::revoke(&state.db, &name, chrono::Utc::now()).await?;
            println!("integration {}: token revoked", name.trim());
        }
        Command::AddTeam {
            name,
            leads,
            members,
            storage,
        } => {
            let state = AppState::open(storage.config()).await?;
            let id = teams::create(&state.db, &name, &leads, &members, chrono::Utc::now()).await?;
            println!("created team {} ({id})", name.trim());
        }
        Command::Simulate {
            server,
            rate,
            to,
            count,
            admin_email,
            admin_password,
        } => {
            let (demo_agent, _, _, _) = agent_desk_server::DEMO_ACCOUNTS[0];
            let (demo_admin, _, demo_admin_password, _) = agent_desk_server::DEMO_ACCOUNTS[1];
            simulate::run(simulate::Simulation {
                server,
                admin_email: admin_email.unwrap_or_else(|| demo_admin.to_owned()),
                admin_password: admin_password.unwrap_or_else(|| demo_admin_password.to_owned()),
                to: agent_desk_core::EventTarget::Agent(
                    to.unwrap_or_else(|| demo_agent.to_owned()),
                ),
                per_minute: rate,
                count,
            })
            .await?;
        }
        Command::SeedLoad {
            agents: count,
            password,
            tokens_file,
            storage,
        } => {
            let state = AppState::open(storage.config()).await?;
            let tokens = agents::seed_load(&state.db, count, &password, chrono::Utc::now()).await?;
            write_private(&tokens_file, tokens.join("\n").as_bytes())?;
            println!(
                "{count} load-test agents, tokens in {}",
                tokens_file.display()
            );
        }
        Command::SeedPeople {
            people,
            notes,
            storage,
        } => {
            let state = AppState::open(storage.config()).await?;
            let started = std::time::Instant::now();
            let seeded =
                agent_desk_server::seed_people::seed(&state.db, people, notes, chrono::Utc::now())
                    .await?;
            println!(
                "{} people and {} notes in {:.1} s; {} has {} notes",
                seeded.people,
                seeded.notes,
                started.elapsed().as_secs_f64(),
                seeded.heavy_person_id,
                agent_desk_server::seed_people::HEAVY_NOTES
            );
        }
        Command::WithdrawRelease {
            release:
                ReleaseOf {
                    version,
                    target,
                    arch,
                },
            bundle_type,
            storage,
        } => {
            let state = AppState::open(storage.config()).await?;
            let withdrawn = agent_desk_server::releases::withdraw(
                &state.db,
                &state.config.release_dir(),
                &version,
                &target,
                &arch,
                bundle_type.as_deref(),
            )
            .await?;
            if withdrawn.is_empty() {
                anyhow::bail!("no release {version} for {target} {arch} is published");
            }
            for release in withdrawn {
                println!(
                    "withdrew {} {} for {} {} ({})",
                    release.file_name,
                    release.version,
                    release.target,
                    release.arch,
                    release.bundle_type
                );
            }
        }
        Command::PublishRelease {
            release:
                ReleaseOf {
                    version,
                    target,
                    arch,
                },
            file,
            signature,
            notes,
            storage,
        } => {
            let state = AppState::open(storage.config()).await?;
            let release = agent_desk_server::releases::publish(
                &state.db,
                &state.config.release_dir(),
                &agent_desk_server::releases::Publish {
                    version: &version,
                    target: &target,
                    arch: &arch,
                    file: &file,
                    signature_file: &signature,
                    notes: notes.as_deref(),
                },
                chrono::Utc::now(),
            )
            .await?;
            println!(
                "published {} {} for {} {} ({}, {} bytes, sha256 {})",
                release.file_name,
                release.version,
                release.target,
                release.arch,
                release.bundle_type,
                release.size,
                release.sha256
            );
        }
        Command::Migrate { storage } => {
            let config = storage.config();
            // SQLite's file is made in the data folder, which may not exist yet.
            std::fs::create_dir_all(&config.data_dir)?;
            let db = agent_desk_server::storage::Db::connect(&config.database_url(), 1).await?;
            db.close().await;
            println!("the database's tables are up to date");
        }
        Command::SeedDemo { storage } => {
            let state = AppState::open(storage.config()).await?;
            let created = agent_desk_server::demo::seed_demo(&state.db, chrono::Utc::now()).await?;
            for (email, name, password, admin) in agent_desk_server::DEMO_ACCOUNTS {
                let role = if *admin { "admin" } else { "agent" };
                let state = if created.iter().any(|c| c.0 == *email) {
                    "created"
                } else {
                    "exists"
                };
                println!("{role:5}  {email}  password: {password}  ({name}, {state})");
            }
        }
    }
    Ok(())
}

/// Writes a file only its owner can read: it holds bearer tokens.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

/// Reset links carry a secret: say so when they would be unusable or sent in the clear.
fn warn_about_reset_links(listen: SocketAddr, public_url: Option<&str>) {
    match public_url {
        None if listen.ip().is_unspecified() => tracing::warn!(
            "listening on {listen} without --public-url: password-reset links would point at \
             an unspecified address; set --public-url to the address agents use"
        ),
        None if !listen.ip().is_loopback() => tracing::warn!(
            "password-reset links will use plain http://{listen}; put the server behind TLS \
             and set --public-url https://…"
        ),
        Some(url) if url.starts_with("http://") && !is_loopback_url(url) => tracing::warn!(
            "--public-url {url} is not https: password-reset links would travel unencrypted"
        ),
        _ => {}
    }
}

fn is_loopback_url(url: &str) -> bool {
    let host = url
        .trim_start_matches("http://")
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => return interrupt.await.unwrap_or(()),
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    interrupt.await.unwrap_or(());
}

/// An address (a network of one) or a network in CIDR notation.
fn parse_network(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is not an address or a network such as 10.0.0.0/24"))
}

/// An `http` or `https` address.
fn parse_web_address(text: &str) -> Result<String, String> {
    match url::Url::parse(text.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(url.to_string())
        }
        _ => Err(format!("{text:?} is not an http or https address")),
    }
}

//! The pieces an end-to-end test runs for real, each private to the test and stopped
//! when it ends: an X display (Xvfb), a D-Bus session bus with an unlocked keyring,
//! the team server on a free port with the demo accounts, and tauri-driver.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

pub mod notifications;
pub mod switch;
pub mod x11;

pub const DEMO_EMAIL: &str = "demo@agentdesk.example";
pub const DEMO_ADMIN_EMAIL: &str = "admin@agentdesk.example";
pub const DEMO_ADMIN_PASSWORD: &str = "Demo-admin-2026!";
pub const DEMO_PASSWORD: &str = "Demo-agent-2026!";
const WAIT: Duration = Duration::from_secs(30);

/// Where cargo put the workspace's binaries (`target/debug`).
pub fn binary_dir() -> Result<PathBuf> {
    let test_exe = std::env::current_exe()?;
    // target/debug/deps/<test> → target/debug
    test_exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .context("cannot locate the target directory")
}

pub fn binary(name: &str) -> Result<PathBuf> {
    let path = binary_dir()?.join(name);
    if !path.exists() {
        bail!(
            "{} is missing: build it first (`make test` does)",
            path.display()
        );
    }
    Ok(path)
}

pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_for_port(port: u16, what: &str) -> Result<()> {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if start.elapsed() > WAIT {
            bail!("{what} did not listen on port {port}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// A child process that is killed when dropped.
struct Owned(Child);

impl Drop for Owned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The team server alone, seeded with the demo accounts, on a free port; it can be
/// killed and started again on the same port and data.
pub struct TeamServer {
    child: Option<Owned>,
    pub data_dir: PathBuf,
    pub port: u16,
    pub url: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// The database every command of it uses; SQLite in `data_dir` when None.
    database: Option<String>,
    _root: tempfile::TempDir,
}

impl TeamServer {
    pub fn start() -> Result<Self> {
        Self::start_with(&[], &[])
    }

    /// With more arguments and environment for `serve` (a helpdesk to follow).
    pub fn start_with(args: &[String], env: &[(String, String)]) -> Result<Self> {
        Self::start_on(None, args, env)
    }

    /// On the database at `database` (`postgres://…`), or SQLite when None.
    pub fn start_on(
        database: Option<String>,
        args: &[String],
        env: &[(String, String)],
    ) -> Result<Self> {
        let mut server = Self::not_started(database, args, env)?;
        server.command(&["seed-demo"])?;
        server.restart()?;
        Ok(server)
    }

    /// A server on `database` with a port and data folder of its own, not running yet.
    fn not_started(
        database: Option<String>,
        args: &[String],
        env: &[(String, String)],
    ) -> Result<Self> {
        let root = tempfile::Builder::new()
            .prefix("agent-desk-server-")
            .tempdir()?;
        let port = free_port()?;
        Ok(TeamServer {
            child: None,
            data_dir: root.path().join("server"),
            port,
            url: format!("http://127.0.0.1:{port}"),
            args: args.to_vec(),
            env: env.to_vec(),
            database,
            _root: root,
        })
    }

    /// Another instance of this server on the same PostgreSQL database, with a port and
    /// data folder of its own. Nothing is seeded: the accounts are the database's.
    pub fn another_instance(&self) -> Result<Self> {
        let database = self
            .database
            .clone()
            .context("only a server on PostgreSQL can have other instances")?;
        let mut server = Self::not_started(Some(database), &self.args, &self.env)?;
        server.restart()?;
        Ok(server)
    }

    /// Kills the server at once, as a crash would: no graceful shutdown.
    pub fn kill(&mut self) {
        self.child = None;
    }

    /// Starts it (again) on the same port and data.
    pub fn restart(&mut self) -> Result<()> {
        self.child = None;
        let child = self
            .server_command()?
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{}", self.port),
                "--data-dir",
            ])
            .arg(&self.data_dir)
            .args(&self.args)
            .envs(self.env.iter().cloned())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(Owned(child));
        wait_for_port(self.port, "agent-desk-server")
    }

    /// The server's program, on this server's database.
    fn server_command(&self) -> Result<Command> {
        let mut command = Command::new(binary("agent-desk-server")?);
        match &self.database {
            Some(url) => command.env("AGENT_DESK_DATABASE", url),
            None => command.env_remove("AGENT_DESK_DATABASE"),
        };
        Ok(command)
    }

    /// The running server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|child| child.0.id())
    }

    /// Creates `count` load-test agents with a session each; returns their tokens.
    pub fn seed_load(&self, count: u32) -> Result<Vec<String>> {
        let tokens_file = self.data_dir.join("load-tokens.txt");
        let output = self
            .server_command()?
            .args(["seed-load", "--agents", &count.to_string(), "--tokens-file"])
            .arg(&tokens_file)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .output()?;
        if !output.status.success() {
            bail!(
                "seed-load failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(std::fs::read_to_string(&tokens_file)?
            .lines()
            .map(str::to_owned)
            .collect())
    }

    /// Runs one of the server's commands on its data (`add-hook`, `add-integration`);
    /// returns what it printed.
    pub fn command(&self, args: &[&str]) -> Result<String> {
        let output = self
            .server_command()?
            .args(args)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .stdin(Stdio::null())
            .output()?;
        if !output.status.success() {
            bail!(
                "{} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Signs in through the API and returns the token.
    pub async fn token(&self, email: &str, password: &str) -> Result<String> {
        match api_login(&self.url, email, password).await? {
            (200, Some(token)) => Ok(token),
            (status, _) => bail!("signing in as {email} answered {status}"),
        }
    }

    /// Posts an event as the demo admin; returns its seq.
    pub async fn post_event(&self, admin_token: &str, event: &serde_json::Value) -> Result<i64> {
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/api/v1/admin/events", self.url))
            .bearer_auth(admin_token)
            .json(event)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        answer["seq"]
            .as_i64()
            .with_context(|| format!("no seq in {answer}"))
    }
}

/// Creates the demo accounts in a server data folder.
fn seed_demo(data_dir: &Path) -> Result<()> {
    let seeded = Command::new(binary("agent-desk-server")?)
        .args(["seed-demo", "--data-dir"])
        .arg(data_dir)
        .output()?;
    if !seeded.status.success() {
        bail!(
            "seed-demo failed: {}",
            String::from_utf8_lossy(&seeded.stderr)
        );
    }
    Ok(())
}

/// An event for the demo agent.
pub fn ticket_event(title: &str, priority: &str) -> serde_json::Value {
    json!({
        "type": "ticket.assigned",
        "to": {"agent": DEMO_EMAIL},
        "priority": priority,
        "title": title,
        "body": "Printer on fire",
        "ticket_id": "4711",
        "url": format!("https://desk.example/tickets/{}", title.replace(' ', "-")),
    })
}

/// Everything one test needs, torn down in reverse order on drop.
pub struct Desktop {
    // Field order is drop order: the driver (and the app) go first, the display last.
    driver: Option<Owned>,
    /// A private sound server with a test speaker and microphone (see `agent_desk_audio::testing`).
    pub pulse: agent_desk_audio::testing::PrivatePulse,
    /// The team server; stopped and started again by [`Desktop::stop_server`] and
    /// [`Desktop::start_server`].
    server: Option<Owned>,
    server_command: Vec<std::ffi::OsString>,
    server_env: Vec<(String, String)>,
    server_port: u16,
    _keyring: Owned,
    _bus: Owned,
    _display: Owned,
    pub root: tempfile::TempDir,
    pub server_url: String,
    driver_port: u16,
    env: Vec<(String, String)>,
}

impl Desktop {
    pub fn start() -> Result<Self> {
        Self::start_with_server(&[], &[])
    }

    /// With the server started with more arguments and environment (a helpdesk to follow).
    pub fn start_with_server(
        server_args: &[String],
        server_env: &[(String, String)],
    ) -> Result<Self> {
        let root = tempfile::Builder::new()
            .prefix("agent-desk-e2e-")
            .tempdir()?;
        let home = root.path().join("home");
        let runtime = root.path().join("xdg-runtime");
        for dir in [&home, &runtime] {
            std::fs::create_dir_all(dir)?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700))?;
        }

        let (display_number, display) = start_display()?;
        let mut env: Vec<(String, String)> = vec![
            ("DISPLAY".into(), format!(":{display_number}")),
            ("HOME".into(), home.display().to_string()),
            ("XDG_RUNTIME_DIR".into(), runtime.display().to_string()),
            (
                "XDG_CONFIG_HOME".into(),
                home.join(".config").display().to_string(),
            ),
            (
                "XDG_DATA_HOME".into(),
                home.join(".local/share").display().to_string(),
            ),
            (
                "XDG_CACHE_HOME".into(),
                home.join(".cache").display().to_string(),
            ),
            ("NO_AT_BRIDGE".into(), "1".into()),
            ("WEBKIT_DISABLE_COMPOSITING_MODE".into(), "1".into()),
        ];

        let pulse = agent_desk_audio::testing::PrivatePulse::start(&root.path().join("pulse"))
            .context("a private PulseAudio (packages pulseaudio, pulseaudio-utils) is needed")?;
        env.extend(
            pulse
                .env()
                .into_iter()
                .filter(|(key, _)| key.starts_with("PULSE_")),
        );

        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .envs(env.iter().cloned())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("dbus-daemon (package dbus) is needed")?;
        let mut address = String::new();
        BufReader::new(bus.stdout.take().context("bus stdout")?).read_line(&mut address)?;
        let bus = Owned(bus);
        env.push(("DBUS_SESSION_BUS_ADDRESS".into(), address.trim().to_owned()));

        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .envs(env.iter().cloned())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("gnome-keyring-daemon (package gnome-keyring) is needed")?;
        if let Some(mut stdin) = keyring.stdin.take() {
            stdin.write_all(b"e2e-keyring-password")?;
        }
        let keyring = Owned(keyring);
        wait_for_bus_name(&env, "org.freedesktop.secrets")?;

        let data_dir = root.path().join("server");
        seed_demo(&data_dir)?;
        let port = free_port()?;
        let mut server_command: Vec<std::ffi::OsString> = vec![
            binary("agent-desk-server")?.into(),
            "serve".into(),
            "--listen".into(),
            format!("127.0.0.1:{port}").into(),
            "--data-dir".into(),
            data_dir.clone().into(),
        ];
        server_command.extend(server_args.iter().map(Into::into));
        let server = spawn_server(&server_command, server_env, root.path())?;
        wait_for_port(port, "agent-desk-server")?;

        let mut desktop = Desktop {
            driver: None,
            pulse,
            server: Some(server),
            server_command,
            server_env: server_env.to_vec(),
            server_port: port,
            _keyring: keyring,
            _bus: bus,
            _display: display,
            root,
            server_url: format!("http://127.0.0.1:{port}"),
            driver_port: 0,
            env,
        };
        desktop.start_driver()?;
        Ok(desktop)
    }

    /// Kills this desktop's app at once (SIGKILL), as a crash or a power cut would end it:
    /// the `agent-desk` process whose home is this desktop's (tests run side by side).
    pub fn kill_app(&self) -> Result<()> {
        let home = format!("HOME={}", self.home().display());
        let mut killed = 0;
        for entry in std::fs::read_dir("/proc")?.flatten() {
            let path = entry.path();
            let is_app = std::fs::read_link(path.join("exe"))
                .is_ok_and(|exe| exe.file_name().is_some_and(|name| name == "agent-desk"));
            let environ = std::fs::read(path.join("environ")).unwrap_or_default();
            let ours = environ
                .split(|byte| *byte == 0)
                .any(|variable| variable == home.as_bytes());
            if is_app && ours {
                let pid = entry.file_name().to_string_lossy().into_owned();
                let status = Command::new("kill").args(["-KILL", &pid]).status()?;
                ensure!(status.success(), "kill -KILL {pid}");
                killed += 1;
            }
        }
        ensure!(killed > 0, "this desktop's app is not running");
        Ok(())
    }

    /// Kills the team server at once, as a crash or a network gone would seem to the app.
    pub fn stop_server(&mut self) {
        self.server = None;
    }

    /// Starts the team server again on the same port and data.
    pub fn start_server(&mut self) -> Result<()> {
        self.server = None;
        self.server = Some(spawn_server(
            &self.server_command,
            &self.server_env,
            self.root.path(),
        )?);
        wait_for_port(self.server_port, "agent-desk-server")
    }

    fn start_driver(&mut self) -> Result<()> {
        let port = free_port()?;
        let native_port = free_port()?;
        let driver = Command::new(tauri_driver()?)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .envs(self.env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("tauri-driver is needed (`cargo install tauri-driver --locked`)")?;
        self.driver = Some(Owned(driver));
        self.driver_port = port;
        wait_for_port(port, "tauri-driver")?;
        // tauri-driver listens before the WebKitWebDriver it starts does, and drops a new
        // session's request it cannot pass on.
        wait_for_port(native_port, "WebKitWebDriver")
    }

    /// The environment the app runs in: its display, home, session bus and sound server.
    pub fn app_env(&self) -> &[(String, String)] {
        &self.env
    }

    /// The app's home folder.
    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// The app's X display, such as `:99`.
    pub fn display(&self) -> &str {
        self.env
            .iter()
            .find(|(key, _)| key == "DISPLAY")
            .map_or("", |(_, value)| value.as_str())
    }

    /// Starts the app once more, outside WebDriver, as a second click on its icon does,
    /// and waits for it: it hands over to the running one and exits.
    pub fn launch_again(&self, args: &[&str]) -> Result<()> {
        let status = Command::new(binary("agent-desk")?)
            .args(args)
            .envs(self.env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        ensure!(status.success(), "the second launch ended with {status}");
        Ok(())
    }

    /// The app's session bus, where a notification server for it is to own its name.
    pub fn bus_address(&self) -> Option<&str> {
        self.env
            .iter()
            .find(|(key, _)| key == "DBUS_SESSION_BUS_ADDRESS")
            .map(|(_, value)| value.as_str())
    }

    /// The server's log.
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("server.log")).unwrap_or_default()
    }

    /// The tauri-driver process; the app and its WebKit processes run below it.
    pub fn driver_pid(&self) -> Option<u32> {
        self.driver.as_ref().map(|driver| driver.0.id())
    }

    /// Launches the app and opens a WebDriver session on its window.
    pub async fn launch_app(&self) -> Result<Client> {
        self.launch(&binary("agent-desk")?).await
    }

    /// Launches any Tauri binary (the bench's bare window too) under WebDriver.
    pub async fn launch(&self, application: &Path) -> Result<Client> {
        self.launch_with_args(application, &[]).await
    }

    /// Launches a Tauri binary with command-line arguments under WebDriver.
    pub async fn launch_with_args(&self, application: &Path, args: &[&str]) -> Result<Client> {
        // reqwest and tokio-tungstenite both bring rustls; pick one crypto provider for the process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "tauri:options".into(),
            json!({ "application": application.display().to_string(), "args": args }),
        );
        // tauri-driver listens on loopback over plain HTTP: no TLS stack for WebDriver.
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.driver_port))
            .await
            .context("WebDriver session")?;
        // Sent anywhere but alwaysMatch, WebKitWebDriver starts its own browser instead.
        let browser = client
            .capabilities()
            .and_then(|caps| caps.get("browserName"))
            .and_then(|name| name.as_str())
            .unwrap_or_default()
            .to_owned();
        if browser != "wry" {
            bail!("the session drives {browser:?}, not the app (wry)");
        }
        Ok(client)
    }

    /// Where tests keep screenshots: `tests/artifacts`.
    pub fn artifacts_dir() -> Result<PathBuf> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts");
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }
}

fn tauri_driver() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("TAURI_DRIVER") {
        return Ok(path.into());
    }
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .map(|dir| dir.join("bin/tauri-driver"));
    Ok(cargo_bin
        .filter(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("tauri-driver")))
}

/// A private X display (Xvfb), stopped when dropped.
/// The team server as `command` says, its log appended to `root`/server.log.
fn spawn_server(
    command: &[std::ffi::OsString],
    env: &[(String, String)],
    root: &Path,
) -> Result<Owned> {
    let (program, args) = command.split_first().context("the server's command")?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(root.join("server.log"))?;
    Ok(Owned(
        Command::new(program)
            .args(args)
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?,
    ))
}

pub struct VirtualDisplay {
    pub number: u32,
    _xvfb: Owned,
}

impl VirtualDisplay {
    pub fn start() -> Result<Self> {
        let (number, xvfb) = start_display()?;
        Ok(Self {
            number,
            _xvfb: xvfb,
        })
    }

    /// The `DISPLAY` value.
    pub fn name(&self) -> String {
        format!(":{}", self.number)
    }
}

fn start_display() -> Result<(u32, Owned)> {
    // Xvfb picks a free display itself and writes its number to the given fd.
    let mut child = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x800x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("Xvfb (package xvfb) is needed")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("Xvfb stdout")?).read_line(&mut line)?;
    let number = line
        .trim()
        .parse()
        .with_context(|| format!("Xvfb said {line:?}"))?;
    Ok((number, Owned(child)))
}

fn wait_for_bus_name(env: &[(String, String)], name: &str) -> Result<()> {
    let start = Instant::now();
    loop {
        let listed = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.ListNames",
            ])
            .envs(env.iter().cloned())
            .output()?;
        if String::from_utf8_lossy(&listed.stdout).contains(name) {
            return Ok(());
        }
        if start.elapsed() > WAIT {
            bail!("{name} did not appear on the test bus");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits for an element to exist.
pub async fn wait_for(client: &Client, css: &str) -> Result<fantoccini::elements::Element> {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .with_context(|| format!("waiting for {css}"))
}

/// Waits until an element's text contains `needle`.
pub async fn wait_for_text(client: &Client, css: &str, needle: &str) -> Result<String> {
    let start = Instant::now();
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            let text = element.text().await.unwrap_or_default();
            if text.contains(needle) {
                return Ok(text);
            }
            if start.elapsed() > WAIT {
                bail!("{css} says {text:?}, never {needle:?}");
            }
        } else if start.elapsed() > WAIT {
            bail!("{css} never appeared");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The demo agent's status as the server has it.
pub async fn server_status(server_url: &str) -> Result<String> {
    let (profile, _) = api_profile(server_url).await?;
    Ok(profile["status"].as_str().unwrap_or_default().to_owned())
}

/// Waits until the server has the demo agent as `wanted`.
pub async fn wait_for_server_status(server_url: &str, wanted: &str) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let status = server_status(server_url).await?;
        if status == wanted {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the server has the agent as {status}, not {wanted}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Replaces an input's content the way a person does: select all, type over it.
pub async fn replace_text(client: &Client, css: &str, text: &str) -> Result<()> {
    let input = wait_for(client, css).await?;
    input.click().await?;
    // Ctrl+A, then release the modifier (Null), then delete the selection.
    let select_all = format!("{}{}", Key::Control + "a", char::from(Key::Null));
    input.send_keys(&select_all).await?;
    input
        .send_keys(&char::from(Key::Backspace).to_string())
        .await?;
    input.send_keys(text).await?;
    Ok(())
}

/// The value of an input.
pub async fn value_of(client: &Client, css: &str) -> Result<String> {
    Ok(wait_for(client, css)
        .await?
        .prop("value")
        .await?
        .unwrap_or_default())
}

/// Signs in to the demo agent's profile through the server's own API.
pub async fn api_profile(server_url: &str) -> Result<(serde_json::Value, String)> {
    let token = api_token(server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;
    let (profile, etag) = api_get(server_url, &token, "/api/v1/me").await?;
    Ok((profile, etag.unwrap_or_default()))
}

/// A bearer token for this agent, through the server's API.
pub async fn api_token(server_url: &str, email: &str, password: &str) -> Result<String> {
    let (status, token) = api_login(server_url, email, password).await?;
    ensure!(status == 200, "{email} cannot sign in ({status})");
    token.context("a token")
}

/// `GET path` through the server's API as `token`: the JSON answer and its ETag, if any.
pub async fn api_get(
    server_url: &str,
    token: &str,
    path: &str,
) -> Result<(serde_json::Value, Option<String>)> {
    let response = reqwest::Client::new()
        .get(format!("{server_url}{path}"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?;
    let etag = response
        .headers()
        .get("etag")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    Ok((response.json().await?, etag))
}

/// Signs in through the app's sign-in screen and waits for the Profile screen.
pub async fn sign_in(client: &Client, server_url: &str, email: &str, password: &str) -> Result<()> {
    replace_text(client, "#server-url", server_url).await?;
    replace_text(client, "#email", email).await?;
    replace_text(client, "#password", password).await?;
    wait_for(client, "button[type=submit]")
        .await?
        .click()
        .await?;
    wait_for_text(client, "#profile-title", "Your profile").await?;
    Ok(())
}

/// Answers the status of a sign-in through the server's API, and the token when it worked.
pub async fn api_login(
    server_url: &str,
    email: &str,
    password: &str,
) -> Result<(u16, Option<String>)> {
    let response = reqwest::Client::new()
        .post(format!("{server_url}/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await?;
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await?;
    Ok((status, body["token"].as_str().map(str::to_owned)))
}

/// Every file below `root`, skipping `skip` (relative paths).
pub fn files_below(root: &Path, skip: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if skip
                .iter()
                .any(|s| path.strip_prefix(root).is_ok_and(|rel| rel.starts_with(s)))
            {
                continue;
            }
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(path),
                Ok(kind) if kind.is_file() => found.push(path),
                _ => {}
            }
        }
    }
    found
}

/// Every run of exactly 43 URL-safe base64 characters in `bytes`: the shape of a session
/// token. Found in UTF-8/ASCII and in UTF-16 (as WebKit's storage may keep strings).
pub fn token_shaped_strings(bytes: &[u8]) -> Vec<String> {
    let is_token_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let utf16: Vec<u8> = bytes
        .chunks_exact(2)
        .filter_map(|pair| (pair[1] == 0).then_some(pair[0]))
        .collect();
    let mut found = Vec::new();
    for text in [bytes, utf16.as_slice()] {
        for run in text.split(|b| !is_token_byte(*b)) {
            if run.len() == 43 {
                found.push(String::from_utf8_lossy(run).into_owned());
            }
        }
    }
    found
}

/// The files below `root` holding a token the server accepts, and how many files were read.
pub async fn files_with_live_tokens(
    root: &Path,
    skip: &[&str],
    server_url: &str,
) -> Result<(Vec<PathBuf>, usize)> {
    let http = reqwest::Client::new();
    let files = files_below(root, skip);
    let mut leaking = Vec::new();
    for file in &files {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        let mut candidates = token_shaped_strings(&bytes);
        candidates.sort();
        candidates.dedup();
        for candidate in candidates {
            let status = http
                .get(format!("{server_url}/api/v1/me"))
                .bearer_auth(&candidate)
                .send()
                .await?
                .status();
            if status.is_success() {
                leaking.push(file.clone());
                break;
            }
        }
    }
    Ok((leaking, files.len()))
}

/// The link of the newest password-reset mail in `outbox`, once one arrives.
pub async fn wait_for_reset_link(outbox: &Path, after: usize) -> Result<String> {
    let start = Instant::now();
    loop {
        let mut mails: Vec<PathBuf> = std::fs::read_dir(outbox)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|entry| entry.path())
                    .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        mails.sort();
        if mails.len() > after {
            let mail = std::fs::read_to_string(mails.last().context("a mail")?)?;
            let link = mail
                .lines()
                .find(|line| line.contains("/reset?token="))
                .with_context(|| format!("no reset link in the mail:\n{mail}"))?;
            return Ok(link.trim().to_owned());
        }
        if start.elapsed() > WAIT {
            bail!("no reset mail arrived in {}", outbox.display());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves a screenshot of the window to `tests/artifacts/<name>`. Bounded in time: WebDriver
/// has no timeout of its own, and a screenshot that never comes must fail, not hang.
pub async fn save_screenshot(client: &Client, name: &str) -> Result<()> {
    let png = tokio::time::timeout(WAIT, client.screenshot())
        .await
        .with_context(|| format!("the screenshot {name} never came"))??;
    std::fs::write(Desktop::artifacts_dir()?.join(name), png)?;
    Ok(())
}

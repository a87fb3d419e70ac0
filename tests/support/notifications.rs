//! A private D-Bus session bus and a notification server on it that records every
//! `Notify` call and can click a notification's action, as TESTING.md describes; and
//! the real daemon (dunst) for a smoke test.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use zbus::object_server::SignalEmitter;
use zbus::zvariant::OwnedValue;

/// A session bus of its own, with no service directories, so nothing auto-starts on it.
pub struct PrivateBus {
    pub address: String,
    child: Child,
}

impl PrivateBus {
    pub fn start(dir: &Path) -> Result<Self> {
        Self::start_with_env(dir, &[])
    }

    /// `env` for the bus itself, e.g. `DISPLAY` for a daemon it would start.
    pub fn start_with_env(dir: &Path, env: &[(&str, &str)]) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let config = dir.join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                dir.display()
            ),
        )?;
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("dbus-daemon (package dbus) is needed")?;
        let mut address = String::new();
        BufReader::new(child.stdout.take().context("bus stdout")?).read_line(&mut address)?;
        if address.trim().is_empty() {
            bail!("dbus-daemon printed no address");
        }
        Ok(Self {
            address: address.trim().to_owned(),
            child,
        })
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One `Notify` call as the server received it.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyCall {
    pub id: u32,
    pub app_name: String,
    pub replaces_id: u32,
    pub icon: String,
    pub summary: String,
    pub body: String,
    pub actions: Vec<String>,
    /// The `urgency` hint: 0 low, 1 normal, 2 critical.
    pub urgency: Option<u8>,
    pub at: Instant,
}

#[derive(Default)]
struct Recorded {
    calls: Vec<NotifyCall>,
    next_id: u32,
    /// `GetCapabilities` calls answered.
    capabilities_asked: usize,
}

struct FakeNotifications {
    recorded: Arc<Mutex<Recorded>>,
    /// Never answer `Notify` or `GetCapabilities`, like a hung daemon.
    hang: bool,
    /// Advertise `body-markup`, like dunst, GNOME Shell or Plasma.
    markup: bool,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl FakeNotifications {
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        app_name: String,
        replaces_id: u32,
        app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        if self.hang {
            std::future::pending::<()>().await;
        }
        let urgency = hints
            .get("urgency")
            .and_then(|value| u8::try_from(value).ok());
        let mut recorded = self.recorded.lock().expect("recorded");
        let id = if replaces_id != 0 {
            replaces_id
        } else {
            recorded.next_id += 1;
            recorded.next_id
        };
        recorded.calls.push(NotifyCall {
            id,
            app_name,
            replaces_id,
            icon: app_icon,
            summary,
            body,
            actions,
            urgency,
            at: Instant::now(),
        });
        id
    }

    async fn close_notification(&self, _id: u32) {}

    async fn get_capabilities(&self) -> Vec<String> {
        if self.hang {
            std::future::pending::<()>().await;
        }
        self.recorded.lock().expect("recorded").capabilities_asked += 1;
        let mut capabilities = vec!["actions".to_owned(), "body".to_owned()];
        if self.markup {
            capabilities.push("body-markup".into());
        }
        capabilities
    }

    async fn get_server_information(&self) -> (String, String, String, String) {
        (
            "fake-notifications".into(),
            "agent-desk tests".into(),
            "1.0".into(),
            "1.2".into(),
        )
    }

    #[zbus(signal)]
    async fn action_invoked(
        emitter: &SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn notification_closed(
        emitter: &SignalEmitter<'_>,
        id: u32,
        reason: u32,
    ) -> zbus::Result<()>;
}

const PATH: &str = "/org/freedesktop/Notifications";

/// The recording notification server, owning `org.freedesktop.Notifications`.
pub struct FakeNotificationServer {
    recorded: Arc<Mutex<Recorded>>,
    connection: zbus::Connection,
}

impl FakeNotificationServer {
    pub async fn start(bus: &PrivateBus) -> Result<Self> {
        Self::start_with(bus, false, false).await
    }

    /// Also advertises the `body-markup` capability: it would render tags in bodies.
    pub async fn start_with_markup(bus: &PrivateBus) -> Result<Self> {
        Self::start_with(bus, false, true).await
    }

    /// Owns the name but never answers a `Notify` or `GetCapabilities`.
    pub async fn start_hung(bus: &PrivateBus) -> Result<Self> {
        Self::start_with(bus, true, false).await
    }

    /// On a bus of someone else's (the app's, under `Desktop`).
    pub async fn start_at(address: &str) -> Result<Self> {
        Self::start_on(address, false, false).await
    }

    async fn start_with(bus: &PrivateBus, hang: bool, markup: bool) -> Result<Self> {
        Self::start_on(&bus.address, hang, markup).await
    }

    async fn start_on(address: &str, hang: bool, markup: bool) -> Result<Self> {
        let recorded = Arc::new(Mutex::new(Recorded::default()));
        let connection = zbus::connection::Builder::address(address)?
            .name("org.freedesktop.Notifications")?
            .serve_at(
                PATH,
                FakeNotifications {
                    recorded: Arc::clone(&recorded),
                    hang,
                    markup,
                },
            )?
            .build()
            .await?;
        Ok(Self {
            recorded,
            connection,
        })
    }

    pub fn calls(&self) -> Vec<NotifyCall> {
        self.recorded.lock().expect("recorded").calls.clone()
    }

    /// How many times a client asked for the capabilities.
    pub fn capabilities_asked(&self) -> usize {
        self.recorded.lock().expect("recorded").capabilities_asked
    }

    pub fn clear(&self) {
        self.recorded.lock().expect("recorded").calls.clear();
    }

    /// Waits until at least `count` calls arrived, or `limit` passed; returns them all.
    pub async fn wait_for_calls(&self, count: usize, limit: Duration) -> Vec<NotifyCall> {
        let deadline = Instant::now() + limit;
        loop {
            let calls = self.calls();
            if calls.len() >= count || Instant::now() >= deadline {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Clicks an action of a notification: the signal is sent every 50 ms until `done`
    /// says the client reacted, because the client subscribes only after `Notify`
    /// returned.
    pub async fn invoke_action(
        &self,
        id: u32,
        action: &str,
        done: impl Fn() -> bool,
        limit: Duration,
    ) -> Result<()> {
        let emitter = SignalEmitter::new(&self.connection, PATH)?;
        let deadline = Instant::now() + limit;
        while !done() {
            if Instant::now() >= deadline {
                bail!("nothing reacted to action {action} of notification {id}");
            }
            FakeNotifications::action_invoked(&emitter, id, action).await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        FakeNotifications::notification_closed(&emitter, id, 2).await?;
        Ok(())
    }
}

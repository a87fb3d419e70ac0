//! What the latency benches measure through: the demo agent signed in to a team server,
//! its alert desk following the event stream and notifying with notify-rust on a private
//! D-Bus, where the recording notification server notes each call.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_desk_alerts::{AlertDesk, DesktopNotifier, StreamConnection};
use agent_desk_client::ApiClient;
use agent_desk_e2e::notifications::{FakeNotificationServer, PrivateBus};
use agent_desk_e2e::{TeamServer, DEMO_EMAIL, DEMO_PASSWORD};
use anyhow::{bail, Result};

pub struct ListeningDesk {
    pub daemon: FakeNotificationServer,
    _bus: PrivateBus,
    pump: tokio::task::JoinHandle<()>,
}

impl ListeningDesk {
    /// Opens the desk in `root` and waits until its stream is connected.
    pub async fn open(root: &Path, server: &TeamServer) -> Result<Self> {
        let bus = PrivateBus::start(&root.join("bus"))?;
        let daemon = FakeNotificationServer::start(&bus).await?;
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address);
        let agent = server.token(DEMO_EMAIL, DEMO_PASSWORD).await?;
        let api = ApiClient::new(&server.url)?.with_token(agent);
        let profile = api.me().await?.profile;
        let desk = Arc::new(AlertDesk::open(
            root.join("alerts.json"),
            api.server_url(),
            &profile.id,
            DesktopNotifier::new("Agent Desk", "agent-desk", |_: &str| {}),
            Box::new(|_| Ok(())),
            |_| {},
        ));
        let pump = tokio::spawn(agent_desk_alerts::pump::run(api, Arc::clone(&desk), |_| {}));
        while desk.state().connection != StreamConnection::Connected || desk.cursor().is_none() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(Self {
            daemon,
            _bus: bus,
            pump,
        })
    }
}

impl Drop for ListeningDesk {
    fn drop(&mut self) {
        self.pump.abort();
    }
}

/// The median and the 99th percentile.
pub fn p50_p99(mut values: Vec<f64>) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

/// When the notification whose summary ends with `title` was shown (at most 30 s).
pub async fn wait_for_title(daemon: &FakeNotificationServer, title: &str) -> Result<Instant> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(call) = daemon
            .calls()
            .iter()
            .find(|call| call.summary.ends_with(title))
        {
            return Ok(call.at);
        }
        if Instant::now() > deadline {
            bail!("no notification for {title}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

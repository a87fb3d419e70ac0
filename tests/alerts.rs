//! Alerts with real components: the real server binary, the client's event stream, the
//! alert desk, and notify-rust talking to a notification server on a private D-Bus —
//! a recording one for exact checks, and dunst under Xvfb for a smoke test.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agent_desk_alerts::{
    AlertDesk, AlertOutcome, DesktopNotifier, SelfTestItem, SelfTestProblem, SoundFailure,
    StreamConnection,
};
use agent_desk_client::ApiClient;
use agent_desk_core::{NotificationPrefs, Priority, QuietHours, Status, StatusState};
use agent_desk_e2e::notifications::{FakeNotificationServer, PrivateBus};
use agent_desk_e2e::*;
use anyhow::{Context, Result};

/// notify-rust finds the bus through the process environment, which all tests of this
/// binary share: one test at a time.
static SESSION_BUS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Rig {
    server: TeamServer,
    admin: String,
    desk: Arc<AlertDesk>,
    pump: tokio::task::JoinHandle<()>,
    opened: Arc<Mutex<Vec<String>>>,
    sounds: Arc<Mutex<Vec<Priority>>>,
    dir: tempfile::TempDir,
}

impl Rig {
    async fn start(bus: &PrivateBus) -> Result<Self> {
        let server = TeamServer::start()?;
        let dir = tempfile::tempdir()?;
        Self::start_on(server, bus, dir).await
    }

    async fn start_on(
        server: TeamServer,
        bus: &PrivateBus,
        dir: tempfile::TempDir,
    ) -> Result<Self> {
        // SAFETY of the environment: tests of this binary hold SESSION_BUS meanwhile.
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address);
        let admin = server.token(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await?;
        let agent = server.token(DEMO_EMAIL, DEMO_PASSWORD).await?;
        let api = ApiClient::new(&server.url)?.with_token(agent);
        let profile = api.me().await?.profile;
        let opened = Arc::new(Mutex::new(Vec::new()));
        let sounds = Arc::new(Mutex::new(Vec::new()));
        let record_open = Arc::clone(&opened);
        let notifier = DesktopNotifier::new("Agent Desk", "agent-desk", move |url: &str| {
            record_open.lock().expect("opened").push(url.to_owned());
        });
        let record_sound = Arc::clone(&sounds);
        let desk = Arc::new(AlertDesk::open(
            dir.path().join("alerts.json"),
            api.server_url(),
            &profile.id,
            notifier,
            Box::new(move |priority| {
                record_sound.lock().expect("sounds").push(priority);
                Ok(())
            }),
            |_| {},
        ));
        let pump = tokio::spawn(agent_desk_alerts::pump::run(api, Arc::clone(&desk), |_| {}));
        let rig = Rig {
            server,
            admin,
            desk,
            pump,
            opened,
            sounds,
            dir,
        };
        rig.wait_connected().await?;
        Ok(rig)
    }

    async fn wait_connected(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.desk.state().connection != StreamConnection::Connected
            || self.desk.cursor().is_none()
        {
            anyhow::ensure!(Instant::now() < deadline, "the stream did not connect");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }

    async fn post(&self, title: &str, priority: &str) -> Result<i64> {
        self.server
            .post_event(&self.admin, &ticket_event(title, priority))
            .await
    }

    /// Waits until the desk has taken in `seq`.
    async fn wait_for_seq(&self, seq: i64) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.desk.cursor() < Some(seq) {
            anyhow::ensure!(Instant::now() < deadline, "seq {seq} never arrived");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(())
    }

    fn outcome_of(&self, seq: i64) -> Option<AlertOutcome> {
        self.desk
            .state()
            .recent
            .iter()
            .find(|alert| alert.seq == seq)
            .map(|alert| alert.outcome)
    }

    fn stop(self) -> (TeamServer, tempfile::TempDir) {
        self.pump.abort();
        (self.server, self.dir)
    }
}

fn bus_dir(root: &Path) -> std::path::PathBuf {
    root.join("bus")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_makes_exactly_one_notification_and_its_open_action_opens_the_ticket() -> Result<()>
{
    let _one_at_a_time = SESSION_BUS.lock().await;
    let root = tempfile::tempdir()?;
    let bus = PrivateBus::start(&bus_dir(root.path()))?;
    let daemon = FakeNotificationServer::start(&bus).await?;
    let rig = Rig::start(&bus).await?;

    let posted_at = Instant::now();
    let seq = rig.post("Printer on fire", "high").await?;
    let calls = daemon.wait_for_calls(1, Duration::from_secs(1)).await;
    assert_eq!(calls.len(), 1, "one notification within 1 s: {calls:?}");
    let call = &calls[0];
    assert!(call.at.duration_since(posted_at) < Duration::from_secs(1));
    assert_eq!(call.summary, "Printer on fire");
    assert_eq!(call.body, "Printer on fire");
    assert_eq!(call.app_name, "Agent Desk");
    assert_eq!(call.urgency, Some(1), "high → normal urgency");
    assert!(
        call.actions.contains(&"default".to_owned()),
        "{:?}",
        call.actions
    );
    // The sound follows the notification.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(*rig.sounds.lock().expect("sounds"), [Priority::High]);
    assert_eq!(daemon.calls().len(), 1, "exactly one");
    assert_eq!(rig.outcome_of(seq), Some(AlertOutcome::Notified));
    assert_eq!(rig.desk.state().unread, 1);

    let opened = Arc::clone(&rig.opened);
    daemon
        .invoke_action(
            call.id,
            "default",
            move || !opened.lock().expect("opened").is_empty(),
            Duration::from_secs(5),
        )
        .await?;
    assert_eq!(
        *rig.opened.lock().expect("opened"),
        ["https://desk.example/tickets/Printer-on-fire"]
    );

    // Urgent and critical are critical to the desktop; low is low.
    daemon.clear();
    rig.post("Urgent one", "urgent").await?;
    let calls = daemon.wait_for_calls(1, Duration::from_secs(2)).await;
    assert_eq!(calls[0].urgency, Some(2));
    rig.stop();
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn do_not_disturb_holds_normal_events_and_passes_critical_ones() -> Result<()> {
    let _one_at_a_time = SESSION_BUS.lock().await;
    let root = tempfile::tempdir()?;
    let bus = PrivateBus::start(&bus_dir(root.path()))?;
    let daemon = FakeNotificationServer::start(&bus).await?;
    let rig = Rig::start(&bus).await?;
    rig.desk.set_status(
        StatusState {
            status: Status::Dnd,
            until: None,
        },
        false,
    );

    let normal = rig.post("Normal while DND", "normal").await?;
    rig.wait_for_seq(normal).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(daemon.calls(), [], "dnd suppressed the normal event");
    assert_eq!(rig.outcome_of(normal), Some(AlertOutcome::Held));
    assert!(rig.sounds.lock().expect("sounds").is_empty());

    let critical = rig.post("Telephony down", "critical").await?;
    let calls = daemon.wait_for_calls(1, Duration::from_secs(2)).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].summary, "Telephony down");
    assert_eq!(calls[0].urgency, Some(2));
    assert_eq!(rig.outcome_of(critical), Some(AlertOutcome::Notified));
    assert_eq!(rig.desk.state().unread, 2, "held alerts still wait, unread");
    rig.stop();
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn quiet_hours_hold_all_but_critical() -> Result<()> {
    let _one_at_a_time = SESSION_BUS.lock().await;
    let root = tempfile::tempdir()?;
    let bus = PrivateBus::start(&bus_dir(root.path()))?;
    let daemon = FakeNotificationServer::start(&bus).await?;
    let rig = Rig::start(&bus).await?;
    let now = chrono::Utc::now();
    let around_now = |offset: i64| {
        (now + chrono::Duration::minutes(offset))
            .format("%H:%M")
            .to_string()
    };
    rig.desk.set_timezone(Some(chrono_tz_utc()));
    rig.desk.set_prefs(NotificationPrefs {
        quiet_hours: QuietHours {
            enabled: true,
            start: around_now(-30),
            end: around_now(30),
        },
        ..NotificationPrefs::default()
    });

    let urgent = rig.post("Urgent in quiet hours", "urgent").await?;
    rig.wait_for_seq(urgent).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(daemon.calls(), []);
    assert_eq!(rig.outcome_of(urgent), Some(AlertOutcome::Held));

    rig.post("Critical in quiet hours", "critical").await?;
    let calls = daemon.wait_for_calls(1, Duration::from_secs(2)).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].summary, "Critical in quiet hours");
    rig.stop();
    Ok(())
}

fn chrono_tz_utc() -> chrono_tz::Tz {
    chrono_tz::UTC
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_fifty_becomes_one_notification_that_counts_them() -> Result<()> {
    let _one_at_a_time = SESSION_BUS.lock().await;
    let root = tempfile::tempdir()?;
    let bus = PrivateBus::start(&bus_dir(root.path()))?;
    let daemon = FakeNotificationServer::start(&bus).await?;
    let rig = Rig::start(&bus).await?;

    let mut last = 0;
    let started = std::time::Instant::now();
    for n in 1..=50 {
        last = rig.post(&format!("Burst {n}"), "normal").await?;
    }
    rig.wait_for_seq(last).await?;
    let burst = started.elapsed();
    // The summary is redrawn every 400 ms while the burst lasts.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let calls = daemon.calls();
    let first = &calls[0];
    assert_eq!(first.summary, "Burst 1");
    let on_screen: std::collections::HashSet<u32> = calls.iter().map(|call| call.id).collect();
    assert_eq!(on_screen.len(), 1, "one notification on screen: {calls:#?}");
    // At most one redraw each 400 ms the burst lasted (posting the 50 takes longer on a
    // busy machine), the first and the last: far from one an event.
    let most = burst.as_millis() / 400 + 3;
    assert!(
        calls.len() as u128 <= most.min(25),
        "{} redraws for 50 events over {burst:?}",
        calls.len()
    );
    let summary = calls.last().context("a summary")?;
    assert_eq!(summary.replaces_id, first.id);
    assert_eq!(summary.summary, "50 new ticket alerts");
    let state = rig.desk.state();
    assert_eq!(state.unread, 50);
    assert_eq!(
        state
            .recent
            .iter()
            .filter(|alert| alert.outcome == AlertOutcome::Coalesced)
            .count(),
        49
    );
    assert_eq!(
        rig.sounds.lock().expect("sounds").len(),
        1,
        "one sound for the burst"
    );
    rig.stop();
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_neither_replays_old_alerts_nor_drops_new_ones() -> Result<()> {
    let _one_at_a_time = SESSION_BUS.lock().await;
    let root = tempfile::tempdir()?;
    let bus = PrivateBus::start(&bus_dir(root.path()))?;
    let daemon = FakeNotificationServer::start(&bus).await?;
    let rig = Rig::start(&bus).await?;
    let first = rig.post("Before the restart", "normal").await?;
    rig.wait_for_seq(first).await?;
    daemon.wait_for_calls(1, Duration::from_secs(2)).await;
    let admin = rig.admin.clone();
    let (server, dir) = rig.stop();

    // Events while the app is closed.
    let mut missed = Vec::new();
    for n in 1..=3 {
        missed.push(
            server
                .post_event(
                    &admin,
                    &ticket_event(&format!("While closed {n}"), "normal"),
                )
                .await?,
        );
    }
    // Seconds apart from the last notification, so these do not join its burst.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    daemon.clear();
    let rig = Rig::start_on(server, &bus, dir).await?;
    rig.wait_for_seq(*missed.last().context("missed")?).await?;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let summaries: Vec<String> = daemon.calls().into_iter().map(|c| c.summary).collect();
    assert!(
        !summaries.iter().any(|s| s == "Before the restart"),
        "replayed: {summaries:?}"
    );
    assert_eq!(
        summaries.first().map(String::as_str),
        Some("While closed 1")
    );
    let seqs: Vec<i64> = rig.desk.state().recent.iter().map(|a| a.seq).collect();
    assert_eq!(seqs, [missed[2], missed[1], missed[0], first]);
    rig.stop();
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_notification_service_the_alert_waits_unread_and_the_self_test_says_why(
) -> Result<()> {
    let _one_at_a_time = SESSION_BUS.lock().await;
    let root = tempfile::tempdir()?;
    let bus = PrivateBus::start(&bus_dir(root.path()))?;
    let rig = Rig::start(&bus).await?;
    let seq = rig.post("Nobody shows this", "high").await?;
    rig.wait_for_seq(seq).await?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while rig.outcome_of(seq) != Some(AlertOutcome::Failed) {
        anyhow::ensure!(Instant::now() < deadline, "{:?}", rig.outcome_of(seq));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(rig.desk.state().unread, 1);

    let desk = Arc::clone(&rig.desk);
    let report = tokio::task::spawn_blocking(move || desk.self_test()).await?;
    let service = &report.checks[0];
    assert_eq!(service.item, SelfTestItem::NotificationService);
    assert_eq!(
        service.problem,
        Some(SelfTestProblem::NoNotificationService),
        "{report:?}"
    );
    assert!(report.checks[2].problem.is_none(), "the sound played");
    rig.stop();
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_that_never_answers_cannot_hold_up_the_stream() -> Result<()> {
    let _one_at_a_time = SESSION_BUS.lock().await;
    let root = tempfile::tempdir()?;
    let bus = PrivateBus::start(&bus_dir(root.path()))?;
    let _hung = FakeNotificationServer::start_hung(&bus).await?;
    let rig = Rig::start(&bus).await?;
    let first = rig.post("Into the void", "high").await?;
    let second = rig.post("Still taken in", "high").await?;
    // The stream and the inbox carry on while delivery waits for the hung service.
    rig.wait_for_seq(second).await?;
    assert_eq!(rig.desk.state().unread, 2);
    let deadline = Instant::now() + Duration::from_secs(8);
    while rig.outcome_of(first) != Some(AlertOutcome::Failed) {
        anyhow::ensure!(Instant::now() < deadline, "{:?}", rig.outcome_of(first));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let desk = Arc::clone(&rig.desk);
    let report = tokio::task::spawn_blocking(move || desk.self_test()).await?;
    assert_eq!(report.checks[1].item, SelfTestItem::NotificationShown);
    assert_eq!(
        report.checks[1].problem,
        Some(SelfTestProblem::ServiceNotAnswering),
        "{report:?}"
    );
    rig.stop();
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_sound_device_is_named_by_the_self_test() -> Result<()> {
    let _one_at_a_time = SESSION_BUS.lock().await;
    let root = tempfile::tempdir()?;
    let bus = PrivateBus::start(&bus_dir(root.path()))?;
    let daemon = FakeNotificationServer::start(&bus).await?;
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    let notifier = DesktopNotifier::new("Agent Desk", "agent-desk", |_: &str| {});
    let desk = AlertDesk::open(
        root.path().join("alerts.json"),
        "http://127.0.0.1:1/",
        "agent",
        notifier,
        Box::new(|_| Err(SoundFailure::NoDevice("no output device".into()))),
        |_| {},
    );
    let report = tokio::task::spawn_blocking(move || desk.self_test()).await?;
    assert_eq!(report.checks[0].problem, None, "{report:?}");
    assert!(report.checks[0].detail.contains("fake-notifications"));
    assert_eq!(report.checks[1].problem, None);
    assert_eq!(
        report.checks[2].problem,
        Some(SelfTestProblem::NoSoundDevice)
    );
    let calls = daemon.wait_for_calls(1, Duration::from_secs(2)).await;
    assert_eq!(calls[0].summary, "Agent Desk test notification");
    Ok(())
}

/// What an agent or a customer might put in an event: markup that a markup-rendering
/// notification server would turn into bold text, an image fetched from anywhere and a
/// link.
const MARKUP: &str = concat!(
    r#"<b>x</b> & <img src="https://evil.example/pixel.png"> "#,
    "<a href='https://evil.example'>open</a>"
);
const MARKUP_AS_TEXT: &str =
    "&lt;b&gt;x&lt;/b&gt; &amp; &lt;img src=&quot;https://evil.example/pixel.png&quot;&gt; \
     &lt;a href=&apos;https://evil.example&apos;&gt;open&lt;/a&gt;";

impl Rig {
    async fn post_with_body(&self, title: &str, body: &str) -> Result<i64> {
        let mut event = ticket_event(title, "high");
        event["body"] = serde_json::json!(body);
        self.server.post_event(&self.admin, &event).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn markup_in_an_event_reaches_a_markup_rendering_server_as_text() -> Result<()> {
    let _one_at_a_time = SESSION_BUS.lock().await;
    let root = tempfile::tempdir()?;
    let bus = PrivateBus::start(&bus_dir(root.path()))?;
    let daemon = FakeNotificationServer::start_with_markup(&bus).await?;
    let rig = Rig::start(&bus).await?;

    rig.post_with_body("<i>Printer</i> & co", MARKUP).await?;
    let calls = daemon.wait_for_calls(1, Duration::from_secs(2)).await;
    let call = calls.first().context("a notification")?;
    assert_eq!(call.body, MARKUP_AS_TEXT);
    // The summary is plain text by the spec: servers show it as it is.
    assert_eq!(call.summary, "<i>Printer</i> & co");

    // More notifications (here a burst's growing summary) do not ask again.
    for n in 1..=3 {
        rig.post_with_body(&format!("More {n}"), MARKUP).await?;
    }
    let calls = daemon.wait_for_calls(2, Duration::from_secs(3)).await;
    assert!(calls.len() >= 2, "{calls:#?}");
    assert_eq!(daemon.capabilities_asked(), 1, "asked once per server");
    rig.stop();
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn markup_in_an_event_reaches_a_plain_text_server_as_written() -> Result<()> {
    let _one_at_a_time = SESSION_BUS.lock().await;
    let root = tempfile::tempdir()?;
    let bus = PrivateBus::start(&bus_dir(root.path()))?;
    let daemon = FakeNotificationServer::start(&bus).await?;
    let rig = Rig::start(&bus).await?;

    rig.post_with_body("Plain", MARKUP).await?;
    let calls = daemon.wait_for_calls(1, Duration::from_secs(2)).await;
    let call = calls.first().context("a notification")?;
    // It shows tags literally; escaped, the agent would read `&lt;b&gt;`.
    assert_eq!(call.body, MARKUP);
    assert_eq!(daemon.capabilities_asked(), 1);
    rig.stop();
    Ok(())
}

/// The answer is kept per server: one that replaces the first on the bus is asked anew.
#[tokio::test(flavor = "multi_thread")]
async fn a_replaced_notification_server_is_asked_about_markup_again() -> Result<()> {
    let _one_at_a_time = SESSION_BUS.lock().await;
    let root = tempfile::tempdir()?;
    let bus = PrivateBus::start(&bus_dir(root.path()))?;
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    let notifier = Arc::new(DesktopNotifier::new(
        "Agent Desk",
        "agent-desk",
        |_: &str| {},
    ));
    let show = |notifier: &Arc<DesktopNotifier>| {
        let notifier = Arc::clone(notifier);
        tokio::task::spawn_blocking(move || {
            notifier.show(&agent_desk_alerts::Notice {
                title: "Note from Robin".into(),
                body: MARKUP.into(),
                priority: Priority::Normal,
                url: None,
                replaces: None,
            })
        })
    };

    let rendering = FakeNotificationServer::start_with_markup(&bus).await?;
    for _ in 0..3 {
        show(&notifier).await??;
    }
    let calls = rendering.calls();
    assert_eq!(calls.len(), 3);
    assert!(
        calls.iter().all(|call| call.body == MARKUP_AS_TEXT),
        "{calls:#?}"
    );
    assert_eq!(rendering.capabilities_asked(), 1);
    drop(rendering);

    // Another daemon takes the name once the first one's connection is gone.
    let deadline = Instant::now() + Duration::from_secs(5);
    let plain = loop {
        match FakeNotificationServer::start(&bus).await {
            Ok(plain) => break plain,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => return Err(error),
        }
    };
    show(&notifier).await??;
    show(&notifier).await??;
    let calls = plain.calls();
    assert_eq!(calls.len(), 2);
    assert!(calls.iter().all(|call| call.body == MARKUP), "{calls:#?}");
    assert_eq!(plain.capabilities_asked(), 1);
    Ok(())
}

/// The real daemon: dunst on a display of its own shows what notify-rust sends. dunst
/// renders body markup, so the markup in the body must come out as text.
#[tokio::test(flavor = "multi_thread")]
async fn dunst_shows_the_notification() -> Result<()> {
    let _one_at_a_time = SESSION_BUS.lock().await;
    let root = tempfile::tempdir()?;
    let xvfb = VirtualDisplay::start()?;
    let display = xvfb.name();
    let bus = PrivateBus::start_with_env(&bus_dir(root.path()), &[("DISPLAY", &display)])?;
    let env = [
        ("DISPLAY", display.as_str()),
        ("DBUS_SESSION_BUS_ADDRESS", bus.address.as_str()),
        ("HOME", &root.path().display().to_string()),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let mut dunst = Command::new("dunst")
        .envs(env.iter().cloned())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("dunst (package dunst) is needed")?;
    let dunstctl = |args: &[&str]| -> Result<String> {
        let output = Command::new("dunstctl")
            .args(args)
            .envs(env.iter().cloned())
            .output()?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while dunstctl(&["count", "displayed"])? != "0" {
        anyhow::ensure!(Instant::now() < deadline, "dunst did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    let notifier = DesktopNotifier::new("Agent Desk", "agent-desk", |_: &str| {});
    let shown = tokio::task::spawn_blocking(move || {
        notifier.show(&agent_desk_alerts::Notice {
            title: "Ticket #4711 assigned to you".into(),
            body: format!("Printer on fire: {MARKUP}"),
            priority: Priority::Urgent,
            url: Some("https://desk.example/tickets/4711".into()),
            replaces: None,
        })
    })
    .await?;
    assert!(shown.is_ok(), "{shown:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while dunstctl(&["count", "displayed"])? != "1" {
        anyhow::ensure!(Instant::now() < deadline, "dunst shows nothing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let artifacts = Desktop::artifacts_dir()?;
    let screenshot = Command::new("import")
        .args(["-window", "root"])
        .arg(artifacts.join("notification.png"))
        .env("DISPLAY", &display)
        .status()?;
    assert!(screenshot.success());
    dunstctl(&["close-all"])?;
    let history: serde_json::Value = serde_json::from_str(&dunstctl(&["history"])?)?;
    let shown = &history["data"][0][0];
    assert_eq!(
        shown["summary"]["data"], "Ticket #4711 assigned to you",
        "{history}"
    );
    assert_eq!(shown["appname"]["data"], "Agent Desk");
    assert_eq!(
        shown["body"]["data"],
        format!("Printer on fire: {MARKUP_AS_TEXT}")
    );
    // `message` is what dunst drew, in Pango markup: rendered, the tags would be gone
    // (bold text, "[image]", the link's text alone); escaped, they stay as text.
    let drawn = shown["message"]["data"].as_str().unwrap_or_default();
    assert!(drawn.ends_with(MARKUP_AS_TEXT), "{drawn}");
    assert!(!drawn.contains("[image]"), "{drawn}");
    assert_eq!(shown["default_action_name"]["data"], "default");
    // Critical notifications stay until dismissed: dunst gives them no timeout.
    assert_eq!(shown["timeout"]["data"], 0, "{history}");
    let _ = dunst.kill();
    let _ = dunst.wait();
    drop(xvfb);
    Ok(())
}

/// Idle time is the system's, read from the X server: it grows while nobody touches
/// keyboard or mouse.
#[tokio::test(flavor = "multi_thread")]
async fn the_system_idle_time_is_read_from_the_display() -> Result<()> {
    let _one_at_a_time = SESSION_BUS.lock().await;
    let xvfb = VirtualDisplay::start()?;
    std::env::set_var("DISPLAY", xvfb.name());
    let first = agent_desk_alerts::idle::system_idle().map_err(anyhow::Error::msg)?;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let second = agent_desk_alerts::idle::system_idle().map_err(anyhow::Error::msg)?;
    std::env::remove_var("DISPLAY");
    drop(xvfb);
    assert!(
        second >= first + Duration::from_secs(1),
        "idle {first:?} then {second:?}"
    );
    Ok(())
}

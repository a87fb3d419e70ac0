//! Start-up to an interactive screen, idle memory and binary size of Agent Desk, each next
//! to a bare Tauri window measured the same way in the same run. Prints ratios.
//!
//! `make bench` builds both and runs this. Start-up is timed from asking WebDriver for a
//! session (which launches the binary) to the first element of the screen being present:
//! the Profile form (already signed in) for the app, a heading for the bare window. The two
//! are launched in turn, so both meet the same machine.
//!
//! The app measured is the packaged one, as agents run it: `make bench` installs the
//! release `.deb` and names `/usr/bin/agent-desk` in `AGENT_DESK_BENCH_APP` (without it, the
//! release build in the target folder).
//!
//! Then the start at login: `agent-desk --autostart` launched as the desktop session's login
//! entry launches it (no WebDriver), timed to its tray icon registering with a status
//! notifier watcher on the session bus, and to the agent being Available on the server.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agent_desk_e2e::{binary, replace_text, wait_for, Desktop, DEMO_EMAIL, DEMO_PASSWORD};
use anyhow::{Context, Result};
use fantoccini::Locator;

const RUNS: usize = 25;
const LOGIN_RUNS: usize = 10;
const SETTLE: Duration = Duration::from_secs(5);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    // `cargo bench` builds this in the release profile, so these are the release binaries.
    let app = match std::env::var_os("AGENT_DESK_BENCH_APP") {
        Some(path) => PathBuf::from(path),
        None => binary("agent-desk")?,
    };
    let bare = binary("bare-window")?;

    // A launch WebDriver ends leaves no time to go Offline: the server says so after 1 s,
    // so each start at login below begins Offline.
    let desktop = Desktop::start_with_server(
        &[],
        &[("AGENT_DESK_OFFLINE_GRACE_SECONDS".into(), "1".into())],
    )?;
    // Sign in once so later launches open straight on the Profile screen.
    let client = desktop.launch(&app).await?;
    replace_text(&client, "#server-url", &desktop.server_url).await?;
    replace_text(&client, "#email", DEMO_EMAIL).await?;
    replace_text(&client, "#password", DEMO_PASSWORD).await?;
    wait_for(&client, "button[type=submit]")
        .await?
        .click()
        .await?;
    wait_for(&client, "#job-title").await?;
    client.close().await?;

    let mut rows = Vec::new();
    let app_target = Target {
        binary: &app,
        ready: "#job-title",
    };
    let bare_target = Target {
        binary: &bare,
        ready: "#ready",
    };
    let [(app_start, app_memory), (bare_start, bare_memory)] =
        measure(&desktop, [app_target, bare_target]).await?;
    rows.push(("start-up to interactive (median ms)", app_start, bare_start));
    rows.push((
        "idle memory, app + WebKit PSS (MiB)",
        app_memory,
        bare_memory,
    ));
    rows.push(("binary size (MiB)", size_mib(&app)?, size_mib(&bare)?));
    let (to_tray, to_available) = start_at_login(&desktop, &app).await?;

    println!("{}: release builds, {RUNS} launches each", app.display());
    println!(
        "{:<40} {:>12} {:>12} {:>8}",
        "", "Agent Desk", "bare window", "ratio"
    );
    for (name, ours, reference) in rows {
        println!(
            "{name:<40} {ours:>12.1} {reference:>12.1} {:>7.2}×",
            ours / reference
        );
    }
    println!("started at login (--autostart), median of {LOGIN_RUNS}: tray icon {to_tray:.1} ms, Available on the server {to_available:.1} ms");
    Ok(())
}

/// The desktop's tray host, as far as an app's icon meets it: the watcher items register
/// with. It notes when the first registration arrived.
struct Watcher {
    registered: Arc<Mutex<Option<Instant>>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    fn register_status_notifier_item(&self, _service: &str) {
        let mut registered = self
            .registered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        registered.get_or_insert_with(Instant::now);
    }

    fn register_status_notifier_host(&self, _service: &str) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        Vec::new()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

/// Median ms from the login entry's launch to the tray icon, and to Available on the
/// server (signed in with the stored session, presence started).
async fn start_at_login(desktop: &Desktop, app: &Path) -> Result<(f64, f64)> {
    let registered = Arc::new(Mutex::new(None));
    let bus = desktop.bus_address().context("the session bus")?;
    let _watcher = zbus::connection::Builder::address(bus)?
        .name("org.kde.StatusNotifierWatcher")?
        .serve_at(
            "/StatusNotifierWatcher",
            Watcher {
                registered: Arc::clone(&registered),
            },
        )?
        .build()
        .await?;
    // One session of the bench's own to read the status with, every 5 ms, without a
    // sign-in (and its password hash) each time.
    let (_, token) =
        agent_desk_e2e::api_login(&desktop.server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;
    let token = token.context("the bench's sign-in")?;
    let http = reqwest::Client::new();
    let status = || async {
        let me: serde_json::Value = http
            .get(format!("{}/api/v1/me", desktop.server_url))
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        anyhow::Ok(me["status"].as_str().unwrap_or_default().to_owned())
    };
    let mut tray = Vec::new();
    let mut available = Vec::new();
    for _ in 0..LOGIN_RUNS {
        let deadline = Instant::now() + Duration::from_secs(15);
        while status().await? != "offline" {
            anyhow::ensure!(Instant::now() < deadline, "not Offline before the start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        *registered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        let start = Instant::now();
        let mut child = Command::new(app)
            .arg("--autostart")
            .env_clear()
            .envs(desktop.app_env().iter().cloned())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let mut shown = None;
        let mut online = None;
        while shown.is_none() || online.is_none() {
            anyhow::ensure!(
                start.elapsed() < Duration::from_secs(30),
                "started at login: tray {shown:?}, Available {online:?}"
            );
            if shown.is_none() {
                shown = registered
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .map(|at| at.duration_since(start));
            }
            if online.is_none() && status().await? == "available" {
                online = Some(start.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tray.extend(shown.map(|at| at.as_secs_f64() * 1000.0));
        available.extend(online.map(|at| at.as_secs_f64() * 1000.0));
        // Quit as the session's end would (SIGTERM), which goes Offline.
        Command::new("kill").arg(child.id().to_string()).status()?;
        child.wait()?;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok((median(&mut tray), median(&mut available)))
}

/// A program to launch and the element that says its first screen is there.
#[derive(Clone, Copy)]
struct Target<'a> {
    binary: &'a Path,
    ready: &'a str,
}

/// Median start-up in ms and the idle PSS (MiB) of the last launch, for each target.
/// Launches take turns (app, bare, bare, app, …), so a machine that is busier for a while
/// slows both alike instead of whichever happened to run then.
async fn measure(desktop: &Desktop, targets: [Target<'_>; 2]) -> Result<[(f64, f64); 2]> {
    let mut times = [Vec::new(), Vec::new()];
    let mut pages = [Vec::new(), Vec::new()];
    let mut memory = [0.0; 2];
    for run in 0..RUNS {
        let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
        for index in order {
            let target = targets[index];
            let start = Instant::now();
            let client = desktop.launch(target.binary).await?;
            wait_for_soon(&client, target.ready).await?;
            let total = start.elapsed().as_secs_f64() * 1000.0;
            times[index].push(total);
            // The page's own clock starts when its load begins: what came before is the
            // process, the window and WebKit's start.
            let in_page = client
                .execute("return performance.now()", vec![])
                .await?
                .as_f64()
                .unwrap_or(0.0);
            pages[index].push(in_page);
            if run == RUNS - 1 {
                tokio::time::sleep(SETTLE).await;
                memory[index] = app_tree_pss_kib(desktop, target.binary)? / 1024.0;
            }
            client.close().await?;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    for (index, name) in [(0, "app"), (1, "bare window")] {
        let page = median(&mut pages[index]);
        println!(
            "{name}: median {:.1} ms, of which in the page (to the element, and one script call) {page:.1} ms",
            median(&mut times[index])
        );
    }
    Ok([0, 1].map(|index| (median(&mut times[index]), memory[index])))
}

fn median(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Waits for an element, asking every 5 ms: the tests' `wait_for` asks far less often,
/// which would round the app's time up while the bare window's heading is there at once.
async fn wait_for_soon(client: &fantoccini::Client, css: &str) -> Result<()> {
    let start = Instant::now();
    while client.find(Locator::Css(css)).await.is_err() {
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(30),
            "{css} never appeared"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

fn size_mib(path: &Path) -> Result<f64> {
    Ok(std::fs::metadata(path)?.len() as f64 / (1024.0 * 1024.0))
}

/// Sums PSS (not RSS, which counts shared libraries once per process) of the app process
/// and every process below it (WebKit's web and network processes).
fn app_tree_pss_kib(desktop: &Desktop, binary: &Path) -> Result<f64> {
    let driver = desktop.driver_pid().context("driver pid")?;
    let processes = process_table()?;
    let descendants = |root: u32| {
        let mut found = vec![root];
        let mut index = 0;
        while index < found.len() {
            let parent = found[index];
            found.extend(processes.iter().filter(|p| p.1 == parent).map(|p| p.0));
            index += 1;
        }
        found
    };
    let app_pid = descendants(driver)
        .into_iter()
        .find(|pid| exe(*pid).as_deref() == Some(binary))
        .context("the app process is not running")?;
    descendants(app_pid).into_iter().map(pss_kib).sum()
}

fn process_table() -> Result<Vec<(u32, u32)>> {
    let mut table = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let Ok(pid) = entry?.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The command name is in parentheses and may contain spaces; fields follow the last ')'.
        let after = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        if let Some(parent) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            table.push((pid, parent));
        }
    }
    Ok(table)
}

fn exe(pid: u32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

fn pss_kib(pid: u32) -> Result<f64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    Ok(rollup
        .lines()
        .find_map(|line| line.strip_prefix("Pss:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(0.0))
}

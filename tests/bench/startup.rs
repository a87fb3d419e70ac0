//! Start-up to an interactive screen, idle memory and binary size of Agent Desk, each next
//! to a bare Tauri window measured the same way in the same run. Prints ratios.
//!
//! `make bench` builds both and runs this. Start-up is timed from asking WebDriver for a
//! session (which launches the binary) to the first element of the screen being present:
//! the Profile form (already signed in) for the app, a heading for the bare window. The two
//! are launched in turn, so both meet the same machine.

use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use agent_desk_e2e::{binary, replace_text, wait_for, Desktop, DEMO_EMAIL, DEMO_PASSWORD};
use anyhow::{Context, Result};
use fantoccini::Locator;

const RUNS: usize = 25;
const SETTLE: Duration = Duration::from_secs(5);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    // `cargo bench` builds this in the release profile, so these are the release binaries.
    let app = binary("agent-desk")?;
    let bare = binary("bare-window")?;

    let desktop = Desktop::start()?;
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

    println!("release builds, {RUNS} launches each");
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
    Ok(())
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
    let mut memory = [0.0; 2];
    for run in 0..RUNS {
        let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
        for index in order {
            let target = targets[index];
            let start = Instant::now();
            let client = desktop.launch(target.binary).await?;
            wait_for_soon(&client, target.ready).await?;
            times[index].push(start.elapsed().as_secs_f64() * 1000.0);
            if run == RUNS - 1 {
                tokio::time::sleep(SETTLE).await;
                memory[index] = app_tree_pss_kib(desktop, target.binary)? / 1024.0;
            }
            client.close().await?;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
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

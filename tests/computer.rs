//! The real app on its desktop: starting with the session (the login entry the setting
//! writes, and a start from it hidden in the tray, signed in), closing the window that
//! keeps the app running (hidden where a tray host runs and said once; left on screen
//! where none does), a second launch that brings it back, and Quit that sets Offline.

use std::time::{Duration, Instant};

use agent_desk_e2e::notifications::FakeNotificationServer;
use agent_desk_e2e::x11::{app_window_shown, ask_to_close, WindowManagerEar};
use agent_desk_e2e::{
    binary, server_status, sign_in, wait_for, wait_for_server_status, wait_for_text, Desktop,
    DEMO_EMAIL, DEMO_PASSWORD,
};
use anyhow::{bail, ensure, Context, Result};

/// Waits until the app's window is shown (or, with `shown` false, hidden).
async fn wait_for_window(desktop: &Desktop, shown: bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    while app_window_shown(desktop.display())? != shown {
        if Instant::now() > deadline {
            bail!(
                "the window never became {}",
                if shown { "shown" } else { "hidden" }
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Waits until `path` exists (or, with `exists` false, is gone).
async fn wait_for_file(path: &std::path::Path, exists: bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while path.exists() != exists {
        if Instant::now() > deadline {
            bail!(
                "{} never {}",
                path.display(),
                if exists { "appeared" } else { "went" }
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Asks the shown window to close until it is hidden. A close request that reaches the
/// window while it is still being mapped can go unanswered, as a click on a window that
/// is still opening does; a person clicks again.
async fn close_until_hidden(desktop: &Desktop) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut asked = 0;
    while app_window_shown(desktop.display())? {
        if Instant::now() > deadline {
            bail!("the window was asked {asked} times to close and is still shown");
        }
        ask_to_close(desktop.display())?;
        asked += 1;
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if !app_window_shown(desktop.display())? {
                break;
            }
        }
    }
    if asked > 1 {
        eprintln!("the window closed after {asked} requests");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_starts_with_the_session_and_lives_in_the_tray() -> Result<()> {
    let desktop = Desktop::start()?;
    let bus = desktop.bus_address().context("the app's bus")?.to_owned();
    let notifications = FakeNotificationServer::start_at(&bus).await?;
    let app = desktop.launch_app().await?;
    sign_in(&app, &desktop.server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;
    wait_for_server_status(&desktop.server_url, "available").await?;

    // A build run from its build folder never adds itself to the session.
    let entry = desktop.home().join(".config/autostart/agent-desk.desktop");
    ensure!(
        !entry.exists(),
        "a development build started with the session"
    );

    // The agent turns it on under Devices, "This computer": the desktop's login entry.
    wait_for(&app, "#nav-devices").await?.click().await?;
    let setting = "#start-at-login:not([disabled])";
    wait_for(&app, setting).await?.click().await?;
    wait_for_text(&app, "[data-testid=this-computer] .saved", "✓").await?;
    wait_for_file(&entry, true).await?;
    let written = std::fs::read_to_string(&entry)?;
    let exec = format!("Exec={} --autostart", binary("agent-desk")?.display());
    ensure!(written.lines().any(|line| line.trim() == exec), "{written}");
    // Off removes it; on again for the start from it below.
    wait_for(&app, setting).await?.click().await?;
    wait_for_file(&entry, false).await?;
    ensure!(
        !wait_for(&app, "#start-at-login")
            .await?
            .is_selected()
            .await?,
        "the box says on"
    );
    wait_for(&app, setting).await?.click().await?;
    wait_for_file(&entry, true).await?;

    // No tray host on this desktop: closing minimises the window, where the agent finds
    // it, and the app keeps running. (Xvfb has no window manager to carry the request
    // out, so the request itself is what is checked.)
    // As with hiding below, a close request can go unanswered: asked again every 3 s.
    let window_manager = WindowManagerEar::listen(desktop.display())?;
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut asked_at: Option<Instant> = None;
    while !window_manager.heard_minimise()? {
        ensure!(
            Instant::now() < deadline,
            "closing did not minimise the window"
        );
        if asked_at.is_none_or(|at| at.elapsed() > Duration::from_secs(3)) {
            ask_to_close(desktop.display())?;
            asked_at = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(
        app_window_shown(desktop.display())?,
        "the window went with no tray to find it in"
    );
    wait_for_text(&app, "#computer-title", "This computer").await?;
    ensure!(
        notifications.calls().is_empty(),
        "told of a tray that is not there"
    );

    // A tray host: closing hides the window, says so once, and the agent stays online.
    let tray_host = zbus::connection::Builder::address(bus.as_str())?
        .name("org.kde.StatusNotifierWatcher")?
        .build()
        .await?;
    close_until_hidden(&desktop).await?;
    let said = notifications
        .wait_for_calls(1, Duration::from_secs(10))
        .await;
    ensure!(
        said.first()
            .is_some_and(|call| call.summary == "Agent Desk is still running"),
        "{said:?}"
    );
    ensure!(server_status(&desktop.server_url).await? == "available");
    // Launched again, the running app comes forward; hidden again, nothing more is said.
    desktop.launch_again(&[])?;
    wait_for_window(&desktop, true).await?;
    close_until_hidden(&desktop).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    ensure!(notifications.calls().len() == 1, "said twice");
    desktop.launch_again(&[])?;
    wait_for_window(&desktop, true).await?;

    // Quit, in the app: Offline at once. The app may be gone before WebDriver answers
    // the click.
    let _ = wait_for(&app, "#quit-app").await?.click().await;
    wait_for_server_status(&desktop.server_url, "offline").await?;
    let _ = app.close().await;

    // Started from the login entry: hidden in the tray, signed in with the stored token.
    let app = desktop
        .launch_with_args(&binary("agent-desk")?, &["--autostart"])
        .await?;
    wait_for_server_status(&desktop.server_url, "available").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    ensure!(
        !app_window_shown(desktop.display())?,
        "a window appeared at login"
    );
    // Shown only when asked for.
    desktop.launch_again(&[])?;
    wait_for_window(&desktop, true).await?;
    wait_for_text(&app, "#profile-title", "Your profile").await?;
    drop(tray_host);
    Ok(())
}

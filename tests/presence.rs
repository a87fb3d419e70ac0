//! The real app with the real server: the agent comes online when the app opens, a
//! status chosen in the window reaches the server, a profile change made elsewhere
//! shows in the open app within a second, an event arrives as an unread alert and a
//! notification on the desktop's notification daemon, and quitting sets Offline.

use std::time::{Duration, Instant};

use agent_desk_e2e::{
    api_login, api_profile, save_screenshot, server_status, sign_in, value_of, wait_for,
    wait_for_server_status, wait_for_text, Desktop, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD,
    DEMO_EMAIL, DEMO_PASSWORD,
};
use anyhow::{bail, ensure, Context, Result};
use fantoccini::Client;
use serde_json::json;

async fn wait_for_value(app: &Client, css: &str, wanted: &str, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        let value = value_of(app, css).await?;
        if value == wanted {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{css} is {value:?}, not {wanted:?}, after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_and_alerts_in_the_real_app() -> Result<()> {
    let desktop = Desktop::start()?;
    ensure!(
        server_status(&desktop.server_url).await? == "offline",
        "a new agent starts offline"
    );
    let app = desktop.launch_app().await?;
    sign_in(&app, &desktop.server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;

    // Opening the app brings the agent online, and the header says so.
    wait_for_server_status(&desktop.server_url, "available").await?;
    wait_for_text(&app, "[data-testid=status-button]", "Available").await?;

    // A status chosen in the window reaches the server.
    wait_for(&app, "[data-testid=status-button]")
        .await?
        .click()
        .await?;
    wait_for(&app, "[data-testid=status-option-busy]")
        .await?
        .click()
        .await?;
    wait_for_server_status(&desktop.server_url, "busy").await?;
    wait_for_text(&app, "[data-testid=status-button]", "Busy").await?;

    // A change made through the API, from another session, shows in the open app
    // within a second.
    let (_, token) = api_login(&desktop.server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;
    let token = token.context("a second session")?;
    let (_, etag) = api_profile(&desktop.server_url).await?;
    let http = reqwest::Client::new();
    let changed_at = Instant::now();
    http.patch(format!("{}/api/v1/me", desktop.server_url))
        .bearer_auth(&token)
        .header("if-match", etag)
        .json(&json!({"job_title": "Escalations Lead"}))
        .send()
        .await?
        .error_for_status()?;
    wait_for_value(
        &app,
        "#job-title",
        "Escalations Lead",
        Duration::from_secs(1),
    )
    .await?;
    let shown_after = changed_at.elapsed();

    // An urgent event passes Busy: an unread alert in the app and a notification.
    let (_, admin) = api_login(&desktop.server_url, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await?;
    let admin = admin.context("admin token")?;
    http.post(format!("{}/api/v1/admin/events", desktop.server_url))
        .bearer_auth(&admin)
        .json(&json!({
            "type": "ticket.sla_warning",
            "to": {"agent": DEMO_EMAIL},
            "priority": "urgent",
            "title": "SLA: #4711 breaches in 15 minutes",
            "body": "Refund for a double charge — Mia Hoffmann is waiting.",
            "ticket_id": "4711",
            "url": "https://desk.example/tickets/4711",
        }))
        .send()
        .await?
        .error_for_status()?;
    wait_for_text(&app, "[data-testid=unread-badge]", "1").await?;
    wait_for(&app, "#nav-notifications").await?.click().await?;
    wait_for_text(
        &app,
        "[data-testid^=alert-]",
        "SLA: #4711 breaches in 15 minutes",
    )
    .await?;
    wait_for(&app, "[data-testid=pref-ticket\\.assigned]").await?;
    save_screenshot(&app, "notifications.png").await?;

    // Quitting sets Offline at once, not after the server's grace period: here as when
    // the session logs out or the machine shuts down, with SIGTERM.
    let app_pid = std::process::Command::new("pgrep")
        .args(["-n", "-f", "target/debug/agent-desk$"])
        .output()?;
    let app_pid = String::from_utf8_lossy(&app_pid.stdout).trim().to_owned();
    ensure!(!app_pid.is_empty(), "the app's process");
    let terminated = std::process::Command::new("kill")
        .args(["-TERM", &app_pid])
        .status()?;
    ensure!(terminated.success());
    wait_for_server_status(&desktop.server_url, "offline").await?;
    eprintln!("profile change shown after {shown_after:?}");

    // Started again, the app takes the status the agent left it with, Busy, not Available.
    let _ = app.close().await;
    let app = desktop.launch_app().await?;
    wait_for_text(&app, "#profile-title", "Your profile")
        .await
        .context("still signed in")?;
    wait_for_server_status(&desktop.server_url, "busy").await?;
    wait_for_text(&app, "[data-testid=status-button]", "Busy").await?;
    Ok(())
}

//! Nothing an agent saves is lost: the real app keeps what is saved while the server is
//! away, survives SIGKILL with it, and sends each change once when the server is back;
//! a record changed elsewhere meanwhile is merged field by field; signing out with
//! changes waiting asks first and leaves nothing of the account behind.

use std::time::Duration;

use agent_desk_e2e::switch::NetworkSwitch;
use agent_desk_e2e::{
    api_get, api_token, files_below, replace_text, save_screenshot, sign_in, value_of, wait_for,
    wait_for_text, Desktop, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, DEMO_EMAIL, DEMO_PASSWORD,
};
use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};

const CUSTOMER: &str = "Ada Byron";
/// The customer record's summary section.
const SUMMARY: &str = "section[aria-labelledby=record-summary-title]";

/// The customer's id, found through the directory.
async fn customer_id(server_url: &str, token: &str) -> Result<String> {
    let (page, _) = api_get(server_url, token, "/api/v1/people?q=byron&kind=user").await?;
    page["people"]
        .as_array()
        .and_then(|people| people.iter().find(|person| person["name"] == CUSTOMER))
        .and_then(|person| person["id"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("no {CUSTOMER} in {page}"))
}

/// Waits until `check` holds of what the server answers at `path`.
async fn server_shows(
    server_url: &str,
    token: &str,
    path: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Result<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (value, _) = api_get(server_url, token, path).await?;
        if check(&value) {
            return Ok(value);
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "the server never showed {what}: {value}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until nothing matches `css`: the app has nothing more to say there.
async fn wait_until_gone(app: &fantoccini::Client, css: &str) -> Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !app
        .find_all(fantoccini::Locator::Css(css))
        .await?
        .is_empty()
    {
        ensure!(
            tokio::time::Instant::now() < deadline,
            "{css} is still shown"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Clicks what `css` finds, again if the screen redrew it in between (the outbox's news
/// redraws what shows it).
async fn click(app: &fantoccini::Client, css: &str) -> Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let element = wait_for(app, css).await?;
        // In the middle of the window, clear of the header that stays at the top.
        app.execute(
            "arguments[0].scrollIntoView({block: 'center'})",
            vec![serde_json::to_value(&element)?],
        )
        .await?;
        match element.click().await {
            Ok(()) => return Ok(()),
            Err(error) if tokio::time::Instant::now() < deadline => {
                eprintln!("clicking {css} again: {error}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// Opens the customer's record from the People screen.
async fn open_customer(app: &fantoccini::Client) -> Result<()> {
    click(app, "#nav-people").await?;
    replace_text(app, "#people-search", "byron").await?;
    wait_for_text(app, "[data-testid=person-record] h2", CUSTOMER).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_saved_offline_survive_sigkill_and_reach_the_server_once() -> Result<()> {
    let mut desktop = Desktop::start()?;
    let server = desktop.server_url.clone();
    let agent = api_token(&server, DEMO_EMAIL, DEMO_PASSWORD).await?;
    let customer = customer_id(&server, &agent).await?;
    let notes_before = api_get(&server, &agent, &format!("/api/v1/people/{customer}/notes"))
        .await?
        .0["total"]
        .as_u64()
        .context("notes total")?;

    let app = desktop.launch_app().await?;
    sign_in(&app, &server, DEMO_EMAIL, DEMO_PASSWORD).await?;
    // Opened once while online, so it can be read offline.
    open_customer(&app).await?;
    wait_for_text(&app, "[data-testid=record-notes]", "invoice for order 1842").await?;

    desktop.stop_server();

    // The profile: saved on this computer.
    click(&app, "#nav-profile").await?;
    replace_text(&app, "#job-title", "Night shift lead").await?;
    click(&app, "#save").await?;
    wait_for_text(&app, "[data-testid=save-state]", "Saved on this computer").await?;
    // Busy.
    click(&app, "[data-testid=status-button]").await?;
    click(&app, "[data-testid=status-option-busy]").await?;
    // A note on the customer, from the record kept on this computer.
    open_customer(&app).await?;
    wait_for(&app, "#new-note")
        .await?
        .send_keys("Called while the server was down.")
        .await?;
    click(
        &app,
        "[data-testid=person-record] form.add button[type=submit]",
    )
    .await?;
    wait_for_text(
        &app,
        "[data-testid=record-notes]",
        "Called while the server was down.",
    )
    .await?;
    // Quiet hours on.
    click(&app, "#nav-notifications").await?;
    click(&app, "#quiet-enabled").await?;
    click(&app, "#prefs-save").await?;
    wait_for_text(
        &app,
        "[data-testid=prefs-save-state]",
        "Saved on this computer",
    )
    .await?;
    wait_for_text(&app, "[data-testid=outbox]", "4 changes waiting").await?;
    save_screenshot(&app, "offline-waiting.png").await?;

    // Killed, as a crash or a power cut would end it.
    desktop.kill_app()?;
    let _ = app.close().await;

    // Started again while the server is still away: the agent's profile, the record
    // opened before and the changes waiting are all there.
    let app = desktop.launch_app().await?;
    wait_for_text(&app, "#profile-title", "Your profile").await?;
    ensure!(
        value_of(&app, "#job-title").await? == "Night shift lead",
        "the profile does not show the change kept"
    );
    wait_for_text(&app, "[data-testid=offline-as-of]", "Offline").await?;
    wait_for_text(&app, "[data-testid=outbox]", "4 changes waiting").await?;
    open_customer(&app).await?;
    wait_for_text(
        &app,
        "[data-testid=record-notes]",
        "Called while the server was down.",
    )
    .await?;
    save_screenshot(&app, "offline-restarted.png").await?;

    // The server is back: everything goes, once.
    desktop.start_server()?;
    let profile = server_shows(&server, &agent, "/api/v1/me", "the job title", |me| {
        me["job_title"] == "Night shift lead" && me["status"] == "busy"
    })
    .await?;
    let agent_id = profile["id"].as_str().context("agent id")?.to_owned();
    server_shows(
        &server,
        &agent,
        "/api/v1/me/notification-prefs",
        "quiet hours on",
        |prefs| prefs["quiet_hours"]["enabled"] == true,
    )
    .await?;
    let notes = server_shows(
        &server,
        &agent,
        &format!("/api/v1/people/{customer}/notes"),
        "the note",
        |page| page["total"].as_u64() == Some(notes_before + 1),
    )
    .await?;
    let added = notes["notes"]
        .as_array()
        .context("notes")?
        .iter()
        .filter(|note| note["body"] == "Called while the server was down.")
        .count();
    ensure!(added == 1, "the note was added {added} times: {notes}");
    wait_until_gone(&app, "[data-testid=outbox]").await?;
    // Sent once: one change of the job title in the change log, however often the app
    // tried while the server was away.
    let (log, _) = api_get(
        &server,
        &agent,
        &format!("/api/v1/people/{agent_id}/changes"),
    )
    .await?;
    let titles = log["changes"]
        .as_array()
        .context("changes")?
        .iter()
        .filter(|change| change["field"] == "job_title")
        .count();
    ensure!(titles == 1, "the job title changed {titles} times: {log}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (notes_later, _) =
        api_get(&server, &agent, &format!("/api/v1/people/{customer}/notes")).await?;
    ensure!(
        notes_later["total"].as_u64() == Some(notes_before + 1),
        "a note arrived twice: {notes_later}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_changed_meanwhile_is_merged_and_signing_out_asks_first() -> Result<()> {
    let desktop = Desktop::start()?;
    let server = desktop.server_url.clone();
    let network = NetworkSwitch::start(
        server
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .context("the server's port")?,
    )
    .await?;
    let agent = api_token(&server, DEMO_EMAIL, DEMO_PASSWORD).await?;
    let admin = api_token(&server, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await?;
    let customer = customer_id(&server, &agent).await?;

    let app = desktop.launch_app().await?;
    // Through the network the test cuts.
    sign_in(&app, &network.url, DEMO_EMAIL, DEMO_PASSWORD).await?;
    open_customer(&app).await?;

    network.cut();
    // Offline, the agent rewrites the summary.
    click(&app, &format!("{SUMMARY} .heading button")).await?;
    // (A redraw as the record is read again may swallow the first click.)
    if wait_for(&app, "#customer-summary").await.is_err() {
        click(&app, &format!("{SUMMARY} .heading button")).await?;
    }
    replace_text(&app, "#customer-summary", "Prefers phone calls after 4 pm").await?;
    click(&app, &format!("{SUMMARY} form button[type=submit]")).await?;
    wait_for_text(&app, "[data-testid=outbox]", "1 change waiting").await?;

    // Meanwhile an administrator changes the website and the summary.
    let path = format!("/api/v1/people/{customer}");
    let (record, _) = api_get(&server, &admin, &path).await?;
    let version = record["version"].as_i64().context("version")?;
    reqwest::Client::new()
        .patch(format!("{server}{path}"))
        .bearer_auth(&admin)
        .header("If-Match", format!("\"{version}\""))
        .json(&json!({"website": "byron.example", "summary": "VIP since 2019"}))
        .send()
        .await?
        .error_for_status()?;

    network.restore();
    let merged = server_shows(&server, &agent, &path, "the agent's summary", |record| {
        record["summary"] == "Prefers phone calls after 4 pm"
    })
    .await?;
    ensure!(
        merged["website"]
            .as_str()
            .is_some_and(|website| website.contains("byron.example")),
        "the administrator's website was lost: {merged}"
    );
    // The open record shows the server's record now: the administrator's website too.
    wait_for_text(&app, "[data-testid=record-details]", "byron.example").await?;
    // The agent sees what their change replaced, and puts it back.
    wait_for_text(&app, "[data-testid=conflict-summary]", "VIP since 2019").await?;
    save_screenshot(&app, "offline-conflict.png").await?;
    click(&app, "[data-testid=restore-summary]").await?;
    server_shows(&server, &agent, &path, "the restored summary", |record| {
        record["summary"] == "VIP since 2019"
    })
    .await?;

    // Signing out with a change waiting asks, and then leaves nothing of the account.
    network.cut();
    click(&app, "#nav-profile").await?;
    replace_text(&app, "#job-title", "Will never reach the server").await?;
    click(&app, "#save").await?;
    wait_for_text(&app, "[data-testid=save-state]", "Saved on this computer").await?;
    let accounts = desktop.home().join(".local/share");
    ensure!(
        files_below(&accounts, &[])
            .iter()
            .any(|file| file.ends_with("outbox.sqlite3")),
        "no outbox under {}",
        accounts.display()
    );
    click(&app, "[data-testid=sign-out]").await?;
    wait_for_text(&app, "dialog[open]", "reached the server").await?;
    click(&app, "dialog[open] [data-action=confirm]").await?;
    wait_for(&app, "#server-url").await?;
    let left: Vec<_> = files_below(&accounts, &[])
        .into_iter()
        .filter(|file| file.components().any(|part| part.as_os_str() == "accounts"))
        .collect();
    ensure!(left.is_empty(), "the account's files stayed: {left:?}");
    // Nor its recent alerts.
    let alert_files: Vec<_> = files_below(&desktop.home(), &[])
        .into_iter()
        .filter(|file| file.ends_with("alerts.json"))
        .collect();
    ensure!(!alert_files.is_empty(), "the alerts file is gone");
    for alerts in alert_files {
        let kept = std::fs::read_to_string(&alerts)?;
        ensure!(
            kept.contains("\"agent_id\":\"\"") && kept.contains("\"inbox\":[]"),
            "{} still holds the account's alerts: {kept}",
            alerts.display()
        );
    }

    // Another agent signs in on this computer: the first one's change is never sent.
    network.restore();
    replace_text(&app, "#server-url", &network.url).await?;
    replace_text(&app, "#email", DEMO_ADMIN_EMAIL).await?;
    replace_text(&app, "#password", DEMO_ADMIN_PASSWORD).await?;
    click(&app, "button[type=submit]").await?;
    wait_for_text(&app, "#profile-title", "Your profile").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (me, _) = api_get(&server, &agent, "/api/v1/me").await?;
    ensure!(
        me["job_title"] != "Will never reach the server",
        "the first agent's change was sent: {me}"
    );
    Ok(())
}

//! The real app, signed in as the demo agent, edits the profile against a real server.

use std::time::{Duration, Instant};

use agent_desk_e2e::{
    api_login, api_profile, replace_text, save_screenshot, sign_in, value_of, wait_for,
    wait_for_text, Desktop, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, DEMO_EMAIL, DEMO_PASSWORD,
};
use anyhow::{ensure, Context, Result};
use fantoccini::Locator;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_edits_profile_and_stays_signed_in_across_restart() -> Result<()> {
    let desktop = Desktop::start()?;

    // First run: sign in.
    let app = desktop.launch_app().await?;
    replace_text(&app, "#server-url", &desktop.server_url).await?;
    replace_text(&app, "#email", DEMO_EMAIL).await?;
    replace_text(&app, "#password", DEMO_PASSWORD).await?;
    wait_for(&app, "button[type=submit]").await?.click().await?;
    wait_for_text(&app, "#profile-title", "Your profile").await?;
    ensure!(value_of(&app, "#display-name").await? == "Dana Demo");

    // Change job title and phone, save, see "Saved".
    replace_text(&app, "#job-title", "Escalations Lead").await?;
    replace_text(&app, "#phone", "+49 30 901820").await?;
    wait_for(&app, "#save").await?.click().await?;
    wait_for_text(&app, "[data-testid=save-state]", "Saved").await?;
    ensure!(
        value_of(&app, "#phone").await? == "+4930901820",
        "the app shows the normalised number"
    );

    // The server stored them.
    let (stored, etag) = api_profile(&desktop.server_url).await?;
    ensure!(
        stored["job_title"] == "Escalations Lead",
        "stored: {stored}"
    );
    ensure!(stored["phone"] == "+4930901820", "stored: {stored}");

    // An invalid phone shows at the field and nothing reaches the server.
    replace_text(&app, "#phone", "030 1234").await?;
    wait_for_text(&app, "#phone-error", "country code").await?;
    wait_for(&app, "#save").await?.click().await?;
    wait_for_text(
        &app,
        "[data-testid=profile-banner]",
        "Fix the highlighted fields",
    )
    .await?;
    let (after, etag_after) = api_profile(&desktop.server_url).await?;
    ensure!(
        etag_after == etag,
        "the server's version changed: {etag} → {etag_after}"
    );
    ensure!(after["phone"] == "+4930901820", "stored: {after}");

    // Keep the Profile screen as an artifact, then discard the bad edit.
    save_screenshot(&app, "profile.png").await?;
    wait_for(&app, "footer button[type=button]")
        .await?
        .click()
        .await?;
    wait_for_text(&app, "[data-testid=save-state]", "").await?;
    ensure!(value_of(&app, "#phone").await? == "+4930901820");

    // A number of the right shape that its country's plan does not have: the app lets it
    // through (the plan is the server's), the server refuses it at save, at its field, and
    // the stored number stays.
    replace_text(&app, "#phone", "+49 0000 000").await?;
    wait_for(&app, "#save").await?.click().await?;
    wait_for_text(&app, "#phone-error", "not a valid phone number").await?;
    let (after, _) = api_profile(&desktop.server_url).await?;
    ensure!(after["phone"] == "+4930901820", "stored: {after}");
    wait_for(&app, "footer button[type=button]")
        .await?
        .click()
        .await?;
    wait_for_text(&app, "[data-testid=save-state]", "").await?;
    app.close().await?;

    // Second run: still signed in, showing the saved values.
    let app = desktop.launch_app().await?;
    wait_for_text(&app, "#profile-title", "Your profile").await?;
    ensure!(value_of(&app, "#job-title").await? == "Escalations Lead");
    ensure!(value_of(&app, "#phone").await? == "+4930901820");
    save_screenshot(&app, "profile-after-restart.png").await?;
    app.close().await?;
    Ok(())
}

/// Polls until the input `css` holds `expected`, or fails after a few seconds.
async fn wait_for_value(app: &fantoccini::Client, css: &str, expected: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let value = value_of(app, css).await?;
        if value == expected {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "{css} holds {value:?}, never {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls until nothing matches `css`.
async fn wait_for_absence(app: &fantoccini::Client, css: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.find(Locator::Css(css)).await.is_ok() {
        ensure!(Instant::now() < deadline, "{css} is still there");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// The profile offers the languages the app is translated into, and nothing else; a new
/// department is a request an administrator decides: the app says so, keeps showing the
/// department in force, withdraws the request on demand, and follows the decision made
/// through the API while the screen is open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_department_waits_for_an_administrator() -> Result<()> {
    let desktop = Desktop::start()?;
    let server = desktop.server_url.as_str();
    let app = desktop.launch_app().await?;
    sign_in(&app, server, DEMO_EMAIL, DEMO_PASSWORD).await?;

    // Two languages, as two catalogs ship.
    wait_for(&app, "#language option[value=de]").await?;
    let mut tags = Vec::new();
    for option in app.find_all(Locator::Css("#language option")).await? {
        tags.push(option.attr("value").await?.unwrap_or_default());
    }
    ensure!(tags == ["en", "de"], "the languages offered: {tags:?}");

    // Ask to move to Billing: sent for approval, the department in force stays.
    replace_text(&app, "#department", "Billing").await?;
    wait_for(&app, "#save").await?.click().await?;
    wait_for_text(&app, "[data-testid=save-state]", "Sent for approval").await?;
    wait_for_text(
        &app,
        "[data-testid=profile-banner]",
        "sent to an administrator for approval",
    )
    .await?;
    wait_for_text(
        &app,
        "[data-testid=department-request]",
        "Requested: Billing — waiting for an administrator",
    )
    .await?;
    ensure!(value_of(&app, "#department").await? == "Customer Care");
    let (stored, _) = api_profile(server).await?;
    ensure!(
        stored["department"] == "Customer Care"
            && stored["department_request"]["value"] == "Billing",
        "stored: {stored}"
    );

    // Withdraw it: nothing waits any more. (Scrolled clear of the sticky save bar first,
    // as a person would.)
    let withdraw = wait_for(&app, "[data-testid=department-request] button").await?;
    app.execute(
        "arguments[0].scrollIntoView({block: 'center'})",
        vec![serde_json::to_value(&withdraw)?],
    )
    .await?;
    save_screenshot(&app, "profile-department-request.png").await?;
    withdraw.click().await?;
    wait_for_text(&app, "[data-testid=profile-banner]", "withdrawn").await?;
    wait_for_absence(&app, "[data-testid=department-request]").await?;
    let (stored, _) = api_profile(server).await?;
    ensure!(
        stored["department_request"].is_null() && stored["department"] == "Customer Care",
        "stored: {stored}"
    );

    // Ask again; an administrator approves it through the API; the open screen follows.
    replace_text(&app, "#department", "Billing").await?;
    wait_for(&app, "#save").await?.click().await?;
    wait_for(&app, "[data-testid=department-request]").await?;
    let http = reqwest::Client::new();
    let (status, admin) = api_login(server, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await?;
    ensure!(status == 200, "the admin cannot sign in ({status})");
    let admin = admin.context("a token")?;
    let waiting: serde_json::Value = http
        .get(format!("{server}/api/v1/admin/department-requests"))
        .bearer_auth(&admin)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let request = waiting["requests"]
        .as_array()
        .context("requests")?
        .iter()
        .find(|request| request["agent_email"] == DEMO_EMAIL)
        .with_context(|| format!("no request of the demo agent: {waiting}"))?;
    ensure!(
        request["requested"] == "Billing" && request["current"] == "Customer Care",
        "{request}"
    );
    let id = request["id"].as_str().context("id")?;
    http.post(format!(
        "{server}/api/v1/admin/department-requests/{id}/decision"
    ))
    .bearer_auth(&admin)
    .json(&json!({"approve": true, "note": "Welcome to Billing"}))
    .send()
    .await?
    .error_for_status()?;
    wait_for_value(&app, "#department", "Billing").await?;
    wait_for_absence(&app, "[data-testid=department-request]").await?;
    wait_for_text(
        &app,
        "[data-testid=profile-banner]",
        "An administrator approved your change of department",
    )
    .await?;
    app.execute("window.scrollTo(0, 0)", vec![]).await?;
    save_screenshot(&app, "profile-department-approved.png").await?;

    // The decision is also a notification, and the matrix has a row for it (no Push column).
    wait_for(&app, "#nav-notifications").await?.click().await?;
    wait_for_text(&app, "ul.alerts", "Billing").await?;
    wait_for_text(
        &app,
        "[data-testid=\"pref-department.request_decided\"]",
        "My request to change department is decided",
    )
    .await?;
    let headers = wait_for(&app, "[data-testid=prefs-table] thead")
        .await?
        .text()
        .await?;
    ensure!(
        !headers.contains("Push"),
        "the matrix still has {headers:?}"
    );
    ensure!(
        !app.source().await?.to_lowercase().contains("push"),
        "the Notifications screen still speaks of push"
    );
    save_screenshot(&app, "notifications.png").await?;

    // The Privacy screen says what each preference does here.
    wait_for(&app, "#nav-privacy").await?.click().await?;
    wait_for_text(&app, "#privacy-title", "Privacy").await?;
    wait_for_text(
        &app,
        "#pref-calendar_integration-hint",
        "does not read or share your calendar",
    )
    .await?;
    let calendar = wait_for(&app, "#pref-calendar_integration").await?;
    app.execute(
        "arguments[0].scrollIntoView({block: 'center'})",
        vec![serde_json::to_value(&calendar)?],
    )
    .await?;
    save_screenshot(&app, "privacy-contact.png").await?;
    app.close().await?;
    Ok(())
}

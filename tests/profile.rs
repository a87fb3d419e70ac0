//! The real app, signed in as the demo agent, edits the profile against a real server.

use agent_desk_e2e::{
    api_profile, replace_text, save_screenshot, value_of, wait_for, wait_for_text, Desktop,
    DEMO_EMAIL, DEMO_PASSWORD,
};
use anyhow::{ensure, Result};

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

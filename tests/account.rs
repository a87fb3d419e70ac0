//! The real app and server: change the password, sign out, sign in with the new one, and
//! reset a forgotten password from the mail in the server's outbox to a new password.

use agent_desk_e2e::{
    api_login, files_with_live_tokens, replace_text, save_screenshot, sign_in, wait_for,
    wait_for_reset_link, wait_for_text, Desktop, DEMO_EMAIL, DEMO_PASSWORD,
};
use anyhow::{ensure, Context, Result};

const CHANGED_PASSWORD: &str = "Lantern-Harbour-58";
const RESET_PASSWORD: &str = "Copper-Meadow-Sail-71";

/// The OS credential store's own files: the one place the token may be.
const CREDENTIAL_STORE: &[&str] = &[".local/share/keyrings"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_changes_and_resets_the_password() -> Result<()> {
    let desktop = Desktop::start()?;
    let home = desktop.root.path().join("home");
    let outbox = desktop.root.path().join("server/outbox");

    let app = desktop.launch_app().await?;
    sign_in(&app, &desktop.server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;

    // The token is in the credential store only: no file of the app's config, data or
    // cache folders (nor anywhere else under HOME) holds a token the server accepts.
    let (leaking, files_read) =
        files_with_live_tokens(&home, CREDENTIAL_STORE, &desktop.server_url).await?;
    ensure!(
        files_read > 0,
        "the app wrote no files at all, so the scan proves nothing"
    );
    ensure!(leaking.is_empty(), "a live token is in {leaking:?}");

    // Change the password on the Account screen.
    wait_for(&app, "#nav-account").await?.click().await?;
    wait_for_text(&app, "#account-title", "Account").await?;
    replace_text(&app, "#current-password", DEMO_PASSWORD).await?;
    replace_text(&app, "#new-password", CHANGED_PASSWORD).await?;
    wait_for(&app, "#change-password:enabled")
        .await?
        .click()
        .await?;
    wait_for_text(&app, "[data-testid=password-done]", "changed").await?;
    let (old, _) = api_login(&desktop.server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;
    ensure!(old == 401, "the old password still signs in ({old})");
    let (new, token) = api_login(&desktop.server_url, DEMO_EMAIL, CHANGED_PASSWORD).await?;
    ensure!(new == 200, "the new password does not sign in ({new})");
    let api_token = token.context("a token")?;
    save_screenshot(&app, "account.png").await?;

    // Sign out: back on the sign-in screen, nothing of the profile left in the page, and
    // the app's session ended on the server (only the API's own session remains).
    wait_for(&app, "#account-sign-out").await?.click().await?;
    wait_for_text(&app, "#signin-title", "Sign in").await?;
    let page = app.source().await?;
    for private in ["Dana Demo", "Support Specialist", "Customer Care"] {
        ensure!(!page.contains(private), "{private:?} is still in the page");
    }
    let sessions: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/auth/sessions", desktop.server_url))
        .bearer_auth(&api_token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let remaining = sessions["sessions"].as_array().context("sessions")?;
    ensure!(
        remaining.len() == 1 && remaining[0]["current"] == true,
        "the app's session survived signing out: {sessions}"
    );

    // Sign in with the new password.
    sign_in(&app, &desktop.server_url, DEMO_EMAIL, CHANGED_PASSWORD).await?;

    // Forgot it: ask for a reset link from the sign-in screen.
    wait_for(&app, "#nav-account").await?.click().await?;
    wait_for(&app, "#account-sign-out").await?.click().await?;
    wait_for(&app, "#forgot").await?.click().await?;
    replace_text(&app, "#reset-email", DEMO_EMAIL).await?;
    wait_for(&app, "[data-testid=reset-form] button[type=submit]")
        .await?
        .click()
        .await?;
    wait_for_text(&app, "[data-testid=reset-sent]", "30 minutes").await?;

    // Open the link from the mail, as on another device, and set a new password there.
    let link = wait_for_reset_link(&outbox, 0).await?;
    ensure!(
        link.starts_with(&format!("{}/reset?token=", desktop.server_url)),
        "the link points elsewhere: {link}"
    );
    let token = link.split("token=").nth(1).context("token")?.to_owned();
    let http = reqwest::Client::new();
    let page = http.get(&link).send().await?;
    ensure!(
        page.status() == 200,
        "the reset page answered {}",
        page.status()
    );
    let page = http
        .post(format!("{}/reset", desktop.server_url))
        .form(&[
            ("token", token.as_str()),
            ("new_password", RESET_PASSWORD),
            ("confirm_password", RESET_PASSWORD),
        ])
        .send()
        .await?;
    let status = page.status();
    let text = page.text().await?;
    ensure!(
        status == 200 && text.contains("Your password has been changed"),
        "resetting answered {status}: {text}"
    );
    let again = http.get(&link).send().await?.status();
    ensure!(again == 410, "the used link still answers {again}");

    // Back in the app: the reset password signs in.
    wait_for(&app, "#back-to-signin").await?.click().await?;
    sign_in(&app, &desktop.server_url, DEMO_EMAIL, RESET_PASSWORD).await?;
    app.close().await?;
    Ok(())
}

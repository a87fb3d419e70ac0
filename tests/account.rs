//! The real app and server: change the password, sign out, sign in with the new one, and
//! reset a forgotten password from the mail in the server's outbox to a new password.

use std::time::{Duration, Instant};

use agent_desk_e2e::{
    api_login, api_profile, files_with_live_tokens, replace_text, save_screenshot, sign_in,
    wait_for, wait_for_reset_link, wait_for_text, Desktop, DEMO_EMAIL, DEMO_PASSWORD,
};
use anyhow::{ensure, Context, Result};
use fantoccini::Locator;

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

/// Waits until the app shows the sign-in screen with the notice that says why, and
/// answers how long that took.
async fn signed_out_notice(app: &fantoccini::Client, needle: &str) -> Result<Duration> {
    let start = Instant::now();
    loop {
        let notice = match app.find(Locator::Css("[data-testid=signin-notice]")).await {
            Ok(notice) => notice.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let signin = app.find(Locator::Css("#signin-title")).await.is_ok();
        if signin && notice.contains(needle) {
            return Ok(start.elapsed());
        }
        ensure!(
            start.elapsed() < SIGNED_OUT_WITHIN,
            "{SIGNED_OUT_WITHIN:?} after the session ended the app shows {} with the notice {notice:?}",
            if signin { "the sign-in screen" } else { "no sign-in screen" },
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How soon the app must notice a session the server ended: the server closes its
/// event stream at once, and the app signs out when it hears so.
const SIGNED_OUT_WITHIN: Duration = Duration::from_secs(5);

/// The server ends the app's session — another session signs out the others, then the
/// password is changed elsewhere — and each time the app goes to the sign-in screen
/// within seconds and says why, and that unsaved edits are lost when there were some.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_signs_out_when_the_server_ends_its_session() -> Result<()> {
    let desktop = Desktop::start()?;
    let server = desktop.server_url.as_str();
    let http = reqwest::Client::new();

    let app = desktop.launch_app().await?;
    sign_in(&app, server, DEMO_EMAIL, DEMO_PASSWORD).await?;
    // An edit left unsaved on the Profile screen.
    replace_text(&app, "#job-title", "Night Shift Lead").await?;
    wait_for_text(&app, "[data-testid=save-state]", "unsaved").await?;
    // Time for the app's event stream to open (ended before, it would fail to open the same way).
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Elsewhere: a second session signs out every other one.
    let (status, other) = api_login(server, DEMO_EMAIL, DEMO_PASSWORD).await?;
    ensure!(status == 200, "a second session cannot sign in ({status})");
    let other = other.context("a token")?;
    let ended: serde_json::Value = http
        .post(format!("{server}/api/v1/auth/sessions/sign-out-others"))
        .bearer_auth(&other)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    ensure!(ended["signed_out_sessions"] == 1, "{ended}");
    let took = signed_out_notice(&app, "You were signed out").await?;
    let notice = wait_for_text(&app, "[data-testid=signin-notice]", "").await?;
    ensure!(
        notice.contains("The changes you had not saved are lost"),
        "the notice does not mention the lost edit: {notice:?}"
    );
    ensure!(
        !app.source().await?.contains("Night Shift Lead"),
        "the unsaved edit is still in the page"
    );
    println!("signed out {took:?} after the other session ended it");
    save_screenshot(&app, "signin-signed-out.png").await?;
    let (stored, _) = api_profile(server).await?;
    ensure!(
        stored["job_title"] == "Support Specialist",
        "stored: {stored}"
    );

    // A plain http:// address to another computer is refused, and the field says why.
    replace_text(&app, "#server-url", "http://desk.example.com").await?;
    replace_text(&app, "#password", DEMO_PASSWORD).await?;
    wait_for(&app, "button[type=submit]").await?.click().await?;
    wait_for_text(
        &app,
        "#server-url-error",
        "Use https:// for a server on another computer; http:// only works for a server on this computer.",
    )
    .await?;
    save_screenshot(&app, "signin-insecure-url.png").await?;

    // Signed in again, nothing edited; the password is changed from the other session.
    sign_in(&app, server, DEMO_EMAIL, DEMO_PASSWORD).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    http.post(format!("{server}/api/v1/auth/password"))
        .bearer_auth(&other)
        .json(&serde_json::json!({
            "current_password": DEMO_PASSWORD,
            "new_password": CHANGED_PASSWORD,
            "keep_other_sessions": false,
        }))
        .send()
        .await?
        .error_for_status()?;
    let took = signed_out_notice(&app, "You were signed out").await?;
    let notice = wait_for_text(&app, "[data-testid=signin-notice]", "").await?;
    ensure!(
        !notice.contains("not saved"),
        "nothing was edited, yet the notice says so: {notice:?}"
    );
    println!("signed out {took:?} after the password changed elsewhere");
    // The new password signs in again.
    sign_in(&app, server, DEMO_EMAIL, CHANGED_PASSWORD).await?;
    app.close().await?;
    Ok(())
}

//! The real app and server with the demo's colleagues and teams: the demo agent approves
//! a request to the team they lead, asks to join another and sees its lead's decision
//! arrive while the screen is open; looks colleagues up in the directory, where a
//! colleague's privacy holds; then makes the profile visible to the department only,
//! and the server shows colleagues exactly what that allows.

use agent_desk_e2e::{
    api_login, replace_text, save_screenshot, sign_in, wait_for, wait_for_text, Desktop,
    DEMO_EMAIL, DEMO_PASSWORD,
};
use anyhow::{ensure, Context, Result};
use fantoccini::Locator;
use serde_json::{json, Value};

const SAM: &str = "sam@agentdesk.example";
const ROBIN: &str = "robin@agentdesk.example";
const COLLEAGUE_PASSWORD: &str = "Demo-colleague-2026!";

async fn token(server_url: &str, email: &str, password: &str) -> Result<String> {
    let (status, token) = api_login(server_url, email, password).await?;
    ensure!(status == 200, "{email} cannot sign in ({status})");
    token.context("a token")
}

async fn get(server_url: &str, token: &str, path: &str) -> Result<Value> {
    Ok(reqwest::Client::new()
        .get(format!("{server_url}{path}"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

fn team_id(teams: &Value, name: &str) -> Result<String> {
    teams
        .as_array()
        .context("teams")?
        .iter()
        .find(|team| team["name"] == name)
        .and_then(|team| team["id"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("no team {name} in {teams}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_and_privacy_in_the_app_reach_the_server() -> Result<()> {
    let desktop = Desktop::start()?;
    let server = desktop.server_url.as_str();
    let sam = token(server, SAM, COLLEAGUE_PASSWORD).await?;
    let robin = token(server, ROBIN, COLLEAGUE_PASSWORD).await?;
    let teams = get(server, &sam, "/api/v1/teams").await?;
    let billing = team_id(&teams, "Billing")?;
    let escalations = team_id(&teams, "Escalations")?;

    // Sam states how he likes to be reached; colleagues see it on his record.
    let http = reqwest::Client::new();
    let me = http
        .get(format!("{server}/api/v1/me"))
        .bearer_auth(&sam)
        .send()
        .await?
        .error_for_status()?;
    let etag = me
        .headers()
        .get("etag")
        .and_then(|value| value.to_str().ok())
        .context("an etag")?
        .to_owned();
    http.patch(format!("{server}/api/v1/me"))
        .bearer_auth(&sam)
        .header("If-Match", etag)
        .json(&json!({"contact_prefs": {
            "allow_direct_messages": false,
            "show_phone": true,
            "show_online_status": true,
            "calendar_integration": true,
        }}))
        .send()
        .await?
        .error_for_status()?;

    let app = desktop.launch_app().await?;
    sign_in(&app, &desktop.server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;
    wait_for(&app, "#nav-teams").await?.click().await?;
    wait_for_text(&app, "#teams-title", "Teams").await?;

    // Robin's request to Billing, which the demo agent leads, waits there: approve it.
    wait_for_text(
        &app,
        "[data-testid=requests-to-decide]",
        "Robin Rookie wants to join Billing",
    )
    .await?;
    wait_for(
        &app,
        "[data-testid=requests-to-decide] article button.primary",
    )
    .await?
    .click()
    .await?;
    wait_for_text(
        &app,
        "[data-testid=teams-message]",
        "Robin Rookie is now a member of Billing",
    )
    .await?;
    let robins = get(server, &robin, "/api/v1/teams").await?;
    let robin_in_billing = robins
        .as_array()
        .context("teams")?
        .iter()
        .any(|team| team["id"] == billing.as_str() && team["membership"] == "member");
    ensure!(robin_in_billing, "Robin is not in Billing: {robins}");

    // Ask to join Escalations, with a note.
    let row = format!("li[data-team=\"{escalations}\"]");
    wait_for(&app, &format!("{row} button"))
        .await?
        .click()
        .await?;
    wait_for(&app, &format!("#join-note-{escalations}"))
        .await?
        .send_keys("I take the weekend escalations")
        .await?;
    wait_for(&app, &format!("{row} button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_for_text(
        &app,
        &format!("{row} [data-testid=membership]"),
        "Requested",
    )
    .await?;
    wait_for_text(&app, "[data-testid=my-requests]", "Waiting for a lead").await?;

    // Sam, who leads Escalations, approves it elsewhere; the open screen follows.
    let waiting = get(server, &sam, "/api/v1/join-requests").await?;
    let request = waiting["to_decide"]
        .as_array()
        .context("to_decide")?
        .iter()
        .find(|request| request["team_id"] == escalations.as_str())
        .with_context(|| format!("Sam has no request to decide: {waiting}"))?;
    ensure!(
        request["note"] == "I take the weekend escalations",
        "{request}"
    );
    let request_id = request["id"].as_str().context("request id")?;
    reqwest::Client::new()
        .post(format!(
            "{server}/api/v1/join-requests/{request_id}/decision"
        ))
        .bearer_auth(&sam)
        .json(&json!({"approve": true, "note": "Welcome aboard"}))
        .send()
        .await?
        .error_for_status()?;
    wait_for_text(&app, "[data-testid=my-requests]", "Approved").await?;
    wait_for_text(&app, "[data-testid=my-requests]", "Welcome aboard").await?;
    wait_for_text(&app, &format!("{row} [data-testid=membership]"), "Member").await?;
    save_screenshot(&app, "teams.png").await?;

    // The directory: Sam is public, Robin shares his profile with Billing only.
    wait_for(&app, "#nav-people").await?.click().await?;
    replace_text(&app, "#people-search", "sam").await?;
    wait_for_text(&app, "[data-testid=person-record] h2", "Sam Senior").await?;
    wait_for_text(&app, "[data-testid=record-phone]", "+442071838750").await?;
    wait_for_text(&app, "[data-testid=record-teams]", "Escalations").await?;
    wait_for_text(&app, "[data-testid=record-local-time]", "Local time").await?;
    wait_for_text(
        &app,
        "[data-testid=record-direct-messages]",
        "Prefers no direct messages",
    )
    .await?;
    wait_for_text(
        &app,
        "[data-testid=record-calendar]",
        "Open to calendar invitations",
    )
    .await?;
    save_screenshot(&app, "people.png").await?;
    replace_text(&app, "#people-search", "robin").await?;
    wait_for_text(&app, "[data-testid=person-record] h2", "Robin Rookie").await?;
    wait_for_text(
        &app,
        "[data-testid=record-private]",
        "shares only their name and photo",
    )
    .await?;
    ensure!(
        !app.source().await?.contains("+12125550199"),
        "Robin's hidden phone reached the app"
    );

    // A customer: add a note and fix the website; both reach the server.
    replace_text(&app, "#people-search", "byron").await?;
    wait_for_text(&app, "[data-testid=person-record] h2", "Ada Byron").await?;
    wait_for_text(&app, "[data-testid=record-notes]", "invoice for order 1842").await?;
    wait_for(&app, "#new-note")
        .await?
        .send_keys("Promised a callback on Monday.")
        .await?;
    wait_for(
        &app,
        "[data-testid=person-record] form.add button[type=submit]",
    )
    .await?
    .click()
    .await?;
    wait_for_text(
        &app,
        "[data-testid=record-notes]",
        "Promised a callback on Monday.",
    )
    .await?;
    wait_for(&app, "[data-testid=edit-details]")
        .await?
        .click()
        .await?;
    replace_text(&app, "#customer-website", "byron.example").await?;
    // A customer's language is theirs, not one the app is translated into.
    replace_text(&app, "#customer-language", "fr").await?;
    // The demo's Plan field, a choice: from Team to Enterprise.
    wait_for(&app, "select[id^=custom-] option[value=Enterprise]")
        .await?
        .click()
        .await?;
    wait_for(
        &app,
        "[data-testid=person-record] form.edit button[type=submit]",
    )
    .await?
    .click()
    .await?;
    wait_for_text(
        &app,
        "[data-testid=record-details]",
        "https://byron.example/",
    )
    .await?;
    // Both show in the record's history: the note in the activity, the edit in the log.
    wait_for_text(
        &app,
        "[data-testid=record-activity]",
        "Dana Demo wrote a note",
    )
    .await?;
    wait_for(&app, "[data-testid=show-changes]")
        .await?
        .click()
        .await?;
    wait_for_text(
        &app,
        "[data-testid=record-changes]",
        "— → https://byron.example/",
    )
    .await?;
    wait_for_text(&app, "[data-testid=record-changes]", "Team → Enterprise").await?;
    save_screenshot(&app, "customer.png").await?;
    let found = get(server, &sam, "/api/v1/people?kind=user&q=byron").await?;
    let ada = &found["people"][0];
    ensure!(
        ada["website"] == "https://byron.example/",
        "the website did not reach the server: {ada}"
    );
    ensure!(
        ada["language"] == "fr",
        "a customer's language the app is not translated into was not kept: {ada}"
    );
    let ada_id = ada["id"].as_str().context("Ada's id")?;
    let notes = get(server, &sam, &format!("/api/v1/people/{ada_id}/notes")).await?;
    ensure!(
        notes["notes"][0]["body"] == "Promised a callback on Monday."
            && notes["notes"][0]["author_name"] == "Dana Demo",
        "the note did not reach the server: {notes}"
    );

    // Privacy: visible to the department only, online status hidden.
    let dana = get(server, &sam, "/api/v1/people?q=dana").await?;
    let dana_id = dana["people"][0]["id"]
        .as_str()
        .context("Dana is listed")?
        .to_owned();
    let before = get(server, &robin, &format!("/api/v1/people/{dana_id}")).await?;
    ensure!(
        before["job_title"] == "Support Specialist" && before.get("status").is_some(),
        "a public profile shows Robin the details: {before}"
    );
    wait_for(&app, "#nav-privacy").await?.click().await?;
    wait_for_text(&app, "#privacy-title", "Privacy").await?;
    wait_for(&app, "#visibility-department")
        .await?
        .click()
        .await?;
    wait_for(&app, "#pref-show_online_status")
        .await?
        .click()
        .await?;
    // The preview is core's answer through the shell: Billing sees the name and photo,
    // Dana's own department all but the status just switched off.
    let other = wait_for_text(&app, "[data-testid=preview-other]", "name and photo").await?;
    let same = wait_for_text(&app, "[data-testid=preview-same]", "phone numbers").await?;
    ensure!(
        !other.contains("phone") && !same.contains("online status"),
        "the preview says {same:?} for the department and {other:?} for others"
    );
    wait_for(&app, "#privacy-save:enabled")
        .await?
        .click()
        .await?;
    wait_for_text(&app, "[data-testid=privacy-save-state]", "Saved").await?;
    save_screenshot(&app, "privacy.png").await?;

    // Robin is in Billing: name and photo only, and a search by email finds nothing.
    let other = get(server, &robin, &format!("/api/v1/people/{dana_id}")).await?;
    let fields: Vec<&String> = other.as_object().context("record")?.keys().collect();
    ensure!(
        fields
            .iter()
            .all(|field| ["kind", "id", "display_name", "avatar_url"].contains(&field.as_str())),
        "another department sees more than name and photo: {other}"
    );
    let by_email = get(server, &robin, &format!("/api/v1/people?q={DEMO_EMAIL}")).await?;
    ensure!(
        by_email["people"].as_array().is_some_and(Vec::is_empty),
        "Robin finds Dana by a hidden email: {by_email}"
    );
    // Sam is in Customer Care too: the details, but not the status.
    let same = get(server, &sam, &format!("/api/v1/people/{dana_id}")).await?;
    ensure!(
        same["job_title"] == "Support Specialist" && same["department"] == "Customer Care",
        "the same department sees the details: {same}"
    );
    ensure!(
        same.get("status").is_none(),
        "the hidden status is sent: {same}"
    );
    Ok(())
}

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n";

async fn find_person(server_url: &str, token: &str, q: &str) -> Result<String> {
    let page = get(server_url, token, &format!("/api/v1/people?q={q}")).await?;
    page["people"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("nobody found for {q}: {page}"))
}

/// A customer's record in the app: the ticket history from the demo's ticket events,
/// sorted by column; a file picked in the app kept by the server with the type its bytes
/// have, saved to Downloads byte for byte, and in the activity stream; then a colleague's
/// status change showing in the open record as it happens, and the agent's own sign-ins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customers_files_and_tickets_and_a_colleagues_presence_in_the_app() -> Result<()> {
    let desktop = Desktop::start()?;
    let server = desktop.server_url.as_str();
    let demo = token(server, DEMO_EMAIL, DEMO_PASSWORD).await?;
    let sam = token(server, SAM, COLLEAGUE_PASSWORD).await?;
    let ada_byron = find_person(server, &demo, "byron").await?;

    let app = desktop.launch_app().await?;
    sign_in(&app, &desktop.server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;
    wait_for(&app, "#nav-people").await?.click().await?;
    replace_text(&app, "#people-search", "byron").await?;
    wait_for_text(&app, "[data-testid=person-record] h2", "Ada Byron").await?;

    // Newest activity first: #4705 (an SLA warning a day ago) before #4698.
    let first_row = "[data-testid=record-tickets] tbody tr:first-child";
    wait_for_text(&app, first_row, "4705").await?;
    wait_for_text(&app, "[data-testid=record-tickets]", "4698").await?;
    wait_for(&app, "[data-testid=record-tickets] th button")
        .await?
        .click()
        .await?;
    wait_for_text(&app, first_row, "4698").await?;
    // A click scrolls the table into view for the screenshot.
    wait_for(&app, "#record-tickets-title")
        .await?
        .click()
        .await?;
    save_screenshot(&app, "customer-tickets.png").await?;

    // The file dialog's part: the chosen path goes to the file input.
    let picked = desktop.root.path().join("contract 2027.pdf");
    std::fs::write(&picked, PDF)?;
    wait_for(&app, "[data-testid=file-input]")
        .await?
        .send_keys(&picked.display().to_string())
        .await?;
    wait_for_text(&app, "[data-testid=record-files]", "contract 2027.pdf").await?;
    let files = get(server, &demo, &format!("/api/v1/people/{ada_byron}/files")).await?;
    let kept = &files["files"][0];
    ensure!(kept["name"] == "contract 2027.pdf", "{files}");
    ensure!(kept["content_type"] == "application/pdf", "{files}");
    ensure!(kept["size"] == PDF.len(), "{files}");
    wait_for_text(&app, "[data-testid=record-activity]", "contract 2027.pdf").await?;
    save_screenshot(&app, "customer-files.png").await?;

    wait_for(&app, "[data-testid=record-files] li button")
        .await?
        .click()
        .await?;
    let saved_line = wait_for_text(&app, "[data-testid=file-saved]", "Downloads").await?;
    let saved = desktop.root.path().join("home/Downloads/contract 2027.pdf");
    ensure!(
        std::fs::read(&saved).ok().as_deref() == Some(PDF),
        "{} does not hold the file ({saved_line})",
        saved.display()
    );

    // Sam goes into Do not disturb while his record is open.
    replace_text(&app, "#people-search", "sam").await?;
    wait_for_text(&app, "[data-testid=person-record] h2", "Sam Senior").await?;
    let status = reqwest::Client::new()
        .put(format!("{server}/api/v1/me/status"))
        .bearer_auth(&sam)
        .json(&json!({"status": "dnd"}))
        .send()
        .await?;
    ensure!(status.status() == 200, "Sam's status: {}", status.status());
    // Live, not by the list's half-minute refresh: within a few seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let shown = match app.find(Locator::Css("[data-testid=record-status]")).await {
            Ok(status) => status.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if shown.contains("Do not disturb") {
            break;
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "Sam's status in the open record is {shown:?} 5 s after he changed it"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // The agent's own record shows their sign-ins.
    replace_text(&app, "#people-search", "dana").await?;
    wait_for_text(&app, "[data-testid=person-record] h2", "Dana Demo").await?;
    wait_for_text(&app, "[data-testid=record-sign-ins]", "Succeeded").await?;
    Ok(())
}

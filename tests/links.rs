//! `agentdesk://` links with the real app: a link opened while the app runs goes to the
//! running one (a second launch, as the desktop makes it), a person's record and its
//! "Copy link", a status only once the agent confirms, anything else refused on screen,
//! and a link that starts the app.

use agent_desk_e2e::{
    api_login, binary, server_status, sign_in, wait_for, wait_for_server_status, wait_for_text,
    Desktop, DEMO_EMAIL, DEMO_PASSWORD,
};
use anyhow::{ensure, Context, Result};
use fantoccini::Locator;

/// A colleague of the demo agent, as the server lists them: their id and name.
async fn a_colleague(server_url: &str) -> Result<(String, String)> {
    let (_, token) = api_login(server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;
    let token = token.context("a token")?;
    let http = reqwest::Client::new();
    let me: serde_json::Value = http
        .get(format!("{server_url}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let page: serde_json::Value = http
        .get(format!("{server_url}/api/v1/people?kind=agent"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let colleague = page["people"]
        .as_array()
        .and_then(|people| people.iter().find(|person| person["id"] != me["id"]))
        .context("a colleague")?;
    Ok((
        colleague["id"].as_str().context("id")?.to_owned(),
        colleague["display_name"]
            .as_str()
            .context("name")?
            .to_owned(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_open_the_app_where_they_point_and_nowhere_else() -> Result<()> {
    let desktop = Desktop::start()?;
    let app = desktop.launch_app().await?;
    sign_in(&app, &desktop.server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;
    wait_for_server_status(&desktop.server_url, "available").await?;
    let (id, name) = a_colleague(&desktop.server_url).await?;

    // A person's link, opened while the app runs: their record, in the running app.
    desktop.launch_again(&[&format!("agentdesk://people/{id}")])?;
    let record = format!("[data-testid=person-record][data-person='{id}']");
    wait_for_text(&app, &format!("{record} #record-name"), &name).await?;
    // The record hands out its own link.
    wait_for(&app, &format!("{record} [data-testid=copy-link]"))
        .await?
        .click()
        .await?;
    wait_for_text(
        &app,
        "[data-testid=copied]",
        &format!("agentdesk://people/{id} copied"),
    )
    .await?;

    // A status link asks first: refused, nothing changes; confirmed, it is set.
    desktop.launch_again(&["agentdesk://status/dnd"])?;
    wait_for_text(&app, "#link-status", "Set Do not disturb").await?;
    ensure!(server_status(&desktop.server_url).await? == "available");
    wait_for(&app, "#link-status [data-action=cancel]")
        .await?
        .click()
        .await?;
    ensure!(
        app.find(Locator::Css("#link-status")).await.is_err(),
        "the question stayed"
    );
    ensure!(server_status(&desktop.server_url).await? == "available");
    desktop.launch_again(&["agentdesk://status/dnd"])?;
    wait_for(&app, "#link-status [data-action=confirm]")
        .await?
        .click()
        .await?;
    wait_for_server_status(&desktop.server_url, "dnd").await?;
    wait_for_text(&app, "[data-testid=status-button]", "Do not disturb").await?;

    // Anything else is said and not acted on.
    desktop.launch_again(&["agentdesk://settings/delete-everything"])?;
    let said = wait_for_text(&app, "[data-testid=notice]", "wasn't opened").await?;
    ensure!(
        said.contains("no place called \"settings/delete-everything\""),
        "{said}"
    );
    desktop.launch_again(&["agentdesk://status/offline"])?;
    wait_for_text(
        &app,
        "[data-testid=notice]",
        "\"offline\" is not a status a link may set",
    )
    .await?;
    ensure!(server_status(&desktop.server_url).await? == "dnd");
    wait_for(&app, record.as_str()).await?;

    // A link that starts the app: signed in from the stored session, then there.
    let _ = app.close().await;
    let app = desktop
        .launch_with_args(&binary("agent-desk")?, &["agentdesk://devices"])
        .await?;
    wait_for_text(&app, "#devices-title", "Devices").await?;
    Ok(())
}

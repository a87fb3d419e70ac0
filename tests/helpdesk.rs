//! A real helpdesk feeding the real app: a private Request Tracker followed by the team
//! server, the app under Xvfb, and the recording notification server on the app's bus.

use std::time::Duration;

use agent_desk_e2e::notifications::FakeNotificationServer;
use agent_desk_e2e::*;
use agent_desk_rt::testing::PrivateRt;
use agent_desk_rt::Credentials;
use anyhow::{bail, ensure, Context, Result};
use serde_json::json;

const SUBJECT: &str = "Printer on floor 3 is out of toner";
const REQUESTOR: &str = "Mia Hoffmann <mia.hoffmann@example.com>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_tracker_feeds_the_app_and_away_gives_the_ticket_back() -> Result<()> {
    let rt = PrivateRt::start()?;
    rt.add_agent("dana", DEMO_EMAIL, "Dana Demo").await;
    let Credentials::Password { user, password } = rt.add_connector_user().await else {
        bail!("a password");
    };
    let desktop = Desktop::start_with_server(
        &[
            "--rt-url".into(),
            rt.url(),
            "--rt-poll-seconds".into(),
            "1".into(),
            "--rt-release-after-away-minutes".into(),
            "0".into(),
        ],
        &[
            ("AGENT_DESK_RT_USER".into(), user),
            ("AGENT_DESK_RT_PASSWORD".into(), password),
        ],
    )?;
    let daemon =
        FakeNotificationServer::start_at(desktop.bus_address().context("the app's session bus")?)
            .await?;
    let app = desktop.launch_app().await?;
    sign_in(&app, &desktop.server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;
    wait_for_text(&app, "[data-testid=status-button]", "Available").await?;

    // A ticket given to the agent in RT: exactly one notification, RT's subject, and
    // the alert opens RT's page of the ticket.
    let ticket = rt
        .create_ticket(json!({"Subject": SUBJECT, "Owner": "dana", "Requestor": [REQUESTOR]}))
        .await;
    daemon.wait_for_calls(1, Duration::from_secs(30)).await;
    // Past the app's 2 s burst window and a few more reads of RT: still one.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let calls = daemon.calls();
    ensure!(calls.len() == 1, "{calls:?}: {}", desktop.server_log());
    ensure!(
        calls[0].summary.contains(SUBJECT) && calls[0].summary.contains(&format!("#{ticket}")),
        "{calls:?}"
    );
    let (_, token) = api_login(&desktop.server_url, DEMO_EMAIL, DEMO_PASSWORD).await?;
    let token = token.context("a session")?;
    let http = reqwest::Client::new();
    let events: serde_json::Value = http
        .get(format!("{}/api/v1/events?after=0", desktop.server_url))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let assigned: Vec<&serde_json::Value> = events["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter(|event| event["type"] == "ticket.assigned")
                .collect()
        })
        .unwrap_or_default();
    ensure!(
        assigned.len() == 1
            && assigned[0]["url"] == format!("{}Ticket/Display.html?id={ticket}", rt.url()),
        "{events}"
    );

    // The requestor's reply by mail: a customer-reply alert.
    rt.mail_reply(REQUESTOR, ticket, SUBJECT, "Still no toner, please hurry.");
    let calls = daemon.wait_for_calls(2, Duration::from_secs(30)).await;
    ensure!(calls.len() == 2, "{calls:?}");
    ensure!(
        calls[1].summary.contains("Mia Hoffmann replied"),
        "{calls:?}"
    );

    // The requestor is a customer in People, with the ticket in their history.
    wait_for(&app, "#nav-people").await?.click().await?;
    replace_text(&app, "#people-search", "hoffmann").await?;
    wait_for_text(&app, "[data-testid=person-record] h2", "Mia Hoffmann").await?;
    wait_for_text(&app, "[data-testid=record-tickets]", &format!("{ticket}")).await?;
    save_screenshot(&app, "helpdesk-customer.png").await?;

    // Away, with tickets given back after 0 minutes: the ticket is the queue's again in
    // RT, with a comment that says why.
    wait_for(&app, "[data-testid=status-button]")
        .await?
        .click()
        .await?;
    wait_for(&app, "[data-testid=status-option-away]")
        .await?
        .click()
        .await?;
    rt.wait_for_owner(ticket, "Nobody", Duration::from_secs(30))
        .await
        .map_err(|owner| anyhow::anyhow!("{owner}: {}", desktop.server_log()))?;
    let commenters = rt
        .commenters_after_a_comment(ticket, Duration::from_secs(30))
        .await;
    ensure!(commenters == ["agent-desk"], "{commenters:?}");
    Ok(())
}

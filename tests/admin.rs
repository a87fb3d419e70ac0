//! The real app and server: an administrator adds an agent on the Administration screen,
//! the agent chooses a password from the welcome mail and signs in, then sees the address
//! and department an administrator gives them arrive in their open app, sees a
//! notification the administrator locked for everyone locked (and the server refuses to
//! change it), and is signed out of it within seconds when deactivated. On the way, the
//! administrator makes an integration's token, which works, and revokes it, which ends it.

use agent_desk_e2e::{
    api_get, api_login, api_token, replace_text, save_screenshot, sign_in, value_of, wait_for,
    wait_for_reset_link, wait_for_text, Desktop, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD,
};
use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};

const NEW_EMAIL: &str = "linus@agentdesk.example";
const MOVED_EMAIL: &str = "linus.torvalds@agentdesk.example";
const NEW_PASSWORD: &str = "Penguin-Kernel-1991";

async fn patch_agent(server: &str, token: &str, id: &str, body: &Value) -> Result<Value> {
    let path = format!("/api/v1/admin/agents/{id}");
    let (_, etag) = api_get(server, token, &path).await?;
    let response = reqwest::Client::new()
        .patch(format!("{server}{path}"))
        .bearer_auth(token)
        .header("if-match", etag.context("an ETag")?)
        .json(body)
        .send()
        .await?;
    let status = response.status();
    let answer: Value = response.json().await?;
    ensure!(status == 200, "the change answered {status}: {answer}");
    Ok(answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_adds_changes_and_deactivates_an_agent() -> Result<()> {
    let desktop = Desktop::start()?;
    let server = desktop.server_url.clone();
    let outbox = desktop.root.path().join("server/outbox");
    let mails_before = std::fs::read_dir(&outbox).map(Iterator::count).unwrap_or(0);

    // The administrator adds Linus on the Administration screen.
    let app = desktop.launch_app().await?;
    sign_in(&app, &server, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await?;
    wait_for(&app, "#nav-admin").await?.click().await?;
    wait_for_text(&app, "#admin-title", "Administration").await?;
    wait_for(&app, "[data-testid=admin-new-agent]")
        .await?
        .click()
        .await?;
    replace_text(&app, "#new-agent-email", NEW_EMAIL).await?;
    replace_text(&app, "#new-agent-name", "Linus Torvalds").await?;
    replace_text(&app, "#new-agent-department", "Kernel").await?;
    wait_for(&app, "[data-testid=new-agent-submit]")
        .await?
        .click()
        .await?;
    wait_for_text(
        &app,
        "[data-testid=admin-message]",
        "A welcome mail went to linus@agentdesk.example",
    )
    .await?;
    wait_for_text(&app, "[data-testid=admin-agents]", "Linus Torvalds").await?;
    save_screenshot(&app, "admin.png").await?;

    // …makes a Kernel team with Linus as its lead…
    wait_for(&app, "[data-testid=admin-tab-teams]")
        .await?
        .click()
        .await?;
    replace_text(&app, "#new-team-name", "Kernel").await?;
    wait_for(&app, "[data-testid=new-team-form] button[type=submit]")
        .await?
        .click()
        .await?;
    wait_for_text(&app, "[data-testid=teams-message]", "Kernel was made").await?;
    let kernel = "[data-testid='admin-team-Kernel']";
    let add = wait_for(&app, &format!("{kernel} select[id$=-add]")).await?;
    let linus_option = add
        .find(fantoccini::Locator::XPath(
            ".//option[contains(., 'Linus Torvalds')]",
        ))
        .await?;
    let linus_id = linus_option.attr("value").await?.context("Linus's id")?;
    add.select_by_value(&linus_id).await?;
    wait_for(&app, &format!("{kernel} select:not([id])"))
        .await?
        .select_by_value("lead")
        .await?;
    wait_for(&app, &format!("{kernel} form button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_for_text(
        &app,
        "[data-testid=teams-message]",
        "Linus Torvalds leads Kernel",
    )
    .await?;
    save_screenshot(&app, "admin-teams.png").await?;

    // …and has the sound of tickets given to anyone switched off for everyone.
    wait_for(&app, "[data-testid=admin-tab-notifications]")
        .await?
        .click()
        .await?;
    wait_for(&app, "#lock-ticket-assigned-sound")
        .await?
        .select_by_value("off")
        .await?;
    replace_text(
        &app,
        "#lock-ticket-assigned-reason",
        "Quiet floor: headsets only",
    )
    .await?;
    wait_for(&app, "[data-testid=notification-locks] button[type=submit]")
        .await?
        .click()
        .await?;
    wait_for_text(&app, "[data-testid=locks-message]", "Saved").await?;
    save_screenshot(&app, "admin-locks.png").await?;

    // The welcome mail's link sets the password on the server's own page.
    let link = wait_for_reset_link(&outbox, mails_before).await?;
    ensure!(
        link.starts_with(&format!("{server}/reset?token=")),
        "the link points elsewhere: {link}"
    );
    let token = link.split("token=").nth(1).context("a token")?.to_owned();
    let page = reqwest::Client::new()
        .post(format!("{server}/reset"))
        .form(&[
            ("token", token.as_str()),
            ("new_password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ])
        .send()
        .await?;
    ensure!(
        page.status() == 200,
        "the reset page answered {}",
        page.status()
    );

    // An integration's token, made on the Integrations tab and shown once, opens its scope;
    // revoked there, it is refused at once. The saved locks left the page scrolled down,
    // with the tabs under the header: they are brought back into view first.
    let tab = wait_for(&app, "[data-testid=admin-tab-integrations]").await?;
    app.execute(
        "arguments[0].scrollIntoView({block: 'center'})",
        vec![serde_json::to_value(&tab)?],
    )
    .await?;
    tab.click().await?;
    replace_text(&app, "#new-token-name", "Zendesk automation").await?;
    wait_for(
        &app,
        "[data-testid=new-token-form] input[value='events:write']",
    )
    .await?
    .click()
    .await?;
    wait_for(&app, "[data-testid=new-token-form] button[type=submit]")
        .await?
        .click()
        .await?;
    wait_for_text(
        &app,
        "[data-testid=shown-once]",
        "The token of Zendesk automation",
    )
    .await?;
    let integration = value_of(&app, "[data-testid=shown-once-value]").await?;
    ensure!(
        integration.starts_with("adi_"),
        "the token shown: {integration:?}"
    );
    save_screenshot(&app, "admin-integrations.png").await?;
    let alert = json!({
        "type": "ticket.assigned",
        "to": {"agent": DEMO_ADMIN_EMAIL},
        "title": "From Zendesk",
    });
    let post_alert = || {
        reqwest::Client::new()
            .post(format!("{server}/api/v1/admin/events"))
            .bearer_auth(&integration)
            .json(&alert)
            .send()
    };
    let status = post_alert().await?.status();
    ensure!(status == 201, "the new token's alert answered {status}");
    wait_for(&app, "[data-testid=shown-once] button.primary")
        .await?
        .click()
        .await?;
    let hooks = wait_for(&app, "[data-testid=hooks-admin]").await?;
    app.execute(
        "arguments[0].scrollIntoView({block: 'start'})",
        vec![serde_json::to_value(&hooks)?],
    )
    .await?;
    save_screenshot(&app, "admin-integrations-webhooks.png").await?;
    wait_for(&app, "[data-testid='token-Zendesk automation'] button")
        .await?
        .click()
        .await?;
    wait_for(&app, "#confirm-revoke-token [data-action=confirm]")
        .await?
        .click()
        .await?;
    wait_for_text(
        &app,
        "[data-testid=integrations-message]",
        "The token of Zendesk automation is revoked.",
    )
    .await?;
    let status = post_alert().await?.status();
    ensure!(status == 401, "the revoked token's alert answered {status}");

    // Linus signs in to the app.
    wait_for(&app, "[data-testid=sign-out]")
        .await?
        .click()
        .await?;
    sign_in(&app, &server, NEW_EMAIL, NEW_PASSWORD).await?;
    ensure!(
        app.find(fantoccini::Locator::Css("#nav-admin"))
            .await
            .is_err(),
        "an agent is offered Administration"
    );

    // He leads Kernel.
    wait_for(&app, "#nav-teams").await?.click().await?;
    wait_for_text(&app, "#main", "Kernel").await?;
    let admin = api_token(&server, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await?;
    let (teams, _) = api_get(&server, &admin, "/api/v1/admin/teams").await?;
    let kernel = teams["teams"]
        .as_array()
        .context("teams")?
        .iter()
        .find(|team| team["name"] == "Kernel")
        .context("the Kernel team")?;
    ensure!(
        kernel["members"]
            == json!([{"agent_id": linus_id, "display_name": "Linus Torvalds", "email": NEW_EMAIL, "role": "lead", "active": true}]),
        "Kernel's members: {kernel}"
    );

    // The sound of tickets given to him is off and locked, with the reason; the rest of
    // the row is his.
    wait_for(&app, "#nav-notifications").await?.click().await?;
    wait_for_text(
        &app,
        "[data-testid='pref-ticket.assigned']",
        "Quiet floor: headsets only",
    )
    .await?;
    let sound = wait_for(&app, "#pref-ticket-assigned-sound").await?;
    ensure!(
        sound.prop("disabled").await?.as_deref() == Some("true"),
        "the locked sound can be changed in the app"
    );
    ensure!(
        sound.prop("checked").await?.as_deref() == Some("false"),
        "the locked sound is not off"
    );
    let desktop = wait_for(&app, "#pref-ticket-assigned-desktop").await?;
    ensure!(
        desktop.prop("disabled").await?.as_deref() == Some("false"),
        "an unlocked channel is disabled"
    );
    save_screenshot(&app, "notifications-locked.png").await?;

    // Nor through the API.
    let linus = api_token(&server, NEW_EMAIL, NEW_PASSWORD).await?;
    let (mut prefs, etag) = api_get(&server, &linus, "/api/v1/me/notification-prefs").await?;
    prefs["events"][0]["sound"] = json!(true);
    let response = reqwest::Client::new()
        .put(format!("{server}/api/v1/me/notification-prefs"))
        .bearer_auth(&linus)
        .header("if-match", etag.context("an ETag")?)
        .json(&prefs)
        .send()
        .await?;
    let status = response.status();
    let answer: Value = response.json().await?;
    ensure!(
        status == 403 && answer["error"]["field"] == "events[0].sound",
        "changing a locked channel answered {status}: {answer}"
    );

    // An administrator gives him another address and department: his open app shows them.
    wait_for(&app, "#nav-profile").await?.click().await?;
    let (list, _) = api_get(&server, &admin, "/api/v1/admin/agents?q=linus").await?;
    let id = list["agents"][0]["id"]
        .as_str()
        .context("Linus's id")?
        .to_owned();
    patch_agent(
        &server,
        &admin,
        &id,
        &json!({"email": MOVED_EMAIL, "department": "Platform"}),
    )
    .await?;
    wait_for_text(&app, "[data-testid=email]", MOVED_EMAIL).await?;
    let mut department = String::new();
    for _ in 0..100 {
        department = value_of(&app, "#department").await?;
        if department == "Platform" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    ensure!(
        department == "Platform",
        "the open app shows the department {department:?}"
    );

    // Deactivated: the open app goes back to sign-in, and signing in is refused.
    patch_agent(&server, &admin, &id, &json!({"active": false})).await?;
    wait_for_text(&app, "#signin-title", "Sign in").await?;
    replace_text(&app, "#email", MOVED_EMAIL).await?;
    replace_text(&app, "#password", NEW_PASSWORD).await?;
    wait_for(&app, "button[type=submit]").await?.click().await?;
    wait_for_text(
        &app,
        "[data-testid=signin-error]",
        "deactivated by an administrator",
    )
    .await?;
    save_screenshot(&app, "admin-deactivated.png").await?;
    let (status, _) = api_login(&server, MOVED_EMAIL, NEW_PASSWORD).await?;
    ensure!(status == 403, "a deactivated agent signs in ({status})");
    Ok(())
}

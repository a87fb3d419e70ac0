//! The server following a private Request Tracker: its changes as alerts, exactly once,
//! its requestors as customers, and how a wrong setup reads. The tests share one RT
//! (each with agents of its own), except the one that stops RT for a while.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use agent_desk_rt::testing::PrivateRt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{
    add_admin_ok, add_agent_ok, assert_exactly_once, assigned_ticket_ids, Server, ServerOptions,
    ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD,
};

/// How long RT is given to show what the server did.
const WAIT: Duration = Duration::from_secs(30);

/// An agent in RT and in Agent Desk (one data folder), named apart from every other
/// test's on the shared RT.
struct Agent {
    /// RT's user name.
    rt: String,
    email: String,
}

impl Agent {
    async fn new(rt: &PrivateRt, dir: &Path, first: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("{first}{n}");
        let email = format!("{name}@example.com");
        let real_name = format!("{first} {n}");
        rt.add_agent(&name, &email, &real_name).await;
        add_agent_ok(dir, &email, &real_name, PASSWORD);
        Self { rt: name, email }
    }

    async fn login(&self, server: &Server) -> String {
        server.login(&self.email, PASSWORD).await
    }
}

/// Follows `rt` as its own RT user (root is who makes the tests' changes).
async fn following(rt: &PrivateRt) -> ServerOptions {
    let agent_desk_rt::Credentials::Password { user, password } = rt.add_connector_user().await
    else {
        unreachable!("a password")
    };
    ServerOptions::default()
        .arg("--rt-url")
        .arg(rt.url())
        .arg("--rt-poll-seconds")
        .arg("1")
        .env("AGENT_DESK_RT_USER", user)
        .env("AGENT_DESK_RT_PASSWORD", password)
}

/// The integrations view's one helpdesk.
async fn connection(server: &Server) -> Value {
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let integrations = get(server, &admin, "/api/v1/admin/integrations").await;
    integrations["helpdesks"][0].clone()
}

async fn get(server: &Server, token: &str, path: &str) -> Value {
    let response = server.call(token, Method::GET, path, None).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.expect("JSON")
}

async fn events(server: &Server, token: &str) -> Vec<Value> {
    let page = get(server, token, "/api/v1/events?after=0").await;
    page["events"].as_array().cloned().unwrap_or_default()
}

/// The agent's events of `kind` so far.
async fn of_kind(server: &Server, token: &str, kind: &str) -> Vec<Value> {
    events(server, token)
        .await
        .into_iter()
        .filter(|event| event["type"] == kind)
        .collect()
}

/// Waits (at most 30 s) until the agent has `count` events of `kind`.
async fn wait_for(server: &Server, token: &str, kind: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let found = of_kind(server, token, kind).await;
        if found.len() >= count || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_ticket_given_to_an_agent_and_its_requestors_reply_are_one_alert_each() {
    let rt = PrivateRt::shared().expect("a private RT");
    let dir = tempfile::tempdir().expect("temp dir");
    let ada = Agent::new(&rt, dir.path(), "ada").await;
    add_admin_ok(dir.path());
    let server = Server::start_with(dir, following(&rt).await).await;
    let token = ada.login(&server).await;

    let ticket = rt
        .create_ticket(json!({
            "Subject": "VPN down\u{7} since 9:00",
            "Owner": ada.rt,
            "Requestor": ["Mia Hoffmann <mia.hoffmann@example.com>"],
            "Priority": 80,
        }))
        .await;
    let assigned = wait_for(&server, &token, "ticket.assigned", 1).await;
    assert_eq!(assigned.len(), 1, "{assigned:?}: {}", server.log());
    let alert = &assigned[0];
    assert_eq!(
        alert["title"],
        format!("#{ticket} assigned to you: VPN down since 9:00")
    );
    assert_eq!(
        alert["url"],
        format!("{}Ticket/Display.html?id={ticket}", rt.url())
    );
    assert_eq!(alert["ticket_id"], ticket.to_string());
    assert_eq!(alert["priority"], "high");

    rt.mail_reply(
        "Mia Hoffmann <mia.hoffmann@example.com>",
        ticket,
        "VPN down",
        "Still down, please hurry.",
    );
    let replies = wait_for(&server, &token, "ticket.customer_reply", 1).await;
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(
        replies[0]["title"],
        format!("#{ticket} Mia Hoffmann replied: VPN down since 9:00")
    );

    // The requestor is a customer, with the ticket in their history.
    let people = get(&server, &token, "/api/v1/people?q=mia.hoffmann").await;
    let mia = &people["people"][0];
    assert_eq!(mia["name"], "Mia Hoffmann", "{people}");
    let id = mia["id"].as_str().expect("an id");
    let history = get(&server, &token, &format!("/api/v1/people/{id}/tickets")).await;
    assert_eq!(
        history["tickets"][0]["ticket_id"],
        ticket.to_string(),
        "{history}"
    );

    // A ticket given to someone who is no agent here is skipped, and counted.
    let skipped_before = connection(&server).await["skipped_unknown_owner"]
        .as_i64()
        .unwrap_or_default();
    rt.add_agent("stranger", "stranger@elsewhere.example", "Stranger")
        .await;
    rt.create_ticket(json!({"Subject": "Not ours", "Owner": "stranger"}))
        .await;
    // Other tests' agents are strangers here too, and may be counted first: the wait is for
    // the log to name this one.
    let deadline = Instant::now() + WAIT;
    while !server.log().contains("stranger@elsewhere.example") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        server.log().contains("stranger@elsewhere.example"),
        "{}",
        server.log()
    );
    let state = connection(&server).await;
    assert!(
        state["skipped_unknown_owner"].as_i64() > Some(skipped_before),
        "{state}"
    );

    // More polls read nothing twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = events(&server, &token).await;
    assert_eq!(all.len(), 2, "{all:?}");

    let state = connection(&server).await;
    assert_eq!(state["url"], rt.url());
    assert!(state["cursor"].as_i64().is_some_and(|cursor| cursor > 0));
    assert!(
        state["events_published"].as_i64().is_some_and(|n| n >= 2),
        "{state}"
    );
    assert_eq!(state["last_error"], Value::Null);
    assert_eq!(state["changes_dropped"], 0, "{state}");
    let refused = server
        .request(Method::GET, "/api/v1/admin/integrations", Some(&token))
        .send()
        .await
        .expect("answered");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn refused_credentials_stop_the_server_at_start_and_an_rt_away_shows_in_integrations() {
    let rt = PrivateRt::shared().expect("a private RT");
    let dir = tempfile::tempdir().expect("temp dir");
    add_admin_ok(dir.path());
    let output = support::command(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0", "--rt-url", &rt.url()],
    )
    .env("AGENT_DESK_RT_USER", "root")
    .env("AGENT_DESK_RT_PASSWORD", "wrong")
    .output()
    .expect("the server ran");
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("refused the credentials"), "{said}");

    let output = support::command(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0", "--rt-url", &rt.url()],
    )
    .output()
    .expect("the server ran");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("AGENT_DESK_RT_USER"));

    // An address that is RT's web interface rather than its API: the server stops and
    // says what it found.
    let web = support::command(
        dir.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--rt-url",
            &format!("{}Ticket/", rt.url()),
        ],
    )
    .env("AGENT_DESK_RT_USER", "root")
    .env("AGENT_DESK_RT_PASSWORD", "password")
    .output()
    .expect("the server ran");
    let said = String::from_utf8_lossy(&web.stderr);
    assert!(!web.status.success(), "{said}");
    assert!(
        said.contains("not Request Tracker's REST 2.0 JSON"),
        "{said}"
    );

    // RT away at start (nothing listens at the address): the server serves, and says so
    // to administrators.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port");
    let options = ServerOptions::default()
        .arg("--rt-url")
        .arg(format!("http://{closed}/"))
        .env("AGENT_DESK_RT_USER", "root")
        .env("AGENT_DESK_RT_PASSWORD", "password");
    let server = Server::start_with(dir, options).await;
    let state = connection(&server).await;
    let error = state["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("cannot be reached"), "{state}");
}

/// Creates `count` tickets owned by `owner`, ten at a time (RT serves ten at once).
async fn create_owned(rt: &PrivateRt, owner: &str, from: usize, count: usize) {
    for chunk in (from..from + count).collect::<Vec<_>>().chunks(10) {
        let creating = chunk.iter().map(|n| {
            rt.create_ticket(json!({"Subject": format!("Burst ticket {n}"), "Owner": owner}))
        });
        futures_util::future::join_all(creating).await;
    }
}

/// The agent's ticket.assigned alerts by ticket id, once `count` arrived (or 90 s).
async fn assigned_tickets(server: &Server, token: &str, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let tickets = assigned_ticket_ids(server, token).await;
        if tickets.len() >= count || Instant::now() > deadline {
            return tickets;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn rt_stopped_for_30_s_in_the_middle_of_200_changes_loses_and_repeats_nothing() {
    // RT of its own: the others' would stop too.
    let mut rt = PrivateRt::start().expect("a private RT");
    let dir = tempfile::tempdir().expect("temp dir");
    let ada = Agent::new(&rt, dir.path(), "ada").await;
    add_admin_ok(dir.path());
    let server = Server::start_with(dir, following(&rt).await).await;
    let token = ada.login(&server).await;

    create_owned(&rt, &ada.rt, 0, 100).await;
    rt.stop();
    tokio::time::sleep(Duration::from_secs(30)).await;
    let state = connection(&server).await;
    let error = state["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("cannot be reached"), "{state}");
    rt.start_server().expect("RT back");
    create_owned(&rt, &ada.rt, 100, 100).await;

    let tickets = assigned_tickets(&server, &token, 200).await;
    // A few more polls: nothing arrives twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = assigned_tickets(&server, &token, 200).await;
    assert_eq!(tickets.len(), again.len());
    assert_exactly_once(again, 200, &server.log());
    let state = connection(&server).await;
    assert_eq!(state["last_error"], Value::Null, "{state}");
}

#[tokio::test]
async fn the_server_killed_mid_burst_and_restarted_loses_and_repeats_nothing() {
    let rt = PrivateRt::shared().expect("a private RT");
    let dir = tempfile::tempdir().expect("temp dir");
    let ada = Agent::new(&rt, dir.path(), "ada").await;
    let options = following(&rt).await;
    let mut server = Server::start_with(dir, options.clone()).await;
    let token = ada.login(&server).await;

    // Killed while the burst is still being made and read: some read, some not.
    let created = AtomicUsize::new(0);
    let burst = async {
        for from in (0..200).step_by(10) {
            create_owned(&rt, &ada.rt, from, 10).await;
            created.fetch_add(10, Ordering::SeqCst);
        }
    };
    let kill = async {
        let read = assigned_tickets(&server, &token, 1).await.len();
        server.stop();
        (read, created.load(Ordering::SeqCst))
    };
    let ((), (read_before, created_before)) = tokio::join!(burst, kill);
    assert!(read_before >= 1, "{}", server.log());
    assert!(created_before < 200, "the burst was over before the kill");

    let server = server.restart(options).await;
    let token = ada.login(&server).await;
    let tickets = assigned_tickets(&server, &token, 200).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = assigned_tickets(&server, &token, 200).await;
    assert_eq!(tickets.len(), again.len());
    assert_exactly_once(again, 200, &server.log());
}

#[tokio::test]
async fn away_gives_an_agents_tickets_back_to_the_queue_with_a_comment_and_do_not_disturb_does_not()
{
    let rt = PrivateRt::shared().expect("a private RT");
    let dir = tempfile::tempdir().expect("temp dir");
    let ada = Agent::new(&rt, dir.path(), "ada").await;
    add_admin_ok(dir.path());
    let made = support::run(
        dir.path(),
        &["add-team", "--name", "Front desk", "--member", &ada.email],
    );
    assert!(made.status.success(), "{made:?}");
    let options = following(&rt)
        .await
        .arg("--rt-queue-team")
        .arg("Support=Front desk")
        .arg("--rt-release-after-away-minutes")
        .arg("0");
    let server = Server::start_with(dir, options).await;
    let token = ada.login(&server).await;
    let set_status = |status: &'static str| {
        let server = &server;
        let token = token.clone();
        async move {
            let response = server
                .call(
                    &token,
                    Method::PUT,
                    "/api/v1/me/status",
                    Some(json!({"status": status})),
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK);
        }
    };

    let ticket = rt
        .create_ticket(json!({"Queue": "Support", "Subject": "Printer jam", "Owner": ada.rt}))
        .await;
    // On Billing the connector may not give tickets away: RT refuses, and says why.
    let billing = rt
        .create_ticket(json!({"Queue": "Billing", "Subject": "Invoice", "Owner": ada.rt}))
        .await;
    let assigned = wait_for(&server, &token, "ticket.assigned", 2).await;
    assert_eq!(assigned.len(), 2, "{assigned:?}: {}", server.log());
    set_status("away").await;
    let given_back = rt.wait_for_owner(ticket, "Nobody", WAIT).await;
    assert!(given_back.is_ok(), "{given_back:?}: {}", server.log());
    // The comment follows the owner change.
    assert_eq!(
        rt.commenters_after_a_comment(ticket, WAIT).await,
        vec!["agent-desk"]
    );
    // The queue's team hears of the ticket twice: new, then back in the queue.
    let team = wait_for(&server, &token, "ticket.team_assigned", 2).await;
    let titles: Vec<&str> = team
        .iter()
        .filter_map(|event| event["title"].as_str())
        .collect();
    assert_eq!(
        titles,
        vec![
            format!("#{ticket} new in Support: Printer jam"),
            format!("#{ticket} back in Support: Printer jam")
        ]
    );
    // The refusal stays in view, polls later, until a ticket is given back (RT lists
    // her tickets by id: Billing's refusal came after the first ticket went back).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let state = connection(&server).await;
    let refused = state["release_error"].as_str().unwrap_or_default();
    assert!(refused.contains(&format!("ticket {billing} ")), "{state}");
    assert_eq!(state["tickets_released"], 1, "{state}");
    assert_eq!(state["last_error"], Value::Null, "{state}");
    assert_eq!(rt.owner(billing).await, Ok(ada.rt.clone()));

    // A ticket given to her while she is still away goes back too.
    let later = rt
        .create_ticket(json!({"Queue": "Support", "Subject": "Paper tray", "Owner": ada.rt}))
        .await;
    let given_back = rt.wait_for_owner(later, "Nobody", WAIT).await;
    assert!(given_back.is_ok(), "{given_back:?}: {}", server.log());
    let deadline = Instant::now() + WAIT;
    let state = loop {
        let state = connection(&server).await;
        if state["release_error"].is_null() || Instant::now() > deadline {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(state["release_error"], Value::Null, "{state}");

    set_status("dnd").await;
    let kept = rt
        .create_ticket(json!({"Queue": "Support", "Subject": "Toner", "Owner": ada.rt}))
        .await;
    assert_eq!(
        wait_for(&server, &token, "ticket.assigned", 4).await.len(),
        4
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(rt.owner(kept).await, Ok(ada.rt.clone()));
}

#[tokio::test]
async fn offline_agents_keep_their_tickets_unless_the_server_is_told_to_give_them_back() {
    let rt = PrivateRt::shared().expect("a private RT");
    let keeping = tempfile::tempdir().expect("temp dir");
    let giving = tempfile::tempdir().expect("temp dir");
    let ada = Agent::new(&rt, keeping.path(), "ada").await;
    let bob = Agent::new(&rt, giving.path(), "bob").await;
    let release = |options: ServerOptions| {
        options
            .arg("--rt-release-after-away-minutes")
            .arg("0")
            // A team that does not exist: said at start, and the server follows RT anyway.
            .arg("--rt-queue-team")
            .arg("Support=Nobody's team")
    };
    let keeps = Server::start_with(keeping, release(following(&rt).await)).await;
    let gives = Server::start_with(
        giving,
        release(following(&rt).await).arg("--rt-release-offline"),
    )
    .await;
    for (server, agent) in [(&keeps, &ada), (&gives, &bob)] {
        let token = agent.login(server).await;
        let response = server
            .call(
                &token,
                Method::PUT,
                "/api/v1/me/status",
                Some(json!({"status": "offline"})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let adas = rt
        .create_ticket(json!({"Subject": "Overnight", "Owner": ada.rt}))
        .await;
    let bobs = rt
        .create_ticket(json!({"Subject": "Overnight too", "Owner": bob.rt}))
        .await;
    let given_back = rt.wait_for_owner(bobs, "Nobody", WAIT).await;
    assert!(given_back.is_ok(), "{given_back:?}: {}", gives.log());
    // Read by the other server as long: Ada's stays hers.
    let token = ada.login(&keeps).await;
    assert_eq!(
        wait_for(&keeps, &token, "ticket.assigned", 1).await.len(),
        1
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(rt.owner(adas).await, Ok(ada.rt.clone()));
    assert!(keeps.log().contains("no such team"), "{}", keeps.log());
}

#[tokio::test]
async fn watchers_hear_of_updates_and_an_owner_of_a_coming_due_time_once() {
    let rt = PrivateRt::shared().expect("a private RT");
    let dir = tempfile::tempdir().expect("temp dir");
    let ada = Agent::new(&rt, dir.path(), "ada").await;
    let sam = Agent::new(&rt, dir.path(), "sam").await;
    let options = following(&rt)
        .await
        .arg("--rt-sla-warning-minutes")
        .arg("30");
    let server = Server::start_with(dir, options).await;
    let ada_token = ada.login(&server).await;
    let sam_token = sam.login(&server).await;

    let soon = (chrono::Utc::now() + chrono::Duration::minutes(10))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let ticket = rt
        .create_ticket(json!({"Subject": "Renewal quote", "Owner": ada.rt,
                              "AdminCc": sam.email, "Due": soon}))
        .await;
    assert_eq!(
        wait_for(&server, &ada_token, "ticket.assigned", 1)
            .await
            .len(),
        1
    );
    rt.call(
        "POST",
        &format!("ticket/{ticket}/comment"),
        json!({"Content": "Discount approved.", "ContentType": "text/plain"}),
    )
    .await;
    // Root commented: the owner and the AdminCc hear of it.
    for token in [&ada_token, &sam_token] {
        let updated = wait_for(&server, token, "ticket.updated", 1).await;
        assert_eq!(updated.len(), 1, "{updated:?}");
        assert_eq!(
            updated[0]["title"],
            format!("#{ticket} updated: Renewal quote")
        );
    }
    // Due in 10 minutes, warned 30 ahead: once, however many polls look.
    let warned = wait_for(&server, &ada_token, "ticket.sla_warning", 1).await;
    assert_eq!(warned.len(), 1, "{}", server.log());
    assert!(warned[0]["title"]
        .as_str()
        .is_some_and(|title| title.starts_with(&format!("#{ticket} due in "))));
    tokio::time::sleep(Duration::from_secs(14)).await;
    assert_eq!(
        of_kind(&server, &ada_token, "ticket.sla_warning")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_ticket_created_for_one_agent_and_given_to_another_before_it_is_read_alerts_each_once() {
    let rt = PrivateRt::shared().expect("a private RT");
    let dir = tempfile::tempdir().expect("temp dir");
    let ada = Agent::new(&rt, dir.path(), "ada").await;
    let sam = Agent::new(&rt, dir.path(), "sam").await;
    let options = following(&rt).await;
    let mut server = Server::start_with(dir, options.clone()).await;
    // Both changes happen while the server is down, so one read finds them together.
    server.stop();
    let ticket = rt
        .create_ticket(json!({"Subject": "Handover", "Owner": ada.rt}))
        .await;
    rt.call("PUT", &format!("ticket/{ticket}"), json!({"Owner": sam.rt}))
        .await;
    let server = server.restart(options).await;
    let ada_token = ada.login(&server).await;
    let sam_token = sam.login(&server).await;
    assert_eq!(
        wait_for(&server, &sam_token, "ticket.assigned", 1)
            .await
            .len(),
        1
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        of_kind(&server, &sam_token, "ticket.assigned").await.len(),
        1
    );
    assert_eq!(
        wait_for(&server, &ada_token, "ticket.assigned", 1)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_comment_lost_after_a_ticket_went_back_is_written_at_the_next_start_once() {
    let rt = PrivateRt::shared().expect("a private RT");
    let dir = tempfile::tempdir().expect("temp dir");
    let ada = Agent::new(&rt, dir.path(), "ada").await;
    add_admin_ok(dir.path());
    // Given back after an hour away: nothing goes back by itself here.
    let options = following(&rt)
        .await
        .arg("--rt-release-after-away-minutes")
        .arg("60");
    let mut server = Server::start_with(dir, options.clone()).await;
    let back = rt
        .create_ticket(json!({"Subject": "Went back", "Owner": ada.rt}))
        .await;
    let kept = rt
        .create_ticket(json!({"Subject": "Never went back", "Owner": ada.rt}))
        .await;
    // The server was giving both back and was killed: RT had given one to Nobody, and
    // neither comment was written.
    rt.call("PUT", &format!("ticket/{back}"), json!({"Owner": "Nobody"}))
        .await;
    server.stop();
    let db = support::open_database(server.data_dir()).await;
    for ticket in [back, kept] {
        agent_desk_server::storage::query(
            "INSERT INTO helpdesk_releases (connector, ticket_id, reason, started_at)
             VALUES ('rt', $1, 'Given back to the queue by Agent Desk: Ada has been away.', $2)",
        )
        .bind(ticket)
        .bind("2026-12-06T09:00:00.000Z")
        .execute(&db)
        .await
        .expect("a release under way");
    }
    db.close().await;

    let server = server.restart(options).await;
    rt.commenters_after_a_comment(back, WAIT).await;
    // Polls later: once, and none on the ticket that never went back.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        rt.commenters(back).await,
        vec!["agent-desk"],
        "{}",
        server.log()
    );
    assert!(rt.commenters(kept).await.is_empty());
    assert_eq!(rt.owner(kept).await, Ok(ada.rt.clone()));
    assert_eq!(connection(&server).await["tickets_released"], 1);
}

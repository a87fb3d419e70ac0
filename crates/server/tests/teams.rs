//! Teams and join requests over real HTTP against the real binary: an admin creates a
//! team, two agents ask to join, its lead approves one and denies the other, and every
//! step reaches the right people as events. Every refusal names its field.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

const LEAD_EMAIL: &str = "grace@example.com";
const THIRD_EMAIL: &str = "linus@example.com";

struct Desk {
    server: Server,
    ada: String,
    lead: String,
    linus: String,
    admin: String,
}

async fn desk() -> Desk {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    add_agent_ok(dir.path(), LEAD_EMAIL, "Grace Hopper", PASSWORD);
    add_agent_ok(dir.path(), THIRD_EMAIL, "Linus Lead-Not", PASSWORD);
    add_admin_ok(dir.path());
    let server = Server::start(dir).await;
    Desk {
        ada: server.login(EMAIL, PASSWORD).await,
        lead: server.login(LEAD_EMAIL, PASSWORD).await,
        linus: server.login(THIRD_EMAIL, PASSWORD).await,
        admin: server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await,
        server,
    }
}

async fn send(
    server: &Server,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let request = server.request(method, path, Some(token));
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    request.send().await.expect("request")
}

async fn create_billing(desk: &Desk) -> Value {
    let response = send(
        &desk.server,
        Method::POST,
        "/api/v1/admin/teams",
        &desk.admin,
        Some(json!({"name": "Billing", "leads": [LEAD_EMAIL], "members": []})),
    )
    .await;
    expect_json(response, StatusCode::CREATED).await
}

async fn teams(desk: &Desk, token: &str) -> Value {
    expect_json(
        send(&desk.server, Method::GET, "/api/v1/teams", token, None).await,
        StatusCode::OK,
    )
    .await
}

fn membership(teams: &Value, name: &str) -> String {
    teams
        .as_array()
        .expect("teams")
        .iter()
        .find(|team| team["name"] == name)
        .map(|team| team["membership"].as_str().expect("membership").to_owned())
        .unwrap_or_else(|| panic!("no team {name} in {teams}"))
}

async fn events_of(desk: &Desk, token: &str) -> Vec<Value> {
    let page = expect_json(
        send(
            &desk.server,
            Method::GET,
            "/api/v1/events?after=0",
            token,
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    page["events"].as_array().expect("events").clone()
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|event| event["type"] == kind)
        .collect()
}

#[tokio::test]
async fn admins_create_teams_and_everyone_sees_where_they_stand() {
    let desk = desk().await;
    let team = create_billing(&desk).await;
    assert_eq!(team["name"], "Billing");
    assert_eq!(team["membership"], "none", "the admin is not in it: {team}");
    assert_eq!(team["member_count"], 1);
    assert_eq!(team["leads"], json!(["Grace Hopper"]));

    assert_eq!(
        membership(&teams(&desk, &desk.lead).await, "Billing"),
        "lead"
    );
    assert_eq!(
        membership(&teams(&desk, &desk.ada).await, "Billing"),
        "none"
    );

    // An agent may not create teams; a second Billing, an empty name and a stranger are refused.
    let agent = send(
        &desk.server,
        Method::POST,
        "/api/v1/admin/teams",
        &desk.ada,
        Some(json!({"name": "Rogue"})),
    )
    .await;
    expect_error(agent, StatusCode::FORBIDDEN, "forbidden", None).await;
    let twice = send(
        &desk.server,
        Method::POST,
        "/api/v1/admin/teams",
        &desk.admin,
        Some(json!({"name": "Billing"})),
    )
    .await;
    expect_error(twice, StatusCode::CONFLICT, "conflict", Some("name")).await;
    let empty = send(
        &desk.server,
        Method::POST,
        "/api/v1/admin/teams",
        &desk.admin,
        Some(json!({"name": "   "})),
    )
    .await;
    expect_error(
        empty,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("name"),
    )
    .await;
    let stranger = send(
        &desk.server,
        Method::POST,
        "/api/v1/admin/teams",
        &desk.admin,
        Some(json!({"name": "Support", "leads": ["nobody@example.com"]})),
    )
    .await;
    expect_error(
        stranger,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("leads"),
    )
    .await;
    let unknown = send(
        &desk.server,
        Method::POST,
        "/api/v1/admin/teams",
        &desk.admin,
        Some(json!({"name": "Support", "colour": "red"})),
    )
    .await;
    expect_error(
        unknown,
        StatusCode::BAD_REQUEST,
        "unknown_field",
        Some("colour"),
    )
    .await;

    let names: Vec<String> = teams(&desk, &desk.ada)
        .await
        .as_array()
        .expect("teams")
        .iter()
        .map(|team| team["name"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(names, ["Billing"], "nothing refused was created");
}

#[tokio::test]
async fn a_lead_approves_one_request_and_denies_another_and_both_requesters_hear_of_it() {
    let desk = desk().await;
    let team = create_billing(&desk).await;
    let team_id = team["id"].as_str().expect("id");
    let join = format!("/api/v1/teams/{team_id}/join-requests");

    let ada_request = expect_json(
        send(
            &desk.server,
            Method::POST,
            &join,
            &desk.ada,
            Some(json!({"note": "I know invoices"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(ada_request["state"], "open");
    assert_eq!(ada_request["note"], "I know invoices");
    assert_eq!(
        membership(&teams(&desk, &desk.ada).await, "Billing"),
        "requested"
    );

    // One open request per team.
    let again = send(
        &desk.server,
        Method::POST,
        &join,
        &desk.ada,
        Some(json!({})),
    )
    .await;
    expect_error(again, StatusCode::CONFLICT, "already_requested", None).await;

    let linus_request = expect_json(
        send(
            &desk.server,
            Method::POST,
            &join,
            &desk.linus,
            Some(json!({})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    // The lead heard of both, and sees both to decide; Ada sees only her own.
    let lead_events = events_of(&desk, &desk.lead).await;
    let asked = of_type(&lead_events, "team.join_requested");
    assert_eq!(asked.len(), 2, "{lead_events:?}");
    assert_eq!(asked[0]["title"], "Ada Lovelace asks to join Billing");
    assert_eq!(asked[0]["body"], "I know invoices");
    assert!(of_type(&events_of(&desk, &desk.ada).await, "team.join_requested").is_empty());

    let lead_view = expect_json(
        send(
            &desk.server,
            Method::GET,
            "/api/v1/join-requests",
            &desk.lead,
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        lead_view["to_decide"].as_array().expect("to decide").len(),
        2
    );
    let ada_view = expect_json(
        send(
            &desk.server,
            Method::GET,
            "/api/v1/join-requests",
            &desk.ada,
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ada_view["mine"].as_array().expect("mine").len(), 1);
    assert!(ada_view["to_decide"]
        .as_array()
        .expect("to decide")
        .is_empty());

    // Only a lead of the team (or an admin) decides; a requester cannot approve anyone.
    let decide = |id: &Value| {
        format!(
            "/api/v1/join-requests/{}/decision",
            id.as_str().expect("id")
        )
    };
    let own = send(
        &desk.server,
        Method::POST,
        &decide(&ada_request["id"]),
        &desk.linus,
        Some(json!({"approve": true})),
    )
    .await;
    expect_error(own, StatusCode::FORBIDDEN, "forbidden", None).await;

    let approved = expect_json(
        send(
            &desk.server,
            Method::POST,
            &decide(&ada_request["id"]),
            &desk.lead,
            Some(json!({"approve": true, "note": "Welcome"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["state"], "approved");
    assert_eq!(approved["decided_by"], "Grace Hopper");
    let denied = expect_json(
        send(
            &desk.server,
            Method::POST,
            &decide(&linus_request["id"]),
            &desk.lead,
            Some(json!({"approve": false})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(denied["state"], "denied");

    // Decided is decided.
    let twice = send(
        &desk.server,
        Method::POST,
        &decide(&ada_request["id"]),
        &desk.lead,
        Some(json!({"approve": false})),
    )
    .await;
    expect_error(twice, StatusCode::CONFLICT, "already_decided", None).await;

    assert_eq!(
        membership(&teams(&desk, &desk.ada).await, "Billing"),
        "member"
    );
    assert_eq!(
        membership(&teams(&desk, &desk.linus).await, "Billing"),
        "none"
    );

    let ada_decided = events_of(&desk, &desk.ada).await;
    let ada_decided = of_type(&ada_decided, "team.request_decided");
    assert_eq!(ada_decided.len(), 1);
    assert_eq!(ada_decided[0]["title"], "You joined Billing");
    assert_eq!(ada_decided[0]["body"], "Welcome");
    let linus_decided = events_of(&desk, &desk.linus).await;
    let linus_decided = of_type(&linus_decided, "team.request_decided");
    assert_eq!(linus_decided.len(), 1);
    assert_eq!(
        linus_decided[0]["title"],
        "Your request to join Billing was declined"
    );

    // As a member, Ada now gets the team's ticket events; Linus does not.
    let posted = send(
        &desk.server,
        Method::POST,
        "/api/v1/admin/events",
        &desk.admin,
        Some(json!({
            "type": "ticket.team_assigned", "to": {"team": "Billing"}, "priority": "normal",
            "title": "Refund request", "body": null, "ticket_id": "88", "url": null,
        })),
    )
    .await;
    expect_json(posted, StatusCode::CREATED).await;
    assert_eq!(
        of_type(&events_of(&desk, &desk.ada).await, "ticket.team_assigned").len(),
        1
    );
    assert!(of_type(&events_of(&desk, &desk.linus).await, "ticket.team_assigned").is_empty());
}

#[tokio::test]
async fn bad_join_requests_are_refused_by_name_and_change_nothing() {
    let desk = desk().await;
    let team = create_billing(&desk).await;
    let join = format!(
        "/api/v1/teams/{}/join-requests",
        team["id"].as_str().expect("id")
    );

    let long = send(
        &desk.server,
        Method::POST,
        &join,
        &desk.ada,
        Some(json!({"note": "x".repeat(501)})),
    )
    .await;
    expect_error(
        long,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("note"),
    )
    .await;
    let unknown_field = send(
        &desk.server,
        Method::POST,
        &join,
        &desk.ada,
        Some(json!({"reason": "hi"})),
    )
    .await;
    expect_error(
        unknown_field,
        StatusCode::BAD_REQUEST,
        "unknown_field",
        Some("reason"),
    )
    .await;
    let no_team = send(
        &desk.server,
        Method::POST,
        "/api/v1/teams/nope/join-requests",
        &desk.ada,
        Some(json!({})),
    )
    .await;
    expect_error(no_team, StatusCode::NOT_FOUND, "not_found", None).await;
    let member = send(
        &desk.server,
        Method::POST,
        &join,
        &desk.lead,
        Some(json!({})),
    )
    .await;
    expect_error(member, StatusCode::CONFLICT, "already_in_team", None).await;
    let no_request = send(
        &desk.server,
        Method::POST,
        "/api/v1/join-requests/nope/decision",
        &desk.lead,
        Some(json!({"approve": true})),
    )
    .await;
    expect_error(no_request, StatusCode::NOT_FOUND, "not_found", None).await;
    let wrong_type = send(
        &desk.server,
        Method::POST,
        "/api/v1/join-requests/nope/decision",
        &desk.lead,
        Some(json!({"approve": "yes"})),
    )
    .await;
    expect_error(
        wrong_type,
        StatusCode::BAD_REQUEST,
        "wrong_type",
        Some("approve"),
    )
    .await;

    assert_eq!(
        membership(&teams(&desk, &desk.ada).await, "Billing"),
        "none"
    );
    assert!(of_type(&events_of(&desk, &desk.lead).await, "team.join_requested").is_empty());
}

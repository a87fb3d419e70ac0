//! What a security review found, each through the real binary over HTTP and WebSocket:
//! departments that move only with an administrator's approval, streams that end with
//! their session, privacy in the team filter and join requests, no address oracle,
//! total orders, slow clients, search text, bounds on times, authorization before
//! bodies, the reset page's throttle and text that changes its own direction.

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

const GRACE: &str = "grace@example.com";
const GRACE_PHONE: &str = "+442071838750";

/// A server with Ada and Grace (agents) and an administrator, and their tokens.
struct Desk {
    server: Server,
    ada: String,
    grace: String,
    admin: String,
}

/// A data folder with Ada, Grace and an administrator.
fn staffed() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    add_agent_ok(dir.path(), GRACE, "Grace Hopper", PASSWORD);
    add_admin_ok(dir.path());
    dir
}

async fn open_desk(dir: tempfile::TempDir, options: ServerOptions) -> Desk {
    let server = Server::start_with(dir, options).await;
    Desk {
        ada: server.login(EMAIL, PASSWORD).await,
        grace: server.login(GRACE, PASSWORD).await,
        admin: server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await,
        server,
    }
}

async fn desk_with(options: ServerOptions) -> Desk {
    open_desk(staffed(), options).await
}

async fn desk() -> Desk {
    desk_with(ServerOptions::default()).await
}

/// The desk with a team made by `add-team` with `team_args`.
async fn desk_with_team(team_args: &[&str]) -> Desk {
    let dir = staffed();
    let made = run(dir.path(), &[&["add-team"], team_args].concat());
    assert!(made.status.success(), "{made:?}");
    open_desk(dir, ServerOptions::default()).await
}

async fn call(
    desk: &Desk,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    desk.server.call(token, method, path, body).await
}

async fn get_ok(desk: &Desk, token: &str, path: &str) -> Value {
    expect_json(
        call(desk, token, Method::GET, path, None).await,
        StatusCode::OK,
    )
    .await
}

/// Posts a helpdesk event as the administrator; it is taken.
async fn post_event_ok(desk: &Desk, body: Value) {
    let posted = post_event(&desk.server, &desk.admin, &body).await;
    expect_json(posted, StatusCode::CREATED).await;
}

/// Patches the caller's own profile from its current version.
async fn patch_me(desk: &Desk, token: &str, body: Value) -> reqwest::Response {
    let (_, etag) = desk.server.me(token).await;
    desk.server.patch(token, Some(&etag), &body).await
}

async fn patch_me_ok(desk: &Desk, token: &str, body: Value) -> Value {
    expect_json(patch_me(desk, token, body).await, StatusCode::OK).await
}

/// Grace in Billing, showing her details to her department only.
async fn grace_in_billing(desk: &Desk) -> String {
    let grace = patch_me_ok(
        desk,
        &desk.grace,
        json!({"visibility": "department", "phone": GRACE_PHONE}),
    )
    .await;
    let id = grace["id"].as_str().expect("id").to_owned();
    let request = patch_me_ok(desk, &desk.grace, json!({"department": "Billing"})).await;
    let pending = get_ok(desk, &desk.admin, "/api/v1/admin/department-requests").await;
    let request_id = pending["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .find(|request| request["agent_id"] == id.as_str())
        .and_then(|request| request["id"].as_str())
        .expect("Grace's request")
        .to_owned();
    assert_eq!(request["department"], Value::Null);
    decide(desk, &request_id, true).await;
    assert_eq!(desk.server.me(&desk.grace).await.0["department"], "Billing");
    id
}

async fn decide(desk: &Desk, request_id: &str, approve: bool) -> Value {
    let response = call(
        desk,
        &desk.admin,
        Method::POST,
        &format!("/api/v1/admin/department-requests/{request_id}/decision"),
        Some(json!({"approve": approve, "note": "Checked with your lead"})),
    )
    .await;
    expect_json(response, StatusCode::OK).await
}

/// The first of the caller's pending department requests, as administrators see it.
async fn pending_request(desk: &Desk, agent_id: &str) -> Option<Value> {
    let pending = get_ok(desk, &desk.admin, "/api/v1/admin/department-requests").await;
    pending["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .find(|request| request["agent_id"] == agent_id)
        .cloned()
}

async fn find_by(desk: &Desk, token: &str, q: &str) -> Vec<Value> {
    let q: String = q.bytes().map(|b| format!("%{b:02X}")).collect();
    let page = get_ok(desk, token, &format!("/api/v1/people?kind=agent&q={q}")).await;
    page["people"].as_array().expect("people").clone()
}

/// An agent asks for a department; nothing changes for display or privacy until an
/// administrator approves, and a refusal changes nothing at all.
#[tokio::test]
async fn a_department_moves_only_when_an_administrator_approves() {
    let desk = desk().await;
    let grace_id = grace_in_billing(&desk).await;
    let ada_id = desk.server.me(&desk.ada).await.0["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let grace_seen_by_ada =
        || async { get_ok(&desk, &desk.ada, &format!("/api/v1/people/{grace_id}")).await };
    assert!(grace_seen_by_ada().await.get("emails").is_none());
    let mut ada_presence = open_stream_with(&desk.server, &desk.ada, "after=0&presence=true").await;

    // Ada names Billing as her department: a request, nothing more.
    let answer = patch_me_ok(&desk, &desk.ada, json!({"department": "Billing"})).await;
    assert_eq!(answer["department"], Value::Null, "{answer}");
    assert_eq!(answer["department_request"]["value"], "Billing", "{answer}");
    assert!(answer["department_request"]["requested_at"].is_string());
    assert_eq!(
        desk.server.me(&desk.ada).await.0["department_request"]["value"],
        "Billing"
    );
    // Grace's department-only details stay hidden, in every way they could show.
    let seen = grace_seen_by_ada().await;
    for hidden in ["emails", "phone", "teams", "status", "department"] {
        assert!(
            seen.get(hidden).is_none(),
            "{hidden} shown before approval: {seen}"
        );
    }
    assert!(find_by(&desk, &desk.ada, "2071838750").await.is_empty());
    assert!(find_by(&desk, &desk.ada, GRACE).await.is_empty());
    let status = call(
        &desk,
        &desk.grace,
        Method::PUT,
        "/api/v1/me/status",
        Some(json!({"status": "busy"})),
    )
    .await;
    assert_eq!(status.status(), StatusCode::OK);
    // Ada's own profile change is the first thing her stream tells; Grace's status is not
    // told at all: the next message is Ada's, after the approval below.
    assert_eq!(
        next_event(&mut ada_presence).await["type"],
        "profile.updated"
    );

    // Agents cannot see or decide requests, whatever they send.
    let listed = call(
        &desk,
        &desk.ada,
        Method::GET,
        "/api/v1/admin/department-requests",
        None,
    )
    .await;
    expect_error(listed, StatusCode::FORBIDDEN, "forbidden", None).await;
    let request = pending_request(&desk, &ada_id)
        .await
        .expect("Ada's request");
    assert_eq!(request["current"], Value::Null);
    assert_eq!(request["requested"], "Billing");
    assert_eq!(request["agent_email"], EMAIL);
    let request_id = request["id"].as_str().expect("id").to_owned();
    let by_herself = call(
        &desk,
        &desk.ada,
        Method::POST,
        &format!("/api/v1/admin/department-requests/{request_id}/decision"),
        Some(json!({"approve": true})),
    )
    .await;
    expect_error(by_herself, StatusCode::FORBIDDEN, "forbidden", None).await;

    // Approved: Ada is in Billing, is told so, and sees what Billing sees.
    let decided = decide(&desk, &request_id, true).await;
    assert_eq!(decided["approved"], true);
    assert_eq!(decided["department"], "Billing");
    let me = desk.server.me(&desk.ada).await.0;
    assert_eq!(me["department"], "Billing");
    assert_eq!(me["department_request"], Value::Null);
    let events = get_ok(&desk, &desk.ada, "/api/v1/events?after=0").await;
    let told = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|event| event["type"] == "department.request_decided")
        .cloned()
        .expect("a decision event");
    assert!(
        told["title"].as_str().expect("title").contains("Billing"),
        "{told}"
    );
    assert_eq!(told["body"], "Checked with your lead");
    let seen = grace_seen_by_ada().await;
    assert!(seen.get("emails").is_some(), "{seen}");
    assert_eq!(find_by(&desk, &desk.ada, "2071838750").await.len(), 1);
    let again = call(
        &desk,
        &desk.admin,
        Method::POST,
        &format!("/api/v1/admin/department-requests/{request_id}/decision"),
        Some(json!({"approve": false})),
    )
    .await;
    expect_error(again, StatusCode::CONFLICT, "already_decided", None).await;

    // Refused: nothing moves. Withdrawn: asking for the department in force.
    patch_me_ok(&desk, &desk.ada, json!({"department": "Sales"})).await;
    let refused = pending_request(&desk, &ada_id).await.expect("pending");
    decide(&desk, refused["id"].as_str().expect("id"), false).await;
    assert_eq!(desk.server.me(&desk.ada).await.0["department"], "Billing");
    let asked = patch_me_ok(&desk, &desk.ada, json!({"department": ""})).await;
    assert_eq!(asked["department_request"]["value"], Value::Null);
    assert_eq!(asked["department"], "Billing");
    let withdrawn = patch_me_ok(&desk, &desk.ada, json!({"department": " billing "})).await;
    assert_eq!(withdrawn["department_request"], Value::Null);
    assert!(pending_request(&desk, &ada_id).await.is_none());

    // Every step is in Ada's change log, the move by the administrator.
    let log = get_ok(
        &desk,
        &desk.ada,
        &format!("/api/v1/people/{ada_id}/changes"),
    )
    .await;
    let fields = texts(&log, "changes", "field");
    assert!(fields.contains(&"department"), "{log}");
    assert!(fields.contains(&"department_request"), "{log}");
}

/// Administrators hear of a request when they switch its notification on.
#[tokio::test]
async fn a_request_reaches_the_administrators() {
    let desk = desk().await;
    patch_me_ok(&desk, &desk.ada, json!({"department": "Billing"})).await;
    let events = get_ok(&desk, &desk.admin, "/api/v1/events?after=0").await;
    let asked: Vec<&Value> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|event| event["type"] == "department.change_requested")
        .collect();
    assert_eq!(asked.len(), 1, "{events}");
    assert!(asked[0]["title"]
        .as_str()
        .expect("title")
        .contains("Billing"));
    let agents = get_ok(&desk, &desk.grace, "/api/v1/events?after=0").await;
    assert!(agents["events"].as_array().expect("events").is_empty());
}

/// How a stream is closed, skipping the events before (a backlog), within 5 s each.
async fn close_of(socket: &mut Socket) -> (CloseCode, String) {
    loop {
        match next_message(socket).await {
            Message::Close(Some(frame)) => return (frame.code, frame.reason.to_string()),
            Message::Text(_) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

fn signed_out() -> (CloseCode, String) {
    (CloseCode::Library(4001), "signed out".to_owned())
}

/// Ending a session ends its streams at once, with a close the client reads as
/// "signed out"; other sessions' streams go on.
#[tokio::test]
async fn a_stream_ends_with_its_session() {
    let desk = desk().await;
    let other = desk.server.login(EMAIL, PASSWORD).await;
    let mut first = open_stream_with(&desk.server, &desk.ada, "after=0").await;
    let mut second = open_stream_with(&desk.server, &other, "after=0").await;
    let ada_event =
        || json!({"type": "ticket.assigned", "to": {"agent": EMAIL}, "title": "For Ada"});
    // Both registered: both hear an event.
    post_event_ok(&desk, ada_event()).await;
    assert_eq!(next_event(&mut first).await["title"], "For Ada");
    assert_eq!(next_event(&mut second).await["title"], "For Ada");

    // "Sign out other sessions" from the second ends the first's stream.
    let ended = call(
        &desk,
        &other,
        Method::POST,
        "/api/v1/auth/sessions/sign-out-others",
        None,
    )
    .await;
    assert_eq!(ended.status(), StatusCode::OK);
    assert_eq!(close_of(&mut first).await, signed_out());
    post_event_ok(&desk, ada_event()).await;
    assert_eq!(next_event(&mut second).await["title"], "For Ada");

    // Signing out ends one's own.
    let out = call(&desk, &other, Method::POST, "/api/v1/auth/logout", None).await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(close_of(&mut second).await, signed_out());

    // A password change ends every other session's stream; a reset every one.
    let third = desk.server.login(EMAIL, PASSWORD).await;
    let fourth = desk.server.login(EMAIL, PASSWORD).await;
    let mut third_stream = open_stream_with(&desk.server, &third, "after=0").await;
    let new_password = "Difference-Engine-1822";
    let changed = call(
        &desk,
        &fourth,
        Method::POST,
        "/api/v1/auth/password",
        Some(json!({"current_password": PASSWORD, "new_password": new_password, "keep_other_sessions": false})),
    )
    .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(close_of(&mut third_stream).await, signed_out());

    // Grace's stream heard none of this.
    let mut grace_stream = open_stream_with(&desk.server, &desk.grace, "after=0").await;
    let out = call(&desk, &fourth, Method::POST, "/api/v1/auth/logout", None).await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let for_grace =
        json!({"type": "ticket.assigned", "to": {"agent": GRACE}, "title": "For Grace"});
    post_event_ok(&desk, for_grace).await;
    assert_eq!(next_event(&mut grace_stream).await["title"], "For Grace");
}

/// A reset link ends every session, and so every stream.
#[tokio::test]
async fn a_password_reset_ends_every_stream() {
    let desk = desk().await;
    let mut stream = open_stream_with(&desk.server, &desk.grace, "after=0").await;
    let asked = desk
        .server
        .request(Method::POST, "/api/v1/auth/password-reset", None)
        .json(&json!({"email": GRACE}))
        .send()
        .await
        .expect("ask for a link");
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let token = reset_token_from_outbox(&desk.server).await;
    let reset = desk
        .server
        .request(Method::POST, "/api/v1/auth/password-reset/confirm", None)
        .json(&json!({"token": token, "new_password": "Compiler-Pioneer-1952"}))
        .send()
        .await
        .expect("confirm");
    assert_eq!(reset.status(), StatusCode::OK);
    assert_eq!(close_of(&mut stream).await, signed_out());
}

/// The token in the newest reset mail in the server's outbox, waiting for it a moment.
async fn reset_token_from_outbox(server: &Server) -> String {
    let outbox = server.data_dir().join("outbox");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mail = std::fs::read_dir(&outbox)
            .into_iter()
            .flatten()
            .flatten()
            .find_map(|entry| std::fs::read_to_string(entry.path()).ok());
        if let Some(mail) = mail {
            let unfolded = mail.replace("=\r\n", "").replace("=\n", "");
            let start = unfolded.find("token=").expect("a link with a token") + "token=".len();
            return unfolded[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
        }
        assert!(
            Instant::now() < deadline,
            "no reset mail in {}",
            outbox.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Filtering by a team lists only the members whose teams the viewer may see.
#[tokio::test]
async fn the_team_filter_keeps_hidden_memberships_hidden() {
    let desk = desk_with_team(&["--name", "Escalations", "--member", GRACE]).await;
    let teams = get_ok(&desk, &desk.ada, "/api/v1/teams").await;
    let team = teams
        .as_array()
        .expect("teams")
        .iter()
        .find(|team| team["name"] == "Escalations")
        .and_then(|team| team["id"].as_str())
        .expect("the team")
        .to_owned();
    let members = |token: String| {
        let team = team.clone();
        let desk = &desk;
        async move {
            let page = get_ok(
                desk,
                &token,
                &format!("/api/v1/people?kind=agent&team={team}"),
            )
            .await;
            page["people"]
                .as_array()
                .expect("people")
                .iter()
                .map(|person| person["display_name"].as_str().expect("name").to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(members(desk.ada.clone()).await, ["Grace Hopper"]);
    patch_me_ok(&desk, &desk.grace, json!({"visibility": "private"})).await;
    assert!(members(desk.ada.clone()).await.is_empty());
    assert_eq!(members(desk.admin.clone()).await, ["Grace Hopper"]);
    assert_eq!(members(desk.grace.clone()).await, ["Grace Hopper"]);
}

/// A lead sees a requester's email only as the requester's privacy allows.
#[tokio::test]
async fn join_requests_show_the_requesters_email_only_as_their_privacy_allows() {
    let desk = desk_with_team(&["--name", "Billing", "--lead", EMAIL]).await;
    patch_me_ok(&desk, &desk.grace, json!({"visibility": "private"})).await;
    let teams = get_ok(&desk, &desk.grace, "/api/v1/teams").await;
    let team = teams[0]["id"].as_str().expect("team").to_owned();
    let asked = call(
        &desk,
        &desk.grace,
        Method::POST,
        &format!("/api/v1/teams/{team}/join-requests"),
        Some(json!({"note": "I know invoices"})),
    )
    .await;
    let asked = expect_json(asked, StatusCode::CREATED).await;
    assert_eq!(
        asked["requester_email"], GRACE,
        "her own request shows her email"
    );
    let lead = get_ok(&desk, &desk.ada, "/api/v1/join-requests").await;
    assert_eq!(lead["to_decide"][0]["requester_name"], "Grace Hopper");
    assert_eq!(
        lead["to_decide"][0]["requester_email"],
        Value::Null,
        "{lead}"
    );
    let admin = get_ok(&desk, &desk.admin, "/api/v1/join-requests").await;
    assert_eq!(admin["to_decide"][0]["requester_email"], GRACE);
    let request = lead["to_decide"][0]["id"].as_str().expect("id").to_owned();
    let decided = call(
        &desk,
        &desk.ada,
        Method::POST,
        &format!("/api/v1/join-requests/{request}/decision"),
        Some(json!({"approve": true})),
    )
    .await;
    let decided = expect_json(decided, StatusCode::OK).await;
    assert_eq!(decided["requester_email"], Value::Null, "{decided}");
}

/// Creating a customer with an agent's address says nothing of the agent; a customer's
/// address is still one customer's.
#[tokio::test]
async fn a_customers_address_tells_nothing_of_agents() {
    let desk = desk().await;
    patch_me_ok(&desk, &desk.grace, json!({"visibility": "private"})).await;
    let with_agents_address = call(
        &desk,
        &desk.ada,
        Method::POST,
        "/api/v1/people",
        Some(json!({"name": "Grace at home", "emails": [GRACE]})),
    )
    .await;
    let created = expect_json(with_agents_address, StatusCode::CREATED).await;
    assert_eq!(created["kind"], "user");
    let unknown = call(
        &desk,
        &desk.ada,
        Method::POST,
        "/api/v1/people",
        Some(json!({"name": "Nobody", "emails": ["nobody@example.com"]})),
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::CREATED);
    let again = call(
        &desk,
        &desk.ada,
        Method::POST,
        "/api/v1/people",
        Some(json!({"name": "Copy", "emails": ["NOBODY@example.com"]})),
    )
    .await;
    let refused = expect_error(again, StatusCode::CONFLICT, "conflict", Some("emails[0]")).await;
    let message = refused["error"]["message"].as_str().expect("message");
    assert!(!message.to_lowercase().contains("agent"), "{message}");
}

/// Ticket ids of numbers and of text mixed sort without a panic; a handler panic would
/// be answered 500, not a dropped connection.
#[tokio::test]
async fn tickets_with_mixed_ids_sort_by_ticket() {
    let desk = desk().await;
    let customer = call(
        &desk,
        &desk.ada,
        Method::POST,
        "/api/v1/people",
        Some(json!({"name": "Mixed Tickets", "emails": ["mixed@example.com"]})),
    )
    .await;
    let customer = expect_json(customer, StatusCode::CREATED).await;
    let id = customer["id"].as_str().expect("id").to_owned();
    // Numbers, text that starts with a number, leading zeros and text: "10" < "9a" as
    // text while 9 < 10 as numbers, which is no order at all.
    let ids: Vec<String> = (0..60)
        .map(|n| match n % 4 {
            0 => n.to_string(),
            1 => format!("{n}a"),
            2 => format!("0{n}"),
            _ => format!("RT-{n}"),
        })
        .collect();
    for ticket in &ids {
        let event = json!({
            "type": "ticket.updated",
            "to": {"agent": EMAIL},
            "title": format!("Ticket {ticket}"),
            "ticket_id": ticket,
            "requester": "mixed@example.com",
        });
        post_event_ok(&desk, event).await;
    }
    for sort in ["ticket", "-ticket"] {
        let page = get_ok(
            &desk,
            &desk.ada,
            &format!("/api/v1/people/{id}/tickets?sort={sort}"),
        )
        .await;
        let got = texts(&page, "tickets", "ticket_id");
        assert_eq!(got.len(), ids.len());
        let numbers: Vec<Option<u64>> = got.iter().map(|id| id.parse().ok()).collect();
        let (first, last) = if sort == "ticket" {
            (numbers.first(), numbers.last())
        } else {
            (numbers.last(), numbers.first())
        };
        assert_eq!(first, Some(&Some(0)), "{sort}: {got:?}");
        assert_eq!(last, Some(&None), "{sort}: {got:?}");
    }
    desk.server.assert_healthy().await;
}

/// Search text with control characters or full-text syntax never makes a 5xx.
#[tokio::test]
async fn no_search_text_makes_a_server_error() {
    let desk = desk().await;
    for q in [
        "%00",
        "a%00b",
        "%01%02%1B",
        "%22",
        "NEAR(a%20b)",
        "*",
        "a%20OR%20b",
        "%E2%80%AE",
        "%C2%85",
        "^a:b",
        "%7F",
    ] {
        for kind in ["", "&kind=user", "&kind=agent"] {
            let response = call(
                &desk,
                &desk.ada,
                Method::GET,
                &format!("/api/v1/people?q={q}{kind}"),
                None,
            )
            .await;
            assert_eq!(
                response.status(),
                StatusCode::OK,
                "q={q}{kind}: {:?}",
                response.text().await
            );
        }
    }
    desk.server.assert_healthy().await;
}

/// A status "until" is at most a year ahead, refused by name beyond.
#[tokio::test]
async fn a_status_until_is_bounded() {
    let desk = desk().await;
    let until = |days: i64| (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339();
    for until in ["+10000-01-01T00:00:00Z".to_owned(), until(400)] {
        let response = call(
            &desk,
            &desk.ada,
            Method::PUT,
            "/api/v1/me/status",
            Some(json!({"status": "away", "until": until})),
        )
        .await;
        expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "validation_failed",
            Some("until"),
        )
        .await;
    }
    assert_eq!(desk.server.me(&desk.ada).await.0["status"], "offline");
    let response = call(
        &desk,
        &desk.ada,
        Method::PUT,
        "/api/v1/me/status",
        Some(json!({"status": "away", "until": until(180)})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(desk.server.me(&desk.ada).await.0["status"], "away");
}

/// Every administrator's route answers 403 to an agent whatever the body says, and
/// 401 to nobody.
#[tokio::test]
async fn admin_routes_refuse_agents_before_reading_the_body() {
    let desk = desk().await;
    let routes = [
        (Method::POST, "/api/v1/admin/events"),
        (Method::POST, "/api/v1/admin/teams"),
        (Method::POST, "/api/v1/admin/custom-fields"),
        (Method::GET, "/api/v1/admin/department-requests"),
        (Method::POST, "/api/v1/admin/department-requests/x/decision"),
    ];
    for (method, path) in routes {
        for (content_type, body) in [
            ("application/json", "{\"type\": 5"),
            ("application/json", "{\"unknown\": true}"),
            ("application/json", "[]"),
            ("text/plain", "hello"),
        ] {
            let response = desk
                .server
                .request(method.clone(), path, Some(&desk.ada))
                .header("Content-Type", content_type)
                .body(body)
                .send()
                .await
                .expect("request");
            expect_error(response, StatusCode::FORBIDDEN, "forbidden", None).await;
            let response = desk
                .server
                .request(method.clone(), path, None)
                .header("Content-Type", content_type)
                .body(body)
                .send()
                .await
                .expect("request");
            expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
        }
    }
}

/// Guessing reset tokens on the reset page is throttled like the API's confirm.
#[tokio::test]
async fn the_reset_page_throttles_guessed_tokens() {
    let desk = desk().await;
    let mut statuses = Vec::new();
    for guess in 0..30 {
        let response = desk
            .server
            .request(Method::GET, &format!("/reset?token=guess{guess:040}"), None)
            .send()
            .await
            .expect("reset page");
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().contains_key("retry-after"));
            break;
        }
    }
    assert_eq!(statuses.first(), Some(&StatusCode::BAD_REQUEST));
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // The confirm shares the count: it is throttled from the same address now.
    let confirm = desk
        .server
        .request(Method::POST, "/api/v1/auth/password-reset/confirm", None)
        .json(&json!({"token": "another-guess", "new_password": "Compiler-Pioneer-1952"}))
        .send()
        .await
        .expect("confirm");
    assert_eq!(confirm.status(), StatusCode::TOO_MANY_REQUESTS);
}

const RTL_OVERRIDE: &str = "\u{202E}";

/// What a person types as a name or title is refused with control or direction
/// characters, by field; joiners that names need are kept; a helpdesk's text is
/// cleaned instead of refused.
#[tokio::test]
async fn names_and_titles_refuse_characters_that_hide_what_they_say() {
    let desk = desk().await;
    let tricks = [
        format!("invoice{RTL_OVERRIDE}fdp.exe"),
        "Ada\u{2066}Admin\u{2069}".to_owned(),
        "Ada\u{0007}".to_owned(),
        "Ada\u{009B}31m".to_owned(),
    ];
    for trick in &tricks {
        let response = patch_me(&desk, &desk.ada, json!({"display_name": trick})).await;
        expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "validation_failed",
            Some("display_name"),
        )
        .await;
    }
    let persian = "مریم\u{200C}زاده";
    let accepted = patch_me_ok(&desk, &desk.ada, json!({"display_name": persian})).await;
    assert_eq!(accepted["display_name"], persian);

    let customer = call(
        &desk,
        &desk.ada,
        Method::POST,
        "/api/v1/people",
        Some(json!({"name": "Files Customer", "emails": ["files@example.com"]})),
    )
    .await;
    let customer = expect_json(customer, StatusCode::CREATED).await;
    let id = customer["id"].as_str().expect("id");
    let named = |name: &str| {
        let name: String = name.bytes().map(|b| format!("%{b:02X}")).collect();
        format!("/api/v1/people/{id}/files?name={name}")
    };
    let upload = desk
        .server
        .request(Method::POST, &named(&tricks[0]), Some(&desk.ada))
        .body("%PDF-1.7")
        .send()
        .await
        .expect("upload");
    expect_error(
        upload,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("name"),
    )
    .await;
    let files = get_ok(&desk, &desk.ada, &format!("/api/v1/people/{id}/files")).await;
    assert!(files["files"].as_array().expect("files").is_empty());

    let customer_named = call(
        &desk,
        &desk.ada,
        Method::POST,
        "/api/v1/people",
        Some(json!({"name": tricks[0], "emails": ["trick@example.com"]})),
    )
    .await;
    expect_error(
        customer_named,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("name"),
    )
    .await;
    let team = call(
        &desk,
        &desk.admin,
        Method::POST,
        "/api/v1/admin/teams",
        Some(json!({"name": tricks[1]})),
    )
    .await;
    expect_error(
        team,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("name"),
    )
    .await;

    // From the helpdesk: cleaned and cut, never refused for it.
    let title = format!("Refund{RTL_OVERRIDE} for\u{0000} order {}", "x".repeat(300));
    post_event_ok(
        &desk,
        json!({"type": "ticket.assigned", "to": {"agent": EMAIL}, "title": title,
                    "body": "Line one\r\nLine\u{202E} two\u{001B}[0m"}),
    )
    .await;
    let events = get_ok(&desk, &desk.ada, "/api/v1/events?after=0").await;
    let event = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|event| event["type"] == "ticket.assigned")
        .cloned()
        .expect("the event");
    let stored = event["title"].as_str().expect("title");
    assert!(stored.starts_with("Refund for order xxx"), "{stored:?}");
    assert_eq!(stored.chars().count(), 200);
    assert!(stored.ends_with('…'));
    assert_eq!(event["body"], "Line one\nLine two[0m");
}

/// The slowest clients the server allows: 1 KiB a second over 2 s windows, and the head
/// within 2 s.
fn impatient() -> ServerOptions {
    ServerOptions::default()
        .arg("--header-timeout-seconds")
        .arg("2")
        .arg("--body-window-seconds")
        .arg("2")
}

/// A client that sends half a request head is cut off, and never stops another's
/// request meanwhile.
#[tokio::test]
async fn half_a_header_is_cut_off() {
    let desk = desk_with(impatient()).await;
    let address = desk.server.base.trim_start_matches("http://").to_owned();
    let mut stalled = std::net::TcpStream::connect(&address).expect("connect");
    stalled
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .expect("half a head");
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let started = Instant::now();
    desk.server.assert_healthy().await;
    let mut answer = Vec::new();
    let read = stalled.read_to_end(&mut answer);
    let waited = started.elapsed();
    assert!(
        read.is_ok(),
        "the server did not close the connection: {read:?}"
    );
    assert!(waited < Duration::from_secs(8), "closed after {waited:?}");
}

/// An upload that declares a large body and sends a trickle holds nothing: others'
/// uploads go through at once, and the trickle is cut off with 408.
#[tokio::test]
async fn slow_uploads_hold_nothing_and_are_cut_off() {
    let desk = desk_with(impatient()).await;
    let customer = call(
        &desk,
        &desk.ada,
        Method::POST,
        "/api/v1/people",
        Some(json!({"name": "Upload Customer", "emails": ["uploads@example.com"]})),
    )
    .await;
    let customer = expect_json(customer, StatusCode::CREATED).await;
    let id = customer["id"].as_str().expect("id").to_owned();
    let address = desk.server.base.trim_start_matches("http://").to_owned();
    // Eight clients (more than any number of permits), four of Ada's and four of the
    // administrator's, each start a 1 MB upload or photo, and send one byte.
    let mut trickles = Vec::new();
    for n in 0..8 {
        let (path, content_type) = if n % 2 == 0 {
            (
                format!("/api/v1/people/{id}/files?name=slow{n}.bin"),
                "application/octet-stream",
            )
        } else {
            ("/api/v1/me/avatar".to_owned(), "image/png")
        };
        let mut socket = tokio::net::TcpStream::connect(&address)
            .await
            .expect("connect");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: {content_type}\r\nContent-Length: 1000000\r\n\r\nx",
            method = if n % 2 == 0 { "POST" } else { "PUT" },
            token = if n < 4 { &desk.ada } else { &desk.admin },
        );
        socket.write_all(head.as_bytes()).await.expect("start");
        trickles.push(socket);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    // One agent has at most four arriving at once.
    let fifth = desk
        .server
        .request(
            Method::POST,
            &format!("/api/v1/people/{id}/files?name=fifth.txt"),
            Some(&desk.ada),
        )
        .body("one too many")
        .send()
        .await
        .expect("upload");
    expect_error(fifth, StatusCode::TOO_MANY_REQUESTS, "rate_limited", None).await;
    // A name that cannot be one is refused before any of the body is read.
    let mut named = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/v1/people/{id}/files?name=%E2%80%AEfdp.exe HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {}\r\nContent-Length: 1000000\r\n\r\n",
        desk.grace
    );
    named.write_all(head.as_bytes()).await.expect("start");
    let mut answer = vec![0; 12];
    tokio::time::timeout(
        Duration::from_secs(1),
        tokio::io::AsyncReadExt::read_exact(&mut named, &mut answer),
    )
    .await
    .expect("answered at once")
    .expect("read");
    assert_eq!(&answer, b"HTTP/1.1 400");
    let upload = desk
        .server
        .request(
            Method::POST,
            &format!("/api/v1/people/{id}/files?name=quick.txt"),
            Some(&desk.grace),
        )
        .body("a file that arrives at once")
        .send()
        .await
        .expect("upload");
    let upload = expect_json(upload, StatusCode::CREATED).await;
    assert_eq!(upload["size"], 27);
    let photo = desk
        .server
        .request(Method::PUT, "/api/v1/me/avatar", Some(&desk.grace))
        .header("Content-Type", "image/png")
        .body(small_png())
        .send()
        .await
        .expect("photo");
    assert_eq!(photo.status(), StatusCode::OK, "{:?}", photo.text().await);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );

    // Each trickle is answered 408 within a window or two, and leaves nothing behind.
    for mut socket in trickles {
        let mut answer = Vec::new();
        let read = tokio::time::timeout(
            Duration::from_secs(8),
            tokio::io::AsyncReadExt::read_to_end(&mut socket, &mut answer),
        )
        .await;
        assert!(read.is_ok(), "a trickle was not cut off");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("\"request_timeout\""), "{answer}");
    }
    let files = get_ok(&desk, &desk.ada, &format!("/api/v1/people/{id}/files")).await;
    assert_eq!(files["files"].as_array().expect("files").len(), 1);
    let incoming = desk.server.data_dir().join("incoming");
    let left: Vec<_> = std::fs::read_dir(&incoming)
        .map(|dir| dir.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "uploads left behind: {left:?}");
}

/// A 64×64 PNG.
fn small_png() -> Vec<u8> {
    let image = image::RgbImage::from_pixel(64, 64, image::Rgb([200, 80, 40]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageFormat::Png)
        .expect("encode");
    bytes.into_inner()
}

/// A JSON body that stalls is cut off too, with 408, and changes nothing.
#[tokio::test]
async fn a_stalled_json_body_is_answered_408() {
    let desk = desk_with(impatient()).await;
    let (_, etag) = desk.server.me(&desk.ada).await;
    let address = desk.server.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let head = format!(
        "PATCH /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nIf-Match: {etag}\r\n\
         Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{{\"job_title\": ",
        desk.ada
    );
    socket.write_all(head.as_bytes()).await.expect("start");
    let mut answer = Vec::new();
    tokio::time::timeout(
        Duration::from_secs(8),
        tokio::io::AsyncReadExt::read_to_end(&mut socket, &mut answer),
    )
    .await
    .expect("cut off")
    .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(desk.server.me(&desk.ada).await.1, etag);
}

/// A path parameter that cannot be one is refused in the API's shape, naming it.
#[tokio::test]
async fn a_path_parameter_that_is_not_text_is_refused_by_name() {
    let desk = desk().await;
    for (path, field) in [
        ("/api/v1/people/%FF%FE", "id"),
        ("/api/v1/people/x/emails/%C3%28/primary", "address"),
        ("/api/v1/files/%80", "id"),
    ] {
        let method = if path.ends_with("primary") {
            Method::POST
        } else {
            Method::GET
        };
        let response = call(&desk, &desk.ada, method, path, None).await;
        expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "validation_failed",
            Some(field),
        )
        .await;
    }
}

/// The addresses of the caller's sessions.
async fn session_addresses(desk: &Desk, token: &str) -> BTreeSet<String> {
    let sessions = get_ok(desk, token, "/api/v1/auth/sessions").await;
    texts(&sessions, "sessions", "ip_address")
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// Behind a trusted proxy the agent's own address is what the server records and
/// throttles by; anyone else's `X-Forwarded-For` is ignored.
#[tokio::test]
async fn a_trusted_proxy_names_the_client() {
    let sign_in_from = |server: &Server, forwarded: &'static str| {
        server
            .request(Method::POST, "/api/v1/auth/login", None)
            .header("X-Forwarded-For", forwarded)
            .json(&json!({"email": EMAIL, "password": PASSWORD}))
            .send()
    };
    let behind = desk_with(
        ServerOptions::default()
            .arg("--trusted-proxy")
            .arg("127.0.0.0/8"),
    )
    .await;
    let signed_in = sign_in_from(&behind.server, "198.51.100.7")
        .await
        .expect("sign in");
    let token = expect_json(signed_in, StatusCode::OK).await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert!(session_addresses(&behind, &token)
        .await
        .contains("198.51.100.7"));

    let open = desk().await;
    let signed_in = sign_in_from(&open.server, "198.51.100.7")
        .await
        .expect("sign in");
    let token = expect_json(signed_in, StatusCode::OK).await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(
        session_addresses(&open, &token).await,
        BTreeSet::from(["127.0.0.1".to_owned()])
    );
}

/// A stream whose session reaches the end of its life, unused, is closed as signed out
/// at the next ping, and the session is gone.
#[tokio::test]
async fn a_stream_ends_when_its_session_expires() {
    let desk = desk_with(
        ServerOptions::default()
            .arg("--stream-ping-seconds")
            .arg("1"),
    )
    .await;
    let mut stream = open_stream_with(&desk.server, &desk.grace, "after=0").await;
    let for_grace =
        json!({"type": "ticket.assigned", "to": {"agent": GRACE}, "title": "Registered"});
    post_event_ok(&desk, for_grace).await;
    assert_eq!(next_event(&mut stream).await["title"], "Registered");
    // Thirty-one days old: past the 30 days a session lives in any case.
    let db = open_database(desk.server.data_dir()).await;
    let old = (chrono::Utc::now() - chrono::Duration::days(31))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    agent_desk_server::storage::query(
        "UPDATE sessions SET created_at = $1 WHERE agent_id = (SELECT id FROM agents WHERE email = $2)",
    )
    .bind(&old)
    .bind(GRACE)
    .execute(&db)
    .await
    .expect("age the session");
    // The next use of the token finds the session past its time: it ends, and so does
    // its stream. (Unused, the stream finds it itself at the first ping after the end it
    // read when it opened.)
    let refused = call(&desk, &desk.grace, Method::GET, "/api/v1/me", None).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(close_of(&mut stream).await, signed_out());

    // Unused: Ada's session has two seconds left when her stream opens, and nothing
    // uses it after; the stream ends at a ping soon after.
    let nearly = (chrono::Utc::now() - chrono::Duration::days(30) + chrono::Duration::seconds(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    agent_desk_server::storage::query(
        "UPDATE sessions SET created_at = $1 WHERE agent_id = (SELECT id FROM agents WHERE email = $2)",
    )
    .bind(&nearly)
    .bind(EMAIL)
    .execute(&db)
    .await
    .expect("age the session");
    let mut unused = open_stream_with(&desk.server, &desk.ada, "after=0").await;
    let started = Instant::now();
    assert_eq!(close_of(&mut unused).await, signed_out());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "closed at once"
    );
    let remaining: i64 = agent_desk_server::storage::query_scalar(
        "SELECT COUNT(*) FROM sessions WHERE agent_id = (SELECT id FROM agents WHERE email = $1)",
    )
    .bind(EMAIL)
    .fetch_one(&db)
    .await
    .expect("count");
    assert_eq!(remaining, 0);
}

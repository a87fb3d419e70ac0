//! Agents as administrators manage them, over real HTTP against the real binary: who may
//! call each route, a new agent's welcome mail, changing an agent's address and
//! department, deactivating and reactivating, and the rules that hold when two
//! administrators act at once (the last administrator stays; an address is one agent's).

mod support;

use std::collections::HashSet;

use futures_util::StreamExt;
use reqwest::header::{IF_MATCH, LOCATION};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::mail::*;
use support::*;
use tokio_tungstenite::tungstenite::Message;

const GRACE_EMAIL: &str = "grace@example.com";
const GRACE_NAME: &str = "Grace Hopper";
const NEW_PASSWORD: &str = "Difference-Engine-1822";

/// A folder with Ada, Grace and the administrator.
fn folder_with_agents() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    add_agent_ok(dir.path(), GRACE_EMAIL, GRACE_NAME, PASSWORD);
    add_admin_ok(dir.path());
    dir
}

/// The agent with this sign-in address in the administrators' list (every activity).
async fn listed(server: &Server, admin: &str, email: &str) -> Option<Value> {
    let list = get_json(
        server,
        admin,
        &format!("/api/v1/admin/agents?activity=all&q={email}&limit=200"),
    )
    .await;
    list["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|agent| agent["email"] == email)
        .cloned()
}

/// The agent by id, with the ETag to change them by.
async fn administered(server: &Server, admin: &str, id: &str) -> (Value, String) {
    let response = server
        .request(
            Method::GET,
            &format!("/api/v1/admin/agents/{id}"),
            Some(admin),
        )
        .send()
        .await
        .expect("answered");
    let etag = etag_of(response.headers());
    (expect_json(response, StatusCode::OK).await, etag)
}

async fn patch_agent(
    server: &Server,
    admin: &str,
    id: &str,
    etag: &str,
    body: &Value,
) -> reqwest::Response {
    server
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/agents/{id}"),
            Some(admin),
        )
        .header(IF_MATCH, etag)
        .json(body)
        .send()
        .await
        .expect("answered")
}

async fn id_by_email(server: &Server, admin: &str, email: &str) -> String {
    listed(server, admin, email).await.expect("listed")["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// Whether a stream ends (a close frame, or the connection going) within 5 s.
async fn ends(socket: &mut Socket) -> bool {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => return false,
            Ok(Some(Ok(Message::Close(_))) | Some(Err(_)) | None) => return true,
            Ok(Some(Ok(_))) => continue,
        }
    }
}

#[tokio::test]
async fn only_administrators_reach_the_agents_routes_and_others_change_nothing() {
    let dir = folder_with_agents();
    let integration = add_integration(dir.path(), "helpdesk", "events:write,routing:read");
    let hook_set = run(dir.path(), &["add-hook", "--source", "generic"]);
    assert!(hook_set.status.success(), "add-hook: {hook_set:?}");
    let server = Server::start(dir).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let grace_id = id_by_email(&server, &admin, GRACE_EMAIL).await;
    // What the integrations hold, but for when the token was last used (it is, below).
    let integrations_now = || async {
        let mut integrations = get_json(&server, &admin, "/api/v1/admin/integrations").await;
        for token in integrations["tokens"].as_array_mut().expect("tokens") {
            token["last_used_at"] = Value::Null;
        }
        integrations
    };
    let integrations_before = integrations_now().await;
    let token_path = format!(
        "/api/v1/admin/integrations/tokens/{}",
        integrations_before["tokens"][0]["id"]
            .as_str()
            .expect("the token's id")
    );
    let team_id = make_team(&server, &admin, "Billing", &[GRACE_EMAIL]).await;
    let (before, etag) = administered(&server, &admin, &grace_id).await;
    let list_before = get_json(&server, &admin, "/api/v1/admin/agents?activity=all").await;

    let agent_path = format!("/api/v1/admin/agents/{grace_id}");
    let reset_path = format!("{agent_path}/password-reset");
    let prefs_path = format!("{agent_path}/notification-prefs");
    let grace_prefs = get_json(&server, &admin, &prefs_path).await;
    let locks_before = get_json(&server, &admin, "/api/v1/admin/notification-locks").await;
    let team_path = format!("/api/v1/admin/teams/{team_id}");
    let member_path = format!("{team_path}/members/{grace_id}");
    let teams_before = get_json(&server, &admin, "/api/v1/admin/teams").await;
    let routes: Vec<(Method, &str, Option<Value>)> = vec![
        (Method::GET, "/api/v1/admin/agents", None),
        (
            Method::POST,
            "/api/v1/admin/agents",
            Some(json!({"email": "new@example.com", "display_name": "New Agent"})),
        ),
        (Method::GET, agent_path.as_str(), None),
        (
            Method::PATCH,
            agent_path.as_str(),
            Some(json!({"is_admin": true, "email": "taken-over@example.com"})),
        ),
        (Method::POST, reset_path.as_str(), None),
        (Method::GET, prefs_path.as_str(), None),
        (
            Method::PUT,
            prefs_path.as_str(),
            Some(
                json!({"events": [], "quiet_hours": {"enabled": true, "start": "20:00", "end": "08:00"}}),
            ),
        ),
        (Method::GET, "/api/v1/admin/notification-locks", None),
        (Method::GET, "/api/v1/admin/teams", None),
        (
            Method::POST,
            "/api/v1/admin/teams",
            Some(json!({"name": "Night shift"})),
        ),
        (
            Method::PATCH,
            team_path.as_str(),
            Some(json!({"name": "Renamed"})),
        ),
        (Method::DELETE, team_path.as_str(), None),
        (
            Method::PUT,
            member_path.as_str(),
            Some(json!({"role": "lead"})),
        ),
        (Method::DELETE, member_path.as_str(), None),
        (
            Method::PUT,
            "/api/v1/admin/notification-locks",
            Some(
                json!({"locks": [{"type": "ticket.assigned", "sound": false, "reason": "quiet floor"}]}),
            ),
        ),
        (Method::GET, "/api/v1/admin/integrations", None),
        (
            Method::POST,
            "/api/v1/admin/integrations/tokens",
            Some(json!({"name": "intruder", "scopes": ["events:write"]})),
        ),
        (Method::DELETE, token_path.as_str(), None),
        (
            Method::POST,
            "/api/v1/admin/integrations/hooks/generic/secrets",
            Some(json!({"grace_hours": 0})),
        ),
        (
            Method::DELETE,
            "/api/v1/admin/integrations/hooks/generic/secrets",
            None,
        ),
    ];
    let callers: [(&str, Option<&str>, StatusCode); 3] = [
        ("no token", None, StatusCode::UNAUTHORIZED),
        ("an agent", Some(ada.as_str()), StatusCode::FORBIDDEN),
        // An integration's token is no session: these routes do not know it.
        (
            "an integration",
            Some(integration.as_str()),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (method, path, body) in &routes {
        for (who, token, status) in &callers {
            let mut request = server.request(method.clone(), path, *token);
            if let Some(body) = body {
                request = request.header(IF_MATCH, &etag).json(body);
            }
            let response = request.send().await.expect("answered");
            assert_eq!(response.status(), *status, "{method} {path} by {who}");
        }
    }
    assert_eq!(administered(&server, &admin, &grace_id).await.0, before);
    assert_eq!(get_json(&server, &admin, &prefs_path).await, grace_prefs);
    assert_eq!(
        get_json(&server, &admin, "/api/v1/admin/teams").await,
        teams_before
    );
    assert_eq!(
        get_json(&server, &admin, "/api/v1/admin/notification-locks").await,
        locks_before
    );
    assert_eq!(
        get_json(&server, &admin, "/api/v1/admin/agents?activity=all").await,
        list_before
    );
    assert_eq!(integrations_now().await, integrations_before);
    assert!(outbox(&server).is_empty(), "no mail was sent");

    // The administrator reaches each of them.
    let list = get_json(&server, &admin, "/api/v1/admin/agents").await;
    assert_eq!(list["total"], 3, "{list}");
    let names = texts(&list, "agents", "display_name");
    assert_eq!(names, [NAME, ADMIN_NAME, GRACE_NAME], "by name: {list}");
    let response = patch_agent(
        &server,
        &admin,
        &grace_id,
        &etag,
        &json!({"job_title": "Lead"}),
    )
    .await;
    let changed = expect_json(response, StatusCode::OK).await;
    assert_eq!(changed["profile"]["job_title"], "Lead");
    let response = server
        .request(Method::POST, &reset_path, Some(&admin))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let mut seen = HashSet::new();
    let mail = next_mail(&server, &mut seen).await;
    assert!(mail_body(&mail).contains(ADMIN_NAME), "who sent it: {mail}");
    reset_token_in(&server, &mail);
}

#[tokio::test]
async fn a_new_agent_chooses_a_password_from_the_welcome_mail_and_signs_in() {
    let server = Server::start(folder_with_agents()).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let response = server
        .request(Method::POST, "/api/v1/admin/agents", Some(&admin))
        .json(&json!({
            "email": "  Linus@Example.com ",
            "display_name": "Linus Torvalds",
            "department": "Kernel",
        }))
        .send()
        .await
        .expect("answered");
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .expect("a Location")
        .to_owned();
    let created = expect_json(response, StatusCode::CREATED).await;
    let id = created["profile"]["id"].as_str().expect("an id");
    assert_eq!(location, format!("/api/v1/admin/agents/{id}"));
    assert_eq!(created["profile"]["email"], "linus@example.com");
    assert_eq!(created["profile"]["department"], "Kernel");
    assert_eq!(created["profile"]["is_admin"], false);
    assert_eq!(created["active"], true);
    assert_eq!(created["welcome_pending"], true);
    assert_eq!(created["last_sign_in_at"], Value::Null);

    let mut seen = HashSet::new();
    let mail = next_mail(&server, &mut seen).await;
    assert!(
        mail_headers(&mail).contains(&"To: linus@example.com"),
        "{mail}"
    );
    let body = mail_body(&mail);
    assert!(body.contains("Hello Linus Torvalds"), "{body}");
    assert!(body.contains(ADMIN_NAME), "who made the account: {body}");
    assert!(body.contains("for 7 days"), "{body}");
    let token = reset_token_in(&server, &mail);

    // No password works before the link is used.
    let refused = server
        .login_response("linus@example.com", NEW_PASSWORD)
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let response = server
        .request(Method::POST, "/api/v1/auth/password-reset/confirm", None)
        .json(&json!({"token": token, "new_password": NEW_PASSWORD}))
        .send()
        .await
        .expect("answered");
    expect_json(response, StatusCode::OK).await;
    let linus = server.login("linus@example.com", NEW_PASSWORD).await;
    let (me, _) = server.me(&linus).await;
    assert_eq!(me["display_name"], "Linus Torvalds");

    let (agent, _) = administered(&server, &admin, id).await;
    assert_eq!(agent["welcome_pending"], false);
    assert!(agent["last_sign_in_at"].is_string(), "{agent}");
    let summary = listed(&server, &admin, "linus@example.com")
        .await
        .expect("listed");
    assert_eq!(summary["department"], "Kernel");
    assert!(summary["last_sign_in_at"].is_string(), "{summary}");

    // The change log of the new agent says who made them.
    let log = get_json(&server, &linus, &format!("/api/v1/people/{id}/changes")).await;
    let entries = log["changes"].as_array().expect("changes");
    assert!(
        entries
            .iter()
            .any(|entry| entry["field"] == "email" && entry["new_value"] == "linus@example.com"),
        "{log}"
    );
}

#[tokio::test]
async fn a_new_agent_is_refused_for_each_bad_field_and_for_a_taken_address_and_nothing_is_made() {
    let server = Server::start(folder_with_agents()).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let create = |body: Value| {
        server
            .request(Method::POST, "/api/v1/admin/agents", Some(&admin))
            .json(&body)
            .send()
    };

    let response = create(json!({"email": "not an address", "display_name": "  "}))
        .await
        .expect("answered");
    let refused = expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("email"),
    )
    .await;
    let fields: Vec<&str> = refused["error"]["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(|detail| detail["field"].as_str())
        .collect();
    assert_eq!(fields, ["email", "display_name"], "{refused}");

    let response = create(json!({"email": "ADA@example.com", "display_name": "Ada Again"}))
        .await
        .expect("answered");
    expect_error(response, StatusCode::CONFLICT, "email_taken", Some("email")).await;

    let response = create(json!({"email": "x@example.com", "display_name": "X", "role": "boss"}))
        .await
        .expect("answered");
    expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "unknown_field",
        Some("role"),
    )
    .await;

    let response = server
        .request(Method::GET, "/api/v1/admin/agents?limit=0", Some(&admin))
        .send()
        .await
        .expect("answered");
    expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("limit"),
    )
    .await;

    let list = get_json(&server, &admin, "/api/v1/admin/agents?activity=all").await;
    assert_eq!(list["total"], 3, "nothing was made: {list}");
    assert!(outbox(&server).is_empty(), "no mail was sent");
}

#[tokio::test]
async fn an_agents_address_and_department_change_and_their_open_app_hears_of_it() {
    let server = Server::start(folder_with_agents()).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let mut stream = open_stream_with(&server, &ada, "").await;
    // Ada asks to move to Research; the department an administrator sets ends that.
    let (_, my_etag) = server.me(&ada).await;
    let (asked, _) = server
        .patch_ok(&ada, &my_etag, &json!({"department": "Research"}))
        .await;
    assert_eq!(asked["department_request"]["value"], "Research", "{asked}");
    let id = id_by_email(&server, &admin, EMAIL).await;
    let (_, etag) = administered(&server, &admin, &id).await;

    let response = patch_agent(
        &server,
        &admin,
        &id,
        &etag,
        &json!({"email": "Ada.Lovelace@Example.com", "department": "Billing"}),
    )
    .await;
    let changed_etag = etag_of(response.headers());
    let changed = expect_json(response, StatusCode::OK).await;
    assert_ne!(changed_etag, etag);
    assert_eq!(changed["profile"]["email"], "ada.lovelace@example.com");
    assert_eq!(changed["profile"]["department"], "Billing");

    let event = loop {
        let event = next_event(&mut stream).await;
        if event["type"] == "profile.updated" {
            break event;
        }
    };
    assert!(event.is_object(), "{event}");
    let (me, _) = server.me(&ada).await;
    assert_eq!(me["email"], "ada.lovelace@example.com");
    assert_eq!(me["department"], "Billing");
    assert_eq!(me["department_request"], Value::Null, "{me}");
    let waiting = get_json(&server, &admin, "/api/v1/admin/department-requests").await;
    assert_eq!(waiting["requests"], json!([]), "{waiting}");
    assert_eq!(
        texts(&me, "emails", "address"),
        ["ada.lovelace@example.com"],
        "{me}"
    );

    // The old address no longer signs in; the new one does.
    let old = server.login_response(EMAIL, PASSWORD).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    server.login("ada.lovelace@example.com", PASSWORD).await;

    // The agent sees who changed what in their change log.
    let admin_id = id_by_email(&server, &admin, ADMIN_EMAIL).await;
    let log = get_json(&server, &ada, &format!("/api/v1/people/{id}/changes")).await;
    let entries = log["changes"].as_array().expect("changes");
    for (field, old, new) in [
        ("email", EMAIL, "ada.lovelace@example.com"),
        ("department", "", "Billing"),
    ] {
        let entry = entries
            .iter()
            .find(|entry| entry["field"] == field)
            .unwrap_or_else(|| panic!("{field} in {log}"));
        assert_eq!(entry["actor_id"], admin_id.as_str(), "{entry}");
        assert_eq!(entry["actor_name"], ADMIN_NAME, "{entry}");
        assert_eq!(entry["new_value"], new, "{entry}");
        if !old.is_empty() {
            assert_eq!(entry["old_value"], old, "{entry}");
        }
    }

    // A stale ETag changes nothing.
    let response = patch_agent(&server, &admin, &id, &etag, &json!({"job_title": "Late"})).await;
    expect_error(response, StatusCode::CONFLICT, "version_conflict", None).await;
    let response = server
        .request(
            Method::PATCH,
            &format!("/api/v1/admin/agents/{id}"),
            Some(&admin),
        )
        .json(&json!({"job_title": "No If-Match"}))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::PRECONDITION_REQUIRED);
    let (after, _) = administered(&server, &admin, &id).await;
    assert_eq!(after["profile"]["job_title"], Value::Null);

    // Bad values name their fields, all at once.
    let response = patch_agent(
        &server,
        &admin,
        &id,
        &changed_etag,
        &json!({"email": "nope", "timezone": "Mars/Olympus"}),
    )
    .await;
    let refused = expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("email"),
    )
    .await;
    assert_eq!(
        refused["error"]["details"].as_array().map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn deactivating_ends_every_session_and_stream_at_once_and_refuses_sign_in_until_reactivated()
{
    let server = Server::start(folder_with_agents()).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let laptop = server.login(EMAIL, PASSWORD).await;
    let phone = server.login(EMAIL, PASSWORD).await;
    let mut stream = open_stream_with(&server, &laptop, "").await;
    let id = id_by_email(&server, &admin, EMAIL).await;
    let (_, etag) = administered(&server, &admin, &id).await;

    let response = patch_agent(&server, &admin, &id, &etag, &json!({"active": false})).await;
    let etag = etag_of(response.headers());
    let deactivated = expect_json(response, StatusCode::OK).await;
    assert_eq!(deactivated["active"], false);
    assert!(deactivated["deactivated_at"].is_string(), "{deactivated}");

    assert!(ends(&mut stream).await, "the open stream was closed");
    for token in [&laptop, &phone] {
        let response = server
            .request(Method::GET, "/api/v1/me", Some(token))
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let refused = server.login_response(EMAIL, PASSWORD).await;
    expect_error(refused, StatusCode::FORBIDDEN, "account_deactivated", None).await;
    // A wrong password learns nothing of it.
    let wrong = server.login_response(EMAIL, "Not-The-Password-1").await;
    expect_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials", None).await;

    // Their history stays; no link lets them back in.
    let summary = listed(&server, &admin, EMAIL).await.expect("still listed");
    assert_eq!(summary["active"], false);
    let active_only = get_json(&server, &admin, "/api/v1/admin/agents").await;
    assert!(!texts(&active_only, "agents", "email").contains(&EMAIL));
    let response = server
        .request(Method::POST, "/api/v1/auth/password-reset", None)
        .json(&json!({"email": EMAIL}))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let response = server
        .request(
            Method::POST,
            &format!("/api/v1/admin/agents/{id}/password-reset"),
            Some(&admin),
        )
        .send()
        .await
        .expect("answered");
    expect_error(response, StatusCode::CONFLICT, "conflict", None).await;
    // A link to someone else, sent after both: it is the one mail there.
    let grace_id = id_by_email(&server, &admin, GRACE_EMAIL).await;
    let response = server
        .request(
            Method::POST,
            &format!("/api/v1/admin/agents/{grace_id}/password-reset"),
            Some(&admin),
        )
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let mut seen = HashSet::new();
    let mail = next_mail(&server, &mut seen).await;
    assert!(
        mail_headers(&mail).contains(&"To: grace@example.com"),
        "{mail}"
    );
    assert_eq!(
        outbox(&server).len(),
        1,
        "no link for the deactivated agent"
    );

    let response = patch_agent(&server, &admin, &id, &etag, &json!({"active": true})).await;
    let reactivated = expect_json(response, StatusCode::OK).await;
    assert_eq!(reactivated["active"], true);
    assert_eq!(reactivated["deactivated_at"], Value::Null);
    server.login(EMAIL, PASSWORD).await;

    // An administrator cannot lock themselves out.
    let admin_id = id_by_email(&server, &admin, ADMIN_EMAIL).await;
    let (_, admin_etag) = administered(&server, &admin, &admin_id).await;
    let response = patch_agent(
        &server,
        &admin,
        &admin_id,
        &admin_etag,
        &json!({"active": false}),
    )
    .await;
    expect_error(response, StatusCode::FORBIDDEN, "forbidden", Some("active")).await;
}

#[tokio::test]
async fn the_last_administrator_stays_even_when_two_unmake_each_other_at_once() {
    let server = Server::start(folder_with_agents()).await;
    let boss = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let boss_id = id_by_email(&server, &boss, ADMIN_EMAIL).await;
    let ada_id = id_by_email(&server, &boss, EMAIL).await;

    // Alone, the administrator cannot unmake themselves.
    let (_, etag) = administered(&server, &boss, &boss_id).await;
    let response = patch_agent(&server, &boss, &boss_id, &etag, &json!({"is_admin": false})).await;
    expect_error(response, StatusCode::CONFLICT, "last_administrator", None).await;

    for round in 0..5 {
        let (_, ada_etag) = administered(&server, &boss, &ada_id).await;
        let response = patch_agent(
            &server,
            &boss,
            &ada_id,
            &ada_etag,
            &json!({"is_admin": true}),
        )
        .await;
        expect_json(response, StatusCode::OK).await;
        let ada = server.login(EMAIL, PASSWORD).await;
        let (_, ada_etag) = administered(&server, &boss, &ada_id).await;
        let (_, boss_etag) = administered(&server, &boss, &boss_id).await;

        // Each unmakes the other at the same moment: one of them stays.
        let unmake = json!({"is_admin": false});
        let (first, second) = tokio::join!(
            patch_agent(&server, &boss, &ada_id, &ada_etag, &unmake),
            patch_agent(&server, &ada, &boss_id, &boss_etag, &unmake),
        );
        let boss_stays = first.status() == StatusCode::OK;
        let (winner, loser) = if boss_stays {
            (first, second)
        } else {
            (second, first)
        };
        assert_eq!(winner.status(), StatusCode::OK, "round {round}");
        // The loser was either checked after the winner's change (no administrator left
        // but them) or, arriving later still, is no administrator any more.
        let status = loser.status();
        let code = if status == StatusCode::CONFLICT {
            "last_administrator"
        } else {
            "forbidden"
        };
        expect_error(loser, status, code, None).await;
        let (stayed, stayed_id, other_id) = if boss_stays {
            (&boss, &boss_id, &ada_id)
        } else {
            (&ada, &ada_id, &boss_id)
        };
        let admins = get_json(&server, stayed, "/api/v1/admin/agents?is_admin=true").await;
        assert_eq!(admins["total"], 1, "round {round}: {admins}");
        assert_eq!(admins["agents"][0]["id"], stayed_id.as_str());
        // Whoever stayed puts things back: the boss the only administrator again.
        if !boss_stays {
            let (_, etag) = administered(&server, stayed, other_id).await;
            let response =
                patch_agent(&server, stayed, other_id, &etag, &json!({"is_admin": true})).await;
            expect_json(response, StatusCode::OK).await;
            let (_, etag) = administered(&server, &boss, &ada_id).await;
            let response =
                patch_agent(&server, &boss, &ada_id, &etag, &json!({"is_admin": false})).await;
            expect_json(response, StatusCode::OK).await;
        }
    }
    let admins = get_json(&server, &boss, "/api/v1/admin/agents?is_admin=true").await;
    assert_eq!(texts(&admins, "agents", "email"), [ADMIN_EMAIL]);
}

#[tokio::test]
async fn an_address_stays_one_agents_when_two_administrators_give_it_at_once() {
    let server = Server::start(folder_with_agents()).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada_id = id_by_email(&server, &admin, EMAIL).await;
    let grace_id = id_by_email(&server, &admin, GRACE_EMAIL).await;

    for round in 0..5 {
        let wanted = format!("shared-{round}@example.com");
        let (_, ada_etag) = administered(&server, &admin, &ada_id).await;
        let (_, grace_etag) = administered(&server, &admin, &grace_id).await;
        let body = json!({"email": wanted});
        let (first, second) = tokio::join!(
            patch_agent(&server, &admin, &ada_id, &ada_etag, &body),
            patch_agent(&server, &admin, &grace_id, &grace_etag, &body),
        );
        let mut statuses = [first.status(), second.status()];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "round {round}"
        );
        let loser = if first.status() == StatusCode::CONFLICT {
            first
        } else {
            second
        };
        expect_error(loser, StatusCode::CONFLICT, "email_taken", Some("email")).await;
        let holders = get_json(
            &server,
            &admin,
            &format!("/api/v1/admin/agents?activity=all&q={wanted}"),
        )
        .await;
        assert_eq!(holders["total"], 1, "round {round}: {holders}");
    }
}

/// `PUT path` with `If-Match` as `token`.
async fn put_versioned(
    server: &Server,
    token: &str,
    path: &str,
    etag: &str,
    body: &Value,
) -> reqwest::Response {
    server
        .request(Method::PUT, path, Some(token))
        .header(IF_MATCH, etag)
        .json(body)
        .send()
        .await
        .expect("answered")
}

/// `GET path` answered 200, with its ETag.
async fn versioned(server: &Server, token: &str, path: &str) -> (Value, String) {
    let response = server.call(token, Method::GET, path, None).await;
    let etag = etag_of(response.headers());
    (expect_json(response, StatusCode::OK).await, etag)
}

/// The row of one event type.
fn row<'a>(prefs: &'a Value, event_type: &str) -> &'a Value {
    prefs["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|row| row["type"] == event_type)
        .unwrap_or_else(|| panic!("{event_type} in {prefs}"))
}

#[tokio::test]
async fn a_locked_notification_holds_for_every_agent_who_keeps_the_rest_and_their_own_choice() {
    let server = Server::start(folder_with_agents()).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    const MINE: &str = "/api/v1/me/notification-prefs";
    const LOCKS: &str = "/api/v1/admin/notification-locks";

    // Ada chooses no sound and no mail for tickets given to her.
    let (mut prefs, etag) = versioned(&server, &ada, MINE).await;
    prefs["events"][0]["sound"] = json!(false);
    prefs["events"][0]["email"] = json!("off");
    assert_eq!(prefs["events"][0]["type"], "ticket.assigned");
    let response = put_versioned(&server, &ada, MINE, &etag, &prefs).await;
    expect_json(response, StatusCode::OK).await;

    // Bad locks are refused, naming the field, and lock nothing.
    let (locks, etag) = versioned(&server, &admin, LOCKS).await;
    assert_eq!(locks, json!({"locks": []}));
    for (body, field) in [
        (
            json!({"locks": [{"type": "ticket.assigned", "sound": true, "reason": "  "}]}),
            "locks[0].reason",
        ),
        (
            json!({"locks": [{"type": "department.change_requested", "email": "off", "reason": "x"}]}),
            "locks[0].type",
        ),
        (
            json!({"locks": [{"type": "ticket.assigned", "sound": "loud", "reason": "x"}]}),
            "locks[0].sound",
        ),
    ] {
        let response = put_versioned(&server, &admin, LOCKS, &etag, &body).await;
        let status = response.status();
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {error}");
        assert!(
            error["error"]["field"]
                .as_str()
                .unwrap_or_default()
                .starts_with(field),
            "{body}: {error}"
        );
    }
    assert_eq!(versioned(&server, &admin, LOCKS).await.1, etag);

    // Sound and immediate mail for tickets given to anyone, as the floor's rule.
    let response = put_versioned(
        &server,
        &admin,
        LOCKS,
        &etag,
        &json!({"locks": [{"type": "ticket.assigned", "sound": true, "email": "immediate", "reason": " SLA: answer within 5 minutes "}]}),
    )
    .await;
    let locks = expect_json(response, StatusCode::OK).await;
    assert_eq!(locks["locks"][0]["reason"], "SLA: answer within 5 minutes");

    // Ada sees the locked values, marked locked with the reason; desktop stays hers.
    let (shown, etag) = versioned(&server, &ada, MINE).await;
    let assigned = row(&shown, "ticket.assigned");
    assert_eq!(assigned["sound"], true, "{assigned}");
    assert_eq!(assigned["email"], "immediate", "{assigned}");
    assert_eq!(assigned["locked"], json!(["sound", "email"]), "{assigned}");
    assert_eq!(assigned["lock_reason"], "SLA: answer within 5 minutes");
    assert_eq!(row(&shown, "ticket.updated")["locked"], json!([]));

    // She cannot change a locked channel, and nothing changes.
    let mut changed = shown.clone();
    changed["events"][0]["email"] = json!("weekly");
    let response = put_versioned(&server, &ada, MINE, &etag, &changed).await;
    let refused = expect_error(
        response,
        StatusCode::FORBIDDEN,
        "forbidden",
        Some("events[0].email"),
    )
    .await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("SLA"),
        "{refused}"
    );
    assert_eq!(
        versioned(&server, &ada, MINE).await,
        (shown.clone(), etag.clone())
    );

    // An unlocked channel she can, sending the locked ones back as shown.
    let mut changed = shown.clone();
    changed["events"][0]["desktop"] = json!(false);
    let response = put_versioned(&server, &ada, MINE, &etag, &changed).await;
    let saved = expect_json(response, StatusCode::OK).await;
    assert_eq!(row(&saved, "ticket.assigned")["desktop"], false);
    assert_eq!(row(&saved, "ticket.assigned")["email"], "immediate");

    // Lifted, the lock gives Ada back her own choice.
    let (_, etag) = versioned(&server, &admin, LOCKS).await;
    let response = put_versioned(&server, &admin, LOCKS, &etag, &json!({"locks": []})).await;
    expect_json(response, StatusCode::OK).await;
    let (mine, _) = versioned(&server, &ada, MINE).await;
    let assigned = row(&mine, "ticket.assigned");
    assert_eq!(
        (&assigned["desktop"], &assigned["sound"], &assigned["email"]),
        (&json!(false), &json!(false), &json!("off")),
        "{assigned}"
    );
    assert_eq!(assigned["locked"], json!([]));
}

#[tokio::test]
async fn an_administrator_sets_an_agents_notifications_which_the_agent_sees_in_the_change_log() {
    let server = Server::start(folder_with_agents()).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada_id = id_by_email(&server, &admin, EMAIL).await;
    let path = format!("/api/v1/admin/agents/{ada_id}/notification-prefs");
    let (prefs, etag) = versioned(&server, &admin, &path).await;
    assert_eq!(
        prefs["can_configure_admin_only"], false,
        "Ada does not administer"
    );
    assert_eq!(
        versioned(&server, &ada, "/api/v1/me/notification-prefs")
            .await
            .1,
        etag,
        "one version for both"
    );

    // An admin-only type is not for Ada, even set by an administrator.
    let mut admin_only = prefs.clone();
    for row in admin_only["events"].as_array_mut().expect("events") {
        if row["type"] == "department.change_requested" {
            row["desktop"] = json!(true);
        }
    }
    let response = put_versioned(&server, &admin, &path, &etag, &admin_only).await;
    expect_error(
        response,
        StatusCode::FORBIDDEN,
        "forbidden",
        Some("department.change_requested"),
    )
    .await;

    let mut changed = prefs.clone();
    changed["events"][1]["email"] = json!("off");
    changed["quiet_hours"] = json!({"enabled": true, "start": "20:00", "end": "08:00"});
    let kind = changed["events"][1]["type"]
        .as_str()
        .expect("type")
        .to_owned();
    let was = changed["events"][1]["email"].clone();
    assert_ne!(prefs["events"][1]["email"], was);
    let response = put_versioned(&server, &admin, &path, &etag, &changed).await;
    let saved = expect_json(response, StatusCode::OK).await;
    assert_eq!(saved["quiet_hours"]["start"], "20:00");

    // Ada's own view has them, and her change log says who changed what.
    let (mine, _) = versioned(&server, &ada, "/api/v1/me/notification-prefs").await;
    assert_eq!(row(&mine, &kind)["email"], "off");
    assert_eq!(mine["quiet_hours"]["enabled"], true);
    let log = get_json(&server, &ada, &format!("/api/v1/people/{ada_id}/changes")).await;
    let entries = log["changes"].as_array().expect("changes");
    let field = format!("notification:{kind}:email");
    let entry = entries
        .iter()
        .find(|entry| entry["field"] == field.as_str())
        .unwrap_or_else(|| panic!("{field} in {log}"));
    assert_eq!(entry["actor_name"], ADMIN_NAME, "{entry}");
    assert_eq!(entry["old_value"], prefs["events"][1]["email"], "{entry}");
    assert_eq!(entry["new_value"], "off", "{entry}");
    let hours = entries
        .iter()
        .find(|entry| entry["field"] == "notification:quiet_hours")
        .unwrap_or_else(|| panic!("quiet hours in {log}"));
    assert_eq!(hours["new_value"], "20:00–08:00", "{hours}");
    // Exactly the two things changed.
    assert_eq!(
        entries
            .iter()
            .filter(|entry| entry["field"]
                .as_str()
                .unwrap_or_default()
                .starts_with("notification:"))
            .count(),
        2,
        "{log}"
    );

    // Ada's app is told to read them again.
    let events = get_json(&server, &ada, "/api/v1/events").await;
    assert!(
        events["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|event| event["type"] == "profile.updated"),
        "{events}"
    );

    // No such agent: 404.
    let response = server
        .call(
            &admin,
            Method::GET,
            "/api/v1/admin/agents/nobody/notification-prefs",
            None,
        )
        .await;
    expect_error(response, StatusCode::NOT_FOUND, "not_found", None).await;
}

/// Makes a team with these members (by email) through the API; returns its id.
async fn make_team(server: &Server, admin: &str, name: &str, members: &[&str]) -> String {
    let response = server
        .call(
            admin,
            Method::POST,
            "/api/v1/admin/teams",
            Some(json!({"name": name, "members": members})),
        )
        .await;
    expect_json(response, StatusCode::CREATED).await["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// The team of that name in the administrators' list.
async fn team_named(server: &Server, admin: &str, name: &str) -> Option<Value> {
    let list = get_json(server, admin, "/api/v1/admin/teams").await;
    list["teams"]
        .as_array()
        .expect("teams")
        .iter()
        .find(|team| team["name"] == name)
        .cloned()
}

#[tokio::test]
async fn administrators_rename_teams_choose_leads_add_and_remove_members_and_delete_teams() {
    let server = Server::start(folder_with_agents()).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let grace = server.login(GRACE_EMAIL, PASSWORD).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada_id = id_by_email(&server, &admin, EMAIL).await;
    let grace_id = id_by_email(&server, &admin, GRACE_EMAIL).await;
    let team_id = make_team(&server, &admin, "Billing", &[]).await;
    make_team(&server, &admin, "Escalations", &[]).await;
    let team_path = format!("/api/v1/admin/teams/{team_id}");

    // Grace asks to join; Ada is put in as a member, then made a lead.
    let response = server
        .call(
            &grace,
            Method::POST,
            &format!("/api/v1/teams/{team_id}/join-requests"),
            Some(json!({})),
        )
        .await;
    expect_json(response, StatusCode::CREATED).await;
    assert_eq!(
        team_named(&server, &admin, "Billing")
            .await
            .expect("listed")["pending_requests"],
        1
    );
    for role in ["member", "lead"] {
        let response = server
            .call(
                &admin,
                Method::PUT,
                &format!("{team_path}/members/{ada_id}"),
                Some(json!({"role": role})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{role}");
    }
    // As a lead, Ada now decides Grace's request.
    let waiting = get_json(&server, &ada, "/api/v1/join-requests").await;
    assert_eq!(
        waiting["to_decide"].as_array().map(Vec::len),
        Some(1),
        "{waiting}"
    );

    // Adding Grace directly approves her open request.
    let response = server
        .call(
            &admin,
            Method::PUT,
            &format!("{team_path}/members/{grace_id}"),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let billing = team_named(&server, &admin, "Billing")
        .await
        .expect("listed");
    assert_eq!(billing["pending_requests"], 0, "{billing}");
    let roles: Vec<(String, String)> = billing["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|member| {
            (
                member["display_name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                member["role"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            (NAME.to_owned(), "lead".to_owned()),
            (GRACE_NAME.to_owned(), "member".to_owned())
        ]
    );
    let mine = get_json(&server, &grace, "/api/v1/join-requests").await;
    assert_eq!(mine["mine"][0]["state"], "approved", "{mine}");

    // Bad input is refused, naming the field, and changes nothing.
    for (method, path, body, status, field) in [
        (
            Method::PATCH,
            team_path.clone(),
            json!({"name": "  "}),
            StatusCode::BAD_REQUEST,
            Some("name"),
        ),
        (
            Method::PATCH,
            team_path.clone(),
            json!({"name": "Escalations"}),
            StatusCode::CONFLICT,
            Some("name"),
        ),
        (
            Method::PATCH,
            team_path.clone(),
            json!({"name": "x", "leads": []}),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            Method::PUT,
            format!("{team_path}/members/{ada_id}"),
            json!({"role": "owner"}),
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            Method::PUT,
            format!("{team_path}/members/nobody"),
            json!({"role": "member"}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            Method::PUT,
            "/api/v1/admin/teams/none/members/x".to_owned(),
            json!({"role": "member"}),
            StatusCode::NOT_FOUND,
            None,
        ),
    ] {
        let response = server
            .call(&admin, method.clone(), &path, Some(body.clone()))
            .await;
        let got = response.status();
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(got, status, "{method} {path} {body}: {error}");
        if let Some(field) = field {
            assert_eq!(error["error"]["field"], field, "{error}");
        }
    }
    assert_eq!(
        team_named(&server, &admin, "Billing")
            .await
            .expect("listed"),
        billing
    );

    // Renamed; Grace taken out; the changes are in the agents' change logs.
    let response = server
        .call(
            &admin,
            Method::PATCH,
            &team_path,
            Some(json!({"name": " Billing & Invoices "})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(team_named(&server, &admin, "Billing & Invoices")
        .await
        .is_some());
    let response = server
        .call(
            &admin,
            Method::DELETE,
            &format!("{team_path}/members/{grace_id}"),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = server
        .call(
            &admin,
            Method::DELETE,
            &format!("{team_path}/members/{grace_id}"),
            None,
        )
        .await;
    expect_error(response, StatusCode::NOT_FOUND, "not_found", None).await;
    let log = get_json(
        &server,
        &grace,
        &format!("/api/v1/people/{grace_id}/changes"),
    )
    .await;
    let about_team: Vec<(Value, Value)> = log["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|entry| {
            entry["field"]
                .as_str()
                .unwrap_or_default()
                .starts_with("team:")
        })
        .map(|entry| (entry["old_value"].clone(), entry["new_value"].clone()))
        .collect();
    assert_eq!(about_team.len(), 2, "{log}");
    assert!(
        about_team.contains(&(Value::Null, json!("member"))),
        "{log}"
    );
    assert!(
        about_team.contains(&(json!("member"), Value::Null)),
        "{log}"
    );
    let teams = get_json(&server, &grace, "/api/v1/teams").await;
    let billing = teams
        .as_array()
        .expect("teams")
        .iter()
        .find(|team| team["id"] == team_id.as_str())
        .cloned()
        .expect("listed");
    assert_eq!(billing["membership"], "none", "{billing}");

    // Deleted: gone for everyone, and Ada's log says she left it.
    let response = server.call(&admin, Method::DELETE, &team_path, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(team_named(&server, &admin, "Billing & Invoices")
        .await
        .is_none());
    let teams = get_json(&server, &ada, "/api/v1/teams").await;
    assert!(teams
        .as_array()
        .expect("teams")
        .iter()
        .all(|team| team["id"] != team_id.as_str()));
    let log = get_json(&server, &ada, &format!("/api/v1/people/{ada_id}/changes")).await;
    assert!(
        log["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .any(|entry| entry["field"] == "team:Billing & Invoices"
                && entry["old_value"] == "lead"
                && entry["new_value"].is_null()),
        "{log}"
    );
    let response = server.call(&admin, Method::DELETE, &team_path, None).await;
    expect_error(response, StatusCode::NOT_FOUND, "not_found", None).await;

    // A deactivated agent is not put in a team.
    let (grace_agent, etag) = administered(&server, &admin, &grace_id).await;
    assert_eq!(grace_agent["active"], true);
    let response = patch_agent(&server, &admin, &grace_id, &etag, &json!({"active": false})).await;
    expect_json(response, StatusCode::OK).await;
    let escalations = team_named(&server, &admin, "Escalations")
        .await
        .expect("listed");
    let id = escalations["id"].as_str().expect("id");
    let response = server
        .call(
            &admin,
            Method::PUT,
            &format!("/api/v1/admin/teams/{id}/members/{grace_id}"),
            Some(json!({"role": "member"})),
        )
        .await;
    expect_error(response, StatusCode::CONFLICT, "conflict", Some("agent_id")).await;
}

/// Sets a record's usergroups at its current version.
async fn patch_usergroups(
    server: &Server,
    token: &str,
    record: &str,
    groups: Value,
) -> reqwest::Response {
    let current = get_json(server, token, record).await;
    let etag = format!("\"{}\"", current["version"]);
    server
        .request(Method::PATCH, record, Some(token))
        .header(IF_MATCH, etag)
        .json(&json!({"usergroups": groups}))
        .send()
        .await
        .expect("answered")
}

/// Makes a customer through the API as `token`; returns its id.
async fn make_customer(server: &Server, token: &str, body: Value) -> String {
    let response = server
        .call(token, Method::POST, "/api/v1/people", Some(body))
        .await;
    expect_json(response, StatusCode::CREATED).await["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// The organization of that name in the list every agent reads.
async fn organization_named(server: &Server, token: &str, name: &str) -> Option<Value> {
    let list = get_json(server, token, "/api/v1/organizations").await;
    list["organizations"]
        .as_array()
        .expect("organizations")
        .iter()
        .find(|org| org["name"] == name)
        .cloned()
}

#[tokio::test]
async fn any_agent_makes_an_organization_and_administrators_rename_and_merge_them() {
    let server = Server::start(folder_with_agents()).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Ada makes one from the picker: listed with nobody yet; the same name again is 409.
    let response = server
        .call(
            &ada,
            Method::POST,
            "/api/v1/organizations",
            Some(json!({"name": " Initech "})),
        )
        .await;
    let initech = expect_json(response, StatusCode::CREATED).await;
    assert_eq!(
        (initech["name"].as_str(), initech["people"].as_u64()),
        (Some("Initech"), Some(0))
    );
    let response = server
        .call(
            &ada,
            Method::POST,
            "/api/v1/organizations",
            Some(json!({"name": "Initech"})),
        )
        .await;
    expect_error(response, StatusCode::CONFLICT, "conflict", Some("name")).await;
    let response = server
        .call(
            &ada,
            Method::POST,
            "/api/v1/organizations",
            Some(json!({"name": "a\nb"})),
        )
        .await;
    expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("name"),
    )
    .await;
    // Renaming and merging are not hers.
    let initech_id = initech["id"].as_str().expect("id").to_owned();
    let response = server
        .call(
            &ada,
            Method::PATCH,
            &format!("/api/v1/admin/organizations/{initech_id}"),
            Some(json!({"name": "X"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // A typo made a second organization; the administrator merges it into the first.
    let peter = make_customer(&server, &ada, json!({"name": "Peter Gibbons", "emails": ["peter@initech.example"], "organization": "Initech"})).await;
    let milton = make_customer(&server, &ada, json!({"name": "Milton Waddams", "emails": ["milton@initech.example"], "organization": "Inittech"})).await;
    let typo = organization_named(&server, &ada, "Inittech")
        .await
        .expect("listed");
    let typo_id = typo["id"].as_str().expect("id").to_owned();
    for (body, status, field) in [
        (json!({"into": typo_id}), StatusCode::BAD_REQUEST, "into"),
        (json!({"into": "nothing"}), StatusCode::BAD_REQUEST, "into"),
    ] {
        let response = server
            .call(
                &admin,
                Method::POST,
                &format!("/api/v1/admin/organizations/{typo_id}/merge"),
                Some(body),
            )
            .await;
        expect_error(response, status, "validation_failed", Some(field)).await;
    }
    let response = server
        .call(
            &admin,
            Method::POST,
            &format!("/api/v1/admin/organizations/{typo_id}/merge"),
            Some(json!({"into": initech_id})),
        )
        .await;
    let merged = expect_json(response, StatusCode::OK).await;
    assert_eq!(merged["people"], 2, "{merged}");
    assert!(organization_named(&server, &ada, "Inittech")
        .await
        .is_none());
    let record = get_json(&server, &ada, &format!("/api/v1/people/{milton}")).await;
    assert_eq!(record["organization"]["name"], "Initech", "{record}");

    // Renamed: a taken name is refused; the people's records show the new one and log it.
    let response = server
        .call(
            &admin,
            Method::POST,
            "/api/v1/organizations",
            Some(json!({"name": "Initrode"})),
        )
        .await;
    expect_json(response, StatusCode::CREATED).await;
    let org_path = format!("/api/v1/admin/organizations/{initech_id}");
    let response = server
        .call(
            &admin,
            Method::PATCH,
            &org_path,
            Some(json!({"name": "Initrode"})),
        )
        .await;
    expect_error(response, StatusCode::CONFLICT, "conflict", Some("name")).await;
    let response = server
        .call(
            &admin,
            Method::PATCH,
            &org_path,
            Some(json!({"name": "Initech Corp"})),
        )
        .await;
    let renamed = expect_json(response, StatusCode::OK).await;
    assert_eq!(renamed["name"], "Initech Corp");
    let record = get_json(&server, &ada, &format!("/api/v1/people/{peter}")).await;
    assert_eq!(record["organization"]["name"], "Initech Corp", "{record}");
    let log = get_json(&server, &ada, &format!("/api/v1/people/{milton}/changes")).await;
    let moves: Vec<(Value, Value)> = log["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|entry| entry["field"] == "organization" && entry["actor_name"] == ADMIN_NAME)
        .map(|entry| (entry["old_value"].clone(), entry["new_value"].clone()))
        .collect();
    assert!(
        moves.contains(&(json!("Inittech"), json!("Initech"))),
        "{log}"
    );
    assert!(
        moves.contains(&(json!("Initech"), json!("Initech Corp"))),
        "{log}"
    );
    let response = server
        .call(
            &admin,
            Method::PATCH,
            "/api/v1/admin/organizations/nothing",
            Some(json!({"name": "Y"})),
        )
        .await;
    expect_error(response, StatusCode::NOT_FOUND, "not_found", None).await;
}

#[tokio::test]
async fn once_administrators_list_usergroups_records_take_only_those() {
    let server = Server::start(folder_with_agents()).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let carla = make_customer(
        &server,
        &ada,
        json!({"name": "Carla Customer", "emails": ["carla@example.com"]}),
    )
    .await;
    let record = format!("/api/v1/people/{carla}");

    // No list yet: any group, made on the way.
    assert_eq!(
        get_json(&server, &ada, "/api/v1/usergroups").await,
        json!({"usergroups": []})
    );
    expect_json(
        patch_usergroups(&server, &ada, &record, json!(["Beta testers"])).await,
        StatusCode::OK,
    )
    .await;

    // Listed: VIP and Partners. Beta testers stays Carla's, unlisted.
    for name in ["VIP", " Partners "] {
        let response = server
            .call(
                &admin,
                Method::POST,
                "/api/v1/admin/usergroups",
                Some(json!({"name": name})),
            )
            .await;
        expect_json(response, StatusCode::CREATED).await;
    }
    let response = server
        .call(
            &admin,
            Method::POST,
            "/api/v1/admin/usergroups",
            Some(json!({"name": "VIP"})),
        )
        .await;
    expect_error(response, StatusCode::CONFLICT, "conflict", Some("name")).await;
    let listed = get_json(&server, &ada, "/api/v1/usergroups").await;
    assert_eq!(
        texts(&listed, "usergroups", "name"),
        ["Partners", "VIP"],
        "{listed}"
    );

    // A group outside the list is refused with 400 naming it, and nothing changes.
    let response = patch_usergroups(&server, &ada, &record, json!(["Beta testers", "Gold"])).await;
    let refused = expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("usergroups[1]"),
    )
    .await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Gold"),
        "{refused}"
    );
    let now = get_json(&server, &ada, &record).await;
    assert_eq!(now["usergroups"], json!(["Beta testers"]), "{now}");
    // Listed ones, and the one she was already in, are taken.
    let saved = expect_json(
        patch_usergroups(&server, &ada, &record, json!(["Beta testers", "vip"])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        saved["usergroups"],
        json!(["Beta testers", "VIP"]),
        "{saved}"
    );
    let listed = get_json(&server, &ada, "/api/v1/usergroups").await;
    let vip = listed["usergroups"]
        .as_array()
        .expect("usergroups")
        .iter()
        .find(|g| g["name"] == "VIP")
        .cloned()
        .expect("VIP");
    assert_eq!(vip["people"], 1, "{listed}");

    // Off the list: Carla stays in it; an unknown id is 404.
    let id = vip["id"].as_str().expect("id");
    let response = server
        .call(
            &admin,
            Method::DELETE,
            &format!("/api/v1/admin/usergroups/{id}"),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = server
        .call(
            &admin,
            Method::DELETE,
            &format!("/api/v1/admin/usergroups/{id}"),
            None,
        )
        .await;
    expect_error(response, StatusCode::NOT_FOUND, "not_found", None).await;
    let now = get_json(&server, &ada, &record).await;
    assert_eq!(now["usergroups"], json!(["Beta testers", "VIP"]), "{now}");
    assert_eq!(
        texts(
            &get_json(&server, &ada, "/api/v1/usergroups").await,
            "usergroups",
            "name"
        ),
        ["Partners"]
    );
}

#[tokio::test]
async fn a_retired_custom_field_leaves_records_keeps_its_values_and_comes_back_renamed() {
    let server = Server::start(folder_with_agents()).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let response = server
        .call(
            &admin,
            Method::POST,
            "/api/v1/admin/custom-fields",
            Some(json!({"name": "Plan", "kind": "choice", "choices": ["Free", "Team"]})),
        )
        .await;
    let plan = expect_json(response, StatusCode::CREATED).await;
    let plan_id = plan["id"].as_str().expect("id").to_owned();
    let response = server
        .call(
            &admin,
            Method::POST,
            "/api/v1/admin/custom-fields",
            Some(json!({"name": "Seats", "kind": "number"})),
        )
        .await;
    expect_json(response, StatusCode::CREATED).await;
    let carla = make_customer(
        &server,
        &ada,
        json!({"name": "Carla Customer", "emails": ["carla@example.com"]}),
    )
    .await;
    let record = format!("/api/v1/people/{carla}");
    let current = get_json(&server, &ada, &record).await;
    let response = server
        .request(Method::PATCH, &record, Some(&ada))
        .header(IF_MATCH, format!("\"{}\"", current["version"]))
        .json(&json!({"custom_fields": {plan_id.clone(): "Team"}}))
        .send()
        .await
        .expect("answered");
    expect_json(response, StatusCode::OK).await;

    let field_path = format!("/api/v1/admin/custom-fields/{plan_id}");
    // Bad changes are refused, naming the field, and change nothing.
    for (body, status, field) in [
        (json!({"name": " "}), StatusCode::BAD_REQUEST, Some("name")),
        (json!({"name": "Seats"}), StatusCode::CONFLICT, Some("name")),
        (json!({"kind": "text"}), StatusCode::BAD_REQUEST, None),
    ] {
        let response = server
            .call(&admin, Method::PATCH, &field_path, Some(body.clone()))
            .await;
        let got = response.status();
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(got, status, "{body}: {error}");
        if let Some(field) = field {
            assert_eq!(error["error"]["field"], field, "{error}");
        }
    }

    // Retired: off records and their forms, listed for administrators with its value kept.
    let response = server
        .call(
            &admin,
            Method::PATCH,
            &field_path,
            Some(json!({"retired": true})),
        )
        .await;
    let retired = expect_json(response, StatusCode::OK).await;
    assert_eq!(
        (&retired["retired"], &retired["values"]),
        (&json!(true), &json!(1)),
        "{retired}"
    );
    let fields = get_json(&server, &ada, "/api/v1/custom-fields").await;
    assert_eq!(
        texts(&json!({"fields": fields}), "fields", "name"),
        ["Seats"]
    );
    let shown = get_json(&server, &ada, &record).await;
    assert_eq!(
        texts(
            &json!({"f": shown["custom_fields"].as_array().expect("fields").iter().map(|entry| entry["field"].clone()).collect::<Vec<_>>()}),
            "f",
            "name"
        ),
        ["Seats"],
        "{shown}"
    );
    let response = server
        .request(Method::PATCH, &record, Some(&ada))
        .header(IF_MATCH, format!("\"{}\"", shown["version"]))
        .json(&json!({"custom_fields": {plan_id.clone(): "Free"}}))
        .send()
        .await
        .expect("answered");
    expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some(&format!("custom_fields.{plan_id}")),
    )
    .await;
    let all = get_json(&server, &admin, "/api/v1/admin/custom-fields").await;
    assert_eq!(all["fields"].as_array().map(Vec::len), Some(2), "{all}");
    // Nor an agent's to see or change.
    let response = server
        .call(&ada, Method::GET, "/api/v1/admin/custom-fields", None)
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Restored under a new name: the value is there again.
    let response = server
        .call(
            &admin,
            Method::PATCH,
            &field_path,
            Some(json!({"retired": false, "name": "Subscription"})),
        )
        .await;
    let back = expect_json(response, StatusCode::OK).await;
    assert_eq!(
        (&back["field"]["name"], &back["retired"]),
        (&json!("Subscription"), &json!(false)),
        "{back}"
    );
    let shown = get_json(&server, &ada, &record).await;
    let value = shown["custom_fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|entry| entry["field"]["id"] == plan_id.as_str())
        .cloned()
        .expect("back on the record");
    assert_eq!(
        (&value["field"]["name"], &value["value"]),
        (&json!("Subscription"), &json!("Team")),
        "{shown}"
    );
    let response = server
        .call(
            &admin,
            Method::PATCH,
            "/api/v1/admin/custom-fields/none",
            Some(json!({"retired": true})),
        )
        .await;
    expect_error(response, StatusCode::NOT_FOUND, "not_found", None).await;
}

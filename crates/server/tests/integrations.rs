//! Issue 21 over real HTTP against the real binary: helpdesk webhooks (generic, Zendesk,
//! Freshdesk) with their signatures, replays and rotations, integration tokens and their
//! scopes, the routing API, and the status webhook to a receiver run by the test.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;
use support::*;

const GRACE_EMAIL: &str = "grace@example.com";
const GRACE_NAME: &str = "Grace Hopper";

const DELIVERY: &str = "x-agent-desk-delivery";
const TIMESTAMP: &str = "x-agent-desk-timestamp";
const SIGNATURE: &str = "x-agent-desk-signature";
const FRESHDESK_SECRET: &str = "x-agent-desk-secret";
const ZENDESK_SIGNATURE: &str = "x-zendesk-webhook-signature";
const ZENDESK_TIMESTAMP: &str = "x-zendesk-webhook-signature-timestamp";
const ZENDESK_INVOCATION: &str = "x-zendesk-webhook-invocation-id";

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Runs `agent-desk-server ARGS --data-dir DIR`, feeding `stdin`.
fn cli(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = command(dir, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn agent-desk-server");
    // A command that reads no input may have exited already: a broken pipe is fine.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    child
        .wait_with_output()
        .expect("wait for agent-desk-server")
}

/// Runs a command that must succeed and returns the last line of its output, where a
/// secret or token is printed alone.
fn cli_last_line(dir: &Path, args: &[&str], stdin: &str) -> String {
    let output = cli(dir, args, stdin);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{args:?} failed ({}): {stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default().trim().to_owned();
    assert!(
        !last.is_empty() && !last.contains(' '),
        "{args:?}: the last line is not a secret alone: {stdout:?}"
    );
    last
}

fn cli_fails(dir: &Path, args: &[&str], why: &str) {
    let output = cli(dir, args, "");
    assert!(
        !output.status.success(),
        "{args:?} succeeded though {why}: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// `add-hook --source generic|freshdesk`: the printed secret, URL-safe base64 of 32 bytes.
fn add_hook(dir: &Path, source: &str, extra: &[&str]) -> String {
    let mut args = vec!["add-hook", "--source", source];
    args.extend_from_slice(extra);
    let secret = cli_last_line(dir, &args, "");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(secret.trim_end_matches('='))
        .unwrap_or_else(|e| panic!("{source} secret {secret:?} is not URL-safe base64: {e}"));
    assert_eq!(bytes.len(), 32, "{source} secret {secret:?}");
    secret
}

/// `add-hook --source zendesk` with Zendesk's signing secret on stdin.
fn add_zendesk_hook(dir: &Path, secret: &str) {
    let output = cli(
        dir,
        &["add-hook", "--source", "zendesk"],
        &format!("{secret}\n"),
    );
    assert!(
        output.status.success(),
        "add-hook --source zendesk failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn hmac_sha256(secret: &str, message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

/// `sha256=<hex HMAC(secret, "<timestamp>.<delivery>.<body>")>`.
fn generic_signature(secret: &str, timestamp: &str, delivery: &str, body: &str) -> String {
    let message = format!("{timestamp}.{delivery}.{body}");
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret, message.as_bytes()))
    )
}

/// The three headers of a generic delivery, signed with `secret`.
fn generic_headers(
    secret: &str,
    delivery: &str,
    timestamp: &str,
    body: &str,
) -> Vec<(&'static str, String)> {
    vec![
        (DELIVERY, delivery.to_owned()),
        (TIMESTAMP, timestamp.to_owned()),
        (
            SIGNATURE,
            generic_signature(secret, timestamp, delivery, body),
        ),
    ]
}

/// `POST /api/v1/hooks/{source}` with exactly `body` and `headers`.
async fn hook(server: &Server, source: &str, headers: &[(&str, String)], body: &str) -> Response {
    let mut request = server
        .request(Method::POST, &format!("/api/v1/hooks/{source}"), None)
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().await.expect("POST a hook")
}

/// A signed generic delivery sent now.
async fn generic(server: &Server, secret: &str, delivery: &str, body: &str) -> Response {
    let headers = generic_headers(secret, delivery, &now_unix().to_string(), body);
    hook(server, "generic", &headers, body).await
}

/// A 401 for a header: `field` is its lowercase name and the message names it.
async fn refused_header(response: Response, header: &str) {
    let body = expect_error(
        response,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        Some(header),
    )
    .await;
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.to_lowercase().contains(header),
        "the message names {header}: {body}"
    );
}

async fn events_of(server: &Server, token: &str) -> Vec<Value> {
    get_json(server, token, "/api/v1/events?after=0").await["events"]
        .as_array()
        .expect("events")
        .clone()
}

/// The agents a posted event was delivered to, sorted.
fn delivered_to(posted: &Value) -> Vec<String> {
    let mut agents: Vec<String> = posted["deliveries"]
        .as_array()
        .unwrap_or_else(|| panic!("deliveries in {posted}"))
        .iter()
        .map(|d| d["agent"].as_str().expect("agent").to_owned())
        .collect();
    agents.sort();
    agents
}

async fn put_status(server: &Server, token: &str, body: Value) {
    let response = server
        .call(token, Method::PUT, "/api/v1/me/status", Some(body.clone()))
        .await;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(
        status,
        StatusCode::OK,
        "PUT /api/v1/me/status {body}: {text}"
    );
}

/// A webhook source's row of `GET /api/v1/admin/integrations`, as an administrator reads it.
async fn hook_row(server: &Server, admin: &str, source: &str) -> Value {
    let integrations = get_json(server, admin, "/api/v1/admin/integrations").await;
    integrations["hooks"]
        .as_array()
        .unwrap_or_else(|| panic!("hooks in {integrations}"))
        .iter()
        .find(|row| row["source"] == source)
        .cloned()
        .unwrap_or_else(|| panic!("a {source} row in {integrations}"))
}

fn rfc3339_in(delta: chrono::Duration) -> String {
    (chrono::Utc::now() + delta).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse_time(value: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap_or_else(|| panic!("{value}")))
        .unwrap_or_else(|e| panic!("{value} is not RFC 3339: {e}"))
}

/// A data folder with Ada (agent) and the administrator.
fn folder_with_ada() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    add_admin_ok(dir.path());
    dir
}

fn generic_event(to: &str, title: &str) -> String {
    json!({
        "type": "ticket.assigned",
        "to": {"agent": to},
        "priority": "high",
        "title": title,
        "body": "The printer on floor 3 is on fire.",
        "ticket_id": "42",
        "url": "https://desk.example/tickets/42",
        "requester": "cust@example.com",
    })
    .to_string()
}

// ---------------------------------------------------------------------------------------
// Generic hook
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn generic_hook_takes_signed_deliveries_once_and_refuses_the_rest_storing_nothing() {
    let dir = folder_with_ada();
    let secret = add_hook(dir.path(), "generic", &[]);
    let server = Server::start(dir).await;
    let ada = server.login(EMAIL, PASSWORD).await;

    // A title with a control character and over 200 characters is cleaned and cut.
    let long_title = format!("Printer\u{7} on fire {}", "x".repeat(300));
    let first = generic_event(EMAIL, &long_title);
    let ts = now_unix().to_string();
    let first_headers = generic_headers(&secret, "gen-1", &ts, &first);
    let posted = expect_json(
        hook(&server, "generic", &first_headers, &first).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(delivered_to(&posted), [EMAIL], "{posted}");
    assert_eq!(posted["recipients"], 1, "{posted}");
    let events = events_of(&server, &ada).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let title = events[0]["title"].as_str().expect("title");
    assert!(title.starts_with("Printer on fire xxx"), "{title:?}");
    assert_eq!(title.chars().count(), 200, "{title:?}");
    assert!(title.ends_with('…'), "{title:?}");
    assert_eq!(events[0]["priority"], "high");
    assert_eq!(events[0]["ticket_id"], "42");
    assert_eq!(events[0]["url"], "https://desk.example/tickets/42");
    let stored = events.clone();

    // A wrong secret, and a captured signature under a new delivery id: 401, nothing kept.
    let second = generic_event(EMAIL, "Second ticket");
    refused_header(
        generic(&server, "not-the-secret", "gen-2", &second).await,
        SIGNATURE,
    )
    .await;
    let mut moved = first_headers.clone();
    moved[0].1 = "gen-1-again".to_owned();
    refused_header(hook(&server, "generic", &moved, &first).await, SIGNATURE).await;
    // The same delivery again (a replay): 409.
    expect_error(
        hook(&server, "generic", &first_headers, &first).await,
        StatusCode::CONFLICT,
        "conflict",
        Some(DELIVERY),
    )
    .await;
    // ... also freshly signed with a new time.
    expect_error(
        generic(&server, &secret, "gen-1", &first).await,
        StatusCode::CONFLICT,
        "conflict",
        Some(DELIVERY),
    )
    .await;
    assert_eq!(
        events_of(&server, &ada).await,
        stored,
        "refusals stored nothing"
    );

    // The id refused for its signature was not remembered: the real delivery goes in.
    let posted = expect_json(
        generic(&server, &secret, "gen-2", &second).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(delivered_to(&posted), [EMAIL]);
    let stored = events_of(&server, &ada).await;
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(stored[1]["title"], "Second ticket");

    // Timestamps 6 minutes old, 6 minutes ahead or unreadable, correctly signed: 401.
    let third = generic_event(EMAIL, "Third ticket");
    for (n, ts) in [
        (now_unix() - 360).to_string(),
        (now_unix() + 360).to_string(),
        "yesterday".to_owned(),
    ]
    .into_iter()
    .enumerate()
    {
        let headers = generic_headers(&secret, &format!("gen-time-{n}"), &ts, &third);
        refused_header(hook(&server, "generic", &headers, &third).await, TIMESTAMP).await;
    }
    // Signature checked before the time: a stale one with a wrong signature names the signature.
    let stale = generic_headers(
        "not-the-secret",
        "gen-stale",
        &(now_unix() - 360).to_string(),
        &third,
    );
    refused_header(hook(&server, "generic", &stale, &third).await, SIGNATURE).await;

    // Each header missing: 401 naming it.
    for missing in [DELIVERY, TIMESTAMP, SIGNATURE] {
        let headers: Vec<_> =
            generic_headers(&secret, "gen-missing", &now_unix().to_string(), &third)
                .into_iter()
                .filter(|(name, _)| *name != missing)
                .collect();
        refused_header(hook(&server, "generic", &headers, &third).await, missing).await;
    }

    // Bodies that do not map, correctly signed: 400 naming the field.
    let mut no_title: Value = serde_json::from_str(&third).expect("JSON");
    no_title.as_object_mut().expect("object").remove("title");
    let no_title = no_title.to_string();
    expect_error(
        generic(&server, &secret, "gen-no-title", &no_title).await,
        StatusCode::BAD_REQUEST,
        "missing_field",
        Some("title"),
    )
    .await;
    let stranger = generic_event("nobody@example.com", "Not ours");
    expect_error(
        generic(&server, &secret, "gen-stranger", &stranger).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("to"),
    )
    .await;
    // ... but without the secret nothing is learnt about the body: 401 first.
    refused_header(
        generic(&server, "not-the-secret", "gen-no-title-2", &no_title).await,
        SIGNATURE,
    )
    .await;
    assert_eq!(
        events_of(&server, &ada).await,
        stored,
        "refusals stored nothing"
    );

    // No secret for Zendesk or Freshdesk yet: 401 saying how to set one. An unknown source: 404.
    for (source, headers) in [
        ("zendesk", zendesk_headers("any", "1", &zendesk_now(), "{}")),
        ("freshdesk", vec![(FRESHDESK_SECRET, secret.clone())]),
    ] {
        let body = expect_error(
            hook(&server, source, &headers, "{}").await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            None,
        )
        .await;
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("add-hook") && message.contains(source),
            "{source} without a secret: {body}"
        );
    }
    let unknown = hook(&server, "jira", &[], "{}").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let generic_row = hook_row(&server, &admin, "generic").await;
    assert_eq!(generic_row["secrets"], 1, "{generic_row}");
    assert_eq!(generic_row["accepted"], 2, "{generic_row}");
    assert!(
        generic_row["refused"].as_i64().is_some_and(|n| n >= 10),
        "{generic_row}"
    );

    // The spec's order is signature, timestamp, replay, then body: a known delivery id
    // is refused before its body is read (409, not 400).
    expect_error(
        generic(&server, &secret, "gen-1", &no_title).await,
        StatusCode::CONFLICT,
        "conflict",
        Some(DELIVERY),
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// Zendesk
// ---------------------------------------------------------------------------------------

/// Zendesk's signature, per https://developer.zendesk.com/documentation/webhooks/verifying/:
/// `base64(HMACSHA256(TIMESTAMP + BODY))`, the timestamp being the
/// `X-Zendesk-Webhook-Signature-Timestamp` header as sent (RFC 3339, e.g.
/// `2026-12-06T16:00:00Z`).
fn zendesk_headers(
    secret: &str,
    invocation: &str,
    timestamp: &str,
    body: &str,
) -> Vec<(&'static str, String)> {
    let signature = base64::engine::general_purpose::STANDARD
        .encode(hmac_sha256(secret, format!("{timestamp}{body}").as_bytes()));
    vec![
        (ZENDESK_SIGNATURE, signature),
        (ZENDESK_TIMESTAMP, timestamp.to_owned()),
        (ZENDESK_INVOCATION, invocation.to_owned()),
    ]
}

fn zendesk_now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The trigger's JSON as Zendesk renders its placeholders ({{ticket.id}}, {{ticket.title}},
/// {{ticket.assignee.email}}, {{ticket.group.name}}, {{ticket.requester.email}},
/// {{ticket.priority}}, {{ticket.link}}, {{ticket.latest_public_comment}}).
fn zendesk_body(assignee: &str, group: &str, priority: &str) -> String {
    json!({
        "type": "ticket.assigned",
        "ticket_id": "8350",
        "title": "Refund not received for order #5512",
        "assignee": assignee,
        "group": group,
        "requester": "mia.hoffmann@example.com",
        "priority": priority,
        "url": "acme.zendesk.com/agent/tickets/8350",
        "comment": "Hello,\nI was promised a refund two weeks ago and still have nothing.\n\nMia",
    })
    .to_string()
}

#[tokio::test]
async fn zendesk_deliveries_are_verified_deduplicated_and_mapped() {
    const ZENDESK_SECRET: &str = "dGhpc2lzYXNlY3JldGZyb216ZW5kZXNrMTIzNDU2Nzg5MA";
    let dir = folder_with_ada();
    add_agent_ok(dir.path(), GRACE_EMAIL, GRACE_NAME, PASSWORD);
    let team = run(
        dir.path(),
        &[
            "add-team",
            "--name",
            "Billing",
            "--member",
            EMAIL,
            "--member",
            GRACE_EMAIL,
        ],
    );
    assert!(team.status.success(), "{team:?}");
    add_zendesk_hook(dir.path(), ZENDESK_SECRET);
    let server = Server::start(dir).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let grace = server.login(GRACE_EMAIL, PASSWORD).await;

    // The assignee wins over the group; a link without a scheme gains https://.
    let body = zendesk_body(EMAIL, "Billing", "High");
    let headers = zendesk_headers(ZENDESK_SECRET, "8350205582", &zendesk_now(), &body);
    let posted = expect_json(
        hook(&server, "zendesk", &headers, &body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(delivered_to(&posted), [EMAIL], "{posted}");
    let events = events_of(&server, &ada).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["type"], "ticket.assigned");
    assert_eq!(event["title"], "Refund not received for order #5512");
    assert_eq!(event["url"], "https://acme.zendesk.com/agent/tickets/8350");
    assert_eq!(event["priority"], "high");
    assert_eq!(event["ticket_id"], "8350");
    assert_eq!(
        event["body"],
        "Hello,\nI was promised a refund two weeks ago and still have nothing.\n\nMia"
    );

    // A wrong signature: 401.
    let forged = zendesk_headers("someone-elses-secret", "8350205583", &zendesk_now(), &body);
    refused_header(
        hook(&server, "zendesk", &forged, &body).await,
        ZENDESK_SIGNATURE,
    )
    .await;
    // The same invocation again: 409; the same signed body and time under another id: 409.
    expect_error(
        hook(&server, "zendesk", &headers, &body).await,
        StatusCode::CONFLICT,
        "conflict",
        Some(ZENDESK_INVOCATION),
    )
    .await;
    let mut copied = headers.clone();
    copied[2].1 = "8350205999".to_owned();
    let copy = hook(&server, "zendesk", &copied, &body).await;
    let copy_status = copy.status();
    let copy_body = copy.text().await.unwrap_or_default();
    assert_eq!(
        copy_status,
        StatusCode::CONFLICT,
        "a copy under a new id: {copy_body}"
    );
    assert!(copy_body.contains("\"conflict\""), "{copy_body}");
    // Six minutes old, correctly signed: 401 naming the timestamp header.
    let old = (chrono::Utc::now() - chrono::Duration::minutes(6))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let stale = zendesk_headers(ZENDESK_SECRET, "8350205584", &old, &body);
    refused_header(
        hook(&server, "zendesk", &stale, &body).await,
        ZENDESK_TIMESTAMP,
    )
    .await;
    // An unknown priority, and an assignee who is no agent here: 400 naming the field.
    for (n, (body, field)) in [
        (zendesk_body(EMAIL, "", "Whenever"), "priority"),
        (zendesk_body("nobody@example.com", "", "High"), "assignee"),
    ]
    .into_iter()
    .enumerate()
    {
        let headers = zendesk_headers(
            ZENDESK_SECRET,
            &format!("83502056{n}"),
            &zendesk_now(),
            &body,
        );
        expect_error(
            hook(&server, "zendesk", &headers, &body).await,
            StatusCode::BAD_REQUEST,
            "validation_failed",
            Some(field),
        )
        .await;
    }
    assert_eq!(
        events_of(&server, &ada).await.len(),
        1,
        "refusals stored nothing"
    );
    assert!(events_of(&server, &grace).await.is_empty());

    // No assignee: the group's members; "urgent" is urgent.
    let body = zendesk_body("", "Billing", "urgent");
    let headers = zendesk_headers(ZENDESK_SECRET, "8350205700", &zendesk_now(), &body);
    let posted = expect_json(
        hook(&server, "zendesk", &headers, &body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(delivered_to(&posted), [EMAIL, GRACE_EMAIL], "{posted}");
    let graces = events_of(&server, &grace).await;
    assert_eq!(graces.len(), 1, "{graces:?}");
    assert_eq!(graces[0]["priority"], "urgent");
    assert_eq!(events_of(&server, &ada).await.len(), 2);
}

// ---------------------------------------------------------------------------------------
// Freshdesk
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn freshdesk_deliveries_need_the_secret_header() {
    let dir = folder_with_ada();
    let secret = add_hook(dir.path(), "freshdesk", &[]);
    let server = Server::start(dir).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    // Freshdesk's "Trigger webhook" Advanced JSON with its placeholders rendered, as an
    // automation rule sends it
    // (https://support.freshdesk.com/support/solutions/articles/132589-using-webhooks-in-automation-rules);
    // Freshdesk does not sign, so the secret comes as a custom header.
    let body = json!({
        "type": "ticket.assigned",
        "ticket_id": "12",
        "title": "Cannot log in to the portal",
        "assignee": EMAIL,
        "group": "",
        "requester": "jon.snow@example.com",
        "priority": "Medium",
        "url": "https://acme.freshdesk.com/a/tickets/12",
        "comment": "",
        "source": "Portal",
    })
    .to_string();

    for headers in [vec![(FRESHDESK_SECRET, format!("{secret}x"))], vec![]] {
        refused_header(
            hook(&server, "freshdesk", &headers, &body).await,
            FRESHDESK_SECRET,
        )
        .await;
    }
    assert!(events_of(&server, &ada).await.is_empty());

    let posted = expect_json(
        hook(&server, "freshdesk", &[(FRESHDESK_SECRET, secret)], &body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(delivered_to(&posted), [EMAIL], "{posted}");
    let events = events_of(&server, &ada).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["priority"], "normal");
    assert_eq!(events[0]["title"], "Cannot log in to the portal");
    assert_eq!(events[0]["url"], "https://acme.freshdesk.com/a/tickets/12");
    assert_eq!(
        events[0]["body"],
        Value::Null,
        "an empty comment is no body"
    );
}

// ---------------------------------------------------------------------------------------
// Rotation
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_rotated_secret_stays_valid_for_the_grace_period_only() {
    let dir = folder_with_ada();
    let oldest = add_hook(dir.path(), "generic", &[]);
    let server = Server::start(dir).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let body = |n: usize| generic_event(EMAIL, &format!("Ticket {n}"));

    // Rotated while the server runs: both the old secret and the new one are accepted.
    let middle = add_hook(server.data_dir(), "generic", &[]);
    assert_ne!(middle, oldest);
    for (n, secret) in [&oldest, &middle].into_iter().enumerate() {
        let response = generic(&server, secret, &format!("rot-{n}"), &body(n)).await;
        expect_json(response, StatusCode::CREATED).await;
    }

    cli_fails(
        server.data_dir(),
        &["add-hook", "--source", "generic", "--grace-hours", "721"],
        "the grace is over 720 hours",
    );
    // Rotated with no grace: only the newest works.
    let newest = add_hook(server.data_dir(), "generic", &["--grace-hours", "0"]);
    let response = generic(&server, &newest, "rot-new", &body(3)).await;
    expect_json(response, StatusCode::CREATED).await;
    refused_header(
        generic(&server, &middle, "rot-middle", &body(4)).await,
        SIGNATURE,
    )
    .await;
    refused_header(
        generic(&server, &oldest, "rot-oldest", &body(5)).await,
        SIGNATURE,
    )
    .await;
    assert_eq!(events_of(&server, &ada).await.len(), 3);

    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let row = hook_row(&server, &admin, "generic").await;
    assert_eq!(row["secrets"], 1, "{row}");
}

// ---------------------------------------------------------------------------------------
// Integration tokens
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn integration_tokens_open_their_scopes_only_and_die_when_revoked() {
    let dir = folder_with_ada();
    let writer = add_integration(dir.path(), "helpdesk", "events:write");
    let reader = add_integration(dir.path(), "router", "routing:read");
    cli_fails(
        dir.path(),
        &[
            "add-integration",
            "--name",
            "helpdesk",
            "--scope",
            "routing:read",
        ],
        "an active integration has that name",
    );
    cli_fails(
        dir.path(),
        &[
            "add-integration",
            "--name",
            "other",
            "--scope",
            "events:delete",
        ],
        "the scope is unknown",
    );
    let server = Server::start(dir).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let event = json!({
        "type": "ticket.assigned",
        "to": {"agent": EMAIL},
        "title": "From the helpdesk",
    });

    let posted = expect_json(
        post_event(&server, &writer, &event).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(delivered_to(&posted), [EMAIL]);
    assert_eq!(events_of(&server, &ada).await.len(), 1);
    for path in [
        "/api/v1/me",
        "/api/v1/people",
        "/api/v1/events?after=0",
        "/api/v1/admin/integrations",
    ] {
        let response = server.call(&writer, Method::GET, path, None).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "an integration token on {path}"
        );
    }
    let response = server
        .call(&writer, Method::GET, "/api/v1/routing/agents", None)
        .await;
    expect_error(response, StatusCode::FORBIDDEN, "forbidden", None).await;

    let routing = get_json(&server, &reader, "/api/v1/routing/agents").await;
    assert!(routing["agents"].is_array(), "{routing}");
    let response = post_event(&server, &reader, &event).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = server
        .call(
            "adi_not-a-token",
            Method::GET,
            "/api/v1/routing/agents",
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let integrations = get_json(&server, &admin, "/api/v1/admin/integrations").await;
    let tokens = integrations["tokens"].as_array().expect("tokens").clone();
    let mut names: Vec<&str> = tokens.iter().filter_map(|t| t["name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["helpdesk", "router"], "{integrations}");
    let helpdesk = tokens
        .iter()
        .find(|t| t["name"] == "helpdesk")
        .expect("row");
    assert_eq!(helpdesk["scopes"], json!(["events:write"]), "{helpdesk}");
    assert!(helpdesk["last_used_at"].is_string(), "{helpdesk}");
    assert!(
        !integrations.to_string().contains(&writer),
        "tokens are not shown again"
    );

    // Revoked while the server runs: refused at once.
    let revoked = cli(
        server.data_dir(),
        &["revoke-integration", "--name", "helpdesk"],
        "",
    );
    assert!(revoked.status.success(), "{revoked:?}");
    let response = post_event(&server, &writer, &event).await;
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
    assert_eq!(events_of(&server, &ada).await.len(), 1);
    cli_fails(
        server.data_dir(),
        &["revoke-integration", "--name", "nobody"],
        "no integration has that name",
    );
    let integrations = get_json(&server, &admin, "/api/v1/admin/integrations").await;
    let names: Vec<&str> = integrations["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["router"], "active tokens only: {integrations}");
    // The name of a revoked integration is free again.
    let again = add_integration(server.data_dir(), "helpdesk", "events:write");
    expect_json(
        post_event(&server, &again, &event).await,
        StatusCode::CREATED,
    )
    .await;
}

/// `POST /api/v1/admin/integrations/tokens` with an `Idempotency-Key` when given.
async fn make_token(server: &Server, admin: &str, body: Value, key: Option<&str>) -> Response {
    let request = server
        .request(
            Method::POST,
            "/api/v1/admin/integrations/tokens",
            Some(admin),
        )
        .json(&body);
    let request = match key {
        Some(key) => request.header("idempotency-key", key),
        None => request,
    };
    request.send().await.expect("request")
}

async fn set_secret(server: &Server, admin: &str, source: &str, body: Value) -> Response {
    let path = format!("/api/v1/admin/integrations/hooks/{source}/secrets");
    server.call(admin, Method::POST, &path, Some(body)).await
}

#[tokio::test]
async fn administrators_make_and_revoke_tokens_in_the_api_each_shown_once() {
    let server = Server::start(folder_with_ada()).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let router = json!({"name": "  Routing engine ", "scopes": ["routing:read"]});
    let issued = expect_json(
        make_token(&server, &admin, router.clone(), Some("make-router")).await,
        StatusCode::CREATED,
    )
    .await;
    let token = issued["token"].as_str().expect("token").to_owned();
    assert!(token.starts_with("adi_"), "{issued}");
    let integration = &issued["integration"];
    assert_eq!(integration["name"], "Routing engine", "{issued}");
    assert_eq!(integration["scopes"], json!(["routing:read"]), "{issued}");
    assert_eq!(integration["created_by"], ADMIN_NAME, "{issued}");
    let id = integration["id"].as_str().expect("id").to_owned();

    // The same request again under its key is applied once, and the token is not given
    // again: it was kept nowhere.
    expect_error(
        make_token(&server, &admin, router, Some("make-router")).await,
        StatusCode::CONFLICT,
        "already_applied",
        Some("Idempotency-Key"),
    )
    .await;
    assert!(
        found_in(&database_files(server.data_dir()), &token).is_empty(),
        "the token itself is stored nowhere"
    );

    // It works within its scope only.
    let routing = get_json(&server, &token, "/api/v1/routing/agents").await;
    assert!(routing["agents"].is_array(), "{routing}");
    let event = json!({"type": "ticket.assigned", "to": {"agent": EMAIL}, "title": "Hello"});
    assert_eq!(
        post_event(&server, &token, &event).await.status(),
        StatusCode::FORBIDDEN
    );

    // Refusals name the field and make nothing.
    for (body, status, code, field) in [
        (
            json!({"name": "Routing engine", "scopes": ["events:write"]}),
            StatusCode::CONFLICT,
            "conflict",
            "name",
        ),
        (
            json!({"name": "", "scopes": ["events:write"]}),
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "name",
        ),
        (
            json!({"name": "two\nlines", "scopes": ["events:write"]}),
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "name",
        ),
        (
            json!({"name": "x".repeat(101), "scopes": ["events:write"]}),
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "name",
        ),
        (
            json!({"name": "Writer", "scopes": []}),
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "scopes",
        ),
        (
            json!({"name": "Writer", "scopes": ["events:write", "admin"]}),
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "scopes[1]",
        ),
    ] {
        expect_error(
            make_token(&server, &admin, body, None).await,
            status,
            code,
            Some(field),
        )
        .await;
    }
    let integrations = get_json(&server, &admin, "/api/v1/admin/integrations").await;
    let tokens = integrations["tokens"].as_array().expect("tokens");
    assert_eq!(tokens.len(), 1, "{integrations}");
    assert_eq!(tokens[0]["id"], id.as_str(), "{integrations}");
    assert_eq!(tokens[0]["created_by"], ADMIN_NAME, "{integrations}");
    assert!(tokens[0]["last_used_at"].is_string(), "{integrations}");
    assert!(!integrations.to_string().contains(&token), "{integrations}");

    // Revoked: refused at once, and a second revocation finds nothing.
    let path = format!("/api/v1/admin/integrations/tokens/{id}");
    let response = server.call(&admin, Method::DELETE, &path, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = server
        .call(&token, Method::GET, "/api/v1/routing/agents", None)
        .await;
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
    let response = server.call(&admin, Method::DELETE, &path, None).await;
    expect_error(response, StatusCode::NOT_FOUND, "not_found", None).await;
    let integrations = get_json(&server, &admin, "/api/v1/admin/integrations").await;
    assert_eq!(integrations["tokens"], json!([]), "{integrations}");
}

#[tokio::test]
async fn administrators_set_rotate_and_remove_webhook_secrets_in_the_api() {
    let server = Server::start(folder_with_ada()).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = |n: usize| generic_event(EMAIL, &format!("Ticket {n}"));

    let first = expect_json(
        set_secret(&server, &admin, "generic", json!({})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["source"], "generic", "{first}");
    assert_eq!(first["previous_until"], Value::Null, "{first}");
    let oldest = first["secret"].as_str().expect("secret").to_owned();
    expect_json(
        generic(&server, &oldest, "api-1", &body(1)).await,
        StatusCode::CREATED,
    )
    .await;

    // Rotated with the default grace: both work; then with none: only the newest.
    let second = expect_json(
        set_secret(&server, &admin, "generic", json!({})).await,
        StatusCode::CREATED,
    )
    .await;
    assert!(second["previous_until"].is_string(), "{second}");
    let middle = second["secret"].as_str().expect("secret").to_owned();
    for (n, secret) in [&oldest, &middle].into_iter().enumerate() {
        let response = generic(&server, secret, &format!("api-grace-{n}"), &body(n)).await;
        expect_json(response, StatusCode::CREATED).await;
    }
    let row = hook_row(&server, &admin, "generic").await;
    assert_eq!(row["secrets"], 2, "{row}");
    assert_eq!(row["secret_set_by"], ADMIN_NAME, "{row}");
    assert!(row["secret_set_at"].is_string(), "{row}");
    assert_eq!(
        row["previous_secret_until"], second["previous_until"],
        "{row}"
    );
    let integrations = get_json(&server, &admin, "/api/v1/admin/integrations").await;
    assert!(
        !integrations.to_string().contains(&middle),
        "secrets are not shown again: {integrations}"
    );

    let third = expect_json(
        set_secret(&server, &admin, "generic", json!({"grace_hours": 0})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(third["previous_until"], Value::Null, "{third}");
    let newest = third["secret"].as_str().expect("secret").to_owned();
    refused_header(
        generic(&server, &middle, "api-old", &body(5)).await,
        SIGNATURE,
    )
    .await;
    expect_json(
        generic(&server, &newest, "api-new", &body(6)).await,
        StatusCode::CREATED,
    )
    .await;

    // Zendesk's secret is Zendesk's: required, and not echoed; the others' are made here.
    for (source, body, field) in [
        ("zendesk", json!({}), "secret"),
        ("zendesk", json!({"secret": "  "}), "secret"),
        ("zendesk", json!({"secret": "a\nb"}), "secret"),
        ("freshdesk", json!({"secret": "mine"}), "secret"),
        ("generic", json!({"grace_hours": 721}), "grace_hours"),
    ] {
        expect_error(
            set_secret(&server, &admin, source, body).await,
            StatusCode::BAD_REQUEST,
            "validation_failed",
            Some(field),
        )
        .await;
    }
    let response = set_secret(&server, &admin, "intercom", json!({})).await;
    expect_error(response, StatusCode::NOT_FOUND, "not_found", None).await;
    let zendesk = expect_json(
        set_secret(
            &server,
            &admin,
            "zendesk",
            json!({"secret": "dGhlLXplbmRlc2stc2VjcmV0"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(zendesk["secret"], Value::Null, "{zendesk}");
    let signed = zendesk_body(EMAIL, "", "high");
    let when = zendesk_now();
    let headers = zendesk_headers("dGhlLXplbmRlc2stc2VjcmV0", "zd-api-1", &when, &signed);
    expect_json(
        hook(&server, "zendesk", &headers, &signed).await,
        StatusCode::CREATED,
    )
    .await;

    // Removed: the source's deliveries are refused until a secret is set again.
    let path = "/api/v1/admin/integrations/hooks/generic/secrets";
    let response = server.call(&admin, Method::DELETE, path, None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = generic(&server, &newest, "api-gone", &body(7)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = server.call(&admin, Method::DELETE, path, None).await;
    expect_error(response, StatusCode::NOT_FOUND, "not_found", None).await;
    let row = hook_row(&server, &admin, "generic").await;
    assert_eq!(row["secrets"], 0, "{row}");
    assert_eq!(row["secret_set_at"], Value::Null, "{row}");
}

// ---------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn routing_lists_who_takes_what_by_status_and_team() {
    let dir = folder_with_ada();
    let agents = [
        (EMAIL, NAME, "available", "any"),
        (GRACE_EMAIL, GRACE_NAME, "busy", "urgent_only"),
        ("linus@example.com", "Linus Torvalds", "away", "none"),
        ("margaret@example.com", "Margaret Hamilton", "dnd", "none"),
        ("alan@example.com", "Alan Turing", "offline", "none"),
    ];
    for (email, name, _, _) in &agents[1..] {
        add_agent_ok(dir.path(), email, name, PASSWORD);
    }
    let team = run(
        dir.path(),
        &[
            "add-team",
            "--name",
            "Nights",
            "--member",
            GRACE_EMAIL,
            "--member",
            "margaret@example.com",
        ],
    );
    assert!(team.status.success(), "{team:?}");
    let server = Server::start(dir).await;
    let mut ada = String::new();
    for (email, _, status, _) in &agents {
        let token = server.login(email, PASSWORD).await;
        put_status(&server, &token, json!({"status": status})).await;
        if *email == EMAIL {
            ada = token;
        }
    }
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let listed = get_json(&server, &admin, "/api/v1/routing/agents").await;
    let rows = listed["agents"].as_array().expect("agents").clone();
    let names: Vec<&str> = rows
        .iter()
        .map(|row| row["display_name"].as_str().expect("display_name"))
        .collect();
    assert_eq!(
        names,
        [
            "Ada Lovelace",
            "Alan Turing",
            "Barbara Boss",
            "Grace Hopper",
            "Linus Torvalds",
            "Margaret Hamilton"
        ],
        "{listed}"
    );
    for (email, _, status, takes) in &agents {
        let row = rows
            .iter()
            .find(|row| row["email"] == *email)
            .unwrap_or_else(|| panic!("{email} in {listed}"));
        assert_eq!(row["status"], *status, "{row}");
        assert_eq!(row["takes"], *takes, "{row}");
        assert_eq!(row["until"], Value::Null, "{row}");
        assert!(row["id"].as_str().is_some_and(|id| !id.is_empty()), "{row}");
    }

    let nights = get_json(&server, &admin, "/api/v1/routing/agents?team=Nights").await;
    let emails: Vec<&str> = texts(&nights, "agents", "email");
    assert_eq!(emails, [GRACE_EMAIL, "margaret@example.com"], "{nights}");

    for (query, code, field) in [
        ("team=Nobody", "validation_failed", "team"),
        ("colour=red", "unknown_field", "colour"),
    ] {
        let response = server
            .call(
                &admin,
                Method::GET,
                &format!("/api/v1/routing/agents?{query}"),
                None,
            )
            .await;
        expect_error(response, StatusCode::BAD_REQUEST, code, Some(field)).await;
    }
    let response = server
        .call(&ada, Method::GET, "/api/v1/routing/agents", None)
        .await;
    expect_error(response, StatusCode::FORBIDDEN, "forbidden", None).await;
    let response = server
        .request(Method::GET, "/api/v1/routing/agents", None)
        .send()
        .await
        .expect("GET routing");
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized", None).await;

    // Busy for 2 s, then available again, with nobody setting it.
    let until = rfc3339_in(chrono::Duration::seconds(2));
    put_status(&server, &ada, json!({"status": "busy", "until": until})).await;
    let ada_row = |listed: Value| {
        listed["agents"]
            .as_array()
            .expect("agents")
            .iter()
            .find(|row| row["email"] == EMAIL)
            .cloned()
            .expect("Ada")
    };
    let row = ada_row(get_json(&server, &admin, "/api/v1/routing/agents").await);
    assert_eq!(row["status"], "busy", "{row}");
    assert_eq!(row["takes"], "urgent_only", "{row}");
    assert_eq!(parse_time(&row["until"]), parse_time(&json!(until)));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let row = ada_row(get_json(&server, &admin, "/api/v1/routing/agents").await);
    assert_eq!(row["status"], "available", "{row}");
    assert_eq!(row["takes"], "any", "{row}");
    assert_eq!(row["until"], Value::Null, "{row}");
}

// ---------------------------------------------------------------------------------------
// Status webhook
// ---------------------------------------------------------------------------------------

const WEBHOOK_SECRET: &str = "status-webhook-test-secret";

/// One request the receiver got, and what it answered.
#[derive(Debug, Clone)]
struct Attempt {
    delivery: String,
    timestamp: String,
    signature: String,
    body: String,
    answered: u16,
    at: Instant,
}

/// A tiny HTTP receiver that records every request and answers 500 to the first
/// `failures`, 204 after.
#[derive(Clone)]
struct Receiver {
    attempts: Arc<Mutex<Vec<Attempt>>>,
    failures: usize,
    url: String,
}

impl Receiver {
    async fn start(failures: usize) -> Receiver {
        use axum::body::Bytes;
        use axum::extract::State;
        use axum::http::{HeaderMap, StatusCode as AxumStatus};

        async fn record(
            State(receiver): State<Receiver>,
            headers: HeaderMap,
            body: Bytes,
        ) -> AxumStatus {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            let mut attempts = receiver.attempts.lock().expect("attempts");
            let answer = if attempts.len() < receiver.failures {
                AxumStatus::INTERNAL_SERVER_ERROR
            } else {
                AxumStatus::NO_CONTENT
            };
            attempts.push(Attempt {
                delivery: header(DELIVERY),
                timestamp: header(TIMESTAMP),
                signature: header(SIGNATURE),
                body: String::from_utf8_lossy(&body).into_owned(),
                answered: answer.as_u16(),
                at: Instant::now(),
            });
            answer
        }

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the receiver");
        let url = format!(
            "http://{}/hook",
            listener.local_addr().expect("receiver address")
        );
        let receiver = Receiver {
            attempts: Arc::default(),
            failures,
            url,
        };
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(record))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    fn attempts(&self) -> Vec<Attempt> {
        self.attempts.lock().expect("attempts").clone()
    }

    /// The bodies answered 2xx, once there are `count` of them (at most 30 s).
    async fn delivered(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let delivered: Vec<Value> = self
                .attempts()
                .into_iter()
                .filter(|attempt| attempt.answered < 300)
                .map(|attempt| serde_json::from_str(&attempt.body).expect("a JSON body"))
                .collect();
            if delivered.len() >= count {
                return delivered;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} deliveries within 30 s: {:#?}",
                delivered.len(),
                self.attempts()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn options(&self) -> ServerOptions {
        ServerOptions::default()
            .arg("--status-webhook")
            .arg(&self.url)
            .env("AGENT_DESK_STATUS_WEBHOOK_SECRET", WEBHOOK_SECRET)
    }
}

fn assert_signed(attempt: &Attempt) {
    assert!(
        attempt.delivery.starts_with("status-"),
        "delivery id {attempt:?}"
    );
    let sent: i64 = attempt.timestamp.parse().expect("a unix timestamp");
    assert!((now_unix() - sent).abs() < 60, "timestamp {attempt:?}");
    assert_eq!(
        attempt.signature,
        generic_signature(
            WEBHOOK_SECRET,
            &attempt.timestamp,
            &attempt.delivery,
            &attempt.body
        ),
        "signature of {attempt:?}"
    );
}

/// Waits until the status webhook has nothing pending; its row in the integrations view.
async fn settled_webhook(server: &Server, admin: &str) -> Value {
    // A server restarted after a kill takes its deliveries up again only once the dead
    // one's lease has expired (leases::TERM, then a renewal's wait).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let integrations = get_json(server, admin, "/api/v1/admin/integrations").await;
        let row = integrations["status_webhook"].clone();
        if row["pending"] == 0 || Instant::now() > deadline {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn status_changes_reach_the_webhook_signed_in_order_through_retries() {
    let receiver = Receiver::start(2).await;
    let server = Server::start_with(folder_with_ada(), receiver.options()).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let ada_id = server.me(&ada).await.0["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let changes = [
        ("busy", "urgent_only"),
        ("away", "none"),
        ("dnd", "none"),
        ("available", "any"),
    ];
    for (status, _) in changes {
        put_status(&server, &ada, json!({"status": status})).await;
    }

    let delivered = receiver.delivered(changes.len()).await;
    let attempts = receiver.attempts();
    for attempt in &attempts {
        assert_signed(attempt);
    }
    // The first change failed twice and went through on the third attempt, before any later one.
    let answered: Vec<u16> = attempts.iter().take(3).map(|a| a.answered).collect();
    assert_eq!(answered, [500, 500, 204], "{attempts:#?}");
    assert!(
        attempts[..3]
            .iter()
            .all(|a| a.delivery == attempts[0].delivery),
        "retries of one delivery: {attempts:#?}"
    );
    let first: Value = serde_json::from_str(&attempts[0].body).expect("JSON");
    let third: Value = serde_json::from_str(&attempts[2].body).expect("JSON");
    assert_eq!(first, third, "a retry sends the same change");
    assert!(
        attempts[1].at - attempts[0].at >= Duration::from_millis(900)
            && attempts[2].at - attempts[1].at >= Duration::from_millis(900),
        "retried with a backoff of about 1 s, doubling: {attempts:#?}"
    );

    let statuses: Vec<&str> = delivered
        .iter()
        .map(|body| body["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["busy", "away", "dnd", "available"], "in order");
    let mut deliveries: Vec<&str> = attempts
        .iter()
        .filter(|a| a.answered < 300)
        .map(|a| a.delivery.as_str())
        .collect();
    deliveries.dedup();
    assert_eq!(
        deliveries.len(),
        changes.len(),
        "one id a change: {deliveries:?}"
    );
    let mut previous = None;
    for (body, (status, takes)) in delivered.iter().zip(changes) {
        assert_eq!(body["type"], "agent.status_changed", "{body}");
        assert_eq!(
            body["agent"],
            json!({"id": ada_id, "email": EMAIL, "display_name": NAME}),
            "{body}"
        );
        assert_eq!(body["status"], status, "{body}");
        assert_eq!(body["until"], Value::Null, "{body}");
        assert_eq!(body["takes"], takes, "{body}");
        assert_eq!(body["cause"], "agent", "{body}");
        let changed_at = parse_time(&body["changed_at"]);
        assert!(previous.is_none_or(|p| p <= changed_at), "{body}");
        previous = Some(changed_at);
    }

    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let row = settled_webhook(&server, &admin).await;
    assert_eq!(row["url"], receiver.url, "{row}");
    assert_eq!(row["pending"], 0, "{row}");
    assert_eq!(row["delivered"], 4, "{row}");
    assert_eq!(row["given_up"], 0, "{row}");
    assert!(row["last_delivered_at"].is_string(), "{row}");
}

#[tokio::test]
async fn idle_and_expiry_are_told_apart_in_the_webhook() {
    let receiver = Receiver::start(0).await;
    let server = Server::start_with(folder_with_ada(), receiver.options()).await;
    let ada = server.login(EMAIL, PASSWORD).await;

    put_status(&server, &ada, json!({"status": "away", "idle": true})).await;
    let until = rfc3339_in(chrono::Duration::milliseconds(1500));
    put_status(&server, &ada, json!({"status": "busy", "until": until})).await;
    let delivered = receiver.delivered(3).await;
    for attempt in receiver.attempts() {
        assert_signed(&attempt);
    }

    assert_eq!(delivered[0]["status"], "away", "{}", delivered[0]);
    assert_eq!(delivered[0]["cause"], "idle", "{}", delivered[0]);
    assert_eq!(delivered[0]["takes"], "none", "{}", delivered[0]);
    assert_eq!(delivered[1]["status"], "busy", "{}", delivered[1]);
    assert_eq!(delivered[1]["cause"], "agent", "{}", delivered[1]);
    assert_eq!(
        parse_time(&delivered[1]["until"]),
        parse_time(&json!(until))
    );
    assert_eq!(delivered[2]["status"], "available", "{}", delivered[2]);
    assert_eq!(delivered[2]["cause"], "expiry", "{}", delivered[2]);
    assert_eq!(delivered[2]["takes"], "any", "{}", delivered[2]);
    assert_eq!(delivered[2]["until"], Value::Null, "{}", delivered[2]);
    assert_eq!(delivered[2]["agent"]["email"], EMAIL);

    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let row = settled_webhook(&server, &admin).await;
    assert_eq!(row["delivered"], 3, "{row}");
}

#[test]
fn serving_with_a_status_webhook_but_no_secret_fails_naming_the_variable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("serve.log");
    let listen = format!("127.0.0.1:{}", free_port());
    let mut child = Killed(
        command(
            dir.path(),
            &[
                "serve",
                "--listen",
                &listen,
                "--status-webhook",
                "http://127.0.0.1:9/hook",
            ],
        )
        .env_remove("AGENT_DESK_STATUS_WEBHOOK_SECRET")
        .stdout(std::fs::File::create(dir.path().join("serve.out")).expect("out file"))
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn serve"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("poll serve") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "serve is still running without the secret"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("AGENT_DESK_STATUS_WEBHOOK_SECRET"),
        "the error names the variable: {stderr}"
    );
}

/// Forgeries from one address are answered 429 once they pile up, before they cost a
/// database write each; the counts show only those that got through to the check.
#[tokio::test]
async fn a_stream_of_forged_deliveries_is_slowed_down() {
    let dir = folder_with_ada();
    let secret = add_hook(dir.path(), "generic", &[]);
    let server = Server::start(dir).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = generic_event(EMAIL, "Forged");
    let mut refused_count = 0;
    let limited = loop {
        let response = generic(&server, "guessed", &format!("f-{refused_count}"), &body).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            break response;
        }
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        refused_count += 1;
        assert!(refused_count <= 20, "no 429 after 20 forgeries");
    };
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(refused_count, 20);
    // While it lasts, this address's good deliveries wait too: it cannot tell them apart
    // before checking, and checking is what is being spared.
    let good = generic(&server, &secret, "good-1", &body).await;
    assert_eq!(good.status(), StatusCode::TOO_MANY_REQUESTS);
    let integrations = get_json(&server, &admin, "/api/v1/admin/integrations").await;
    let generic_hooks = integrations["hooks"]
        .as_array()
        .and_then(|hooks| hooks.iter().find(|hook| hook["source"] == "generic"))
        .cloned()
        .expect("the generic source");
    assert_eq!(generic_hooks["refused"], 20, "{generic_hooks}");
    assert_eq!(generic_hooks["accepted"], 0, "{generic_hooks}");
}

/// The agent's last stream closes and stays closed: Offline, posted as "disconnected".
#[tokio::test]
async fn the_last_stream_closing_is_posted_as_disconnected() {
    let receiver = Receiver::start(0).await;
    let options = receiver.options().arg("--offline-grace-seconds").arg("0");
    let server = Server::start_with(folder_with_ada(), options).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    put_status(&server, &ada, json!({"status": "available"})).await;
    let stream = open_stream_with(&server, &ada, "after=0").await;
    drop(stream);
    let delivered = receiver.delivered(2).await;
    assert_eq!(delivered[0]["status"], "available", "{}", delivered[0]);
    assert_eq!(delivered[0]["cause"], "agent", "{}", delivered[0]);
    assert_eq!(delivered[1]["status"], "offline", "{}", delivered[1]);
    assert_eq!(delivered[1]["cause"], "disconnected", "{}", delivered[1]);
    assert_eq!(delivered[1]["takes"], "none", "{}", delivered[1]);
    for attempt in receiver.attempts() {
        assert_signed(&attempt);
    }
}

/// A change a day old is not posted any more: not after the receiver was down all that
/// time, nor after the server ran that long without the webhook.
#[tokio::test]
async fn a_change_a_day_old_is_given_up_rather_than_posted() {
    // The receiver refuses everything, so the change stays waiting.
    let receiver = Receiver::start(usize::MAX).await;
    let mut server = Server::start_with(folder_with_ada(), receiver.options()).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    put_status(&server, &ada, json!({"status": "busy"})).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while receiver.attempts().is_empty() {
        assert!(Instant::now() < deadline, "no attempt within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.stop();
    let db = open_database(server.data_dir()).await;
    let day_ago = (chrono::Utc::now() - chrono::Duration::hours(25))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let aged = agent_desk_server::storage::query(
        "UPDATE status_deliveries SET created_at = $1, next_attempt_at = $1",
    )
    .bind(&day_ago)
    .execute(&db)
    .await
    .expect("age the waiting change")
    .rows_affected();
    assert_eq!(aged, 1);
    db.close().await;

    let attempts_before = receiver.attempts().len();
    let server = server.restart(receiver.options()).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let row = settled_webhook(&server, &admin).await;
    assert_eq!(row["pending"], 0, "{row}");
    assert_eq!(row["given_up"], 1, "{row}");
    assert_eq!(row["delivered"], 0, "{row}");
    // Given up before it was tried again.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.attempts().len(), attempts_before);
}

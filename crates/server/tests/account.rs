//! Account security over real HTTP against the real binary: the password policy, changing
//! and resetting the password (API, mail and the server's own reset page), sign-in
//! throttling, the session list, hostile input, and logs that keep no secrets.
//!
//! Like `api.rs`, every test runs its own `agent-desk-server serve` on its own data folder.
//! Mail goes to `<data-dir>/outbox/` since no SMTP server is configured.

mod support;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{
    HeaderMap, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, RETRY_AFTER,
};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use support::mail::*;
use support::*;

/// Passwords that meet the policy, for Ada to change to.
const NEW_PASSWORD: &str = "Difference-Engine-1822";
const THIRD_PASSWORD: &str = "Jacquard-Loom-Cards-1804";

const OTHER_EMAIL: &str = "grace@example.com";
const OTHER_NAME: &str = "Grace Hopper";
const OTHER_PASSWORD: &str = "Cobol-Compiler-1959";

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Signs in with a chosen client name and version; returns the bearer token.
async fn login_as(server: &Server, email: &str, password: &str, client: (&str, &str)) -> String {
    let response = server
        .request(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({
            "email": email,
            "password": password,
            "client_name": client.0,
            "client_version": client.1,
        }))
        .send()
        .await
        .expect("POST /api/v1/auth/login");
    let body = expect_json(response, StatusCode::OK).await;
    body["token"].as_str().expect("a token").to_owned()
}

async fn send_json(
    server: &Server,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> Response {
    server
        .request(method.clone(), path, token)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e:?}"))
}

async fn get(server: &Server, path: &str, token: Option<&str>) -> Response {
    server
        .request(Method::GET, path, token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e:?}"))
}

async fn post_raw(
    server: &Server,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> Response {
    server
        .request(Method::POST, path, token)
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e:?}"))
}

/// `POST /api/v1/auth/password`; `keep` is left out of the body when `None`.
async fn change_password(
    server: &Server,
    token: &str,
    current: &str,
    new: &str,
    keep: Option<bool>,
) -> Response {
    let mut body = json!({ "current_password": current, "new_password": new });
    if let Some(keep) = keep {
        body["keep_other_sessions"] = json!(keep);
    }
    send_json(
        server,
        Method::POST,
        "/api/v1/auth/password",
        Some(token),
        &body,
    )
    .await
}

async fn request_reset(server: &Server, email: &str) -> Response {
    send_json(
        server,
        Method::POST,
        "/api/v1/auth/password-reset",
        None,
        &json!({ "email": email }),
    )
    .await
}

async fn confirm_reset(server: &Server, token: &str, new_password: &str) -> Response {
    send_json(
        server,
        Method::POST,
        "/api/v1/auth/password-reset/confirm",
        None,
        &json!({ "token": token, "new_password": new_password }),
    )
    .await
}

/// `POST /reset` as the page's form sends it.
async fn submit_reset_form(server: &Server, token: &str, new: &str, confirm: &str) -> Response {
    server
        .request(Method::POST, "/reset", None)
        .form(&[
            ("token", token),
            ("new_password", new),
            ("confirm_password", confirm),
        ])
        .send()
        .await
        .expect("POST /reset")
}

async fn assert_signed_in(server: &Server, token: &str, what: &str) {
    let response = get(server, "/api/v1/me", Some(token)).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the session should still work {what}"
    );
}

async fn assert_signed_out(server: &Server, token: &str, what: &str) {
    let response = get(server, "/api/v1/me", Some(token)).await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "the session should have ended {what}"
    );
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
}

/// The password no longer (or never did) sign in: the same 401 as any wrong password.
async fn assert_password_refused(server: &Server, email: &str, password: &str, what: &str) {
    let response = server.login_response(email, password).await;
    let got = response.status();
    assert_eq!(
        got,
        StatusCode::UNAUTHORIZED,
        "{password:?} should not sign in {what}"
    );
    expect_error(
        response,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        None,
    )
    .await;
}

/// Asserts the status, showing the body when it is another.
async fn expect_status(response: Response, status: StatusCode) -> String {
    let got = response.status();
    let text = response.text().await.expect("read the response body");
    assert_eq!(got, status, "unexpected status; body: {text}");
    text
}

/// A 429 in the API's shape: `rate_limited`, an integer `Retry-After` of at least one
/// second, and the same number in `error.retry_after_seconds`. Returns both.
async fn expect_rate_limited(response: Response) -> (u64, Value) {
    let header = response
        .headers()
        .get(RETRY_AFTER)
        .map(|value| value.to_str().expect("an ASCII Retry-After").to_owned());
    let body = expect_error(
        response,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        None,
    )
    .await;
    let header = header.unwrap_or_else(|| panic!("a 429 without Retry-After; body: {body}"));
    let seconds: u64 = header
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is not a number of seconds: {header:?}"));
    assert!(seconds >= 1, "Retry-After: {seconds}");
    assert_eq!(
        body["error"]["retry_after_seconds"], seconds,
        "the body and the header agree; body: {body}"
    );
    (seconds, body)
}

/// Asks for a reset of `email` and returns the token of the mail that answers it.
async fn reset_token_for(server: &Server, email: &str, seen: &mut HashSet<PathBuf>) -> String {
    let response = request_reset(server, email).await;
    expect_json(response, StatusCode::ACCEPTED).await;
    let mail = next_mail(server, seen).await;
    reset_token_in(server, &mail)
}

/// An HTML answer of the reset page, with the headers every one of them carries.
async fn expect_page(response: Response, status: StatusCode) -> String {
    let got = response.status();
    let headers = response.headers().clone();
    let page = response.text().await.expect("read the page");
    assert_eq!(got, status, "unexpected status; page: {page}");
    assert_page_headers(&headers, &page);
    assert!(
        page.starts_with("<!doctype html>"),
        "not an HTML page: {page}"
    );
    page
}

fn header<'a>(headers: &'a HeaderMap, name: &reqwest::header::HeaderName) -> &'a str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header: {headers:?}"))
}

fn assert_page_headers(headers: &HeaderMap, page: &str) {
    let content_type = header(headers, &CONTENT_TYPE);
    assert!(
        content_type.starts_with("text/html"),
        "Content-Type {content_type}; page: {page}"
    );
    let csp = header(headers, &CONTENT_SECURITY_POLICY);
    assert!(csp.contains("default-src 'none'"), "CSP: {csp}");
    assert_eq!(header(headers, &REFERRER_POLICY), "no-referrer");
    assert_eq!(header(headers, &CACHE_CONTROL), "no-store");
}

/// Every value of `attribute="…"` in `page`.
fn attribute_values<'a>(page: &'a str, attribute: &str) -> Vec<&'a str> {
    let marker = format!(" {attribute}=\"");
    page.match_indices(&marker)
        .map(|(at, _)| {
            let rest = &page[at + marker.len()..];
            &rest[..rest.find('"').expect("a closed attribute")]
        })
        .collect()
}

/// The page loads nothing from elsewhere: every src, href and form action is a path on
/// this server.
fn assert_nothing_external(page: &str) {
    for attribute in ["src", "href", "action"] {
        for value in attribute_values(page, attribute) {
            assert!(
                value.starts_with('/') && !value.starts_with("//"),
                "{attribute}=\"{value}\" leaves the server; page: {page}"
            );
        }
    }
    assert!(
        !page.to_ascii_lowercase().contains("http"),
        "the page names a URL: {page}"
    );
    assert_eq!(attribute_values(page, "href"), ["/reset.css"], "{page}");
    assert!(!page.contains("<script"), "the page has a script: {page}");
}

/// The form of the reset page, carrying `token`.
fn assert_form(page: &str, token: &str) {
    assert!(
        page.contains("<form method=\"post\" action=\"/reset\">"),
        "no form posting to /reset: {page}"
    );
    assert!(
        page.contains(&format!(
            "<input type=\"hidden\" name=\"token\" value=\"{token}\">"
        )),
        "no hidden token field: {page}"
    );
    assert!(page.contains("name=\"new_password\""), "{page}");
    assert!(page.contains("name=\"confirm_password\""), "{page}");
    assert_eq!(page.matches("type=\"password\"").count(), 2, "{page}");
}

fn a_session_id(list: &Value, current: bool) -> String {
    list["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .find(|session| session["current"] == current)
        .and_then(|session| session["id"].as_str())
        .unwrap_or_else(|| panic!("no session with current={current}: {list}"))
        .to_owned()
}

async fn sessions_of(server: &Server, token: &str) -> Value {
    let response = get(server, "/api/v1/auth/sessions", Some(token)).await;
    expect_json(response, StatusCode::OK).await
}

fn current_session_id(list: &Value) -> String {
    let current: Vec<&Value> = list["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter(|session| session["current"] == true)
        .collect();
    assert_eq!(current.len(), 1, "exactly one current session: {list}");
    current[0]["id"].as_str().expect("an id").to_owned()
}

async fn two_agents() -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    add_agent_ok(dir.path(), OTHER_EMAIL, OTHER_NAME, OTHER_PASSWORD);
    Server::start(dir).await
}

// ---------------------------------------------------------------------------------------
// Policy and API description
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn policy_is_public_and_lists_every_rule() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir).await;
    let response = get(&server, "/api/v1/policy", None).await;
    let policy = expect_json(response, StatusCode::OK).await;
    assert_eq!(
        policy,
        json!({
            "password": {
                "min_length": 8,
                "max_length": 128,
                "rules": [
                    "min_length", "max_length", "uppercase", "lowercase", "digit",
                    "symbol", "not_current", "not_guessable"
                ],
                "min_score": 2,
            },
            "password_reset_valid_minutes": 30,
            // Checked in detail by the photo tests.
            "avatar": policy["avatar"],
        })
    );
    assert!(policy["avatar"].is_object(), "{policy}");
}

#[tokio::test]
async fn openapi_document_lists_the_account_routes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir).await;
    let response = get(&server, "/api/openapi.json", None).await;
    let document = expect_json(response, StatusCode::OK).await;
    let paths = document["paths"].as_object().expect("a paths object");
    let expected: &[(&str, &[&str])] = &[
        ("/api/v1/auth/password", &["post"]),
        ("/api/v1/auth/password/strength", &["post"]),
        ("/api/v1/auth/password-reset", &["post"]),
        ("/api/v1/auth/password-reset/confirm", &["post"]),
        ("/api/v1/auth/sessions", &["get"]),
        ("/api/v1/auth/sessions/{id}", &["delete"]),
        ("/api/v1/auth/sessions/sign-out-others", &["post"]),
        ("/api/v1/policy", &["get"]),
        ("/reset", &["get", "post"]),
    ];
    for (path, methods) in expected {
        let item = paths
            .get(*path)
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{path} is missing; paths: {:?}", paths.keys()));
        for method in *methods {
            assert!(
                item.contains_key(*method),
                "{path} lacks {method}: {:?}",
                item.keys()
            );
        }
    }
    // The signed-in routes say so; the public ones do not.
    for path in [
        "/api/v1/auth/password",
        "/api/v1/auth/password/strength",
        "/api/v1/auth/sessions",
        "/api/v1/auth/sessions/sign-out-others",
    ] {
        let operation = paths[path]
            .as_object()
            .and_then(|item| item.values().next())
            .expect("an operation");
        assert!(
            operation["security"].is_array(),
            "{path} does not require the bearer token: {operation}"
        );
    }
    assert!(paths["/api/v1/policy"]["get"]["security"].is_null());
}

// ---------------------------------------------------------------------------------------
// Changing the password
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_flood_of_estimates_is_answered_429_rather_than_queued_without_end() {
    let server = two_agents().await;
    let ada = login_as(&server, EMAIL, PASSWORD, ("test", "1")).await;
    // Long and varied: the slowest kind of input for the estimator (hundreds of ms each),
    // which runs one at a time with a short queue.
    let hostile: String = (0..128)
        .map(|i: u32| char::from(b'!' + u8::try_from(i * 7 % 90).expect("ascii")))
        .collect();
    let body = json!({ "password": hostile });
    let flood: Vec<_> = (0..40)
        .map(|_| {
            server
                .request(Method::POST, "/api/v1/auth/password/strength", Some(&ada))
                .json(&body)
                .send()
        })
        .collect();
    let mut pending = flood.into_iter().map(Box::pin).collect::<Vec<_>>();
    let mut refused = None;
    while refused.is_none() && !pending.is_empty() {
        let (answer, _, rest) = futures_util::future::select_all(pending).await;
        pending = rest;
        let response = answer.expect("an answer");
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(response);
        } else {
            assert_eq!(response.status(), StatusCode::OK);
        }
    }
    let refused = refused.expect("some of 40 estimates at once are refused");
    let (seconds, _) = expect_rate_limited(refused).await;
    assert!(seconds <= 5, "Retry-After {seconds}");
}

/// `POST /api/v1/auth/password/strength`: the score, or the response when it is not 200.
async fn strength(server: &Server, token: Option<&str>, password: &str) -> u64 {
    let path = "/api/v1/auth/password/strength";
    let body = json!({ "password": password });
    let answer = expect_json(
        send_json(server, Method::POST, path, token, &body).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(answer.as_object().map(|o| o.len()), Some(1), "{answer}");
    answer["score"].as_u64().expect("a score")
}

#[tokio::test]
async fn password_strength_is_the_signed_in_agents_own_and_needs_a_session() {
    let server = two_agents().await;
    let path = "/api/v1/auth/password/strength";
    let ada = login_as(&server, EMAIL, PASSWORD, ("test", "1")).await;
    let grace = login_as(&server, OTHER_EMAIL, OTHER_PASSWORD, ("test", "1")).await;

    assert!(strength(&server, Some(&ada), "Password1!").await < 2);
    assert!(strength(&server, Some(&ada), "Tangerine-Bicycle-42").await >= 2);
    // Ada's own name is a guesser's first try for her, not for Grace.
    let own = strength(&server, Some(&ada), "Lovelace1815!").await;
    let stranger = strength(&server, Some(&grace), "Lovelace1815!").await;
    assert!(own < stranger, "Ada {own}, Grace {stranger}");
    // Longer than the policy allows: refused for its length, not estimated.
    assert_eq!(strength(&server, Some(&ada), &"Qx7!".repeat(40)).await, 0);
    assert_eq!(strength(&server, Some(&ada), "").await, 0);

    // No session, a made-up one, and one that has ended.
    let body = json!({ "password": "Tangerine-Bicycle-42" });
    for token in [None, Some("not-a-token")] {
        let response = send_json(&server, Method::POST, path, token, &body).await;
        expect_status(response, StatusCode::UNAUTHORIZED).await;
    }
    let response = send_json(
        &server,
        Method::POST,
        "/api/v1/auth/logout",
        Some(&grace),
        &json!({}),
    )
    .await;
    assert!(response.status().is_success(), "{}", response.status());
    let response = send_json(&server, Method::POST, path, Some(&grace), &body).await;
    expect_status(response, StatusCode::UNAUTHORIZED).await;

    // Bodies that are not a password: 400, naming what is wrong.
    for (content_type, hostile) in [
        (
            "application/json",
            r#"{"password": "Tangerine-Bicycle-42", "current": "x"}"#,
        ),
        ("application/json", r#"{"password": 42}"#),
        ("application/json", r#"{}"#),
        ("application/json", r#"{"password": "#),
        ("text/plain", r#"{"password": "Tangerine-Bicycle-42"}"#),
    ] {
        let response = post_raw(&server, path, Some(&ada), content_type, hostile).await;
        let status = response.status();
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{hostile}: {status}"
        );
    }
}

#[tokio::test]
async fn change_password_refuses_a_wrong_current_password_and_every_broken_rule() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    let other = server.login(EMAIL, PASSWORD).await;

    // Not signed in.
    let response = server
        .request(Method::POST, "/api/v1/auth/password", None)
        .json(&json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD }))
        .send()
        .await
        .expect("POST");
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
    let response = change_password(&server, "not-a-session", PASSWORD, NEW_PASSWORD, None).await;
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized", None).await;

    // The wrong current password, with an acceptable new one.
    let response = change_password(
        &server,
        &token,
        "Analytical-Engine-1844",
        NEW_PASSWORD,
        None,
    )
    .await;
    expect_error(
        response,
        StatusCode::FORBIDDEN,
        "wrong_password",
        Some("current_password"),
    )
    .await;

    // The right current password and a new one that breaks exactly one rule.
    let cases = [
        ("Ab1!xyz", "at least 8 characters"),
        ("tangerine-bicycle-42", "upper-case"),
        ("TANGERINE-BICYCLE-42", "lower-case"),
        ("Tangerine-Bicycle-xy", "digit"),
        ("TangerineBicycle42", "symbol"),
        (PASSWORD, "differ from the current password"),
        ("Password1!", "too easy to guess"),
    ];
    for (candidate, rule) in cases {
        let response = change_password(&server, &token, PASSWORD, candidate, None).await;
        let body = expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "password_rejected",
            Some("new_password"),
        )
        .await;
        let message = body["error"]["message"].as_str().expect("a message");
        assert!(
            message.contains(rule),
            "{candidate:?}: the message should name the rule ({rule:?}): {message}"
        );
    }

    // Nothing changed: the old password signs in, no candidate does, no session ended.
    server.login(EMAIL, PASSWORD).await;
    for candidate in [NEW_PASSWORD, "Password1!", "tangerine-bicycle-42"] {
        assert_password_refused(&server, EMAIL, candidate, "after refused changes").await;
    }
    assert_signed_in(&server, &token, "after refused changes").await;
    assert_signed_in(&server, &other, "after refused changes").await;
}

/// Found broken: a password over 128 characters is refused as "too easy to guess" instead
/// of for its length (see the report; `check_password` scores it 0, and `not_guessable`
/// comes before `max_length` in the policy's order).
#[tokio::test]
async fn change_password_refuses_a_password_over_128_characters_for_its_length() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    let long: String = "Tangerine-Bicycle-42-"
        .repeat(7)
        .chars()
        .take(129)
        .collect();
    assert_eq!(long.chars().count(), 129);
    let response = change_password(&server, &token, PASSWORD, &long, None).await;
    let body = expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "password_rejected",
        Some("new_password"),
    )
    .await;
    let message = body["error"]["message"].as_str().expect("a message");
    assert!(
        message.contains("at most 128 characters"),
        "the message should name the length rule: {message}"
    );
    assert_password_refused(&server, EMAIL, &long, "after the refusal").await;
}

#[tokio::test]
async fn change_password_accepts_128_characters_and_refuses_129() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    let base = "Tangerine-Bicycle-42-".repeat(7);
    let too_long: String = base.chars().take(129).collect();
    let response = change_password(&server, &token, PASSWORD, &too_long, None).await;
    expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "password_rejected",
        Some("new_password"),
    )
    .await;
    assert_password_refused(&server, EMAIL, &too_long, "after the refusal").await;

    let longest: String = base.chars().take(128).collect();
    let response = change_password(&server, &token, PASSWORD, &longest, None).await;
    expect_json(response, StatusCode::OK).await;
    server.login(EMAIL, &longest).await;
}

#[tokio::test]
async fn change_password_signs_out_other_sessions_unless_asked_to_keep_them() {
    let server = Server::with_agent().await;
    let current = server.login(EMAIL, PASSWORD).await;
    let laptop = server.login(EMAIL, PASSWORD).await;
    let phone = server.login(EMAIL, PASSWORD).await;

    let response = change_password(&server, &current, PASSWORD, NEW_PASSWORD, None).await;
    let body = expect_json(response, StatusCode::OK).await;
    assert_eq!(body, json!({ "signed_out_sessions": 2 }));
    assert_signed_out(&server, &laptop, "after the password change").await;
    assert_signed_out(&server, &phone, "after the password change").await;
    assert_signed_in(&server, &current, "that changed the password").await;
    assert_password_refused(&server, EMAIL, PASSWORD, "after the change").await;
    let tablet = server.login(EMAIL, NEW_PASSWORD).await;

    // Explicitly false is the default.
    let response =
        change_password(&server, &current, NEW_PASSWORD, THIRD_PASSWORD, Some(false)).await;
    let body = expect_json(response, StatusCode::OK).await;
    assert_eq!(body, json!({ "signed_out_sessions": 1 }));
    assert_signed_out(&server, &tablet, "after the second change").await;

    // Keeping the other sessions.
    let watch = server.login(EMAIL, THIRD_PASSWORD).await;
    let response =
        change_password(&server, &current, THIRD_PASSWORD, NEW_PASSWORD, Some(true)).await;
    let body = expect_json(response, StatusCode::OK).await;
    assert_eq!(body, json!({ "signed_out_sessions": 0 }));
    assert_signed_in(&server, &watch, "with keep_other_sessions").await;
    assert_signed_in(&server, &current, "with keep_other_sessions").await;
    assert_password_refused(&server, EMAIL, THIRD_PASSWORD, "after the third change").await;
    server.login(EMAIL, NEW_PASSWORD).await;
}

// ---------------------------------------------------------------------------------------
// Throttling
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn sign_in_is_throttled_after_five_failures_but_never_locked() {
    let server = Server::with_agent().await;
    let mut refusals = Vec::new();
    // However the address is spelled, it is one account.
    for email in [EMAIL, "ADA@example.com", " Ada@Example.COM ", EMAIL, EMAIL] {
        let response = server.login_response(email, "Wrong-Password-1").await;
        refusals.push(
            expect_error(
                response,
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                None,
            )
            .await,
        );
    }
    // Blocked now, even for the right password, which is not even looked at.
    let response = server.login_response(EMAIL, PASSWORD).await;
    let (wait, right) = expect_rate_limited(response).await;
    let response = server.login_response(EMAIL, "Wrong-Password-1").await;
    let (_, wrong) = expect_rate_limited(response).await;
    assert_eq!(
        right, wrong,
        "a blocked attempt tells nothing about the password"
    );
    assert!(wait <= 2, "the first delay is short: {wait} s");

    // A wrong email changes nothing about the answers: the same refusals, then the same 429.
    let unknown = "nobody@example.com";
    for (attempt, refusal) in refusals.iter().enumerate() {
        let response = server.login_response(unknown, "Wrong-Password-1").await;
        let body = expect_error(
            response,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            None,
        )
        .await;
        assert_eq!(&body, refusal, "attempt {attempt} for an unknown email");
    }
    let response = server.login_response(unknown, "Wrong-Password-1").await;
    let (unknown_wait, unknown_body) = expect_rate_limited(response).await;
    assert_eq!(unknown_wait, wait);
    assert_eq!(unknown_body, right, "an unknown email is throttled alike");

    // After waiting as told, the right password gets in: there is no lockout.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let token = server.login(EMAIL, PASSWORD).await;
    assert_signed_in(&server, &token, "after the block").await;
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled_too() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    for attempt in 0..5 {
        let response =
            change_password(&server, &token, "Wrong-Password-1", NEW_PASSWORD, None).await;
        let got = response.status();
        assert_eq!(got, StatusCode::FORBIDDEN, "attempt {attempt}");
        expect_error(
            response,
            StatusCode::FORBIDDEN,
            "wrong_password",
            Some("current_password"),
        )
        .await;
    }
    let response = change_password(&server, &token, PASSWORD, NEW_PASSWORD, None).await;
    let (wait, _) = expect_rate_limited(response).await;
    assert_password_refused(&server, EMAIL, NEW_PASSWORD, "while blocked").await;

    tokio::time::sleep(Duration::from_secs(wait)).await;
    let response = change_password(&server, &token, PASSWORD, NEW_PASSWORD, None).await;
    expect_json(response, StatusCode::OK).await;
    server.login(EMAIL, NEW_PASSWORD).await;
}

#[tokio::test]
async fn reset_requests_are_throttled_per_address_asked_for() {
    let server = Server::with_agent().await;
    for email in [EMAIL, "nobody@example.com"] {
        for attempt in 0..5 {
            let response = request_reset(&server, email).await;
            let got = response.status();
            assert_eq!(got, StatusCode::ACCEPTED, "{email}, request {attempt}");
        }
        let response = request_reset(&server, email).await;
        expect_rate_limited(response).await;
    }
    // Another address is not held up by those two.
    let response = request_reset(&server, "someone.else@example.com").await;
    expect_json(response, StatusCode::ACCEPTED).await;
}

// ---------------------------------------------------------------------------------------
// Forgotten password
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn reset_requests_answer_alike_and_only_existing_accounts_get_mail() {
    let server = Server::with_agent().await;

    let response = request_reset(&server, "nobody@example.com").await;
    let unknown = expect_json(response, StatusCode::ACCEPTED).await;
    let response = request_reset(&server, "  ADA@Example.com ").await;
    let known = expect_json(response, StatusCode::ACCEPTED).await;
    assert_eq!(known, unknown, "the answer tells nothing about the account");
    assert_eq!(known["valid_minutes"], 30, "{known}");

    for malformed in ["", "ada", "ada@example", "@example.com", "ada @example.com"] {
        let response = request_reset(&server, malformed).await;
        expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "invalid_email",
            Some("email"),
        )
        .await;
    }

    let mut seen = HashSet::new();
    let mail = next_mail(&server, &mut seen).await;
    let headers = mail_headers(&mail);
    assert!(
        headers.contains(&format!("To: {EMAIL}").as_str()),
        "the mail goes to the agent: {headers:?}"
    );
    let token = reset_token_in(&server, &mail);
    let body = mail_body(&mail);
    assert!(body.contains("30 minutes"), "{body}");
    assert!(body.contains(NAME), "the mail greets the agent: {body}");

    // The unknown address got nothing (its request came first), nor did the malformed ones.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        outbox(&server).len(),
        1,
        "only one mail: {:?}",
        outbox(&server)
    );

    // The database keeps the token's hash only.
    let files = database_files(server.data_dir());
    assert_eq!(
        found_in(&files, &token),
        Vec::<PathBuf>::new(),
        "the reset token is stored in clear"
    );
    let hash = agent_desk_server::credentials::token_hash(&token);
    assert!(
        !found_in(&files, &hash).is_empty(),
        "the token's SHA-256 is not in the database files"
    );
}

/// Found broken: the mail is quoted-printable (lettre picks it for lines of 76 characters
/// or more, and the link line is 78), so the `.eml` in the outbox shows
/// `reset?token=3D…` with a soft line break inside the token: a link copied from the file,
/// or read line by line as the workspace's end-to-end helper does, is broken.
#[tokio::test]
async fn the_outbox_mail_carries_the_link_verbatim() {
    let server = Server::with_agent().await;
    let response = request_reset(&server, EMAIL).await;
    expect_json(response, StatusCode::ACCEPTED).await;
    let mail = next_mail(&server, &mut HashSet::new()).await;
    let token = reset_token_in(&server, &mail);
    let link = format!("{}/reset?token={token}", server.base);
    assert!(
        mail.split('\n').any(|line| line.trim_end() == link),
        "the raw mail does not show the link {link} on a line of its own: {mail}"
    );
}

#[tokio::test]
async fn a_reset_sets_the_password_once_and_signs_out_every_session() {
    let server = Server::with_agent().await;
    let laptop = server.login(EMAIL, PASSWORD).await;
    let phone = server.login(EMAIL, PASSWORD).await;
    let mut seen = HashSet::new();
    let token = reset_token_for(&server, EMAIL, &mut seen).await;

    // A weak password is refused and leaves the token usable.
    let response = confirm_reset(&server, &token, "Password1!").await;
    let body = expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "password_rejected",
        Some("new_password"),
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("too easy to guess")),
        "{body}"
    );
    let response = confirm_reset(&server, &token, "short").await;
    expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "password_rejected",
        Some("new_password"),
    )
    .await;
    // So is the current one.
    let response = confirm_reset(&server, &token, PASSWORD).await;
    let body = expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "password_rejected",
        Some("new_password"),
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("differ from the current password")),
        "{body}"
    );
    assert_signed_in(&server, &laptop, "after refused resets").await;
    server.login(EMAIL, PASSWORD).await;

    let response = confirm_reset(&server, &token, NEW_PASSWORD).await;
    let body = expect_json(response, StatusCode::OK).await;
    assert_eq!(body, json!({ "signed_out_sessions": 3 }));
    assert_signed_out(&server, &laptop, "after the reset").await;
    assert_signed_out(&server, &phone, "after the reset").await;
    assert_password_refused(&server, EMAIL, PASSWORD, "after the reset").await;
    let fresh = server.login(EMAIL, NEW_PASSWORD).await;

    // The link works once.
    let response = confirm_reset(&server, &token, THIRD_PASSWORD).await;
    expect_error(
        response,
        StatusCode::GONE,
        "reset_token_expired",
        Some("token"),
    )
    .await;
    assert_password_refused(&server, EMAIL, THIRD_PASSWORD, "after reusing the link").await;
    assert_signed_in(&server, &fresh, "after reusing the link").await;
}

#[tokio::test]
async fn garbage_reset_tokens_are_refused() {
    let server = Server::with_agent().await;
    let random = agent_desk_server::credentials::new_token();
    assert_eq!(random.len(), 43);
    let garbage = [
        "x".to_owned(),
        String::new(),
        random,
        "' OR 1=1 --".to_owned(),
        "é".repeat(43),
        "\"><script>alert(1)</script>".to_owned(),
    ];
    for token in &garbage {
        let response = confirm_reset(&server, token, NEW_PASSWORD).await;
        expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "invalid_reset_token",
            Some("token"),
        )
        .await;
    }
    let huge = "A".repeat(1024 * 1024);
    let body = json!({ "token": huge, "new_password": NEW_PASSWORD }).to_string();
    let response = send_oversized(
        || {
            server
                .request(Method::POST, "/api/v1/auth/password-reset/confirm", None)
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone())
        },
        "a 1 MB reset token",
    )
    .await;
    expect_error(
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    )
    .await;

    assert_password_refused(&server, EMAIL, NEW_PASSWORD, "after garbage tokens").await;
    server.login(EMAIL, PASSWORD).await;
    server.assert_healthy().await;
}

#[tokio::test]
async fn a_newer_reset_link_replaces_the_older_one() {
    let server = Server::with_agent().await;
    let mut seen = HashSet::new();
    let first = reset_token_for(&server, EMAIL, &mut seen).await;
    let second = reset_token_for(&server, EMAIL, &mut seen).await;
    assert_ne!(first, second);

    let response = confirm_reset(&server, &first, NEW_PASSWORD).await;
    let status = response.status();
    let body = expect_json(response, status).await;
    assert!(
        (status == StatusCode::BAD_REQUEST && body["error"]["code"] == "invalid_reset_token")
            || (status == StatusCode::GONE && body["error"]["code"] == "reset_token_expired"),
        "the older link still works: {status} {body}"
    );
    assert_password_refused(&server, EMAIL, NEW_PASSWORD, "after the older link").await;

    let response = confirm_reset(&server, &second, NEW_PASSWORD).await;
    expect_json(response, StatusCode::OK).await;
    server.login(EMAIL, NEW_PASSWORD).await;
}

#[tokio::test]
async fn a_password_change_ends_outstanding_reset_links() {
    let server = Server::with_agent().await;
    let session = server.login(EMAIL, PASSWORD).await;
    let mut seen = HashSet::new();
    let token = reset_token_for(&server, EMAIL, &mut seen).await;
    let response = change_password(&server, &session, PASSWORD, NEW_PASSWORD, None).await;
    expect_json(response, StatusCode::OK).await;

    let response = confirm_reset(&server, &token, THIRD_PASSWORD).await;
    let status = response.status();
    assert!(
        status == StatusCode::BAD_REQUEST || status == StatusCode::GONE,
        "the link outlived the password change: {status}"
    );
    assert_password_refused(&server, EMAIL, THIRD_PASSWORD, "after the stale link").await;
    server.login(EMAIL, NEW_PASSWORD).await;
}

#[tokio::test]
async fn an_expired_reset_link_is_gone() {
    let server = Server::with_agent().await;
    let mut seen = HashSet::new();
    let token = reset_token_for(&server, EMAIL, &mut seen).await;

    // Half an hour later, as far as the database is concerned.
    let db = open_database(server.data_dir()).await;
    let updated = agent_desk_server::storage::query(
        "UPDATE password_resets SET expires_at = $1 WHERE token_hash = $2",
    )
    .bind("2000-01-01T00:00:00.000Z")
    .bind(agent_desk_server::credentials::token_hash(&token))
    .execute(&db)
    .await
    .expect("age the reset link")
    .rows_affected();
    db.close().await;
    assert_eq!(updated, 1, "the link's row is found by its hash");

    let page = expect_page(
        get(&server, &format!("/reset?token={token}"), None).await,
        StatusCode::GONE,
    )
    .await;
    assert!(!page.contains("<form"), "{page}");
    let response = confirm_reset(&server, &token, NEW_PASSWORD).await;
    expect_error(
        response,
        StatusCode::GONE,
        "reset_token_expired",
        Some("token"),
    )
    .await;
    let page = expect_page(
        submit_reset_form(&server, &token, NEW_PASSWORD, NEW_PASSWORD).await,
        StatusCode::GONE,
    )
    .await;
    assert!(page.contains("expired"), "{page}");
    assert_password_refused(&server, EMAIL, NEW_PASSWORD, "after an expired link").await;
    server.login(EMAIL, PASSWORD).await;
}

// ---------------------------------------------------------------------------------------
// The reset page
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_reset_page_sets_a_new_password() {
    let server = Server::with_agent().await;
    let session = server.login(EMAIL, PASSWORD).await;
    let mut seen = HashSet::new();
    let token = reset_token_for(&server, EMAIL, &mut seen).await;

    let page = expect_page(
        get(&server, &format!("/reset?token={token}"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_form(&page, &token);
    assert_nothing_external(&page);

    let response = get(&server, "/reset.css", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = header(response.headers(), &CONTENT_TYPE).to_owned();
    assert!(content_type.starts_with("text/css"), "{content_type}");
    let css = response.text().await.expect("read the stylesheet");
    assert!(!css.is_empty());
    for external in ["http", "@import", "url("] {
        assert!(
            !css.contains(external),
            "the stylesheet loads {external}: {css}"
        );
    }

    // The two fields differ: the form again, with the reason.
    let page = expect_page(
        submit_reset_form(&server, &token, NEW_PASSWORD, THIRD_PASSWORD).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_form(&page, &token);
    assert!(page.contains("not the same"), "{page}");

    // A weak password: the form again, naming the rule.
    let page = expect_page(
        submit_reset_form(&server, &token, "Password1!", "Password1!").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_form(&page, &token);
    assert!(page.contains("too easy to guess"), "{page}");
    let page = expect_page(
        submit_reset_form(
            &server,
            &token,
            "tangerine-bicycle-42",
            "tangerine-bicycle-42",
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(page.contains("upper-case"), "{page}");
    assert_signed_in(&server, &session, "after refused forms").await;
    server.login(EMAIL, PASSWORD).await;

    let page = expect_page(
        submit_reset_form(&server, &token, NEW_PASSWORD, NEW_PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    assert!(page.contains("changed"), "{page}");
    assert!(!page.contains("<form"), "{page}");
    assert_signed_out(&server, &session, "after the reset page").await;
    assert_password_refused(&server, EMAIL, PASSWORD, "after the reset page").await;
    server.login(EMAIL, NEW_PASSWORD).await;

    // The link is spent: both the page and the form say so.
    let page = expect_page(
        get(&server, &format!("/reset?token={token}"), None).await,
        StatusCode::GONE,
    )
    .await;
    assert!(!page.contains("<form"), "{page}");
    expect_page(
        submit_reset_form(&server, &token, THIRD_PASSWORD, THIRD_PASSWORD).await,
        StatusCode::GONE,
    )
    .await;
    assert_password_refused(&server, EMAIL, THIRD_PASSWORD, "after reusing the link").await;
}

#[tokio::test]
async fn the_reset_page_refuses_bad_links_and_never_reflects_markup() {
    let server = Server::with_agent().await;
    let injection = "\"><script>alert(1)</script>";
    let encoded = "%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let random = agent_desk_server::credentials::new_token();
    for query in [
        "?token=garbage".to_owned(),
        format!("?token={random}"),
        format!("?token={encoded}"),
        "?token=".to_owned(),
        String::new(),
        "?token=a&token=b".to_owned(),
    ] {
        let page = expect_page(
            get(&server, &format!("/reset{query}"), None).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(!page.contains("<form"), "{query}: {page}");
        assert!(!page.contains("<script"), "{query}: {page}");
        assert!(!page.contains("garbage"), "{query}: {page}");
        assert_nothing_external(&page);
    }

    // Mismatching passwords show the form again with the token the form sent: escaped.
    let page = expect_page(
        submit_reset_form(&server, injection, NEW_PASSWORD, THIRD_PASSWORD).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        !page.contains("<script"),
        "the token is reflected as markup: {page}"
    );
    assert!(
        !page.contains(injection),
        "the token breaks out of its attribute: {page}"
    );
    assert!(page.contains("&quot;&gt;&lt;script&gt;"), "{page}");

    // Matching passwords with a bad token: refused.
    let page = expect_page(
        submit_reset_form(&server, injection, NEW_PASSWORD, NEW_PASSWORD).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("<form"), "{page}");

    // A form that is not a form.
    let response = post_raw(
        &server,
        "/reset",
        None,
        "application/x-www-form-urlencoded",
        "%%%=&&",
    )
    .await;
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_password_refused(&server, EMAIL, NEW_PASSWORD, "after bad forms").await;
    server.assert_healthy().await;
}

// ---------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_session_list_shows_every_session_and_recent_sign_ins() {
    let server = Server::with_agent().await;
    let response = get(&server, "/api/v1/auth/sessions", None).await;
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized", None).await;

    let desk = ("Agent Desk", "1.2.3");
    let script = ("Reporting script", "0.9");
    let failed = server
        .request(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({ "email": EMAIL, "password": "Wrong-Password-1", "client_name": "Guesser" }))
        .send()
        .await
        .expect("POST login");
    expect_error(
        failed,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        None,
    )
    .await;
    let first = login_as(&server, EMAIL, PASSWORD, desk).await;
    let second = login_as(&server, EMAIL, PASSWORD, script).await;

    let list = sessions_of(&server, &first).await;
    let sessions = list["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 2, "{list}");
    for session in sessions {
        for key in [
            "id",
            "client_name",
            "client_version",
            "ip_address",
            "created_at",
            "last_seen_at",
            "current",
        ] {
            assert!(
                session.get(key).is_some_and(|value| !value.is_null()),
                "{key} missing: {session}"
            );
        }
        assert_eq!(session["ip_address"], "127.0.0.1", "{session}");
        for key in ["created_at", "last_seen_at"] {
            let text = session[key].as_str().expect("a timestamp");
            chrono::DateTime::parse_from_rfc3339(text)
                .unwrap_or_else(|e| panic!("{key} is not RFC 3339 ({e}): {text}"));
        }
    }
    let mut clients: Vec<(String, String)> = sessions
        .iter()
        .map(|s| {
            (
                s["client_name"].as_str().expect("name").to_owned(),
                s["client_version"].as_str().expect("version").to_owned(),
            )
        })
        .collect();
    clients.sort();
    assert_eq!(
        clients,
        [
            (desk.0.to_owned(), desk.1.to_owned()),
            (script.0.to_owned(), script.1.to_owned())
        ]
    );
    let first_id = current_session_id(&list);
    let current = sessions
        .iter()
        .find(|s| s["current"] == true)
        .expect("the current session");
    assert_eq!(
        current["client_name"], desk.0,
        "the caller's session is current"
    );

    // From the other session, the other one is current.
    let other_view = sessions_of(&server, &second).await;
    let second_id = current_session_id(&other_view);
    assert_ne!(first_id, second_id);
    assert_eq!(a_session_id(&other_view, false), first_id);

    // The sign-ins: two successes after one failure, newest first.
    let attempts = list["recent_sign_ins"].as_array().expect("recent_sign_ins");
    let succeeded: Vec<Option<bool>> = attempts.iter().map(|a| a["succeeded"].as_bool()).collect();
    assert_eq!(succeeded, [Some(true), Some(true), Some(false)], "{list}");
    let names: Vec<Option<&str>> = attempts.iter().map(|a| a["client_name"].as_str()).collect();
    assert_eq!(
        names,
        [Some(script.0), Some(desk.0), Some("Guesser")],
        "{list}"
    );
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = attempts
        .iter()
        .map(|a| {
            chrono::DateTime::parse_from_rfc3339(a["at"].as_str().expect("at")).expect("RFC 3339")
        })
        .collect();
    assert!(
        times.windows(2).all(|pair| pair[0] >= pair[1]),
        "not newest first: {list}"
    );
    for attempt in attempts {
        assert_eq!(attempt["ip_address"], "127.0.0.1", "{attempt}");
    }
}

#[tokio::test]
async fn sessions_can_be_ended_one_by_one_but_only_ones_own() {
    let server = two_agents().await;
    let current = server.login(EMAIL, PASSWORD).await;
    let laptop = server.login(EMAIL, PASSWORD).await;
    let grace = server.login(OTHER_EMAIL, OTHER_PASSWORD).await;

    let laptop_id = current_session_id(&sessions_of(&server, &laptop).await);
    let grace_id = current_session_id(&sessions_of(&server, &grace).await);

    // Another agent's session: not found, and it goes on working.
    let response = server
        .request(
            Method::DELETE,
            &format!("/api/v1/auth/sessions/{grace_id}"),
            Some(&current),
        )
        .send()
        .await
        .expect("DELETE");
    expect_error(response, StatusCode::NOT_FOUND, "not_found", None).await;
    assert_signed_in(&server, &grace, "after another agent tried to end it").await;

    // No such session.
    for id in [
        uuid::Uuid::new_v4().to_string(),
        "nothing".to_owned(),
        "' OR 1=1 --".to_owned(),
    ] {
        let response = server
            .request(
                Method::DELETE,
                &format!("/api/v1/auth/sessions/{id}"),
                Some(&current),
            )
            .send()
            .await
            .expect("DELETE");
        expect_error(response, StatusCode::NOT_FOUND, "not_found", None).await;
    }

    // Without a session.
    let response = server
        .request(
            Method::DELETE,
            &format!("/api/v1/auth/sessions/{laptop_id}"),
            None,
        )
        .send()
        .await
        .expect("DELETE");
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
    assert_signed_in(&server, &laptop, "after refused deletes").await;

    // One's own other session.
    let response = server
        .request(
            Method::DELETE,
            &format!("/api/v1/auth/sessions/{laptop_id}"),
            Some(&current),
        )
        .send()
        .await
        .expect("DELETE");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.expect("body").is_empty());
    assert_signed_out(&server, &laptop, "after it was ended").await;
    assert_signed_in(&server, &current, "after ending another").await;
    let list = sessions_of(&server, &current).await;
    assert_eq!(list["sessions"].as_array().map(Vec::len), Some(1), "{list}");

    // Ended twice: gone.
    let response = server
        .request(
            Method::DELETE,
            &format!("/api/v1/auth/sessions/{laptop_id}"),
            Some(&current),
        )
        .send()
        .await
        .expect("DELETE");
    expect_error(response, StatusCode::NOT_FOUND, "not_found", None).await;

    // Ending the current session is signing out.
    let current_id = current_session_id(&sessions_of(&server, &current).await);
    let response = server
        .request(
            Method::DELETE,
            &format!("/api/v1/auth/sessions/{current_id}"),
            Some(&current),
        )
        .send()
        .await
        .expect("DELETE");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_signed_out(&server, &current, "after ending itself").await;
    assert_signed_in(&server, &grace, "of another agent").await;
}

#[tokio::test]
async fn sign_out_others_keeps_only_the_current_session() {
    let server = two_agents().await;
    let current = server.login(EMAIL, PASSWORD).await;
    let others = [
        server.login(EMAIL, PASSWORD).await,
        server.login(EMAIL, PASSWORD).await,
        server.login(EMAIL, PASSWORD).await,
    ];
    let grace = server.login(OTHER_EMAIL, OTHER_PASSWORD).await;

    let response = server
        .request(Method::POST, "/api/v1/auth/sessions/sign-out-others", None)
        .send()
        .await
        .expect("POST");
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized", None).await;

    let response = server
        .request(
            Method::POST,
            "/api/v1/auth/sessions/sign-out-others",
            Some(&current),
        )
        .send()
        .await
        .expect("POST");
    let body = expect_json(response, StatusCode::OK).await;
    assert_eq!(body, json!({ "signed_out_sessions": 3 }));
    for other in &others {
        assert_signed_out(&server, other, "after sign-out-others").await;
    }
    assert_signed_in(&server, &current, "that signed out the others").await;
    assert_signed_in(&server, &grace, "of another agent").await;
    let list = sessions_of(&server, &current).await;
    assert_eq!(list["sessions"].as_array().map(Vec::len), Some(1), "{list}");

    // Nothing left to end.
    let response = server
        .request(
            Method::POST,
            "/api/v1/auth/sessions/sign-out-others",
            Some(&current),
        )
        .send()
        .await
        .expect("POST");
    let body = expect_json(response, StatusCode::OK).await;
    assert_eq!(body, json!({ "signed_out_sessions": 0 }));
}

// ---------------------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_the_server_stays_healthy() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;

    // Empty passwords.
    let response = server.login_response(EMAIL, "").await;
    expect_error(
        response,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        None,
    )
    .await;
    let response = change_password(&server, &token, PASSWORD, "", None).await;
    expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "password_rejected",
        Some("new_password"),
    )
    .await;
    let response = change_password(&server, &token, "", NEW_PASSWORD, None).await;
    expect_error(
        response,
        StatusCode::FORBIDDEN,
        "wrong_password",
        Some("current_password"),
    )
    .await;

    // Malformed emails, on sign-in and on reset.
    for malformed in [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "ada @example.com",
        "ada@example.com\u{0}",
        &format!("{}@example.com", "a".repeat(300)),
    ] {
        let response = server.login_response(malformed, PASSWORD).await;
        expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "invalid_email",
            Some("email"),
        )
        .await;
        let response = request_reset(&server, malformed).await;
        expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "invalid_email",
            Some("email"),
        )
        .await;
    }

    // 1 MB passwords.
    let huge = "Aa1!".repeat(256 * 1024);
    let oversized: [(&str, Option<&str>, Value); 3] = [
        (
            "/api/v1/auth/login",
            None,
            json!({ "email": EMAIL, "password": huge }),
        ),
        (
            "/api/v1/auth/password",
            Some(token.as_str()),
            json!({ "current_password": PASSWORD, "new_password": huge }),
        ),
        (
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({ "token": agent_desk_server::credentials::new_token(), "new_password": huge }),
        ),
    ];
    for (path, bearer, body) in &oversized {
        let body = body.to_string();
        assert!(body.len() > 1024 * 1024);
        let response = send_oversized(
            || {
                server
                    .request(Method::POST, path, *bearer)
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone())
            },
            path,
        )
        .await;
        expect_error(
            response,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            None,
        )
        .await;
    }

    // Bytes that are not UTF-8 inside JSON strings.
    let not_utf8: [(&str, Option<&str>, &[u8]); 4] = [
        (
            "/api/v1/auth/login",
            None,
            b"{\"email\": \"ada@example.com\", \"password\": \"\xff\xfe\xc3\"}",
        ),
        (
            "/api/v1/auth/password",
            Some(token.as_str()),
            b"{\"current_password\": \"\xff\", \"new_password\": \"\xc3\x28Aa1!xxxx\"}",
        ),
        (
            "/api/v1/auth/password-reset",
            None,
            b"{\"email\": \"\xe2\x82@example.com\"}",
        ),
        (
            "/api/v1/auth/password-reset/confirm",
            None,
            b"{\"token\": \"\x80\x81\", \"new_password\": \"Aa1!Aa1!\xff\"}",
        ),
    ];
    for (path, bearer, bytes) in not_utf8 {
        let response = post_raw(&server, path, bearer, "application/json", bytes.to_vec()).await;
        expect_error(response, StatusCode::BAD_REQUEST, "malformed_json", None).await;
    }

    // Wrong shapes.
    let response = send_json(
        &server,
        Method::POST,
        "/api/v1/auth/password",
        Some(&token),
        &json!({ "current_password": PASSWORD, "new_password": 12345678 }),
    )
    .await;
    expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "wrong_type",
        Some("new_password"),
    )
    .await;
    let response = send_json(
        &server,
        Method::POST,
        "/api/v1/auth/password-reset/confirm",
        None,
        &json!({ "new_password": NEW_PASSWORD }),
    )
    .await;
    expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "missing_field",
        Some("token"),
    )
    .await;
    let response = send_json(
        &server,
        Method::POST,
        "/api/v1/auth/password-reset",
        None,
        &json!({ "email": EMAIL, "admin": true }),
    )
    .await;
    expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "unknown_field",
        Some("admin"),
    )
    .await;

    // Still healthy, and nothing about the account changed.
    server.assert_healthy().await;
    assert_signed_in(&server, &token, "after bad input").await;
    server.login(EMAIL, PASSWORD).await;
    assert_eq!(
        outbox(&server),
        Vec::<PathBuf>::new(),
        "no reset was asked for"
    );
}

// ---------------------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn debug_logs_never_contain_passwords_or_tokens() {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    let mut server =
        Server::start_with(dir, ServerOptions::default().env("RUST_LOG", "debug")).await;
    let wrong = "Wrong-Password-1";
    let weak = "Password1!";
    let page_password = "Babbage-Notes-Section-G7";
    let api_password = "Menabrea-Translation-1842";
    let mut tokens = Vec::new();
    let mut seen = HashSet::new();

    // Sign-ins, right and wrong.
    let response = server.login_response(EMAIL, wrong).await;
    expect_status(response, StatusCode::UNAUTHORIZED).await;
    tokens.push(server.login(EMAIL, PASSWORD).await);
    tokens.push(server.login(EMAIL, PASSWORD).await);

    // A refused and a successful change.
    let response = change_password(&server, &tokens[0], PASSWORD, weak, None).await;
    expect_status(response, StatusCode::BAD_REQUEST).await;
    let response = change_password(&server, &tokens[0], wrong, NEW_PASSWORD, None).await;
    expect_status(response, StatusCode::FORBIDDEN).await;
    let response = change_password(&server, &tokens[0], PASSWORD, NEW_PASSWORD, None).await;
    expect_status(response, StatusCode::OK).await;

    // A reset on the page.
    let page_token = reset_token_for(&server, EMAIL, &mut seen).await;
    let response = get(&server, &format!("/reset?token={page_token}"), None).await;
    expect_status(response, StatusCode::OK).await;
    let response = submit_reset_form(&server, &page_token, weak, weak).await;
    expect_status(response, StatusCode::BAD_REQUEST).await;
    let response = submit_reset_form(&server, &page_token, page_password, page_password).await;
    expect_status(response, StatusCode::OK).await;
    tokens.push(server.login(EMAIL, page_password).await);

    // A reset through the API.
    let api_token = reset_token_for(&server, EMAIL, &mut seen).await;
    let response = confirm_reset(&server, &api_token, weak).await;
    expect_status(response, StatusCode::BAD_REQUEST).await;
    let response = confirm_reset(&server, &api_token, api_password).await;
    expect_status(response, StatusCode::OK).await;
    tokens.push(server.login(EMAIL, api_password).await);
    sessions_of(&server, &tokens[3]).await;
    let response = get(&server, &format!("/reset?token={api_token}"), None).await;
    expect_status(response, StatusCode::GONE).await;

    // Everything the server was going to write is written.
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.stop();
    let log = server.log();
    assert!(!log.is_empty(), "the server logged nothing at debug level");
    for path in ["/api/v1/auth/login", "/api/v1/auth/password", "/reset"] {
        assert!(
            log.contains(path),
            "requests to {path} are not in the log, so it proves little: {log}"
        );
    }
    let passwords = [
        PASSWORD,
        wrong,
        weak,
        NEW_PASSWORD,
        page_password,
        api_password,
    ];
    let secrets = passwords
        .iter()
        .map(|password| ("a password", password.to_string()))
        .chain(tokens.iter().map(|token| ("a bearer token", token.clone())))
        .chain([
            ("a reset token", page_token.clone()),
            ("a reset token", api_token.clone()),
        ]);
    for (what, secret) in secrets {
        if let Some(at) = log.find(&secret) {
            let line_start = log[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = log[at..].find('\n').map_or(log.len(), |i| at + i);
            panic!(
                "the log contains {what} ({secret}): {}",
                &log[line_start..line_end]
            );
        }
    }
}

/// A client whose requests come from another loopback address, as another machine's would.
fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .local_address(address.parse::<std::net::IpAddr>().expect("an IP address"))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

async fn login_from(server: &Server, http: &reqwest::Client, password: &str) -> StatusCode {
    http.post(server.url("/api/v1/auth/login"))
        .json(&json!({ "email": EMAIL, "password": password }))
        .send()
        .await
        .expect("POST /api/v1/auth/login")
        .status()
}

#[tokio::test]
async fn failures_from_elsewhere_cannot_keep_the_agent_out_of_a_known_address() {
    let server = Server::with_agent().await;
    let agent = client_from("127.0.0.1");
    let attacker = client_from("127.0.0.2");
    assert_eq!(login_from(&server, &agent, PASSWORD).await, StatusCode::OK);
    for _ in 0..5 {
        assert_eq!(
            login_from(&server, &attacker, "Wrong-Password-1").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login_from(&server, &attacker, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the attacker's address is blocked for the account"
    );
    assert_eq!(
        login_from(&server, &agent, PASSWORD).await,
        StatusCode::OK,
        "the agent's usual address still gets in"
    );
}

#[tokio::test]
async fn simultaneous_guesses_cannot_slip_past_the_limit() {
    let server = Server::with_agent().await;
    let mut guesses = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let request = server
            .request(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({ "email": EMAIL, "password": "Wrong-Password-1" }));
        guesses.spawn(async move { request.send().await.expect("POST login").status() });
    }
    let statuses = guesses.join_all().await;
    let checked = statuses
        .iter()
        .filter(|status| **status == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(
        checked, 5,
        "only the free attempts reach the password check: {statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS));
}

#[tokio::test]
async fn sign_in_attempts_older_than_the_retention_are_pruned() {
    let server = Server::with_agent().await;
    let db = open_database(server.data_dir()).await;
    for (id, at) in [
        ("old", "2000-01-01T00:00:00.000Z"),
        (
            "recent",
            &agent_desk_server::clock::timestamp(chrono::Utc::now())[..],
        ),
    ] {
        agent_desk_server::storage::query(
            "INSERT INTO sign_in_attempts (id, email, succeeded, attempted_at)
             VALUES ($1, 'someone@example.com', FALSE, $2)",
        )
        .bind(id)
        .bind(at)
        .execute(&db)
        .await
        .expect("insert an attempt");
    }
    db.close().await;

    server.login(EMAIL, PASSWORD).await;

    let db = open_database(server.data_dir()).await;
    let left: Vec<String> = agent_desk_server::storage::query_scalar(
        "SELECT id FROM sign_in_attempts WHERE email = 'someone@example.com'",
    )
    .fetch_all(&db)
    .await
    .expect("list attempts");
    db.close().await;
    assert_eq!(left, ["recent"], "only the attempt within 90 days is kept");
}

//! The team server's HTTP API, driven over real HTTP against the real binary.
//!
//! Every test gets its own data folder and its own `agent-desk-server serve` on a free
//! port, creates its agents with the binary's own `add-agent` subcommand, and kills the
//! server when it ends.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, IF_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

// ---------------------------------------------------------------------------------------
// System
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn health_answers_ok() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir).await;
    let response = server
        .request(Method::GET, "/health", None)
        .send()
        .await
        .expect("GET /health");
    let body = expect_json(response, StatusCode::OK).await;
    assert_eq!(body["status"], "ok", "body: {body}");
    assert!(
        body["version"].as_str().is_some_and(|v| !v.is_empty()),
        "body: {body}"
    );
}

#[tokio::test]
async fn openapi_document_lists_every_route() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir).await;
    let response = server
        .request(Method::GET, "/api/openapi.json", None)
        .send()
        .await
        .expect("GET openapi");
    let document = expect_json(response, StatusCode::OK).await;
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.")),
        "not an OpenAPI 3 document: {}",
        document["openapi"]
    );
    let paths = document["paths"].as_object().expect("a paths object");
    let expected: &[(&str, &[&str])] = &[
        ("/health", &["get"]),
        ("/api/openapi.json", &["get"]),
        ("/api/v1/auth/login", &["post"]),
        ("/api/v1/auth/logout", &["post"]),
        ("/api/v1/me", &["get", "patch"]),
        ("/api/v1/auth/password", &["post"]),
        ("/api/v1/auth/password/strength", &["post"]),
        ("/api/v1/auth/password-reset", &["post"]),
        ("/api/v1/auth/password-reset/confirm", &["post"]),
        ("/api/v1/auth/sessions", &["get"]),
        ("/api/v1/auth/sessions/{id}", &["delete"]),
        ("/api/v1/auth/sessions/sign-out-others", &["post"]),
        ("/api/v1/policy", &["get"]),
        ("/api/v1/me/avatar", &["put", "delete"]),
        ("/api/v1/avatars/{id}", &["get"]),
        ("/api/v1/me/status", &["put"]),
        ("/api/v1/me/notification-prefs", &["get", "put"]),
        ("/api/v1/admin/events", &["post"]),
        ("/api/v1/events", &["get"]),
        ("/api/v1/events/stream", &["get"]),
        ("/api/v1/teams", &["get"]),
        ("/api/v1/teams/{id}/join-requests", &["post"]),
        ("/api/v1/join-requests", &["get"]),
        ("/api/v1/join-requests/{id}/decision", &["post"]),
        ("/api/v1/people", &["get", "post"]),
        ("/api/v1/people/{id}", &["get", "patch"]),
        ("/api/v1/people/{id}/emails", &["post"]),
        ("/api/v1/people/{id}/emails/{address}", &["delete"]),
        ("/api/v1/people/{id}/emails/{address}/primary", &["post"]),
        ("/api/v1/people/{id}/notes", &["get", "post"]),
        ("/api/v1/notes/{id}", &["patch", "delete"]),
        ("/api/v1/people/{id}/changes", &["get"]),
        ("/api/v1/people/{id}/activity", &["get"]),
        ("/api/v1/people/{id}/merge", &["post"]),
        ("/api/v1/people/{id}/files", &["get", "post"]),
        ("/api/v1/files/{id}", &["get", "delete"]),
        ("/api/v1/people/{id}/tickets", &["get"]),
        ("/api/v1/people/{id}/logins", &["get"]),
        ("/api/v1/custom-fields", &["get"]),
        ("/api/v1/organizations", &["get", "post"]),
        ("/api/v1/admin/organizations/{id}", &["patch"]),
        ("/api/v1/admin/organizations/{id}/merge", &["post"]),
        ("/api/v1/usergroups", &["get"]),
        ("/api/v1/admin/usergroups", &["post"]),
        ("/api/v1/admin/usergroups/{id}", &["delete"]),
        ("/api/v1/admin/custom-fields", &["get", "post"]),
        ("/api/v1/admin/custom-fields/{id}", &["patch"]),
        ("/api/v1/admin/teams", &["get", "post"]),
        ("/api/v1/admin/teams/{id}", &["patch", "delete"]),
        (
            "/api/v1/admin/teams/{id}/members/{agent_id}",
            &["put", "delete"],
        ),
        ("/api/v1/admin/agents", &["get", "post"]),
        ("/api/v1/admin/agents/{id}", &["get", "patch"]),
        ("/api/v1/admin/agents/{id}/password-reset", &["post"]),
        (
            "/api/v1/admin/agents/{id}/notification-prefs",
            &["get", "put"],
        ),
        ("/api/v1/admin/notification-locks", &["get", "put"]),
        ("/api/v1/admin/department-requests", &["get"]),
        ("/api/v1/admin/department-requests/{id}/decision", &["post"]),
        ("/api/v1/admin/integrations", &["get"]),
        ("/api/v1/admin/integrations/tokens", &["post"]),
        ("/api/v1/admin/integrations/tokens/{id}", &["delete"]),
        (
            "/api/v1/admin/integrations/hooks/{source}/secrets",
            &["post", "delete"],
        ),
        ("/api/v1/hooks/{source}", &["post"]),
        ("/api/v1/routing/agents", &["get"]),
        (
            "/api/v1/app/update/{target}/{arch}/{current_version}",
            &["get"],
        ),
        ("/api/v1/app/releases/{id}/{file_name}", &["get"]),
        ("/reset", &["get", "post"]),
        ("/reset.css", &["get"]),
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
    let mut listed: Vec<&str> = paths.keys().map(String::as_str).collect();
    listed.sort_unstable();
    let mut wanted: Vec<&str> = expected.iter().map(|(path, _)| *path).collect();
    wanted.sort_unstable();
    assert_eq!(
        listed, wanted,
        "the document lists exactly the served routes"
    );
    assert!(
        document["components"]["securitySchemes"]["bearer"].is_object(),
        "the bearer scheme is described"
    );
    // A parameter said to be in the path is one of the path's `{names}`; the others
    // are in the query (or a header).
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().expect("name");
                let in_path = parameter["in"] == "path";
                assert_eq!(
                    in_path,
                    path.contains(&format!("{{{name}}}")),
                    "{method} {path}: {name} is said to be in {}",
                    parameter["in"]
                );
            }
        }
    }
}

#[tokio::test]
async fn unknown_route_is_404_and_wrong_method_is_405() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;

    for path in ["/api/v1/nothing-here", "/", "/api/v2/me"] {
        let response = server
            .request(Method::GET, path, Some(&token))
            .send()
            .await
            .expect("GET");
        expect_error(response, StatusCode::NOT_FOUND, "not_found", None).await;
    }

    let wrong_methods = [
        (Method::DELETE, "/api/v1/me", Some(token.as_str())),
        (Method::DELETE, "/api/v1/me", None),
        (Method::GET, "/api/v1/auth/login", None),
    ];
    for (method, path, bearer) in wrong_methods {
        let response = server
            .request(method, path, bearer)
            .send()
            .await
            .expect("request");
        expect_error(
            response,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            None,
        )
        .await;
    }

    // The profile survived the DELETE.
    let (profile, _) = server.me(&token).await;
    assert_eq!(profile["email"], EMAIL);
}

// ---------------------------------------------------------------------------------------
// Signing in and out
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn login_returns_a_256_bit_url_safe_token() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    assert_eq!(
        token.len(),
        43,
        "32 bytes in unpadded base64 are 43 characters: {token:?}"
    );
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "not URL-safe base64: {token:?}"
    );
    let second = server.login(EMAIL, PASSWORD).await;
    assert_ne!(token, second, "every sign-in gets its own token");

    let (profile, _) = server.me(&token).await;
    assert_eq!(profile["email"], EMAIL);
    assert_eq!(profile["display_name"], NAME);
    let (again, _) = server.me(&second).await;
    assert_eq!(again["id"], profile["id"]);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_identical_401s() {
    let server = Server::with_agent().await;

    let wrong_password = server.login_response(EMAIL, "Analytical-Engine-1844").await;
    let wrong_password = expect_error(
        wrong_password,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        None,
    )
    .await;
    let unknown_email = server.login_response("nobody@example.com", PASSWORD).await;
    let unknown_email = expect_error(
        unknown_email,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        None,
    )
    .await;
    assert_eq!(
        wrong_password, unknown_email,
        "the answers must not tell which accounts exist"
    );

    // The password is case-sensitive; the right one still works afterwards.
    let response = server.login_response(EMAIL, &PASSWORD.to_uppercase()).await;
    expect_error(
        response,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        None,
    )
    .await;
    server.login(EMAIL, PASSWORD).await;
}

#[tokio::test]
async fn login_email_is_case_insensitive() {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(
        dir.path(),
        "Grace.Hopper@Example.COM",
        "Grace Hopper",
        "Cobol-Compiler-1959",
    );
    let server = Server::start(dir).await;

    for email in [
        "grace.hopper@example.com",
        "GRACE.HOPPER@EXAMPLE.COM",
        "  Grace.Hopper@example.com ",
    ] {
        let token = server.login(email, "Cobol-Compiler-1959").await;
        let (profile, _) = server.me(&token).await;
        assert_eq!(
            profile["email"], "grace.hopper@example.com",
            "signed in as {email:?}"
        );
    }
}

#[tokio::test]
async fn login_body_mistakes_are_named() {
    let server = Server::with_agent().await;
    let post = |body: &'static str, content_type: &'static str| {
        server
            .request(Method::POST, "/api/v1/auth/login", None)
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
    };
    let response = post(r#"{"email": "ada@example.com"}"#, "application/json")
        .await
        .expect("POST");
    expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "missing_field",
        Some("password"),
    )
    .await;
    let response = post(
        r#"{"email": "a@b.c", "password": "x", "remember": true}"#,
        "application/json",
    )
    .await
    .expect("POST");
    expect_error(
        response,
        StatusCode::BAD_REQUEST,
        "unknown_field",
        Some("remember"),
    )
    .await;
    let response = post(r#"{"email": "#, "application/json")
        .await
        .expect("POST");
    expect_error(response, StatusCode::BAD_REQUEST, "malformed_json", None).await;
    let response = post(r#"{"email": "a@b.c", "password": "x"}"#, "text/plain")
        .await
        .expect("POST");
    expect_error(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    )
    .await;
}

#[tokio::test]
async fn tokens_and_passwords_are_never_stored_in_clear() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    // Touch the session once more so its row is certainly written.
    server.me(&token).await;

    let files = database_files(server.data_dir());
    assert_eq!(
        found_in(&files, &token),
        Vec::<PathBuf>::new(),
        "the bearer token is stored in clear"
    );
    assert_eq!(
        found_in(&files, PASSWORD),
        Vec::<PathBuf>::new(),
        "the password is stored in clear"
    );
    // The search does look where sessions and agents live:
    let token_hash = agent_desk_server::credentials::token_hash(&token);
    assert!(
        !found_in(&files, &token_hash).is_empty(),
        "the token's SHA-256 is not in the database files"
    );
    assert!(
        !found_in(&files, "$argon2id$").is_empty(),
        "no argon2id hash in the database files"
    );

    // And read properly through SQLite: the stored hash is argon2id.
    let db = open_database(server.data_dir()).await;
    let hash: String = agent_desk_server::storage::query_scalar(
        "SELECT password_hash FROM agents WHERE email = $1",
    )
    .bind(EMAIL)
    .fetch_one(&db)
    .await
    .expect("read the password hash");
    assert!(hash.starts_with("$argon2id$"), "stored hash: {hash}");
    assert!(!hash.contains(PASSWORD));
    let stored_tokens: Vec<String> =
        agent_desk_server::storage::query_scalar("SELECT token_hash FROM sessions")
            .fetch_all(&db)
            .await
            .expect("sessions");
    assert_eq!(stored_tokens, [token_hash]);
    db.close().await;
}

#[tokio::test]
async fn logout_ends_only_that_session() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    let other = server.login(EMAIL, PASSWORD).await;
    server.me(&token).await;

    let response = server
        .request(Method::POST, "/api/v1/auth/logout", Some(&token))
        .send()
        .await
        .expect("POST /api/v1/auth/logout");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        response.bytes().await.expect("read the body").is_empty(),
        "204 has no body"
    );

    let response = server
        .request(Method::GET, "/api/v1/me", Some(&token))
        .send()
        .await
        .expect("GET");
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
    let response = server
        .request(Method::POST, "/api/v1/auth/logout", Some(&token))
        .send()
        .await
        .expect("POST");
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized", None).await;

    // The agent's other session is untouched.
    let (profile, _) = server.me(&other).await;
    assert_eq!(profile["email"], EMAIL);
}

#[tokio::test]
async fn me_needs_a_valid_bearer_token() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;

    let response = server
        .request(Method::GET, "/api/v1/me", None)
        .send()
        .await
        .expect("GET");
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized", None).await;

    let mut forged = token.clone();
    forged.replace_range(0..1, if token.starts_with('A') { "B" } else { "A" });
    let bad_headers = [
        "Bearer not-a-token".to_owned(),
        format!("Bearer {forged}"),
        "Bearer ".to_owned(),
        format!("Basic {token}"),
        token.clone(),
    ];
    for header in bad_headers {
        let response = server
            .request(Method::GET, "/api/v1/me", None)
            .header(AUTHORIZATION, &header)
            .send()
            .await
            .expect("GET");
        expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
    }

    // PATCH checks the token before anything else.
    let response = server
        .request(Method::PATCH, "/api/v1/me", None)
        .header(IF_MATCH, "\"1\"")
        .json(&json!({ "job_title": "Intruder" }))
        .send()
        .await
        .expect("PATCH");
    expect_error(response, StatusCode::UNAUTHORIZED, "unauthorized", None).await;
    let (profile, _) = server.me(&token).await;
    assert_eq!(profile["job_title"], Value::Null);
}

// ---------------------------------------------------------------------------------------
// Profile
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn patch_changes_fields_normalises_phone_and_bumps_the_etag() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    let (before, etag) = server.me(&token).await;
    assert_eq!(before["job_title"], Value::Null);
    assert_eq!(before["phone"], Value::Null);

    let (patched, new_etag) = server
        .patch_ok(
            &token,
            &etag,
            &json!({ "job_title": "Escalations Lead", "phone": "+49 30 901820" }),
        )
        .await;
    assert_eq!(patched["job_title"], "Escalations Lead");
    assert_eq!(
        patched["phone"], "+4930901820",
        "the phone is stored in E.164"
    );
    assert_ne!(new_etag, etag, "a change makes a new version");
    for untouched in [
        "id",
        "email",
        "display_name",
        "department",
        "mobile",
        "language",
    ] {
        assert_eq!(
            patched[untouched], before[untouched],
            "{untouched} was not in the patch"
        );
    }

    let (fetched, fetched_etag) = server.me(&token).await;
    assert_eq!(fetched, patched, "GET shows what PATCH answered");
    assert_eq!(fetched_etag, new_etag);

    // The old ETag is now stale: refused, and nothing changes.
    let stale = server
        .patch(&token, Some(&etag), &json!({ "job_title": "Overwriter" }))
        .await;
    expect_error(stale, StatusCode::CONFLICT, "version_conflict", None).await;
    server
        .assert_unchanged(&token, &(fetched, fetched_etag), "a stale If-Match")
        .await;
}

#[tokio::test]
async fn refused_patches_change_nothing() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    let (_, first_etag) = server.me(&token).await;
    let before = server
        .patch_ok(
            &token,
            &first_etag,
            &json!({ "job_title": "Agent", "phone": "+49 30 901820" }),
        )
        .await;
    assert_eq!(before, server.me(&token).await);
    let etag = before.1.clone();

    // Stale and missing versions.
    let response = server
        .patch(&token, Some(&first_etag), &json!({ "job_title": "Boss" }))
        .await;
    expect_error(response, StatusCode::CONFLICT, "version_conflict", None).await;
    server
        .assert_unchanged(&token, &before, "a stale If-Match")
        .await;

    let response = server
        .patch(&token, None, &json!({ "job_title": "Boss" }))
        .await;
    expect_error(
        response,
        StatusCode::PRECONDITION_REQUIRED,
        "precondition_required",
        None,
    )
    .await;
    server
        .assert_unchanged(&token, &before, "a missing If-Match")
        .await;

    // The sign-in address belongs to the admin.
    let response = server
        .patch(&token, Some(&etag), &json!({ "email": "ada@evil.example" }))
        .await;
    expect_error(response, StatusCode::FORBIDDEN, "forbidden", Some("email")).await;
    server
        .assert_unchanged(&token, &before, "patching email")
        .await;

    // Field rules: the top-level field is the first refused one, details say why.
    let validation_cases = [
        (json!({ "phone": "+49 12" }), "phone", "invalid_phone"),
        (
            json!({ "phone": "030 901820" }),
            "phone",
            "phone_needs_country_code",
        ),
        (json!({ "display_name": "   " }), "display_name", "required"),
        // A valid field next to an invalid one is not applied either.
        (
            json!({ "job_title": "Boss", "phone": "+49 12" }),
            "phone",
            "invalid_phone",
        ),
    ];
    for (body, field, detail) in validation_cases {
        let response = server.patch(&token, Some(&etag), &body).await;
        let error = expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "validation_failed",
            Some(field),
        )
        .await;
        let details = error["error"]["details"]
            .as_array()
            .expect("details with the refused fields");
        assert_eq!(details.len(), 1, "one refused field; body: {error}");
        assert_eq!(details[0]["field"], field, "body: {error}");
        assert_eq!(details[0]["code"], detail, "body: {error}");
        server
            .assert_unchanged(&token, &before, &format!("refused {body}"))
            .await;
    }

    // Body shape mistakes, each named precisely.
    let shape_cases: [(&str, &str, &str, Option<&str>); 5] = [
        (
            "unknown field",
            r#"{"nickname": "Ada"}"#,
            "unknown_field",
            Some("nickname"),
        ),
        (
            "wrong type",
            r#"{"job_title": 5}"#,
            "wrong_type",
            Some("job_title"),
        ),
        (
            "wrong type, bool",
            r#"{"use_signature": "yes"}"#,
            "wrong_type",
            Some("use_signature"),
        ),
        (
            "malformed JSON",
            r#"{"job_title": "Boss""#,
            "malformed_json",
            None,
        ),
        (
            "array body",
            r#"[{"job_title": "Boss"}]"#,
            "wrong_type",
            None,
        ),
    ];
    for (what, body, code, field) in shape_cases {
        let response = patch_raw(&server, &token, &etag, Some("application/json"), body).await;
        expect_error(response, StatusCode::BAD_REQUEST, code, field).await;
        server.assert_unchanged(&token, &before, what).await;
    }

    // Not JSON at all.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let response = patch_raw(
            &server,
            &token,
            &etag,
            content_type,
            r#"{"job_title": "Boss"}"#,
        )
        .await;
        expect_error(
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
        )
        .await;
        server
            .assert_unchanged(&token, &before, &format!("Content-Type {content_type:?}"))
            .await;
    }

    // 10 MB of otherwise valid JSON.
    let huge = format!(r#"{{"signature": "{}"}}"#, "x".repeat(10 * 1024 * 1024));
    let response = send_oversized(
        || {
            server
                .request(Method::PATCH, "/api/v1/me", Some(&token))
                .header(IF_MATCH, &etag)
                .header(CONTENT_TYPE, "application/json")
                .body(huge.clone())
        },
        "PATCH /api/v1/me with 10 MB",
    )
    .await;
    expect_error(
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        None,
    )
    .await;
    server
        .assert_unchanged(&token, &before, "a 10 MB body")
        .await;

    // After all that, the right version still goes through.
    let (after, _) = server
        .patch_ok(&token, &etag, &json!({ "job_title": "Boss" }))
        .await;
    assert_eq!(after["job_title"], "Boss");
}

#[tokio::test]
async fn empty_string_clears_an_optional_field() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    let (_, etag) = server.me(&token).await;
    let (set, etag) = server
        .patch_ok(
            &token,
            &etag,
            &json!({ "job_title": "Agent", "phone": "+49 30 901820" }),
        )
        .await;
    assert_eq!(set["job_title"], "Agent");

    let (cleared, _) = server
        .patch_ok(&token, &etag, &json!({ "job_title": "" }))
        .await;
    assert_eq!(
        cleared["job_title"],
        Value::Null,
        "an empty string clears the field"
    );
    assert_eq!(
        cleared["phone"], "+4930901820",
        "fields not in the patch stay"
    );
    let (fetched, _) = server.me(&token).await;
    assert_eq!(fetched["job_title"], Value::Null);
}

#[tokio::test]
async fn patch_without_real_changes_keeps_the_etag() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    let (_, etag) = server.me(&token).await;
    let (profile, etag) = server
        .patch_ok(
            &token,
            &etag,
            &json!({ "job_title": "Agent", "phone": "+4930901820" }),
        )
        .await;

    // The same values, even spelled differently, and an empty patch change nothing.
    let same = [
        json!({ "job_title": "Agent" }),
        json!({ "job_title": "  Agent  ", "phone": "+49 30 901820", "display_name": NAME }),
        json!({}),
    ];
    for body in same {
        let (again, again_etag) = server.patch_ok(&token, &etag, &body).await;
        assert_eq!(again_etag, etag, "no change, no new version: {body}");
        assert_eq!(again, profile, "{body}");
    }
    assert_eq!(server.me(&token).await, (profile.clone(), etag));

    let agent_id = profile["id"].as_str().expect("an id");
    let db = open_database(server.data_dir()).await;
    let log = agent_desk_server::agents::change_log(&db, agent_id)
        .await
        .expect("read the change log");
    assert_eq!(
        log.len(),
        2,
        "only the first PATCH changed anything: {log:#?}"
    );
    db.close().await;
}

#[tokio::test]
async fn every_change_is_logged_with_old_and_new_value_and_actor() {
    let server = Server::with_agent().await;
    let token = server.login(EMAIL, PASSWORD).await;
    let (profile, etag) = server.me(&token).await;
    let agent_id = profile["id"].as_str().expect("an id").to_owned();

    let (_, etag) = server
        .patch_ok(&token, &etag, &json!({ "job_title": "Agent" }))
        .await;
    // The log orders by a millisecond timestamp (then field name): keep the two
    // job_title changes in different milliseconds so their order is defined.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (_, etag) = server
        .patch_ok(
            &token,
            &etag,
            &json!({ "job_title": "Team Lead", "phone": "+49 30 901820" }),
        )
        .await;
    // Refused and no-op requests leave no trace.
    let stale = server
        .patch(&token, Some("\"1\""), &json!({ "job_title": "Nobody" }))
        .await;
    expect_error(stale, StatusCode::CONFLICT, "version_conflict", None).await;
    server
        .patch_ok(&token, &etag, &json!({ "job_title": "Team Lead" }))
        .await;

    // Read the log while the server still runs (WAL lets both at it).
    let db = open_database(server.data_dir()).await;
    let log = agent_desk_server::agents::change_log(&db, &agent_id)
        .await
        .expect("read the change log");
    db.close().await;

    let job_title: Vec<(Option<&str>, Option<&str>, &str)> = log
        .iter()
        .filter(|entry| entry.field == "job_title")
        .map(|entry| {
            (
                entry.old_value.as_deref(),
                entry.new_value.as_deref(),
                entry.actor_id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        job_title,
        [
            (None, Some("Agent"), agent_id.as_str()),
            (Some("Agent"), Some("Team Lead"), agent_id.as_str())
        ],
        "log: {log:#?}"
    );
    let phone: Vec<(Option<&str>, Option<&str>)> = log
        .iter()
        .filter(|entry| entry.field == "phone")
        .map(|entry| (entry.old_value.as_deref(), entry.new_value.as_deref()))
        .collect();
    assert_eq!(
        phone,
        [(None, Some("+4930901820"))],
        "the log keeps the stored (E.164) value"
    );
    assert_eq!(log.len(), 3, "nothing else was logged: {log:#?}");
}

// ---------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn add_agent_refuses_an_existing_email() {
    let dir = tempfile::tempdir().expect("temp dir");
    let created = add_agent(dir.path(), EMAIL, NAME, PASSWORD);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(
        String::from_utf8_lossy(&created.stdout).contains(EMAIL),
        "add-agent names the agent it created"
    );

    for email in [EMAIL, "ADA@Example.com"] {
        let again = add_agent(dir.path(), email, "Another Ada", "Another-password-1");
        assert!(!again.status.success(), "a second {email} was accepted");
        let stderr = String::from_utf8_lossy(&again.stderr);
        assert!(stderr.contains("already exists"), "stderr: {stderr}");
    }

    // The first agent is intact: the original password still signs in.
    let server = Server::start(dir).await;
    let token = server.login(EMAIL, PASSWORD).await;
    assert_eq!(server.me(&token).await.0["display_name"], NAME);
}

#[tokio::test]
async fn seed_demo_is_idempotent_and_prints_the_credentials() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut outputs = Vec::new();
    for run_number in 1..=2 {
        let output = run(dir.path(), &["seed-demo"]);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "seed-demo run {run_number} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        for (email, _, password, _) in agent_desk_server::DEMO_ACCOUNTS {
            assert!(
                stdout.contains(email) && stdout.contains(password),
                "run {run_number}: {stdout}"
            );
        }
        assert!(stdout.contains("demo@agentdesk.example"), "{stdout}");
        outputs.push(stdout);
    }
    assert_eq!(
        outputs[0].matches("created").count(),
        agent_desk_server::DEMO_ACCOUNTS.len(),
        "first run creates them all: {}",
        outputs[0]
    );
    assert_eq!(
        outputs[1].matches("exists").count(),
        agent_desk_server::DEMO_ACCOUNTS.len(),
        "second run creates none: {}",
        outputs[1]
    );
    assert!(!outputs[1].contains("created"), "{}", outputs[1]);

    let server = Server::start(dir).await;
    let token = server
        .login("demo@agentdesk.example", "Demo-agent-2026!")
        .await;
    let (profile, _) = server.me(&token).await;
    assert_eq!(profile["display_name"], "Dana Demo");
    assert_eq!(profile["job_title"], "Support Specialist");
    server
        .login("admin@agentdesk.example", "Demo-admin-2026!")
        .await;

    let db = open_database(server.data_dir()).await;
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            agent_desk_server::storage::query_scalar::<i64>(sql)
                .fetch_one(&db)
                .await
                .expect("count")
        }
    };
    let agents = count("SELECT COUNT(*) FROM agents").await;
    let teams = count("SELECT COUNT(*) FROM teams").await;
    let requests = count("SELECT COUNT(*) FROM team_join_requests").await;
    let customers = count("SELECT COUNT(*) FROM people").await;
    let notes = count("SELECT COUNT(*) FROM person_notes").await;
    let ticket_events = count("SELECT COUNT(*) FROM ticket_events").await;
    db.close().await;
    let expected = i64::try_from(agent_desk_server::DEMO_ACCOUNTS.len()).expect("a few");
    assert_eq!(agents, expected, "seeding twice made no duplicate agents");
    assert_eq!((teams, requests), (3, 1), "nor duplicate teams or requests");
    assert_eq!(
        (customers, notes, ticket_events),
        (3, 3, 7),
        "nor duplicate customers, notes or ticket events"
    );

    // Ada Byron's record shows her two tickets, the newest first.
    let page = expect_json(
        server
            .request(Method::GET, "/api/v1/people?q=byron", Some(&token))
            .send()
            .await
            .expect("search"),
        StatusCode::OK,
    )
    .await;
    let ada = page["people"][0]["id"]
        .as_str()
        .expect("Ada Byron")
        .to_owned();
    let history = expect_json(
        server
            .request(
                Method::GET,
                &format!("/api/v1/people/{ada}/tickets"),
                Some(&token),
            )
            .send()
            .await
            .expect("tickets"),
        StatusCode::OK,
    )
    .await;
    let tickets: Vec<_> = history["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .map(|ticket| (ticket["ticket_id"].clone(), ticket["events"].clone()))
        .collect();
    assert_eq!(
        tickets,
        [(json!("4705"), json!(2)), (json!("4698"), json!(3))]
    );
}

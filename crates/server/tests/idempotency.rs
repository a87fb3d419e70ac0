//! `Idempotency-Key` over real HTTP against the real binary: every mutating route answers
//! a retry under the same key with the answer it gave, byte for byte, and applies the
//! request once — sent in a row or all at once. A key reused for another request, a bad
//! key or an upload without its digest is refused; keys are the agent's (or the
//! integration's), not the session's; signing in ignores them; and answers that say
//! nothing about the request (401) are not kept, while refusals of it are.

mod support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::header::{HeaderMap, CONTENT_TYPE, ETAG, IF_MATCH, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::*;

const GRACE_EMAIL: &str = "grace@example.com";
const GRACE_NAME: &str = "Grace Hopper";
const NEW_PASSWORD: &str = "Difference-Engine-1822";
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n";

/// The routes that ignore the header: `EXCLUDED` in `src/http/idempotency.rs`.
const EXCLUDED: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/password/strength"),
    ("POST", "/api/v1/auth/password-reset"),
    ("POST", "/api/v1/auth/password-reset/confirm"),
    ("POST", "/reset"),
    ("POST", "/api/v1/hooks/{source}"),
];

/// The routes that honour the header, each sent twice under one key by
/// `every_honoured_route_answers_a_retry_as_it_answered_and_applies_it_once`.
const HONOURED: &[(&str, &str)] = &[
    ("POST", "/api/v1/people"),
    ("PATCH", "/api/v1/people/{id}"),
    ("POST", "/api/v1/people/{id}/emails"),
    ("POST", "/api/v1/people/{id}/emails/{address}/primary"),
    ("DELETE", "/api/v1/people/{id}/emails/{address}"),
    ("POST", "/api/v1/people/{id}/notes"),
    ("PATCH", "/api/v1/notes/{id}"),
    ("DELETE", "/api/v1/notes/{id}"),
    ("POST", "/api/v1/people/{id}/files"),
    ("DELETE", "/api/v1/files/{id}"),
    ("POST", "/api/v1/people/{id}/merge"),
    ("POST", "/api/v1/admin/custom-fields"),
    ("PATCH", "/api/v1/admin/custom-fields/{id}"),
    ("POST", "/api/v1/organizations"),
    ("PATCH", "/api/v1/admin/organizations/{id}"),
    ("POST", "/api/v1/admin/organizations/{id}/merge"),
    ("POST", "/api/v1/admin/usergroups"),
    ("DELETE", "/api/v1/admin/usergroups/{id}"),
    ("POST", "/api/v1/admin/integrations/tokens"),
    ("DELETE", "/api/v1/admin/integrations/tokens/{id}"),
    ("POST", "/api/v1/admin/integrations/hooks/{source}/secrets"),
    (
        "DELETE",
        "/api/v1/admin/integrations/hooks/{source}/secrets",
    ),
    ("POST", "/api/v1/admin/teams"),
    ("PATCH", "/api/v1/admin/teams/{id}"),
    ("PUT", "/api/v1/admin/teams/{id}/members/{agent_id}"),
    ("DELETE", "/api/v1/admin/teams/{id}/members/{agent_id}"),
    ("DELETE", "/api/v1/admin/teams/{id}"),
    ("POST", "/api/v1/teams/{id}/join-requests"),
    ("POST", "/api/v1/join-requests/{id}/decision"),
    ("PATCH", "/api/v1/me"),
    ("POST", "/api/v1/admin/department-requests/{id}/decision"),
    ("POST", "/api/v1/admin/agents"),
    ("PATCH", "/api/v1/admin/agents/{id}"),
    ("POST", "/api/v1/admin/agents/{id}/password-reset"),
    ("POST", "/api/v1/admin/events"),
    ("PUT", "/api/v1/me/status"),
    ("PUT", "/api/v1/me/notification-prefs"),
    ("PUT", "/api/v1/admin/agents/{id}/notification-prefs"),
    ("PUT", "/api/v1/admin/notification-locks"),
    ("PUT", "/api/v1/me/avatar"),
    ("DELETE", "/api/v1/me/avatar"),
    ("POST", "/api/v1/auth/sessions/sign-out-others"),
    ("DELETE", "/api/v1/auth/sessions/{id}"),
    ("POST", "/api/v1/auth/password"),
    ("POST", "/api/v1/auth/logout"),
];

// ---------------------------------------------------------------------------------------
// Sending under a key
// ---------------------------------------------------------------------------------------

/// A key no request of this test binary has used, as a structured-field string.
/// Routes that end the session their key is looked up by: a copy sent at the same time
/// may come after the session is gone, and be refused as no one's.
const ENDS_OWN_SESSION: &[&str] = &["/api/v1/auth/logout", "/api/v1/auth/sessions/{id}"];

/// Routes whose answer holds a credential shown once (`SECRET_ANSWERS` in the server): a
/// retry is answered `already_applied`, never with a copy.
const SHOWN_ONCE: &[&str] = &[
    "/api/v1/admin/integrations/tokens",
    "/api/v1/admin/integrations/hooks/{source}/secrets",
];

fn fresh_key() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("\"retry-{}\"", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// An answer read whole, so that two can be compared byte for byte.
#[derive(Debug, Clone)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    async fn read(response: reqwest::Response) -> Answer {
        Answer {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.bytes().await.expect("read the answer").to_vec(),
        }
    }

    fn replayed(&self) -> bool {
        match self.headers.get("idempotent-replayed") {
            None => false,
            Some(value) => {
                assert_eq!(value, "true", "Idempotent-Replayed is true when present");
                true
            }
        }
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn etag(&self) -> String {
        etag_of(&self.headers)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn send(request: RequestBuilder) -> Answer {
    Answer::read(request.send().await.expect("send the request")).await
}

async fn send_keyed(request: RequestBuilder, key: &str) -> Answer {
    send(request.header("Idempotency-Key", key)).await
}

/// Asserts an error answer: status, code and field.
fn assert_error(answer: &Answer, status: StatusCode, code: &str, field: Option<&str>) {
    assert_eq!(answer.status, status, "status; body: {}", answer.text());
    let body = answer.json();
    assert_eq!(body["error"]["code"], code, "code; body: {body}");
    assert_eq!(
        body["error"]["field"],
        field.map_or(Value::Null, Value::from),
        "field; body: {body}"
    );
}

/// Asserts that `again` is `first` given again: same status, body and headers that
/// describe the body, marked as a replay.
fn assert_replay_of(first: &Answer, again: &Answer, what: &str) {
    assert!(
        !first.replayed(),
        "{what}: the first answer is not a replay"
    );
    assert!(
        again.replayed(),
        "{what}: the retry is answered from what was kept: {} {}",
        again.status,
        again.text()
    );
    assert_eq!(again.status, first.status, "{what}: status");
    assert_eq!(
        again.text(),
        first.text(),
        "{what}: the body, byte for byte"
    );
    for name in [CONTENT_TYPE, ETAG] {
        assert_eq!(
            again.headers.get(&name),
            first.headers.get(&name),
            "{what}: {name}"
        );
    }
}

/// A request sent once under its key; `again` sends it again under the same key.
struct Keyed {
    key: String,
    first: Answer,
    what: String,
}

impl Keyed {
    /// Sends the same request again: it must be answered with the first answer.
    async fn again(&self, request: RequestBuilder) -> &Answer {
        let again = send_keyed(request, &self.key).await;
        assert_replay_of(&self.first, &again, &self.what);
        &self.first
    }

    fn json(&self) -> Value {
        self.first.json()
    }
}

/// The routes a test has sent twice, to compare with [`HONOURED`].
#[derive(Default)]
struct Covered(BTreeSet<(String, String)>);

impl Covered {
    /// Sends `request` under a fresh key for `route`, expecting `status`.
    async fn first(
        &mut self,
        route: (Method, &str),
        request: RequestBuilder,
        status: StatusCode,
    ) -> Keyed {
        self.first_with_key(route, request, status, &fresh_key())
            .await
    }

    async fn first_with_key(
        &mut self,
        (method, route): (Method, &str),
        request: RequestBuilder,
        status: StatusCode,
        key: &str,
    ) -> Keyed {
        let what = format!("{method} {route}");
        // Sent twice at once where the answer is kept (a success), and the session the
        // key is looked up by outlives the request (not signing out).
        let at_once = status.is_success()
            && !ENDS_OWN_SESSION.contains(&route)
            && !SHOWN_ONCE.contains(&route);
        let first = if at_once {
            let copy = request
                .try_clone()
                .expect("a request that can be sent again");
            let spare = request
                .try_clone()
                .expect("a request that can be sent again");
            let (one, other) = tokio::join!(send_keyed(request, key), send_keyed(copy, key));
            let in_flight = |answer: &Answer| {
                answer.status == StatusCode::CONFLICT
                    && answer.json()["error"]["code"] == "idempotency_in_flight"
            };
            let (original, mut other) = if one.replayed() || in_flight(&one) {
                (other, one)
            } else {
                (one, other)
            };
            assert!(
                !original.replayed() && !in_flight(&original),
                "{what}: one of the two ran: {} / {}",
                original.text(),
                other.text()
            );
            let deadline = Instant::now() + Duration::from_secs(10);
            while in_flight(&other) {
                assert!(
                    Instant::now() < deadline,
                    "{what}: still in flight after 10 s"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
                let copy = spare.try_clone().expect("a request that can be sent again");
                other = send_keyed(copy, key).await;
            }
            assert_replay_of(&original, &other, &format!("{what}, sent twice at once"));
            original
        } else {
            send_keyed(request, key).await
        };
        assert_eq!(first.status, status, "{what}: {}", first.text());
        assert!(!first.replayed(), "{what}: a first request is no replay");
        self.0.insert((method.to_string(), route.to_owned()));
        Keyed {
            key: key.to_owned(),
            first,
            what,
        }
    }

    /// Sends a request whose answer holds a credential shown once twice under one fresh
    /// key: the second is `already_applied`, with no copy of the first. Answers the
    /// first's JSON.
    async fn shown_once(
        &mut self,
        route: (Method, &str),
        make: impl Fn() -> RequestBuilder,
        status: StatusCode,
    ) -> Value {
        let keyed = self.first(route, make(), status).await;
        let again = send_keyed(make(), &keyed.key).await;
        assert_eq!(
            again.status,
            StatusCode::CONFLICT,
            "{}: {}",
            keyed.what,
            again.text()
        );
        assert_eq!(
            again.json()["error"]["code"],
            "already_applied",
            "{}",
            keyed.what
        );
        assert!(!again.replayed(), "{}: no copy is given again", keyed.what);
        keyed.json()
    }

    /// Sends the request `make` builds twice under one fresh key: the second answer is
    /// the first. Answers the first's JSON (null when it has no body).
    async fn twice(
        &mut self,
        route: (Method, &str),
        make: impl Fn() -> RequestBuilder,
        status: StatusCode,
    ) -> Value {
        let keyed = self.first(route, make(), status).await;
        let first = keyed.again(make()).await;
        if first.body.is_empty() {
            Value::Null
        } else {
            first.json()
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reading what happened
// ---------------------------------------------------------------------------------------

fn array(value: &Value, key: &str) -> Vec<Value> {
    value[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {value}"))
        .clone()
}

/// A person's change log, newest first.
async fn changes(server: &Server, token: &str, person: &str) -> Vec<Value> {
    let log = get_json(server, token, &format!("/api/v1/people/{person}/changes")).await;
    array(&log, "changes")
}

/// The rows of a change log about `field`.
fn about(changes: &[Value], field: &str) -> usize {
    changes
        .iter()
        .filter(|change| change["field"] == field)
        .count()
}

/// The events of `token`'s agent of a type.
async fn events_of_type(server: &Server, token: &str, kind: &str) -> Vec<Value> {
    let page = get_json(server, token, "/api/v1/events?after=0&limit=1000").await;
    array(&page, "events")
        .into_iter()
        .filter(|event| event["type"] == kind)
        .collect()
}

/// The names of the entries of a folder under the data folder (none when it is absent).
fn entries(server: &Server, folder: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(server.data_dir().join(folder))
        .map(|dir| {
            dir.map(|entry| {
                entry
                    .expect("a folder entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// `Content-Digest` of `bytes` (RFC 9530).
fn content_digest(bytes: &[u8]) -> String {
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes));
    format!("sha-256=:{digest}:")
}

/// A photo the server takes: a square of one colour, over the 200 px minimum.
fn photo(red: u8) -> Vec<u8> {
    agent_desk_avatar::fixtures::jpeg(&image::RgbImage::from_pixel(
        240,
        240,
        image::Rgb([red, 90, 160]),
    ))
}

/// A customer's record, created without a key.
async fn customer(server: &Server, token: &str, name: &str, email: &str) -> Value {
    let response = server
        .call(
            token,
            Method::POST,
            "/api/v1/people",
            Some(json!({"name": name, "emails": [email]})),
        )
        .await;
    expect_json(response, StatusCode::CREATED).await
}

fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("an id in {value}"))
        .to_owned()
}

/// Ada, Grace and the administrator.
fn folder_with_agents() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    add_agent_ok(dir.path(), GRACE_EMAIL, GRACE_NAME, PASSWORD);
    add_admin_ok(dir.path());
    dir
}

// ---------------------------------------------------------------------------------------
// Every route, a retry in a row
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn every_honoured_route_answers_a_retry_as_it_answered_and_applies_it_once() {
    let dir = folder_with_agents();
    let helpdesk = add_integration(dir.path(), "helpdesk", "events:write");
    let server = Server::start(dir).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let grace = server.login(GRACE_EMAIL, PASSWORD).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ada_id = id_of(&server.me(&ada).await.0);
    let mut covered = Covered::default();
    let request =
        |method: Method, path: &str, token: &str| server.request(method, path, Some(token));

    // A customer's record and its parts.
    let person = covered
        .twice(
            (Method::POST, "/api/v1/people"),
            || {
                request(Method::POST, "/api/v1/people", &ada)
                    .json(&json!({"name": "Ada Byron", "emails": ["ada@byron.example"]}))
            },
            StatusCode::CREATED,
        )
        .await;
    let id = id_of(&person);

    // Organizations: made by an agent, renamed, and another merged into it; usergroups
    // listed and taken off the list. Each applied once.
    let org = covered
        .twice(
            (Method::POST, "/api/v1/organizations"),
            || {
                request(Method::POST, "/api/v1/organizations", &ada)
                    .json(&json!({"name": "Byron Ltd"}))
            },
            StatusCode::CREATED,
        )
        .await;
    let org_path = format!("/api/v1/admin/organizations/{}", id_of(&org));
    covered
        .twice(
            (Method::PATCH, "/api/v1/admin/organizations/{id}"),
            || request(Method::PATCH, &org_path, &admin).json(&json!({"name": "Byron & Co"})),
            StatusCode::OK,
        )
        .await;
    let other = covered
        .twice(
            (Method::POST, "/api/v1/admin/usergroups"),
            || {
                request(Method::POST, "/api/v1/admin/usergroups", &admin)
                    .json(&json!({"name": "VIP"}))
            },
            StatusCode::CREATED,
        )
        .await;
    let group_path = format!("/api/v1/admin/usergroups/{}", id_of(&other));
    covered
        .twice(
            (Method::DELETE, "/api/v1/admin/usergroups/{id}"),
            || request(Method::DELETE, &group_path, &admin),
            StatusCode::NO_CONTENT,
        )
        .await;
    let made = expect_json(
        server
            .call(
                &ada,
                Method::POST,
                "/api/v1/organizations",
                Some(json!({"name": "Byron Typo"})),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let merge = format!("/api/v1/admin/organizations/{}/merge", id_of(&made));
    covered
        .twice(
            (Method::POST, "/api/v1/admin/organizations/{id}/merge"),
            || request(Method::POST, &merge, &admin).json(&json!({"into": id_of(&org)})),
            StatusCode::OK,
        )
        .await;
    let orgs = get_json(&server, &ada, "/api/v1/organizations").await;
    assert_eq!(
        texts(&orgs, "organizations", "name"),
        ["Byron & Co"],
        "{orgs}"
    );

    let found = get_json(&server, &ada, "/api/v1/people?kind=user&q=Byron").await;
    assert_eq!(array(&found, "people").len(), 1, "one record: {found}");
    let record_path = format!("/api/v1/people/{id}");

    let make = || {
        request(Method::PATCH, &record_path, &ada)
            .header(IF_MATCH, format!("\"{}\"", person["version"]))
            .json(&json!({"summary": "Prefers email."}))
    };
    let keyed = covered
        .first(
            (Method::PATCH, "/api/v1/people/{id}"),
            make(),
            StatusCode::OK,
        )
        .await;
    let log = changes(&server, &ada, &id).await;
    keyed.again(make()).await;
    assert_eq!(changes(&server, &ada, &id).await, log, "edited once");
    assert_eq!(about(&log, "summary"), 1, "{log:?}");

    let make = || {
        request(Method::POST, &format!("{record_path}/emails"), &ada)
            .json(&json!({"address": "ada@work.example"}))
    };
    let keyed = covered
        .first(
            (Method::POST, "/api/v1/people/{id}/emails"),
            make(),
            StatusCode::OK,
        )
        .await;
    let record = get_json(&server, &ada, &record_path).await;
    keyed.again(make()).await;
    assert_eq!(get_json(&server, &ada, &record_path).await, record);
    assert_eq!(array(&record, "emails").len(), 2, "{record}");

    // Made primary, then back without a key: the retry does not make it primary again.
    let primary = format!("{record_path}/emails/ada@work.example/primary");
    let keyed = covered
        .first(
            (Method::POST, "/api/v1/people/{id}/emails/{address}/primary"),
            request(Method::POST, &primary, &ada),
            StatusCode::OK,
        )
        .await;
    assert_eq!(keyed.json()["emails"][0]["address"], "ada@work.example");
    let back = format!("{record_path}/emails/ada@byron.example/primary");
    expect_json(
        server.call(&ada, Method::POST, &back, None).await,
        StatusCode::OK,
    )
    .await;
    keyed.again(request(Method::POST, &primary, &ada)).await;
    let record = get_json(&server, &ada, &record_path).await;
    assert_eq!(record["emails"][0]["address"], "ada@byron.example");

    let email = format!("{record_path}/emails/ada@work.example");
    let keyed = covered
        .first(
            (Method::DELETE, "/api/v1/people/{id}/emails/{address}"),
            request(Method::DELETE, &email, &ada),
            StatusCode::OK,
        )
        .await;
    let record = get_json(&server, &ada, &record_path).await;
    keyed.again(request(Method::DELETE, &email, &ada)).await;
    assert_eq!(get_json(&server, &ada, &record_path).await, record);
    assert_eq!(array(&record, "emails").len(), 1, "{record}");

    // Notes.
    let notes = format!("{record_path}/notes");
    let note = covered
        .twice(
            (Method::POST, "/api/v1/people/{id}/notes"),
            || request(Method::POST, &notes, &ada).json(&json!({"body": "Called back."})),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(get_json(&server, &ada, &notes).await["total"], 1);
    let note_path = format!("/api/v1/notes/{}", id_of(&note));
    let make = || request(Method::PATCH, &note_path, &ada).json(&json!({"body": "Called twice."}));
    let keyed = covered
        .first(
            (Method::PATCH, "/api/v1/notes/{id}"),
            make(),
            StatusCode::OK,
        )
        .await;
    let later = json!({"body": "Called three times."});
    expect_json(
        server
            .call(&ada, Method::PATCH, &note_path, Some(later))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(keyed.again(make()).await.json()["body"], "Called twice.");
    let page = get_json(&server, &ada, &notes).await;
    assert_eq!(
        page["notes"][0]["body"], "Called three times.",
        "not undone"
    );
    let keyed = covered
        .first(
            (Method::DELETE, "/api/v1/notes/{id}"),
            request(Method::DELETE, &note_path, &ada),
            StatusCode::NO_CONTENT,
        )
        .await;
    let log = changes(&server, &ada, &id).await;
    keyed.again(request(Method::DELETE, &note_path, &ada)).await;
    assert_eq!(changes(&server, &ada, &id).await, log, "deleted once");
    assert_eq!(get_json(&server, &ada, &notes).await["total"], 0);

    // Files: the upload names its bytes' digest.
    let files = format!("{record_path}/files");
    let file = covered
        .twice(
            (Method::POST, "/api/v1/people/{id}/files"),
            || {
                request(Method::POST, &files, &ada)
                    .query(&[("name", "contract.pdf")])
                    .header("Content-Digest", content_digest(PDF))
                    .body(PDF.to_vec())
            },
            StatusCode::CREATED,
        )
        .await;
    let listed = get_json(&server, &ada, &files).await;
    assert_eq!(array(&listed, "files").len(), 1, "{listed}");
    assert_eq!(entries(&server, "files").len(), 1, "one file's bytes kept");
    let file_path = format!("/api/v1/files/{}", id_of(&file));
    covered
        .twice(
            (Method::DELETE, "/api/v1/files/{id}"),
            || request(Method::DELETE, &file_path, &ada),
            StatusCode::NO_CONTENT,
        )
        .await;
    assert!(array(&get_json(&server, &ada, &files).await, "files").is_empty());
    assert!(entries(&server, "files").is_empty());

    // A merge.
    let other = customer(&server, &ada, "Ada B.", "ada@home.example").await;
    let merge = format!("{record_path}/merge");
    let make = || request(Method::POST, &merge, &ada).json(&json!({"source": id_of(&other)}));
    let keyed = covered
        .first(
            (Method::POST, "/api/v1/people/{id}/merge"),
            make(),
            StatusCode::OK,
        )
        .await;
    let record = get_json(&server, &ada, &record_path).await;
    keyed.again(make()).await;
    assert_eq!(get_json(&server, &ada, &record_path).await, record);
    let gone = server
        .call(
            &ada,
            Method::GET,
            &format!("/api/v1/people/{}", id_of(&other)),
            None,
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // What administrators set up.
    covered
        .twice(
            (Method::POST, "/api/v1/admin/custom-fields"),
            || {
                request(Method::POST, "/api/v1/admin/custom-fields", &admin)
                    .json(&json!({"name": "Plan", "kind": "text"}))
            },
            StatusCode::CREATED,
        )
        .await;
    let fields = get_json(&server, &ada, "/api/v1/custom-fields").await;
    assert_eq!(fields.as_array().map(Vec::len), Some(1), "{fields}");
    let field_path = format!("/api/v1/admin/custom-fields/{}", id_of(&fields[0]));
    covered
        .twice(
            (Method::PATCH, "/api/v1/admin/custom-fields/{id}"),
            || request(Method::PATCH, &field_path, &admin).json(&json!({"retired": true})),
            StatusCode::OK,
        )
        .await;
    let fields = get_json(&server, &ada, "/api/v1/custom-fields").await;
    assert_eq!(fields, json!([]), "retired: {fields}");

    // Integrations' credentials: each made once, and never given again.
    let issued = covered
        .shown_once(
            (Method::POST, "/api/v1/admin/integrations/tokens"),
            || {
                request(Method::POST, "/api/v1/admin/integrations/tokens", &admin)
                    .json(&json!({"name": "Router", "scopes": ["routing:read"]}))
            },
            StatusCode::CREATED,
        )
        .await;
    let integrations = get_json(&server, &admin, "/api/v1/admin/integrations").await;
    let routers = texts(&integrations, "tokens", "name")
        .into_iter()
        .filter(|name| *name == "Router")
        .count();
    assert_eq!(routers, 1, "{integrations}");
    let token_path = format!(
        "/api/v1/admin/integrations/tokens/{}",
        id_of(&issued["integration"])
    );
    covered
        .twice(
            (Method::DELETE, "/api/v1/admin/integrations/tokens/{id}"),
            || request(Method::DELETE, &token_path, &admin),
            StatusCode::NO_CONTENT,
        )
        .await;
    let secrets = "/api/v1/admin/integrations/hooks/generic/secrets";
    covered
        .shown_once(
            (
                Method::POST,
                "/api/v1/admin/integrations/hooks/{source}/secrets",
            ),
            || request(Method::POST, secrets, &admin).json(&json!({})),
            StatusCode::CREATED,
        )
        .await;
    let integrations = get_json(&server, &admin, "/api/v1/admin/integrations").await;
    assert_eq!(integrations["hooks"][0]["secrets"], 1, "{integrations}");
    covered
        .twice(
            (
                Method::DELETE,
                "/api/v1/admin/integrations/hooks/{source}/secrets",
            ),
            || request(Method::DELETE, secrets, &admin),
            StatusCode::NO_CONTENT,
        )
        .await;
    let team = covered
        .twice(
            (Method::POST, "/api/v1/admin/teams"),
            || {
                request(Method::POST, "/api/v1/admin/teams", &admin)
                    .json(&json!({"name": "Billing", "leads": [GRACE_EMAIL], "members": []}))
            },
            StatusCode::CREATED,
        )
        .await;
    let teams = get_json(&server, &ada, "/api/v1/teams").await;
    assert_eq!(teams.as_array().map(Vec::len), Some(1), "{teams}");

    // Joining a team, and its lead's decision.
    let join = format!("/api/v1/teams/{}/join-requests", id_of(&team));
    let asked = covered
        .twice(
            (Method::POST, "/api/v1/teams/{id}/join-requests"),
            || request(Method::POST, &join, &ada).json(&json!({"note": "Let me in."})),
            StatusCode::CREATED,
        )
        .await;
    let mine = get_json(&server, &ada, "/api/v1/join-requests").await;
    assert_eq!(array(&mine, "mine").len(), 1, "{mine}");
    let asks = events_of_type(&server, &grace, "team.join_requested").await;
    assert_eq!(asks.len(), 1, "the lead hears once: {asks:?}");
    let decision = format!("/api/v1/join-requests/{}/decision", id_of(&asked));
    covered
        .twice(
            (Method::POST, "/api/v1/join-requests/{id}/decision"),
            || request(Method::POST, &decision, &grace).json(&json!({"approve": true})),
            StatusCode::OK,
        )
        .await;
    let decided = events_of_type(&server, &ada, "team.request_decided").await;
    assert_eq!(decided.len(), 1, "the requester hears once: {decided:?}");

    // An administrator's changes to the team: renamed, Ada made its lead, then taken out,
    // then the team deleted; each applied once.
    let team_path = format!("/api/v1/admin/teams/{}", id_of(&team));
    covered
        .twice(
            (Method::PATCH, "/api/v1/admin/teams/{id}"),
            || request(Method::PATCH, &team_path, &admin).json(&json!({"name": "Billing Team"})),
            StatusCode::NO_CONTENT,
        )
        .await;
    let member = format!("{team_path}/members/{ada_id}");
    covered
        .twice(
            (Method::PUT, "/api/v1/admin/teams/{id}/members/{agent_id}"),
            || request(Method::PUT, &member, &admin).json(&json!({"role": "lead"})),
            StatusCode::NO_CONTENT,
        )
        .await;
    covered
        .twice(
            (
                Method::DELETE,
                "/api/v1/admin/teams/{id}/members/{agent_id}",
            ),
            || request(Method::DELETE, &member, &admin),
            StatusCode::NO_CONTENT,
        )
        .await;
    let log = changes(&server, &ada, &ada_id).await;
    assert_eq!(
        about(&log, "team:Billing Team"),
        2,
        "made lead, taken out: {log:?}"
    );
    covered
        .twice(
            (Method::DELETE, "/api/v1/admin/teams/{id}"),
            || request(Method::DELETE, &team_path, &admin),
            StatusCode::NO_CONTENT,
        )
        .await;
    let teams = get_json(&server, &ada, "/api/v1/teams").await;
    assert_eq!(teams, json!([]), "{teams}");

    // The profile, and the department it asks for.
    let (_, etag) = server.me(&ada).await;
    let make = || {
        request(Method::PATCH, "/api/v1/me", &ada)
            .header(IF_MATCH, &etag)
            .json(&json!({"job_title": "Analyst", "department": "Research"}))
    };
    let keyed = covered
        .first((Method::PATCH, "/api/v1/me"), make(), StatusCode::OK)
        .await;
    keyed.again(make()).await;
    assert_eq!(
        server.me(&ada).await.1,
        keyed.first.etag(),
        "one new version"
    );
    let log = changes(&server, &ada, &ada_id).await;
    assert_eq!(about(&log, "job_title"), 1, "{log:?}");
    let asked = get_json(&server, &admin, "/api/v1/admin/department-requests").await;
    let asked = array(&asked, "requests");
    assert_eq!(asked.len(), 1, "{asked:?}");
    let decision = format!(
        "/api/v1/admin/department-requests/{}/decision",
        id_of(&asked[0])
    );
    covered
        .twice(
            (
                Method::POST,
                "/api/v1/admin/department-requests/{id}/decision",
            ),
            || request(Method::POST, &decision, &admin).json(&json!({"approve": true})),
            StatusCode::OK,
        )
        .await;
    let decided = events_of_type(&server, &ada, "department.request_decided").await;
    assert_eq!(decided.len(), 1, "told once: {decided:?}");
    assert_eq!(server.me(&ada).await.0["department"], "Research");

    // An agent an administrator makes (one welcome mail), changes and sends a link to.
    let linus_mails = || {
        support::mail::outbox(&server)
            .iter()
            .filter(|path| {
                std::fs::read_to_string(path)
                    .is_ok_and(|mail| mail.contains("To: linus@example.com"))
            })
            .count()
    };
    let made = covered
        .twice(
            (Method::POST, "/api/v1/admin/agents"),
            || {
                request(Method::POST, "/api/v1/admin/agents", &admin)
                    .json(&json!({"email": "linus@example.com", "display_name": "Linus Torvalds"}))
            },
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(linus_mails(), 1, "one welcome mail");
    let linus_id = made["profile"]["id"].as_str().expect("an id").to_owned();
    let agent_path = format!("/api/v1/admin/agents/{linus_id}");
    let listed = get_json(&server, &admin, "/api/v1/admin/agents?q=linus").await;
    assert_eq!(listed["total"], 1, "made once: {listed}");
    let etag = etag_of(
        request(Method::GET, &agent_path, &admin)
            .send()
            .await
            .expect("answered")
            .headers(),
    );
    let make = || {
        request(Method::PATCH, &agent_path, &admin)
            .header(IF_MATCH, &etag)
            .json(&json!({"job_title": "Maintainer", "department": "Kernel"}))
    };
    let keyed = covered
        .first(
            (Method::PATCH, "/api/v1/admin/agents/{id}"),
            make(),
            StatusCode::OK,
        )
        .await;
    keyed.again(make()).await;
    let log = changes(&server, &admin, &linus_id).await;
    assert_eq!(about(&log, "job_title"), 1, "{log:?}");
    let link = format!("{agent_path}/password-reset");
    covered
        .twice(
            (Method::POST, "/api/v1/admin/agents/{id}/password-reset"),
            || request(Method::POST, &link, &admin),
            StatusCode::NO_CONTENT,
        )
        .await;
    assert_eq!(linus_mails(), 2, "one more link");

    // Events, from an administrator and from an integration: the same key is each one's
    // own, so both are posted.
    let shared_key = fresh_key();
    for (token, title) in [(&admin, "From the desk"), (&helpdesk, "From the helpdesk")] {
        let event = json!({"type": "ticket.assigned", "to": {"agent": EMAIL}, "title": title});
        let make = || request(Method::POST, "/api/v1/admin/events", token).json(&event);
        let keyed = covered
            .first_with_key(
                (Method::POST, "/api/v1/admin/events"),
                make(),
                StatusCode::CREATED,
                &shared_key,
            )
            .await;
        keyed.again(make()).await;
        let posted: Vec<Value> = events_of_type(&server, &ada, "ticket.assigned")
            .await
            .into_iter()
            .filter(|event| event["title"] == title)
            .collect();
        assert_eq!(posted.len(), 1, "{title}: delivered once: {posted:?}");
    }

    // A status, changed again without a key in between: the retry does not set it back.
    let make = || request(Method::PUT, "/api/v1/me/status", &ada).json(&json!({"status": "away"}));
    let keyed = covered
        .first((Method::PUT, "/api/v1/me/status"), make(), StatusCode::OK)
        .await;
    let busy = json!({"status": "busy"});
    let response = server
        .call(&ada, Method::PUT, "/api/v1/me/status", Some(busy))
        .await;
    expect_json(response, StatusCode::OK).await;
    assert_eq!(keyed.again(make()).await.json()["status"], "away");
    assert_eq!(server.me(&ada).await.0["status"], "busy", "not set back");

    // Notification preferences, versioned.
    let response = server
        .call(&ada, Method::GET, "/api/v1/me/notification-prefs", None)
        .await;
    let prefs_etag = etag_of(response.headers());
    let mut prefs = expect_json(response, StatusCode::OK).await;
    prefs["quiet_hours"]["enabled"] = json!(true);
    let make = || {
        request(Method::PUT, "/api/v1/me/notification-prefs", &ada)
            .header(IF_MATCH, &prefs_etag)
            .json(&prefs)
    };
    let keyed = covered
        .first(
            (Method::PUT, "/api/v1/me/notification-prefs"),
            make(),
            StatusCode::OK,
        )
        .await;
    keyed.again(make()).await;
    let response = server
        .call(&ada, Method::GET, "/api/v1/me/notification-prefs", None)
        .await;
    assert_eq!(
        etag_of(response.headers()),
        keyed.first.etag(),
        "one new version"
    );

    // The same, set by an administrator: one new version, one change-log entry.
    let agent_prefs = format!("/api/v1/admin/agents/{ada_id}/notification-prefs");
    let response = server.call(&admin, Method::GET, &agent_prefs, None).await;
    let prefs_etag = etag_of(response.headers());
    let mut prefs = expect_json(response, StatusCode::OK).await;
    prefs["quiet_hours"]["start"] = json!("21:30");
    let make = || {
        request(Method::PUT, &agent_prefs, &admin)
            .header(IF_MATCH, &prefs_etag)
            .json(&prefs)
    };
    let keyed = covered
        .first(
            (Method::PUT, "/api/v1/admin/agents/{id}/notification-prefs"),
            make(),
            StatusCode::OK,
        )
        .await;
    keyed.again(make()).await;
    let log = changes(&server, &ada, &ada_id).await;
    assert_eq!(about(&log, "notification:quiet_hours"), 1, "{log:?}");

    // The locks, versioned.
    let response = server
        .call(
            &admin,
            Method::GET,
            "/api/v1/admin/notification-locks",
            None,
        )
        .await;
    let locks_etag = etag_of(response.headers());
    let locks = json!({"locks": [{"type": "ticket.updated", "desktop": true, "reason": "Stay in the loop"}]});
    let make = || {
        request(Method::PUT, "/api/v1/admin/notification-locks", &admin)
            .header(IF_MATCH, &locks_etag)
            .json(&locks)
    };
    let keyed = covered
        .first(
            (Method::PUT, "/api/v1/admin/notification-locks"),
            make(),
            StatusCode::OK,
        )
        .await;
    keyed.again(make()).await;
    let response = server
        .call(
            &admin,
            Method::GET,
            "/api/v1/admin/notification-locks",
            None,
        )
        .await;
    assert_eq!(
        etag_of(response.headers()),
        keyed.first.etag(),
        "one new version"
    );

    // The photo: uploaded with its digest, then removed.
    let upload = photo(200);
    let make = || {
        request(Method::PUT, "/api/v1/me/avatar", &ada)
            .header(CONTENT_TYPE, "image/jpeg")
            .header("Content-Digest", content_digest(&upload))
            .body(upload.clone())
    };
    let keyed = covered
        .first((Method::PUT, "/api/v1/me/avatar"), make(), StatusCode::OK)
        .await;
    let stored = entries(&server, "avatars");
    keyed.again(make()).await;
    assert_eq!(entries(&server, "avatars"), stored, "stored once");
    let log = changes(&server, &ada, &ada_id).await;
    assert_eq!(about(&log, "avatar_url"), 1, "{log:?}");
    let keyed = covered
        .first(
            (Method::DELETE, "/api/v1/me/avatar"),
            request(Method::DELETE, "/api/v1/me/avatar", &ada),
            StatusCode::OK,
        )
        .await;
    assert_eq!(keyed.json()["avatar_url"], Value::Null);
    // A new photo without a key: the retry must not remove it.
    let response = put_avatar(&server, &ada, "image/jpeg", photo(20)).await;
    expect_json(response, StatusCode::OK).await;
    keyed
        .again(request(Method::DELETE, "/api/v1/me/avatar", &ada))
        .await;
    assert!(server.me(&ada).await.0["avatar_url"].is_string(), "kept");

    // Sessions: signing out the others, one by id, the password, signing out.
    let (second, third) = (
        server.login(EMAIL, PASSWORD).await,
        server.login(EMAIL, PASSWORD).await,
    );
    let make = || request(Method::POST, "/api/v1/auth/sessions/sign-out-others", &ada);
    let keyed = covered
        .first(
            (Method::POST, "/api/v1/auth/sessions/sign-out-others"),
            make(),
            StatusCode::OK,
        )
        .await;
    assert_eq!(keyed.json()["signed_out_sessions"], 2);
    let after = server.login(EMAIL, PASSWORD).await;
    keyed.again(make()).await;
    for (token, status) in [
        (&second, StatusCode::UNAUTHORIZED),
        (&third, StatusCode::UNAUTHORIZED),
        (&after, StatusCode::OK),
    ] {
        let response = server.call(token, Method::GET, "/api/v1/me", None).await;
        assert_eq!(response.status(), status, "not signed out again");
    }
    let sessions = get_json(&server, &ada, "/api/v1/auth/sessions").await;
    let other = array(&sessions, "sessions")
        .into_iter()
        .find(|session| session["current"] == false)
        .unwrap_or_else(|| panic!("the other session in {sessions}"));
    let session_path = format!("/api/v1/auth/sessions/{}", id_of(&other));
    covered
        .twice(
            (Method::DELETE, "/api/v1/auth/sessions/{id}"),
            || request(Method::DELETE, &session_path, &ada),
            StatusCode::NO_CONTENT,
        )
        .await;
    let ended = server.call(&after, Method::GET, "/api/v1/me", None).await;
    assert_eq!(ended.status(), StatusCode::UNAUTHORIZED);

    // A wrong current password is not kept: the same key then runs with the right one.
    let elsewhere = server.login(EMAIL, PASSWORD).await;
    let key = fresh_key();
    let change = |current: &str| {
        request(Method::POST, "/api/v1/auth/password", &ada).json(&json!({
            "current_password": current,
            "new_password": NEW_PASSWORD,
        }))
    };
    let wrong = send_keyed(change("not-the-password"), &key).await;
    assert_error(
        &wrong,
        StatusCode::FORBIDDEN,
        "wrong_password",
        Some("current_password"),
    );
    assert!(!wrong.replayed());
    let keyed = covered
        .first_with_key(
            (Method::POST, "/api/v1/auth/password"),
            change(PASSWORD),
            StatusCode::OK,
            &key,
        )
        .await;
    assert_eq!(keyed.json()["signed_out_sessions"], 1);
    let signed_in_since = server.login(EMAIL, NEW_PASSWORD).await;
    keyed.again(change(PASSWORD)).await;
    for (token, status) in [
        (&elsewhere, StatusCode::UNAUTHORIZED),
        (&signed_in_since, StatusCode::OK),
    ] {
        let response = server.call(token, Method::GET, "/api/v1/me", None).await;
        assert_eq!(response.status(), status, "changed once");
    }
    let old = server.login_response(EMAIL, PASSWORD).await;
    assert_eq!(
        old.status(),
        StatusCode::UNAUTHORIZED,
        "the new password holds"
    );

    // Signing out ends the token the key would be kept for: its retry finds no one, and
    // is answered as any request with that token is (nothing is signed out twice).
    let key = fresh_key();
    let keyed = covered
        .first_with_key(
            (Method::POST, "/api/v1/auth/logout"),
            request(Method::POST, "/api/v1/auth/logout", &ada),
            StatusCode::NO_CONTENT,
            &key,
        )
        .await;
    assert!(keyed.first.body.is_empty());
    let again = send_keyed(request(Method::POST, "/api/v1/auth/logout", &ada), &key).await;
    assert_error(&again, StatusCode::UNAUTHORIZED, "unauthorized", None);
    assert!(!again.replayed());
    let response = server
        .call(&signed_in_since, Method::GET, "/api/v1/me", None)
        .await;
    assert_eq!(response.status(), StatusCode::OK, "only that session ended");

    let honoured: BTreeSet<(String, String)> = HONOURED
        .iter()
        .map(|(method, route)| ((*method).to_owned(), (*route).to_owned()))
        .collect();
    assert_eq!(
        covered.0, honoured,
        "every honoured route is sent twice here"
    );
}

// ---------------------------------------------------------------------------------------
// Every route is classified
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn every_mutating_route_of_the_api_is_either_tested_for_retries_or_excluded() {
    let server = Server::with_agent().await;
    let response = server
        .request(Method::GET, "/api/openapi.json", None)
        .send()
        .await
        .expect("GET /api/openapi.json");
    let document = expect_json(response, StatusCode::OK).await;
    let paths = document["paths"].as_object().expect("paths");
    let mut mutating = BTreeSet::new();
    for (path, operations) in paths {
        for method in operations.as_object().expect("operations").keys() {
            let method = method.to_ascii_uppercase();
            if ["POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
                mutating.insert((method, path.clone()));
            }
        }
    }
    let listed = |list: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        list.iter()
            .map(|(method, route)| ((*method).to_owned(), (*route).to_owned()))
            .collect()
    };
    let (honoured, excluded) = (listed(HONOURED), listed(EXCLUDED));
    assert!(
        honoured.is_disjoint(&excluded),
        "a route is both: {:?}",
        honoured.intersection(&excluded).collect::<Vec<_>>()
    );
    let unclassified: Vec<_> = mutating
        .difference(&honoured)
        .filter(|route| !excluded.contains(*route))
        .collect();
    assert!(
        unclassified.is_empty(),
        "mutating routes neither sent twice by \
         every_honoured_route_answers_a_retry_as_it_answered_and_applies_it_once nor \
         excluded: {unclassified:?}"
    );
    let gone: Vec<_> = honoured
        .union(&excluded)
        .filter(|route| !mutating.contains(*route))
        .collect();
    assert!(gone.is_empty(), "listed but not in the API: {gone:?}");
}

// ---------------------------------------------------------------------------------------
// At once
// ---------------------------------------------------------------------------------------

/// Sends what `make` builds `copies` times at once under `key`. Answers each as it came:
/// the original, or 409 `idempotency_in_flight` sent again after its Retry-After until
/// it is answered. Asserts all answers are the one original given again.
async fn all_at_once(make: impl Fn() -> RequestBuilder, key: &str, copies: usize) -> Answer {
    let barrier = Arc::new(tokio::sync::Barrier::new(copies));
    let tasks: Vec<_> = (0..copies)
        .map(|_| {
            let request = make().header("Idempotency-Key", key);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                send(request).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("a sending task"));
    }
    let (originals, others): (Vec<Answer>, Vec<Answer>) = answers
        .into_iter()
        .partition(|answer| !answer.replayed() && answer.status != StatusCode::CONFLICT);
    assert_eq!(
        originals.len(),
        1,
        "one request ran: {:?}",
        originals.iter().map(Answer::text).collect::<Vec<_>>()
    );
    let original = originals.into_iter().next().expect("the original");
    let deadline = Instant::now() + Duration::from_secs(10);
    for mut answer in others {
        while !answer.replayed() {
            assert_error(
                &answer,
                StatusCode::CONFLICT,
                "idempotency_in_flight",
                Some("Idempotency-Key"),
            );
            let wait = answer
                .headers
                .get(RETRY_AFTER)
                .and_then(|value| value.to_str().ok()?.parse::<u64>().ok())
                .expect("Retry-After in seconds");
            assert!(wait >= 1, "Retry-After {wait}");
            assert!(Instant::now() < deadline, "still in flight after 10 s");
            // A moment, not the whole second: the original is long done by then.
            tokio::time::sleep(Duration::from_millis(100)).await;
            answer = send_keyed(make(), key).await;
        }
        assert_replay_of(&original, &answer, "a copy sent at once");
    }
    original
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_request_sent_eight_times_at_once_is_applied_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    let server = Server::start(dir).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let person = customer(&server, &ada, "Ada Byron", "ada@byron.example").await;
    let notes = format!("/api/v1/people/{}/notes", id_of(&person));

    let note = all_at_once(
        || {
            server
                .request(Method::POST, &notes, Some(&ada))
                .json(&json!({"body": "Called back."}))
        },
        &fresh_key(),
        8,
    )
    .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.text());
    let page = get_json(&server, &ada, &notes).await;
    assert_eq!(page["total"], 1, "one note: {page}");

    let (profile, etag) = server.me(&ada).await;
    let patched = all_at_once(
        || {
            server
                .request(Method::PATCH, "/api/v1/me", Some(&ada))
                .header(IF_MATCH, &etag)
                .json(&json!({"job_title": "Analyst"}))
        },
        &fresh_key(),
        8,
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    assert_eq!(server.me(&ada).await.1, patched.etag(), "one new version");
    let log = changes(&server, &ada, &id_of(&profile)).await;
    assert_eq!(about(&log, "job_title"), 1, "{log:?}");
}

// ---------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_key_reused_for_another_request_a_bad_key_and_a_bad_digest_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    let server = Server::start(dir).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let person = customer(&server, &ada, "Ada Byron", "ada@byron.example").await;
    let notes = format!("/api/v1/people/{}/notes", id_of(&person));
    let note_count = || async { get_json(&server, &ada, &notes).await["total"].clone() };

    // A key is bound to its route, body and If-Match.
    let (_, first_etag) = server.me(&ada).await;
    let patch = |if_match: &str, body: Value| {
        server
            .request(Method::PATCH, "/api/v1/me", Some(&ada))
            .header(IF_MATCH, if_match)
            .json(&body)
    };
    let key = fresh_key();
    let analyst = json!({"job_title": "Analyst"});
    let first = send_keyed(patch(&first_etag, analyst.clone()), &key).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let applied = server.me(&ada).await;
    for (what, request) in [
        (
            "another body",
            patch(&first_etag, json!({"job_title": "Engineer"})),
        ),
        ("another If-Match", patch(&applied.1, analyst.clone())),
        (
            "another route",
            server
                .request(Method::POST, &notes, Some(&ada))
                .json(&analyst),
        ),
    ] {
        let refused = send_keyed(request, &key).await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            Some("Idempotency-Key"),
        );
        server.assert_unchanged(&ada, &applied, what).await;
    }
    assert_eq!(note_count().await, 0);
    let again = send_keyed(patch(&first_etag, analyst.clone()), &key).await;
    assert_replay_of(&first, &again, "after the refusals");

    // Keys of 1 to 255 visible characters, nothing else.
    let note = || {
        server
            .request(Method::POST, &notes, Some(&ada))
            .json(&json!({"body": "Called back."}))
    };
    for bad in [
        "".to_owned(),
        "\"\"".to_owned(),
        "k".repeat(256),
        "\"a b\"".to_owned(),
        "a b".to_owned(),
    ] {
        let refused = send_keyed(note(), &bad).await;
        assert_error(
            &refused,
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            Some("Idempotency-Key"),
        );
    }
    assert_eq!(note_count().await, 0, "nothing refused was applied");
    let longest = send_keyed(note(), &"k".repeat(255)).await;
    assert_eq!(longest.status, StatusCode::CREATED, "{}", longest.text());

    // Uploads name their bytes' digest; bytes that do not match it are not kept, and
    // the key stays free for the upload sent whole.
    let files = format!("/api/v1/people/{}/files", id_of(&person));
    let upload = |digest: Option<String>| {
        let request = server
            .request(Method::POST, &files, Some(&ada))
            .query(&[("name", "contract.pdf")])
            .body(PDF.to_vec());
        match digest {
            Some(digest) => request.header("Content-Digest", digest),
            None => request,
        }
    };
    let key = fresh_key();
    for digest in [
        None,
        Some("sha-256=:AAAA:".to_owned()),
        Some("md5=:AAAAAAAAAAAAAAAAAAAAAA==:".to_owned()),
    ] {
        let refused = send_keyed(upload(digest.clone()), &key).await;
        assert_error(
            &refused,
            StatusCode::BAD_REQUEST,
            "content_digest_required",
            Some("Content-Digest"),
        );
    }
    let refused = send_keyed(upload(Some(content_digest(b"other bytes"))), &key).await;
    assert_error(
        &refused,
        StatusCode::BAD_REQUEST,
        "content_digest_required",
        Some("Content-Digest"),
    );
    assert!(array(&get_json(&server, &ada, &files).await, "files").is_empty());
    assert!(entries(&server, "files").is_empty(), "no bytes kept");
    assert!(
        entries(&server, "incoming").is_empty(),
        "none left arriving"
    );
    let whole = send_keyed(upload(Some(content_digest(PDF))), &key).await;
    assert_eq!(whole.status, StatusCode::CREATED, "{}", whole.text());
    assert!(!whole.replayed());
    let again = send_keyed(upload(Some(content_digest(PDF))), &key).await;
    assert_replay_of(&whole, &again, "the upload sent whole");
    assert_eq!(
        array(&get_json(&server, &ada, &files).await, "files").len(),
        1
    );

    let before = server.me(&ada).await;
    let bytes = photo(120);
    let avatar = |digest: Option<String>| {
        let request = server
            .request(Method::PUT, "/api/v1/me/avatar", Some(&ada))
            .header(CONTENT_TYPE, "image/jpeg")
            .body(bytes.clone());
        match digest {
            Some(digest) => request.header("Content-Digest", digest),
            None => request,
        }
    };
    let key = fresh_key();
    for digest in [None, Some(content_digest(&photo(121)))] {
        let refused = send_keyed(avatar(digest), &key).await;
        assert_error(
            &refused,
            StatusCode::BAD_REQUEST,
            "content_digest_required",
            Some("Content-Digest"),
        );
        server
            .assert_unchanged(&ada, &before, "a refused photo")
            .await;
    }
    assert!(entries(&server, "avatars").is_empty(), "no photo kept");
    let whole = send_keyed(avatar(Some(content_digest(&bytes))), &key).await;
    assert_eq!(whole.status, StatusCode::OK, "{}", whole.text());
    assert!(whole.json()["avatar_url"].is_string());
}

// ---------------------------------------------------------------------------------------
// Whose keys
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn keys_belong_to_the_agent_not_the_session_and_signing_in_ignores_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    add_agent_ok(dir.path(), GRACE_EMAIL, GRACE_NAME, PASSWORD);
    let server = Server::start(dir).await;

    // Signing in ignores the key: each sign-in is a session of its own.
    let key = fresh_key();
    let sign_in = || {
        server
            .request(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({"email": EMAIL, "password": PASSWORD}))
    };
    let first = send_keyed(sign_in(), &key).await;
    let second = send_keyed(sign_in(), &key).await;
    for answer in [&first, &second] {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        assert!(!answer.replayed());
    }
    let (ada, ada_again) = (
        first.json()["token"].as_str().expect("a token").to_owned(),
        second.json()["token"].as_str().expect("a token").to_owned(),
    );
    assert_ne!(ada, ada_again, "two sessions");
    let sessions = get_json(&server, &ada, "/api/v1/auth/sessions").await;
    assert_eq!(array(&sessions, "sessions").len(), 2, "{sessions}");
    // So does the strength estimate: another password under the same key is estimated.
    for password in ["a", "correct horse battery staple"] {
        let estimate = send_keyed(
            server
                .request(Method::POST, "/api/v1/auth/password/strength", Some(&ada))
                .json(&json!({"password": password})),
            &key,
        )
        .await;
        assert_eq!(estimate.status, StatusCode::OK, "{}", estimate.text());
        assert!(!estimate.replayed());
    }

    // The same key is each agent's own.
    let grace = server.login(GRACE_EMAIL, PASSWORD).await;
    let key = fresh_key();
    let patch = |token: &str, etag: &str| {
        server
            .request(Method::PATCH, "/api/v1/me", Some(token))
            .header(IF_MATCH, etag)
            .json(&json!({"job_title": "Analyst"}))
    };
    let mut applied = Vec::new();
    for (token, name) in [(&ada, NAME), (&grace, GRACE_NAME)] {
        let (_, etag) = server.me(token).await;
        let answer = send_keyed(patch(token, &etag), &key).await;
        assert_eq!(answer.status, StatusCode::OK, "{name}: {}", answer.text());
        assert!(!answer.replayed(), "{name}: applied");
        assert_eq!(answer.json()["display_name"], name);
        assert_eq!(server.me(token).await.0["job_title"], "Analyst", "{name}");
        applied.push((etag, answer));
    }

    // Signed in again, an agent's retry finds its own answer.
    for ((email, name), (etag, answer)) in [(EMAIL, NAME), (GRACE_EMAIL, GRACE_NAME)]
        .into_iter()
        .zip(&applied)
    {
        let token = server.login(email, PASSWORD).await;
        let again = send_keyed(patch(&token, etag), &key).await;
        assert_replay_of(answer, &again, name);
        assert_eq!(
            server.me(&token).await.1,
            answer.etag(),
            "{name}: applied once"
        );
    }
}

// ---------------------------------------------------------------------------------------
// What is kept
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn passing_failures_are_not_kept_and_refusals_of_the_request_are() {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    let server = Server::start(dir).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let person = customer(&server, &ada, "Ada Byron", "ada@byron.example").await;
    let notes = format!("/api/v1/people/{}/notes", id_of(&person));
    let note = |token: &str, body: &str| {
        server
            .request(Method::POST, &notes, Some(token))
            .json(&json!({"body": body}))
    };

    // 401 with an unknown token, and with one whose session has ended: the same key
    // then runs for the agent.
    let ended = server.login(EMAIL, PASSWORD).await;
    let response = server
        .call(&ended, Method::POST, "/api/v1/auth/logout", None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let key = fresh_key();
    for token in ["not-a-token", ended.as_str()] {
        let refused = send_keyed(note(token, "Called back."), &key).await;
        assert_error(&refused, StatusCode::UNAUTHORIZED, "unauthorized", None);
        assert!(!refused.replayed());
    }
    let applied = send_keyed(note(&ada, "Called back."), &key).await;
    assert_eq!(applied.status, StatusCode::CREATED, "{}", applied.text());
    assert!(!applied.replayed(), "run, not the 401 given again");
    assert_eq!(get_json(&server, &ada, &notes).await["total"], 1);

    // A refusal of the request itself is its answer: given again, and the key is spent.
    let key = fresh_key();
    let refused = send_keyed(note(&ada, ""), &key).await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{}",
        refused.text()
    );
    let again = send_keyed(note(&ada, ""), &key).await;
    assert_replay_of(&refused, &again, "a refused note");
    let other = send_keyed(note(&ada, "Called back again."), &key).await;
    assert_error(
        &other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
        Some("Idempotency-Key"),
    );
    let key = fresh_key();
    let missing = || server.request(Method::DELETE, "/api/v1/notes/nothing", Some(&ada));
    let first = send_keyed(missing(), &key).await;
    assert_error(&first, StatusCode::NOT_FOUND, "not_found", None);
    let again = send_keyed(missing(), &key).await;
    assert_replay_of(&first, &again, "a note that is not there");
    assert_eq!(get_json(&server, &ada, &notes).await["total"], 1);
}

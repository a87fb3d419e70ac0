//! Truly simultaneous writes through the real HTTP API of the real binary: each test fires
//! eight requests at once at one thing (a record, a decision, an address, a reset link)
//! and asserts the one outcome a server that never loses a race can give: one winner
//! where only one may win, a clean refusal (never a 500) for the rest, and afterwards
//! exactly the winner's change.
//!
//! Runs on SQLite, or on PostgreSQL with `AGENT_DESK_TEST_DATABASE=postgres`.

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::header::IF_MATCH;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use support::*;

/// How many requests each test sends at once.
const AT_ONCE: usize = 8;

const GRACE: &str = "grace@example.com";

/// One answer of a burst: its status and JSON body.
type Answer = (StatusCode, Value);

/// Sends every request at once and answers each one's status and body, in order. No
/// answer may be a server error, and every one is JSON.
async fn at_once(requests: Vec<RequestBuilder>) -> Vec<Answer> {
    let sent = join_all(requests.into_iter().map(RequestBuilder::send)).await;
    let mut answers = Vec::with_capacity(sent.len());
    for (index, response) in sent.into_iter().enumerate() {
        let response = response.unwrap_or_else(|error| panic!("request {index}: {error:?}"));
        let status = response.status();
        let text = response.text().await.expect("read the body");
        assert!(
            !status.is_server_error(),
            "request {index} answered {status}: {text}"
        );
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("request {index}: not JSON ({error}): {text}"));
        answers.push((status, body));
    }
    answers
}

/// The index of the one 200 among `answers`.
fn the_winner(answers: &[Answer], what: &str) -> usize {
    let winners: Vec<usize> = answers
        .iter()
        .enumerate()
        .filter(|(_, (status, _))| *status == StatusCode::OK)
        .map(|(index, _)| index)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "{what}: exactly one request succeeds; answers: {answers:#?}"
    );
    winners[0]
}

/// Every answer but the winner's is `status` with error `code` on `field`.
fn losers_refused(
    answers: &[Answer],
    winner: usize,
    status: StatusCode,
    code: &str,
    field: Option<&str>,
) {
    for (index, (got, body)) in answers.iter().enumerate() {
        if index == winner {
            continue;
        }
        assert_eq!(*got, status, "request {index}: {body}");
        assert_eq!(body["error"]["code"], code, "request {index}: {body}");
        assert_eq!(
            body["error"]["field"],
            field.map_or(Value::Null, Value::from),
            "request {index}: {body}"
        );
    }
}

/// A server on a folder with Ada, Grace and the administrator, after `prepare` (such as
/// `add-team`) has run on it.
async fn desk(prepare: impl FnOnce(&std::path::Path)) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    add_agent_ok(dir.path(), GRACE, "Grace Hopper", PASSWORD);
    add_admin_ok(dir.path());
    prepare(dir.path());
    Server::start(dir).await
}

async fn get_ok(server: &Server, token: &str, path: &str) -> Value {
    expect_json(
        server.call(token, Method::GET, path, None).await,
        StatusCode::OK,
    )
    .await
}

/// The events of `type` the agent of `token` has received.
async fn events_of_type(server: &Server, token: &str, kind: &str) -> Vec<Value> {
    let page = get_ok(server, token, "/api/v1/events?after=0").await;
    page["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|event| event["type"] == kind)
        .cloned()
        .collect()
}

/// No error in the server's log: nothing failed behind a good answer.
fn assert_log_clean(server: &Server) {
    let log = server.log();
    assert!(
        !log.lines().any(|line| line.contains("ERROR")),
        "the server logged an error: {log}"
    );
}

/// A customer's record made with `POST /api/v1/people`.
async fn create_customer(server: &Server, token: &str, name: &str, email: &str) -> Value {
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
    value["id"].as_str().expect("an id").to_owned()
}

/// Eight edits of one record from the same version, each of another field: one is
/// applied, seven are stale, and the record shows the winner's change alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_edits_of_one_version_apply_exactly_one() {
    let server = Server::with_agent().await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let original = create_customer(&server, &ada, "Ada Byron", "ada@byron.example").await;
    let id = id_of(&original);
    let path = format!("/api/v1/people/{id}");
    let version = original["version"].as_i64().expect("version");
    let changes_path = format!("{path}/changes");
    let logged_before = get_ok(&server, &ada, &changes_path).await["changes"]
        .as_array()
        .expect("changes")
        .len();

    let edits: [(&str, &str); AT_ONCE] = [
        ("name", "Ada King"),
        ("phone", "+44 20 7183 8750"),
        ("website", "adabyron.example"),
        ("im", "ada@chat.example"),
        ("twitter", "ada_b"),
        ("address", "12 St James's Square, London"),
        ("summary", "Prefers email."),
        ("timezone", "Europe/London"),
    ];
    let answers = at_once(
        edits
            .iter()
            .map(|(field, value)| {
                server
                    .request(Method::PATCH, &path, Some(&ada))
                    .header(IF_MATCH, format!("\"{version}\""))
                    .json(&Value::Object(
                        [(field.to_string(), json!(value))].into_iter().collect(),
                    ))
            })
            .collect(),
    )
    .await;
    let winner = the_winner(&answers, "PATCH with one If-Match");
    losers_refused(
        &answers,
        winner,
        StatusCode::CONFLICT,
        "version_conflict",
        None,
    );

    let (field, _) = edits[winner];
    let applied = &answers[winner].1;
    assert_ne!(
        applied[field], original[field],
        "{field} changed: {applied}"
    );
    let now = get_ok(&server, &ada, &path).await;
    assert_eq!(&now, applied, "the record is what the winner was answered");
    let mut expected = original.clone();
    expected[field] = applied[field].clone();
    expected["version"] = json!(version + 1);
    expected["updated_at"] = now["updated_at"].clone();
    assert_eq!(now, expected, "only {field} changed, once");

    let log = get_ok(&server, &ada, &changes_path).await;
    let log = log["changes"].as_array().expect("changes");
    assert_eq!(log.len(), logged_before + 1, "one change logged: {log:#?}");
    assert_eq!(log[0]["field"], field, "{log:#?}");
    assert_log_clean(&server);
}

/// One join request decided eight times at once by its lead, four approving and four
/// denying: one decision, and Ada is in the team exactly when it approved.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_decisions_on_a_join_request_make_one() {
    let server = desk(|dir| {
        let made = run(dir, &["add-team", "--name", "Billing", "--lead", GRACE]);
        assert!(made.status.success(), "add-team: {made:?}");
    })
    .await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let lead = server.login(GRACE, PASSWORD).await;
    let teams = get_ok(&server, &ada, "/api/v1/teams").await;
    let team = id_of(&teams[0]);
    let asked = server
        .call(
            &ada,
            Method::POST,
            &format!("/api/v1/teams/{team}/join-requests"),
            Some(json!({})),
        )
        .await;
    let request = id_of(&expect_json(asked, StatusCode::CREATED).await);
    let decision = format!("/api/v1/join-requests/{request}/decision");

    let approvals: Vec<bool> = (0..AT_ONCE).map(|index| index % 2 == 0).collect();
    let answers = at_once(
        approvals
            .iter()
            .map(|approve| {
                server
                    .request(Method::POST, &decision, Some(&lead))
                    .json(&json!({ "approve": approve }))
            })
            .collect(),
    )
    .await;
    let winner = the_winner(&answers, "decisions on one join request");
    losers_refused(
        &answers,
        winner,
        StatusCode::CONFLICT,
        "already_decided",
        None,
    );
    let approved = approvals[winner];
    let state = if approved { "approved" } else { "denied" };
    assert_eq!(answers[winner].1["state"], state, "{:#?}", answers[winner]);

    let teams = get_ok(&server, &ada, "/api/v1/teams").await;
    let billing = &teams[0];
    assert_eq!(
        billing["membership"],
        if approved { "member" } else { "none" },
        "after one decision to {state}: {teams}"
    );
    assert_eq!(
        billing["member_count"],
        if approved { 2 } else { 1 },
        "{teams}"
    );
    let mine = get_ok(&server, &ada, "/api/v1/join-requests").await;
    assert_eq!(mine["mine"][0]["state"], state, "{mine}");
    let told = events_of_type(&server, &ada, "team.request_decided").await;
    assert_eq!(told.len(), 1, "Ada hears of one decision: {told:#?}");
    let title = if approved {
        "You joined Billing"
    } else {
        "Your request to join Billing was declined"
    };
    assert_eq!(told[0]["title"], title);
    assert_log_clean(&server);
}

/// One request to change department decided eight times at once by the administrator:
/// one decision, and Ada's department is the one it made.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_decisions_on_a_department_request_make_one() {
    let server = desk(|_| {}).await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, etag) = server.me(&ada).await;
    let (asked, _) = server
        .patch_ok(&ada, &etag, &json!({"department": "Billing"}))
        .await;
    assert_eq!(asked["department_request"]["value"], "Billing", "{asked}");
    let pending = get_ok(&server, &admin, "/api/v1/admin/department-requests").await;
    let requests = pending["requests"].as_array().expect("requests");
    assert_eq!(requests.len(), 1, "{pending}");
    let request = id_of(&requests[0]);
    let decision = format!("/api/v1/admin/department-requests/{request}/decision");

    let approvals: Vec<bool> = (0..AT_ONCE).map(|index| index % 2 == 1).collect();
    let answers = at_once(
        approvals
            .iter()
            .map(|approve| {
                server
                    .request(Method::POST, &decision, Some(&admin))
                    .json(&json!({ "approve": approve }))
            })
            .collect(),
    )
    .await;
    let winner = the_winner(&answers, "decisions on one department request");
    losers_refused(
        &answers,
        winner,
        StatusCode::CONFLICT,
        "already_decided",
        None,
    );
    let approved = approvals[winner];
    assert_eq!(
        answers[winner].1["approved"], approved,
        "{:#?}",
        answers[winner]
    );

    let (me, _) = server.me(&ada).await;
    assert_eq!(
        me["department"],
        if approved {
            json!("Billing")
        } else {
            Value::Null
        },
        "{me}"
    );
    assert_eq!(me["department_request"], Value::Null, "{me}");
    let pending = get_ok(&server, &admin, "/api/v1/admin/department-requests").await;
    assert_eq!(pending["requests"], json!([]), "{pending}");
    let told = events_of_type(&server, &ada, "department.request_decided").await;
    assert_eq!(told.len(), 1, "Ada hears of one decision: {told:#?}");
    let moves = get_ok(
        &server,
        &ada,
        &format!("/api/v1/people/{}/changes", me["id"].as_str().expect("id")),
    )
    .await;
    let moves = moves["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|change| change["field"] == "department")
        .count();
    assert_eq!(moves, usize::from(approved), "department moves logged");
    assert_log_clean(&server);
}

/// Eight addresses added to one record at once, each as the primary one: none fails
/// badly, and afterwards the record has every address added and exactly one primary.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_primary_addresses_leave_exactly_one_primary() {
    let server = Server::with_agent().await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let original = create_customer(&server, &ada, "Ada Byron", "ada@byron.example").await;
    let id = id_of(&original);
    let path = format!("/api/v1/people/{id}");
    let version = original["version"].as_i64().expect("version");

    let addresses: Vec<String> = (0..AT_ONCE)
        .map(|index| format!("ada.{index}@byron.example"))
        .collect();
    let answers = at_once(
        addresses
            .iter()
            .map(|address| {
                server
                    .request(Method::POST, &format!("{path}/emails"), Some(&ada))
                    .json(&json!({"address": address, "primary": true}))
            })
            .collect(),
    )
    .await;
    let mut added = BTreeSet::new();
    for (index, (status, body)) in answers.iter().enumerate() {
        if *status == StatusCode::OK {
            added.insert(addresses[index].clone());
        } else {
            assert!(
                status.is_client_error() && body["error"]["code"].is_string(),
                "request {index} was refused cleanly: {status} {body}"
            );
        }
    }
    assert!(!added.is_empty(), "some add succeeded: {answers:#?}");

    let now = get_ok(&server, &ada, &path).await;
    let emails = now["emails"].as_array().expect("emails");
    let primaries: Vec<&str> = emails
        .iter()
        .filter(|email| email["primary"] == true)
        .map(|email| email["address"].as_str().expect("address"))
        .collect();
    assert_eq!(primaries.len(), 1, "exactly one primary: {now}");
    assert!(
        added.contains(primaries[0]),
        "the primary is one of the added: {now}"
    );
    assert_eq!(emails[0]["primary"], true, "the primary comes first: {now}");
    let held: BTreeSet<String> = emails
        .iter()
        .map(|email| email["address"].as_str().expect("address").to_owned())
        .collect();
    let mut expected = added.clone();
    expected.insert("ada@byron.example".to_owned());
    assert_eq!(held, expected, "every address added, none else: {now}");
    assert_eq!(
        now["version"],
        version + i64::try_from(added.len()).expect("count"),
        "one version per add: {now}"
    );
    assert_log_clean(&server);
}

/// One new address added at once to eight records: one gets it, seven are told it is
/// taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_address_added_to_eight_records_at_once_goes_to_one() {
    let server = Server::with_agent().await;
    let ada = server.login(EMAIL, PASSWORD).await;
    let mut ids = Vec::with_capacity(AT_ONCE);
    for index in 0..AT_ONCE {
        let customer = create_customer(
            &server,
            &ada,
            &format!("Customer {index}"),
            &format!("customer.{index}@example.org"),
        )
        .await;
        ids.push(id_of(&customer));
    }
    const SHARED: &str = "shared@example.org";

    let answers = at_once(
        ids.iter()
            .map(|id| {
                server
                    .request(
                        Method::POST,
                        &format!("/api/v1/people/{id}/emails"),
                        Some(&ada),
                    )
                    .json(&json!({ "address": SHARED }))
            })
            .collect(),
    )
    .await;
    let winner = the_winner(&answers, "one address added to eight records");
    losers_refused(
        &answers,
        winner,
        StatusCode::CONFLICT,
        "conflict",
        Some("address"),
    );

    for (index, id) in ids.iter().enumerate() {
        let record = get_ok(&server, &ada, &format!("/api/v1/people/{id}")).await;
        let holds = record["emails"]
            .as_array()
            .expect("emails")
            .iter()
            .any(|email| email["address"] == SHARED);
        assert_eq!(holds, index == winner, "record {index}: {record}");
    }
    assert_log_clean(&server);
}

/// The `.eml` files in the server's outbox (not those still being written).
fn outbox(server: &Server) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(server.data_dir().join("outbox")) else {
        return Vec::new();
    };
    entries
        .map(|entry| entry.expect("outbox entry").path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.ends_with(".eml") && !name.starts_with('.'))
        })
        .collect()
}

/// The token of the one reset mail in the outbox, waiting for it at most 10 s.
async fn reset_token_from_outbox(server: &Server) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let [mail] = outbox(server).as_slice() {
            let mail = std::fs::read_to_string(mail).expect("read the mail");
            let unfolded = mail.replace("=\r\n", "").replace("=\n", "");
            let start = unfolded.find("token=").expect("a link with a token") + "token=".len();
            let token: String = unfolded[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            assert_eq!(token.len(), 43, "a whole token: {token:?}");
            return token;
        }
        assert!(
            Instant::now() < deadline,
            "no reset mail; log: {}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A password that signs in as Ada: 200.
async fn signs_in(server: &Server, password: &str) -> bool {
    let response = server.login_response(EMAIL, password).await;
    match response.status() {
        StatusCode::OK => true,
        StatusCode::UNAUTHORIZED => {
            expect_error(
                response,
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                None,
            )
            .await;
            false
        }
        other => panic!(
            "signing in with {password:?}: {other}: {}",
            response.text().await.unwrap_or_default()
        ),
    }
}

/// One reset link used eight times at once, each with another password: one reset, and
/// only its password signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_reset_link_used_eight_times_at_once_resets_once() {
    let server = Server::with_agent().await;
    let asked = server
        .request(Method::POST, "/api/v1/auth/password-reset", None)
        .json(&json!({"email": EMAIL}))
        .send()
        .await
        .expect("ask for a link");
    expect_json(asked, StatusCode::ACCEPTED).await;
    let token = reset_token_from_outbox(&server).await;

    let passwords: Vec<String> = [
        "Amber", "Basalt", "Cobalt", "Dolomite", "Emerald", "Feldspar", "Garnet", "Hematite",
    ]
    .iter()
    .map(|word| format!("Jacquard-Loom-{word}-1804"))
    .collect();
    let answers = at_once(
        passwords
            .iter()
            .map(|password| {
                server
                    .request(Method::POST, "/api/v1/auth/password-reset/confirm", None)
                    .json(&json!({"token": token, "new_password": password}))
            })
            .collect(),
    )
    .await;
    let winner = the_winner(&answers, "one reset link used eight times");
    losers_refused(
        &answers,
        winner,
        StatusCode::GONE,
        "reset_token_expired",
        Some("token"),
    );

    // Four refusals at a time stay under the sign-in throttle; a success clears it.
    let refused: Vec<&str> = std::iter::once(PASSWORD)
        .chain(
            passwords
                .iter()
                .enumerate()
                .filter(|(index, _)| *index != winner)
                .map(|(_, password)| password.as_str()),
        )
        .collect();
    for four in refused.chunks(4) {
        for password in four {
            assert!(
                !signs_in(&server, password).await,
                "{password:?} signs in, yet {:?} won",
                passwords[winner]
            );
        }
        assert!(
            signs_in(&server, &passwords[winner]).await,
            "the winner's password {:?} signs in",
            passwords[winner]
        );
    }
    assert_log_clean(&server);
}

/// Eight administrators rotate the generic webhooks' secret at once: each rotation
/// succeeds, one secret is current afterwards (the last to commit), and the others are
/// retiring, so no delivery signed with any of them is refused during the grace.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_secret_rotations_at_once_leave_one_current_secret() {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    let rotations: Vec<std::process::Child> = (0..AT_ONCE)
        .map(|_| {
            command(dir.path(), &["add-hook", "--source", "generic"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start add-hook")
        })
        .collect();
    let mut printed = BTreeSet::new();
    for rotation in rotations {
        let output = rotation.wait_with_output().expect("add-hook ends");
        assert!(
            output.status.success(),
            "add-hook failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let secret = stdout
            .lines()
            .map(str::trim)
            .rfind(|line| !line.is_empty())
            .unwrap_or_else(|| panic!("no secret printed: {stdout}"))
            .to_owned();
        printed.insert(secret);
    }
    assert_eq!(printed.len(), AT_ONCE, "each rotation made its own secret");

    let db = open_database(dir.path()).await;
    let current: Vec<String> = agent_desk_server::storage::query_scalar(
        "SELECT secret FROM hook_secrets WHERE source = 'generic' AND retires_at IS NULL",
    )
    .fetch_all(&db)
    .await
    .expect("read the current secrets");
    assert_eq!(current.len(), 1, "one current secret: {current:?}");
    assert!(
        printed.contains(&current[0]),
        "the current secret was printed"
    );
    let kept: Vec<String> = agent_desk_server::storage::query_scalar(
        "SELECT secret FROM hook_secrets WHERE source = 'generic'",
    )
    .fetch_all(&db)
    .await
    .expect("read the secrets");
    assert_eq!(
        kept.into_iter().collect::<BTreeSet<_>>(),
        printed,
        "every printed secret still works during the grace"
    );
}

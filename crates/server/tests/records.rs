//! The parts of a record beyond its fields, over real HTTP against the real binary:
//! files (kept under the data folder, typed by their bytes, limited in size, removed
//! only by their uploader or an admin, moved by a merge), the ticket history built from
//! the events the server carried, and an agent's sign-ins for the Detail tab.

mod support;

use reqwest::header::{
    CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    X_CONTENT_TYPE_OPTIONS,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

const OTHER_EMAIL: &str = "grace@example.com";
const FILE_LIMIT: usize = 4096;
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n";

struct Desk {
    server: Server,
    ada: String,
    grace: String,
    admin: String,
}

async fn desk() -> Desk {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    add_agent_ok(dir.path(), OTHER_EMAIL, "Grace Hopper", PASSWORD);
    add_admin_ok(dir.path());
    let options = ServerOptions::default()
        .arg("--file-max-bytes")
        .arg(FILE_LIMIT.to_string());
    let server = Server::start_with(dir, options).await;
    Desk {
        ada: server.login(EMAIL, PASSWORD).await,
        grace: server.login(OTHER_EMAIL, PASSWORD).await,
        admin: server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await,
        server,
    }
}

async fn get(desk: &Desk, token: &str, path: &str) -> reqwest::Response {
    desk.server
        .request(Method::GET, path, Some(token))
        .send()
        .await
        .expect("get")
}

async fn get_ok(desk: &Desk, token: &str, path: &str) -> Value {
    expect_json(get(desk, token, path).await, StatusCode::OK).await
}

async fn customer(desk: &Desk, name: &str, email: &str) -> String {
    let response = desk
        .server
        .request(Method::POST, "/api/v1/people", Some(&desk.ada))
        .json(&json!({"name": name, "emails": [email]}))
        .send()
        .await
        .expect("create");
    let created = expect_json(response, StatusCode::CREATED).await;
    created["id"].as_str().expect("id").to_owned()
}

async fn upload(
    desk: &Desk,
    token: &str,
    person: &str,
    name: &str,
    bytes: &[u8],
) -> reqwest::Response {
    desk.server
        .request(
            Method::POST,
            &format!("/api/v1/people/{person}/files"),
            Some(token),
        )
        .query(&[("name", name)])
        // What the uploader claims is not what is kept.
        .header(CONTENT_TYPE, "text/plain")
        .body(bytes.to_vec())
        .send()
        .await
        .expect("upload")
}

async fn file_names(desk: &Desk, person: &str) -> Vec<String> {
    let list = get_ok(desk, &desk.ada, &format!("/api/v1/people/{person}/files")).await;
    list["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|file| file["name"].as_str().expect("name").to_owned())
        .collect()
}

fn stored_files(desk: &Desk) -> Vec<String> {
    let dir = desk.server.data_dir().join("files");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|entry| {
                    entry
                        .expect("entry")
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

async fn delete(desk: &Desk, token: &str, file: &str) -> reqwest::Response {
    desk.server
        .request(
            Method::DELETE,
            &format!("/api/v1/files/{file}"),
            Some(token),
        )
        .send()
        .await
        .expect("delete")
}

async fn change_fields(desk: &Desk, person: &str) -> Vec<(String, Value, Value)> {
    let log = get_ok(desk, &desk.ada, &format!("/api/v1/people/{person}/changes")).await;
    log["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|change| {
            (
                change["field"].as_str().expect("field").to_owned(),
                change["old_value"].clone(),
                change["new_value"].clone(),
            )
        })
        .collect()
}

async fn agent_id(desk: &Desk, token: &str) -> String {
    let (me, _) = desk.server.me(token).await;
    me["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn files_are_typed_by_their_bytes_served_back_and_removed_only_by_their_uploader() {
    let desk = desk().await;
    let ada_byron = customer(&desk, "Ada Byron", "ada@byron.example").await;

    let response = upload(
        &desk,
        &desk.ada,
        &ada_byron,
        "C:\\scans\\Rechnung März.pdf",
        PDF,
    )
    .await;
    let pdf = expect_json(response, StatusCode::CREATED).await;
    assert_eq!(
        pdf["name"], "Rechnung März.pdf",
        "only the last path part is the name"
    );
    assert_eq!(pdf["content_type"], "application/pdf");
    assert_eq!(pdf["size"], PDF.len());
    assert_eq!(pdf["uploaded_by_name"], NAME);
    let pdf_id = pdf["id"].as_str().expect("id").to_owned();
    let note = "Called back on Monday — all fine.\n".as_bytes();
    let text = expect_json(
        upload(&desk, &desk.grace, &ada_byron, "call.txt", note).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(text["content_type"], "text/plain; charset=utf-8");
    let text_id = text["id"].as_str().expect("id").to_owned();

    let list = get_ok(
        &desk,
        &desk.ada,
        &format!("/api/v1/people/{ada_byron}/files"),
    )
    .await;
    assert_eq!(list["max_bytes"], FILE_LIMIT);
    assert_eq!(
        file_names(&desk, &ada_byron).await,
        ["call.txt", "Rechnung März.pdf"]
    );
    let mut on_disk = vec![pdf_id.clone(), text_id.clone()];
    on_disk.sort();
    assert_eq!(
        stored_files(&desk),
        on_disk,
        "each file is one file under <data-dir>/files"
    );

    let download = get(&desk, &desk.grace, &format!("/api/v1/files/{pdf_id}")).await;
    assert_eq!(download.status(), StatusCode::OK);
    let header = |name| {
        download
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header(CONTENT_TYPE), "application/pdf");
    assert_eq!(header(X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(header(CONTENT_SECURITY_POLICY), "sandbox");
    assert_eq!(
        header(CONTENT_LENGTH),
        PDF.len().to_string(),
        "streamed with its length"
    );
    assert!(
        header(CONTENT_DISPOSITION).contains("filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf"),
        "{}",
        header(CONTENT_DISPOSITION)
    );
    assert_eq!(download.bytes().await.expect("bytes").as_ref(), PDF);

    // Refusals name the field and keep nothing.
    let too_big = vec![b'x'; FILE_LIMIT + 1];
    let response = send_oversized(
        || {
            desk.server
                .request(
                    Method::POST,
                    &format!("/api/v1/people/{ada_byron}/files"),
                    Some(&desk.ada),
                )
                .query(&[("name", "big.txt")])
                .body(too_big.clone())
        },
        "an oversized file",
    )
    .await;
    expect_error(
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        Some("file"),
    )
    .await;
    for name in ["   ", "folder/", "tab\there"] {
        let response = upload(&desk, &desk.ada, &ada_byron, name, b"x").await;
        expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "validation_failed",
            Some("name"),
        )
        .await;
    }
    let unnamed = desk
        .server
        .request(
            Method::POST,
            &format!("/api/v1/people/{ada_byron}/files"),
            Some(&desk.ada),
        )
        .body(b"x".to_vec())
        .send()
        .await
        .expect("upload");
    expect_error(
        unnamed,
        StatusCode::BAD_REQUEST,
        "missing_field",
        Some("name"),
    )
    .await;
    let unknown = desk
        .server
        .request(
            Method::POST,
            &format!("/api/v1/people/{ada_byron}/files?name=a.txt&colour=red"),
            Some(&desk.ada),
        )
        .body(b"x".to_vec())
        .send()
        .await
        .expect("upload");
    expect_error(
        unknown,
        StatusCode::BAD_REQUEST,
        "unknown_field",
        Some("colour"),
    )
    .await;
    let ada_agent = agent_id(&desk, &desk.ada).await;
    let on_agent = upload(&desk, &desk.ada, &ada_agent, "cv.pdf", PDF).await;
    expect_error(on_agent, StatusCode::FORBIDDEN, "forbidden", None).await;
    let nobody = upload(&desk, &desk.ada, "no-such-person", "a.pdf", PDF).await;
    expect_error(nobody, StatusCode::NOT_FOUND, "not_found", None).await;
    assert_eq!(file_names(&desk, &ada_byron).await.len(), 2);
    assert_eq!(
        stored_files(&desk),
        on_disk,
        "no refused upload left bytes behind"
    );

    // Only the uploader, or an admin, removes a file.
    let not_theirs = delete(&desk, &desk.grace, &pdf_id).await;
    expect_error(not_theirs, StatusCode::FORBIDDEN, "forbidden", None).await;
    assert_eq!(
        delete(&desk, &desk.ada, &pdf_id).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&desk, &desk.admin, &text_id).await.status(),
        StatusCode::NO_CONTENT
    );
    let gone = get(&desk, &desk.ada, &format!("/api/v1/files/{pdf_id}")).await;
    expect_error(gone, StatusCode::NOT_FOUND, "not_found", None).await;
    assert!(file_names(&desk, &ada_byron).await.is_empty());
    assert!(
        stored_files(&desk).is_empty(),
        "removed files' bytes are gone"
    );

    // Every addition and removal is in the change log, and so in the activity stream.
    let files: Vec<_> = change_fields(&desk, &ada_byron)
        .await
        .into_iter()
        .filter(|(field, _, _)| field == "file")
        .collect();
    assert_eq!(
        files,
        [
            ("file".to_owned(), json!("call.txt"), Value::Null),
            ("file".to_owned(), json!("Rechnung März.pdf"), Value::Null),
            ("file".to_owned(), Value::Null, json!("call.txt")),
            ("file".to_owned(), Value::Null, json!("Rechnung März.pdf")),
        ]
    );
    let activity = get_ok(
        &desk,
        &desk.ada,
        &format!("/api/v1/people/{ada_byron}/activity"),
    )
    .await;
    let file_entries = activity["activity"]
        .as_array()
        .expect("activity")
        .iter()
        .filter(|entry| entry["kind"] == "change" && entry["field"] == "file")
        .count();
    assert_eq!(file_entries, 4);
}

async fn post_event(desk: &Desk, body: Value) -> reqwest::Response {
    desk.server
        .request(Method::POST, "/api/v1/admin/events", Some(&desk.admin))
        .json(&body)
        .send()
        .await
        .expect("post an event")
}

async fn ticket_event(desk: &Desk, event_type: &str, ticket: &str, requester: &str) {
    let body = json!({
        "type": event_type,
        "to": {"agent": EMAIL},
        "title": format!("{event_type} on #{ticket}"),
        "ticket_id": ticket,
        "url": format!("https://desk.example/tickets/{ticket}"),
        "requester": requester,
    });
    expect_json(post_event(desk, body).await, StatusCode::CREATED).await;
}

fn ticket_ids(history: &Value) -> Vec<String> {
    history["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .map(|ticket| ticket["ticket_id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn ticket_history_comes_from_the_events_and_follows_a_merge() {
    let desk = desk().await;
    let work = customer(&desk, "Ada Byron", "ada@byron.example").await;
    let home = customer(&desk, "Ada B.", "countess@home.example").await;
    ticket_event(&desk, "ticket.assigned", "999", "ada@byron.example").await;
    ticket_event(&desk, "ticket.assigned", "1000", "ADA@byron.example").await;
    ticket_event(&desk, "ticket.customer_reply", "999", "ada@byron.example").await;
    ticket_event(&desk, "ticket.assigned", "42", "countess@home.example").await;
    ticket_event(&desk, "ticket.assigned", "7", "someone.else@example.com").await;

    let history = get_ok(
        &desk,
        &desk.grace,
        &format!("/api/v1/people/{work}/tickets"),
    )
    .await;
    assert_eq!(history["sort"], "-updated");
    assert_eq!(
        ticket_ids(&history),
        ["999", "1000"],
        "newest activity first"
    );
    let newest = &history["tickets"][0];
    assert_eq!(newest["events"], 2);
    assert_eq!(newest["last_event"], "ticket.customer_reply");
    assert_eq!(newest["title"], "ticket.customer_reply on #999");
    assert_eq!(newest["url"], "https://desk.example/tickets/999");
    assert!(newest["opened_at"].as_str() < newest["updated_at"].as_str());
    for (sort, expected) in [
        ("ticket", ["999", "1000"]),
        ("-ticket", ["1000", "999"]),
        ("opened", ["999", "1000"]),
        ("-opened", ["1000", "999"]),
        ("updated", ["1000", "999"]),
    ] {
        let sorted = get_ok(
            &desk,
            &desk.ada,
            &format!("/api/v1/people/{work}/tickets?sort={sort}"),
        )
        .await;
        assert_eq!(ticket_ids(&sorted), expected, "sort={sort}");
    }
    let bad_sort = get(
        &desk,
        &desk.ada,
        &format!("/api/v1/people/{work}/tickets?sort=newest"),
    )
    .await;
    expect_error(
        bad_sort,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("sort"),
    )
    .await;

    // The activity stream has each ticket event.
    let activity = get_ok(&desk, &desk.ada, &format!("/api/v1/people/{work}/activity")).await;
    let tickets: Vec<_> = activity["activity"]
        .as_array()
        .expect("activity")
        .iter()
        .filter(|entry| entry["kind"] == "ticket")
        .map(|entry| entry["ticket_id"].as_str().expect("ticket").to_owned())
        .collect();
    assert_eq!(tickets, ["999", "1000", "999"]);

    // A requester needs a ticket, and must be an address.
    for (body, field) in [
        (
            json!({"type": "ticket.assigned", "to": "all", "title": "T", "requester": "a@b.example"}),
            "requester",
        ),
        (
            json!({"type": "ticket.assigned", "to": "all", "title": "T", "ticket_id": "1", "requester": "ada"}),
            "requester",
        ),
    ] {
        expect_error(
            post_event(&desk, body).await,
            StatusCode::BAD_REQUEST,
            "validation_failed",
            Some(field),
        )
        .await;
    }

    // A merge brings the other address, and its tickets, along.
    let merged = desk
        .server
        .request(
            Method::POST,
            &format!("/api/v1/people/{work}/merge"),
            Some(&desk.ada),
        )
        .json(&json!({"source": home}))
        .send()
        .await
        .expect("merge");
    expect_json(merged, StatusCode::OK).await;
    let history = get_ok(&desk, &desk.ada, &format!("/api/v1/people/{work}/tickets")).await;
    assert_eq!(ticket_ids(&history), ["42", "999", "1000"]);

    // An agent's history is the tickets delivered to them, for them and admins only.
    let ada = agent_id(&desk, &desk.ada).await;
    let own = get_ok(
        &desk,
        &desk.ada,
        &format!("/api/v1/people/{ada}/tickets?sort=ticket"),
    )
    .await;
    assert_eq!(ticket_ids(&own), ["7", "42", "999", "1000"]);
    let admin_view = get_ok(&desk, &desk.admin, &format!("/api/v1/people/{ada}/tickets")).await;
    assert_eq!(ticket_ids(&admin_view).len(), 4);
    let colleague = get(&desk, &desk.grace, &format!("/api/v1/people/{ada}/tickets")).await;
    expect_error(colleague, StatusCode::FORBIDDEN, "forbidden", None).await;
}

#[tokio::test]
async fn files_move_with_a_merge() {
    let desk = desk().await;
    let work = customer(&desk, "Ada Byron", "ada@byron.example").await;
    let home = customer(&desk, "Ada B.", "countess@home.example").await;
    let kept = expect_json(
        upload(&desk, &desk.ada, &home, "contract.pdf", PDF).await,
        StatusCode::CREATED,
    )
    .await;
    let merged = desk
        .server
        .request(
            Method::POST,
            &format!("/api/v1/people/{work}/merge"),
            Some(&desk.ada),
        )
        .json(&json!({"source": home}))
        .send()
        .await
        .expect("merge");
    expect_json(merged, StatusCode::OK).await;
    assert_eq!(file_names(&desk, &work).await, ["contract.pdf"]);
    let download = get(
        &desk,
        &desk.ada,
        &format!("/api/v1/files/{}", kept["id"].as_str().expect("id")),
    )
    .await;
    assert_eq!(download.bytes().await.expect("bytes").as_ref(), PDF);
}

#[tokio::test]
async fn sign_ins_show_to_the_agent_and_admins_only() {
    let desk = desk().await;
    let wrong = desk.server.login_response(EMAIL, "not-the-password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let ada = agent_id(&desk, &desk.ada).await;

    let own = get_ok(&desk, &desk.ada, &format!("/api/v1/people/{ada}/logins")).await;
    let sign_ins = own["sign_ins"].as_array().expect("sign_ins");
    let outcomes: Vec<bool> = sign_ins
        .iter()
        .map(|attempt| attempt["succeeded"].as_bool().expect("succeeded"))
        .collect();
    assert_eq!(
        outcomes,
        [false, true],
        "newest first: the wrong password, then the sign-in"
    );
    let admin_view = get_ok(&desk, &desk.admin, &format!("/api/v1/people/{ada}/logins")).await;
    assert_eq!(admin_view, own);

    let colleague = get(&desk, &desk.grace, &format!("/api/v1/people/{ada}/logins")).await;
    expect_error(colleague, StatusCode::FORBIDDEN, "forbidden", None).await;
    let ada_byron = customer(&desk, "Ada Byron", "ada@byron.example").await;
    let of_customer = get(
        &desk,
        &desk.ada,
        &format!("/api/v1/people/{ada_byron}/logins"),
    )
    .await;
    expect_error(of_customer, StatusCode::NOT_FOUND, "not_found", None).await;
}

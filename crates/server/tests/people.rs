//! Users' (customers') records over real HTTP against the real binary: every section
//! through the API, each refusal naming its field and leaving the record as it was, and
//! the directory finding people by name, email, organization and phone.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

const OTHER_EMAIL: &str = "grace@example.com";

struct Desk {
    server: Server,
    ada: String,
    grace: String,
}

async fn desk() -> Desk {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    add_agent_ok(dir.path(), OTHER_EMAIL, "Grace Hopper", PASSWORD);
    let server = Server::start(dir).await;
    Desk {
        ada: server.login(EMAIL, PASSWORD).await,
        grace: server.login(OTHER_EMAIL, PASSWORD).await,
        server,
    }
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

async fn ok(desk: &Desk, method: Method, path: &str, body: Option<Value>) -> Value {
    let response = call(desk, &desk.ada, method, path, body).await;
    let status = response.status();
    assert!(status.is_success(), "{path}: {status}");
    if status == StatusCode::NO_CONTENT {
        return Value::Null;
    }
    expect_json(response, status).await
}

async fn create(desk: &Desk, body: Value) -> Value {
    let response = call(desk, &desk.ada, Method::POST, "/api/v1/people", Some(body)).await;
    expect_json(response, StatusCode::CREATED).await
}

async fn patch(desk: &Desk, id: &str, version: &Value, body: Value) -> reqwest::Response {
    desk.server
        .request(
            Method::PATCH,
            &format!("/api/v1/people/{id}"),
            Some(&desk.ada),
        )
        .header("If-Match", format!("\"{version}\""))
        .json(&body)
        .send()
        .await
        .expect("patch")
}

/// A PATCH that must succeed: the record it answers.
async fn patch_ok(desk: &Desk, id: &str, version: &Value, body: Value) -> Value {
    expect_json(patch(desk, id, version, body).await, StatusCode::OK).await
}

async fn record(desk: &Desk, id: &str) -> Value {
    ok(desk, Method::GET, &format!("/api/v1/people/{id}"), None).await
}

async fn search(desk: &Desk, query: &str) -> Vec<String> {
    let page = ok(desk, Method::GET, &format!("/api/v1/people?{query}"), None).await;
    page["people"]
        .as_array()
        .expect("people")
        .iter()
        .map(|person| {
            person["name"]
                .as_str()
                .or(person["display_name"].as_str())
                .expect("a name")
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_record_is_created_edited_and_refused_field_by_field() {
    let desk = desk().await;
    let ada = create(
        &desk,
        json!({
            "name": "  Ada Byron ",
            "emails": ["Ada@Byron.example", "ada.b@example.org"],
            "organization": "Analytical Engines",
            "phone": "+44 20 7183 8750",
        }),
    )
    .await;
    assert_eq!(ada["kind"], "user");
    assert_eq!(ada["name"], "Ada Byron");
    assert_eq!(
        ada["emails"],
        json!([{"address": "ada@byron.example", "primary": true}, {"address": "ada.b@example.org", "primary": false}])
    );
    assert_eq!(ada["organization"]["name"], "Analytical Engines");
    assert_eq!(ada["phone"], "+442071838750");
    assert_eq!(ada["suppress_auto_replies"], false);
    let id = ada["id"].as_str().expect("id").to_owned();
    assert_eq!(record(&desk, &id).await, ada);

    // Every refusal names its field and leaves the record as it was.
    for (body, field) in [
        (json!({"website": "ftp://example.com"}), "website"),
        (
            json!({"linkedin": "https://example.com/in/ada"}),
            "linkedin",
        ),
        (json!({"facebook": "facebook"}), "facebook"),
        (json!({"twitter": "@not a handle"}), "twitter"),
        (json!({"phone": "020 7183 8750"}), "phone"),
        (json!({"timezone": "Mars/Olympus"}), "timezone"),
        (json!({"summary": "x".repeat(5001)}), "summary"),
        (json!({"name": "   "}), "name"),
        // The valid part of a refused patch is not applied either.
        (json!({"im": "ada.im", "website": "not a url"}), "website"),
    ] {
        let response = patch(&desk, &id, &ada["version"], body.clone()).await;
        expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "validation_failed",
            Some(field),
        )
        .await;
        assert_eq!(record(&desk, &id).await, ada, "after {body}");
    }
    let unknown = patch(&desk, &id, &ada["version"], json!({"nickname": "x"})).await;
    expect_error(
        unknown,
        StatusCode::BAD_REQUEST,
        "unknown_field",
        Some("nickname"),
    )
    .await;

    let response = patch(
        &desk,
        &id,
        &ada["version"],
        json!({
            "website": "adabyron.example",
            "twitter": "https://twitter.com/ada_b",
            "linkedin": "linkedin.com/in/ada",
            "facebook": "https://www.facebook.com/ada",
            "im": "ada@chat.example",
            "address": "12 St James's Square\nLondon",
            "summary": "Prefers email. Writes long, precise tickets.",
            "timezone": "Europe/London",
            "language": "en-GB",
            "organization": "Difference Engines",
            "suppress_auto_replies": true,
        }),
    )
    .await;
    let edited = expect_json(response, StatusCode::OK).await;
    assert_eq!(edited["website"], "https://adabyron.example/");
    assert_eq!(edited["twitter"], "ada_b");
    assert_eq!(edited["linkedin"], "https://linkedin.com/in/ada");
    assert_eq!(edited["organization"]["name"], "Difference Engines");
    assert_eq!(edited["suppress_auto_replies"], true);
    assert_eq!(
        edited["version"],
        ada["version"].as_i64().expect("version") + 1
    );
    let stale = patch(&desk, &id, &ada["version"], json!({"im": "x"})).await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);

    // The change log has a row for each edit, with who, old and new.
    let db = open_database(desk.server.data_dir()).await;
    let log = agent_desk_server::agents::change_log(&db, &id)
        .await
        .expect("log");
    let rows: Vec<(&str, Option<&str>, Option<&str>)> = log
        .iter()
        .map(|row| {
            (
                row.field.as_str(),
                row.old_value.as_deref(),
                row.new_value.as_deref(),
            )
        })
        .collect();
    for expected in [
        ("twitter", None, Some("ada_b")),
        (
            "organization",
            Some("Analytical Engines"),
            Some("Difference Engines"),
        ),
        ("suppress_auto_replies", Some("false"), Some("true")),
    ] {
        assert!(rows.contains(&expected), "{expected:?} in {rows:?}");
    }
    assert!(log.iter().all(|row| !row.actor_id.is_empty()));
}

#[tokio::test]
async fn an_email_belongs_to_one_person_and_one_is_always_primary() {
    let desk = desk().await;
    let ada = create(
        &desk,
        json!({"name": "Ada", "emails": ["ada@byron.example"]}),
    )
    .await;
    let id = ada["id"].as_str().expect("id").to_owned();

    for (body, field) in [
        (
            json!({"name": "Copy", "emails": ["ADA@byron.example"]}),
            "emails[0]",
        ),
        (
            json!({"name": "Copy", "emails": ["new@example.com", "ada@byron.example"]}),
            "emails[1]",
        ),
    ] {
        let response = call(&desk, &desk.ada, Method::POST, "/api/v1/people", Some(body)).await;
        expect_error(response, StatusCode::CONFLICT, "conflict", Some(field)).await;
    }
    for (body, field) in [
        (json!({"name": "No email", "emails": []}), "emails"),
        (
            json!({"name": "Bad", "emails": ["not-an-email"]}),
            "emails[0]",
        ),
        (
            json!({"name": "Twice", "emails": ["t@example.com", "T@example.com"]}),
            "emails[1]",
        ),
    ] {
        let response = call(&desk, &desk.ada, Method::POST, "/api/v1/people", Some(body)).await;
        expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "validation_failed",
            Some(field),
        )
        .await;
    }
    assert_eq!(
        search(&desk, "kind=user").await,
        ["Ada"],
        "nothing else was made"
    );
    let taken = call(
        &desk,
        &desk.ada,
        Method::POST,
        "/api/v1/people",
        Some(json!({"name": "B", "emails": ["new@example.com"]})),
    )
    .await;
    expect_json(taken, StatusCode::CREATED).await;

    let emails = format!("/api/v1/people/{id}/emails");
    let duplicate = call(
        &desk,
        &desk.ada,
        Method::POST,
        &emails,
        Some(json!({"address": "new@example.com"})),
    )
    .await;
    expect_error(duplicate, StatusCode::CONFLICT, "conflict", Some("address")).await;
    let last = call(
        &desk,
        &desk.ada,
        Method::DELETE,
        &format!("{emails}/ada@byron.example"),
        None,
    )
    .await;
    expect_error(last, StatusCode::CONFLICT, "conflict", Some("address")).await;

    let added = ok(
        &desk,
        Method::POST,
        &emails,
        Some(json!({"address": "ada@work.example"})),
    )
    .await;
    assert_eq!(added["emails"].as_array().expect("emails").len(), 2);
    let primary = call(
        &desk,
        &desk.ada,
        Method::DELETE,
        &format!("{emails}/ada@byron.example"),
        None,
    )
    .await;
    expect_error(primary, StatusCode::CONFLICT, "conflict", Some("address")).await;

    // Making another primary is one call, and leaves exactly one primary.
    let switched = ok(
        &desk,
        Method::POST,
        &format!("{emails}/ada@work.example/primary"),
        None,
    )
    .await;
    assert_eq!(
        switched["emails"],
        json!([{"address": "ada@work.example", "primary": true}, {"address": "ada@byron.example", "primary": false}])
    );
    // And back, to the address stored first: the switch never holds two primaries,
    // whatever order the rows are in.
    let back = ok(
        &desk,
        Method::POST,
        &format!("{emails}/ada@byron.example/primary"),
        None,
    )
    .await;
    assert_eq!(
        back["emails"][0],
        json!({"address": "ada@byron.example", "primary": true})
    );
    ok(
        &desk,
        Method::POST,
        &format!("{emails}/ada@work.example/primary"),
        None,
    )
    .await;
    let removed = ok(
        &desk,
        Method::DELETE,
        &format!("{emails}/ada@byron.example"),
        None,
    )
    .await;
    assert_eq!(
        removed["emails"],
        json!([{"address": "ada@work.example", "primary": true}])
    );
    let gone = call(
        &desk,
        &desk.ada,
        Method::DELETE,
        &format!("{emails}/ada@byron.example"),
        None,
    )
    .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // An agent's record is their own profile: not edited here.
    let agents = ok(
        &desk,
        Method::GET,
        "/api/v1/people?kind=agent&q=grace",
        None,
    )
    .await;
    let grace = agents["people"][0]["id"]
        .as_str()
        .expect("Grace")
        .to_owned();
    let response = patch(&desk, &grace, &json!(1), json!({"name": "Renamed"})).await;
    expect_error(response, StatusCode::FORBIDDEN, "forbidden", None).await;
    let note = call(
        &desk,
        &desk.ada,
        Method::POST,
        &format!("/api/v1/people/{grace}/notes"),
        Some(json!({"body": "hi"})),
    )
    .await;
    expect_error(note, StatusCode::FORBIDDEN, "forbidden", None).await;
}

#[tokio::test]
async fn notes_are_added_by_agents_and_changed_only_by_their_authors() {
    let desk = desk().await;
    let ada = create(
        &desk,
        json!({"name": "Ada", "emails": ["ada@byron.example"]}),
    )
    .await;
    let notes = format!("/api/v1/people/{}/notes", ada["id"].as_str().expect("id"));
    let first = ok(
        &desk,
        Method::POST,
        &notes,
        Some(json!({"body": "Called about invoice 1842."})),
    )
    .await;
    assert_eq!(first["author_name"], NAME);
    let by_grace = call(
        &desk,
        &desk.grace,
        Method::POST,
        &notes,
        Some(json!({"body": "Follow-up sent."})),
    )
    .await;
    let second = expect_json(by_grace, StatusCode::CREATED).await;

    let page = ok(&desk, Method::GET, &notes, None).await;
    assert_eq!(page["total"], 2);
    assert_eq!(page["notes"][0]["id"], second["id"], "newest first");

    let note = format!("/api/v1/notes/{}", first["id"].as_str().expect("id"));
    let edit = call(
        &desk,
        &desk.grace,
        Method::PATCH,
        &note,
        Some(json!({"body": "mine now"})),
    )
    .await;
    expect_error(edit, StatusCode::FORBIDDEN, "forbidden", None).await;
    let delete = call(&desk, &desk.grace, Method::DELETE, &note, None).await;
    expect_error(delete, StatusCode::FORBIDDEN, "forbidden", None).await;
    let edited = ok(
        &desk,
        Method::PATCH,
        &note,
        Some(json!({"body": "Called about invoice 1843."})),
    )
    .await;
    assert_eq!(edited["body"], "Called about invoice 1843.");

    let oversized = call(
        &desk,
        &desk.ada,
        Method::POST,
        &notes,
        Some(json!({"body": "x".repeat(10_001)})),
    )
    .await;
    expect_error(
        oversized,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("body"),
    )
    .await;
    let empty = call(
        &desk,
        &desk.ada,
        Method::POST,
        &notes,
        Some(json!({"body": "  "})),
    )
    .await;
    expect_error(
        empty,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("body"),
    )
    .await;

    ok(&desk, Method::DELETE, &note, None).await;
    let page = ok(&desk, Method::GET, &notes, None).await;
    assert_eq!(page["total"], 1);

    // Pages of notes, newest first, with nothing skipped or repeated.
    for index in 0..7 {
        ok(
            &desk,
            Method::POST,
            &notes,
            Some(json!({"body": format!("note {index}")})),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut path = format!("{notes}?limit=3");
    loop {
        let page = ok(&desk, Method::GET, &path, None).await;
        seen.extend(
            page["notes"]
                .as_array()
                .expect("notes")
                .iter()
                .map(|note| note["body"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{notes}?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8);
    assert_eq!(seen[0], "note 6");
    assert_eq!(seen[7], "Follow-up sent.");
}

#[tokio::test]
async fn the_directory_finds_users_and_agents_together() {
    let desk = desk().await;
    create(&desk, json!({"name": "Ada Byron", "emails": ["ada@byron.example"], "organization": "Analytical Engines", "phone": "+442071838750"})).await;
    create(&desk, json!({"name": "Charles Babbage", "emails": ["charles@engines.example"], "organization": "Analytical Engines"})).await;
    create(
        &desk,
        json!({"name": "Émile Zola", "emails": ["emile@paris.example"]}),
    )
    .await;

    assert_eq!(search(&desk, "kind=user&q=ada").await, ["Ada Byron"]);
    assert_eq!(
        search(&desk, "kind=user&q=engines").await,
        ["Ada Byron", "Charles Babbage"]
    );
    assert_eq!(
        search(&desk, "kind=user&q=charles%40engines.example").await,
        ["Charles Babbage"]
    );
    assert_eq!(
        search(&desk, "kind=user&q=7183%208750").await,
        ["Ada Byron"]
    );
    assert_eq!(
        search(&desk, "kind=user&q=emile").await,
        ["Émile Zola"],
        "accents aside"
    );
    assert_eq!(
        search(&desk, "kind=user&q=ada%20babbage").await,
        Vec::<String>::new()
    );
    // Agents and users in one list by name; the agents are Ada Lovelace and Grace Hopper.
    assert_eq!(search(&desk, "q=ada").await, ["Ada Byron", "Ada Lovelace"]);
    assert_eq!(
        search(&desk, "sort=-name&limit=100").await,
        [
            "Émile Zola",
            "Grace Hopper",
            "Charles Babbage",
            "Ada Lovelace",
            "Ada Byron"
        ]
    );
    let org = ok(&desk, Method::GET, "/api/v1/people?kind=user&q=ada", None).await["people"][0]
        ["organization"]["id"]
        .as_str()
        .expect("org id")
        .to_owned();
    assert_eq!(
        search(&desk, &format!("org={org}")).await,
        ["Ada Byron", "Charles Babbage"]
    );
    // The organizations the filter offers: those with people, with how many.
    let organizations = ok(&desk, Method::GET, "/api/v1/organizations", None).await;
    assert_eq!(
        organizations,
        json!({"organizations": [{"id": org, "name": "Analytical Engines", "people": 2}]})
    );

    // Two at a time through everyone, agents and users, nothing skipped or repeated.
    let mut names = Vec::new();
    let mut path = "/api/v1/people?limit=2".to_owned();
    loop {
        let page = ok(&desk, Method::GET, &path, None).await;
        for person in page["people"].as_array().expect("people") {
            names.push(
                person["name"]
                    .as_str()
                    .or(person["display_name"].as_str())
                    .expect("name")
                    .to_owned(),
            );
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/people?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(
        names,
        [
            "Ada Byron",
            "Ada Lovelace",
            "Charles Babbage",
            "Grace Hopper",
            "Émile Zola"
        ]
    );
}

/// Every page of `query`, `limit` at a time, following `next_cursor`: the names in order.
async fn all_pages(desk: &Desk, query: &str, limit: usize) -> Vec<String> {
    let mut names = Vec::new();
    let mut path = format!("/api/v1/people?{query}&limit={limit}");
    loop {
        let page = ok(desk, Method::GET, &path, None).await;
        let people = page["people"].as_array().expect("people");
        assert!(people.len() <= limit, "{path}: a page of {limit} at most");
        names.extend(people.iter().map(|person| {
            person["name"]
                .as_str()
                .or(person["display_name"].as_str())
                .expect("a name")
                .to_owned()
        }));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/people?{query}&limit={limit}&cursor={cursor}"),
            None => return names,
        }
    }
}

/// A search paged in either order, and within an organization, sees each match once,
/// in name order; a record's new name and organization move it in both.
#[tokio::test]
async fn searches_page_in_name_order_within_an_organization_and_follow_edits() {
    let desk = desk().await;
    for (name, email, organization) in [
        (
            "Mary Somerville",
            "mary@engines.example",
            "Analytical Engines",
        ),
        ("Marie Curie", "marie@radium.example", "Radium Institute"),
        (
            "Martha Ballard",
            "martha@engines.example",
            "Analytical Engines",
        ),
        ("Mark Kac", "mark@radium.example", "Radium Institute"),
        (
            "Maryam Mirzakhani",
            "maryam@engines.example",
            "Analytical Engines",
        ),
        ("Tom Marsh", "tom@marsh.example", "Analytical Engines"),
    ] {
        create(
            &desk,
            json!({"name": name, "emails": [email], "organization": organization}),
        )
        .await;
    }
    let everyone = [
        "Marie Curie",
        "Mark Kac",
        "Martha Ballard",
        "Mary Somerville",
        "Maryam Mirzakhani",
        "Tom Marsh",
    ];
    assert_eq!(all_pages(&desk, "kind=user&q=mar", 2).await, everyone);
    let mut backwards = everyone.to_vec();
    backwards.reverse();
    assert_eq!(
        all_pages(&desk, "kind=user&q=mar&sort=-name", 4).await,
        backwards
    );

    let engines = ok(
        &desk,
        Method::GET,
        "/api/v1/people?kind=user&q=somerville",
        None,
    )
    .await["people"][0]["organization"]["id"]
        .as_str()
        .expect("organization id")
        .to_owned();
    assert_eq!(
        all_pages(&desk, &format!("kind=user&q=mar&org={engines}"), 1).await,
        [
            "Martha Ballard",
            "Mary Somerville",
            "Maryam Mirzakhani",
            "Tom Marsh"
        ]
    );

    // Marie Curie becomes Marie Sklodowska at the engines: she moves in the order and
    // into the organization; the old name finds her no more.
    let marie =
        ok(&desk, Method::GET, "/api/v1/people?kind=user&q=curie", None).await["people"][0].clone();
    let id = marie["id"].as_str().expect("id");
    let changed = patch(
        &desk,
        id,
        &marie["version"],
        json!({"name": "Zofia Sklodowska", "organization": "Analytical Engines"}),
    )
    .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(
        all_pages(&desk, &format!("kind=user&q=mar&org={engines}"), 2).await,
        [
            "Martha Ballard",
            "Mary Somerville",
            "Maryam Mirzakhani",
            "Tom Marsh",
            "Zofia Sklodowska"
        ],
        "found by her email's marie, in her new place in the order"
    );
    assert_eq!(
        search(&desk, "kind=user&q=curie").await,
        Vec::<String>::new()
    );
    assert_eq!(
        all_pages(&desk, "kind=user&q=engines&sort=-name", 3).await,
        [
            "Zofia Sklodowska",
            "Tom Marsh",
            "Maryam Mirzakhani",
            "Mary Somerville",
            "Martha Ballard"
        ]
    );
}

#[tokio::test]
async fn the_change_log_and_activity_tell_who_did_what_when() {
    let desk = desk().await;
    let ada = create(
        &desk,
        json!({"name": "Ada", "emails": ["ada@byron.example"]}),
    )
    .await;
    let id = ada["id"].as_str().expect("id").to_owned();
    let edited = patch(
        &desk,
        &id,
        &ada["version"],
        json!({"summary": "Prefers email."}),
    )
    .await;
    expect_json(edited, StatusCode::OK).await;
    let note = call(
        &desk,
        &desk.grace,
        Method::POST,
        &format!("/api/v1/people/{id}/notes"),
        Some(json!({"body": "Called back."})),
    )
    .await;
    let note = expect_json(note, StatusCode::CREATED).await;
    let note_path = format!("/api/v1/notes/{}", note["id"].as_str().expect("note id"));
    let deleted = call(&desk, &desk.grace, Method::DELETE, &note_path, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    let log = ok(
        &desk,
        Method::GET,
        &format!("/api/v1/people/{id}/changes"),
        None,
    )
    .await;
    let changes = log["changes"].as_array().expect("changes");
    let summary: Vec<(&str, &str, &Value, &Value)> = changes
        .iter()
        .map(|change| {
            (
                change["field"].as_str().expect("field"),
                change["actor_name"].as_str().expect("actor"),
                &change["old_value"],
                &change["new_value"],
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("note", "Grace Hopper", &json!("Called back."), &Value::Null),
            ("summary", NAME, &Value::Null, &json!("Prefers email.")),
            ("created", NAME, &Value::Null, &json!("Ada")),
        ],
        "newest first: {log}"
    );

    let stream = ok(
        &desk,
        Method::GET,
        &format!("/api/v1/people/{id}/activity"),
        None,
    )
    .await;
    let kinds: Vec<&str> = stream["activity"]
        .as_array()
        .expect("activity")
        .iter()
        .map(|entry| entry["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        ["change", "change", "change"],
        "the deleted note shows as its change: {stream}"
    );
    let kept = call(
        &desk,
        &desk.ada,
        Method::POST,
        &format!("/api/v1/people/{id}/notes"),
        Some(json!({"body": "Sent the invoice."})),
    )
    .await;
    expect_json(kept, StatusCode::CREATED).await;
    let stream = ok(
        &desk,
        Method::GET,
        &format!("/api/v1/people/{id}/activity"),
        None,
    )
    .await;
    assert_eq!(stream["activity"][0]["kind"], "note");
    assert_eq!(stream["activity"][0]["body"], "Sent the invoice.");
    assert_eq!(stream["activity"][0]["author_name"], NAME);

    // An agent's own history is theirs and admins' only.
    let agents = ok(
        &desk,
        Method::GET,
        "/api/v1/people?kind=agent&q=grace",
        None,
    )
    .await;
    let grace = agents["people"][0]["id"]
        .as_str()
        .expect("Grace")
        .to_owned();
    for what in ["changes", "activity"] {
        let path = format!("/api/v1/people/{grace}/{what}");
        let other = call(&desk, &desk.ada, Method::GET, &path, None).await;
        expect_error(other, StatusCode::FORBIDDEN, "forbidden", None).await;
        let own = call(&desk, &desk.grace, Method::GET, &path, None).await;
        assert_eq!(own.status(), StatusCode::OK, "{what}");
    }
    let missing = call(
        &desk,
        &desk.ada,
        Method::GET,
        "/api/v1/people/nobody/changes",
        None,
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admins_define_fields_and_records_hold_values_of_their_kind() {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    add_agent_ok(dir.path(), OTHER_EMAIL, "Grace Hopper", PASSWORD);
    add_admin_ok(dir.path());
    let server = Server::start(dir).await;
    let desk = Desk {
        ada: server.login(EMAIL, PASSWORD).await,
        grace: server.login(OTHER_EMAIL, PASSWORD).await,
        server,
    };
    let admin = desk.server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let define = |token: String, body: Value| {
        let request =
            desk.server
                .request(Method::POST, "/api/v1/admin/custom-fields", Some(&token));
        async move { request.json(&body).send().await.expect("define") }
    };
    let refused = define(desk.ada.clone(), json!({"name": "Plan", "kind": "text"})).await;
    expect_error(refused, StatusCode::FORBIDDEN, "forbidden", None).await;
    let plan = expect_json(
        define(
            admin.clone(),
            json!({"name": "Plan", "kind": "choice", "choices": ["Free", "Team"]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let seats = expect_json(
        define(admin.clone(), json!({"name": "Seats", "kind": "number"})).await,
        StatusCode::CREATED,
    )
    .await;
    let renewal = expect_json(
        define(admin.clone(), json!({"name": "Renewal", "kind": "date"})).await,
        StatusCode::CREATED,
    )
    .await;
    for (body, status, code, field) in [
        (
            json!({"name": "Plan", "kind": "text"}),
            StatusCode::CONFLICT,
            "conflict",
            "name",
        ),
        (
            json!({"name": "Tier", "kind": "choice"}),
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "choices",
        ),
        (
            json!({"name": "Tier", "kind": "text", "choices": ["a"]}),
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "choices",
        ),
        (
            json!({"name": "Tier", "kind": "colour"}),
            StatusCode::BAD_REQUEST,
            "wrong_type",
            "kind",
        ),
    ] {
        expect_error(define(admin.clone(), body).await, status, code, Some(field)).await;
    }
    let listed = ok(&desk, Method::GET, "/api/v1/custom-fields", None).await;
    assert_eq!(listed.as_array().expect("fields").len(), 3);

    let ada = create(
        &desk,
        json!({"name": "Ada", "emails": ["ada@byron.example"]}),
    )
    .await;
    let id = ada["id"].as_str().expect("id").to_owned();
    let values: Vec<&Value> = ada["custom_fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|entry| &entry["value"])
        .collect();
    assert_eq!(
        values,
        [&Value::Null, &Value::Null, &Value::Null],
        "no values yet: {ada}"
    );

    let plan_id = plan["id"].as_str().expect("id");
    let seats_id = seats["id"].as_str().expect("id");
    let renewal_id = renewal["id"].as_str().expect("id");
    for (values, field) in [
        (json!({plan_id: "Gold"}), format!("custom_fields.{plan_id}")),
        (
            json!({seats_id: "twelve"}),
            format!("custom_fields.{seats_id}"),
        ),
        (
            json!({renewal_id: "31.03.2027"}),
            format!("custom_fields.{renewal_id}"),
        ),
        (
            json!({"no-such-field": "x"}),
            "custom_fields.no-such-field".to_owned(),
        ),
        // One bad value refuses the good ones beside it.
        (
            json!({plan_id: "Team", seats_id: "many"}),
            format!("custom_fields.{seats_id}"),
        ),
    ] {
        let response = patch(
            &desk,
            &id,
            &ada["version"],
            json!({"custom_fields": values}),
        )
        .await;
        expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "validation_failed",
            Some(&field),
        )
        .await;
        assert_eq!(record(&desk, &id).await, ada);
    }
    let response = patch(
        &desk,
        &id,
        &ada["version"],
        json!({"custom_fields": {plan_id: "Team", seats_id: "12", renewal_id: "2027-03-31"}}),
    )
    .await;
    let set = expect_json(response, StatusCode::OK).await;
    let value_of = |record: &Value, field_id: &str| {
        record["custom_fields"]
            .as_array()
            .expect("fields")
            .iter()
            .find(|entry| entry["field"]["id"] == field_id)
            .map(|entry| entry["value"].clone())
            .expect("the field")
    };
    assert_eq!(value_of(&set, plan_id), "Team");
    assert_eq!(value_of(&set, renewal_id), "2027-03-31");
    let cleared = patch(
        &desk,
        &id,
        &set["version"],
        json!({"custom_fields": {seats_id: ""}}),
    )
    .await;
    let cleared = expect_json(cleared, StatusCode::OK).await;
    assert_eq!(value_of(&cleared, seats_id), Value::Null);

    let log = ok(
        &desk,
        Method::GET,
        &format!("/api/v1/people/{id}/changes"),
        None,
    )
    .await;
    let rows: Vec<(&str, &Value, &Value)> = log["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|change| {
            (
                change["field"].as_str().expect("field"),
                &change["old_value"],
                &change["new_value"],
            )
        })
        .collect();
    assert!(
        rows.contains(&("custom:Plan", &Value::Null, &json!("Team"))),
        "{rows:?}"
    );
    assert!(
        rows.contains(&("custom:Seats", &json!("12"), &Value::Null)),
        "{rows:?}"
    );
}

#[tokio::test]
async fn merging_two_records_keeps_everything() {
    let desk = desk().await;
    let work = create(
        &desk,
        json!({"name": "Ada Byron", "emails": ["ada@work.example"], "phone": "+442071838750"}),
    )
    .await;
    let home = create(
        &desk,
        json!({"name": "Ada B.", "emails": ["ada@home.example", "countess@home.example"], "organization": "Analytical Engines", "phone": "+442071838799"}),
    )
    .await;
    let (work_id, home_id) = (
        work["id"].as_str().expect("id").to_owned(),
        home["id"].as_str().expect("id").to_owned(),
    );
    let edited = patch(
        &desk,
        &home_id,
        &home["version"],
        json!({"summary": "Writes from home on weekends."}),
    )
    .await;
    expect_json(edited, StatusCode::OK).await;
    for (id, body) in [
        (&work_id, "Work note."),
        (&home_id, "Home note."),
        (&home_id, "Second home note."),
    ] {
        ok(
            &desk,
            Method::POST,
            &format!("/api/v1/people/{id}/notes"),
            Some(json!({"body": body})),
        )
        .await;
    }

    let into_itself = call(
        &desk,
        &desk.ada,
        Method::POST,
        &format!("/api/v1/people/{work_id}/merge"),
        Some(json!({"source": work_id})),
    )
    .await;
    expect_error(
        into_itself,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("source"),
    )
    .await;
    let unknown = call(
        &desk,
        &desk.ada,
        Method::POST,
        &format!("/api/v1/people/{work_id}/merge"),
        Some(json!({"source": "nobody"})),
    )
    .await;
    expect_error(
        unknown,
        StatusCode::BAD_REQUEST,
        "validation_failed",
        Some("source"),
    )
    .await;

    let merged = ok(
        &desk,
        Method::POST,
        &format!("/api/v1/people/{work_id}/merge"),
        Some(json!({"source": home_id})),
    )
    .await;
    // Every email, the target's primary still primary and the only one.
    let emails: Vec<(&str, bool)> = merged["emails"]
        .as_array()
        .expect("emails")
        .iter()
        .map(|email| {
            (
                email["address"].as_str().expect("address"),
                email["primary"].as_bool().expect("primary"),
            )
        })
        .collect();
    assert_eq!(
        emails,
        [
            ("ada@work.example", true),
            ("ada@home.example", false),
            ("countess@home.example", false)
        ]
    );
    // Blanks filled from the other record; where both had a value, this one's stays.
    assert_eq!(merged["organization"]["name"], "Analytical Engines");
    assert_eq!(merged["summary"], "Writes from home on weekends.");
    assert_eq!(merged["phone"], "+442071838750");
    assert_eq!(merged["name"], "Ada Byron");

    let notes = ok(
        &desk,
        Method::GET,
        &format!("/api/v1/people/{work_id}/notes"),
        None,
    )
    .await;
    assert_eq!(notes["total"], 3);
    let gone = call(
        &desk,
        &desk.ada,
        Method::GET,
        &format!("/api/v1/people/{home_id}"),
        None,
    )
    .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(search(&desk, "kind=user&q=countess").await, ["Ada Byron"]);
    assert_eq!(
        search(&desk, "kind=user&q=B.").await,
        ["Ada Byron"],
        "one record now"
    );

    // The other values and both histories are kept, and the merge is in both logs.
    let log = ok(
        &desk,
        Method::GET,
        &format!("/api/v1/people/{work_id}/changes"),
        None,
    )
    .await;
    let rows: Vec<(&str, &Value, &Value)> = log["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|change| {
            (
                change["field"].as_str().expect("field"),
                &change["old_value"],
                &change["new_value"],
            )
        })
        .collect();
    assert!(
        rows.contains(&(
            "merged:phone",
            &json!("+442071838799"),
            &json!("+442071838750")
        )),
        "{rows:?}"
    );
    assert!(
        rows.contains(&("merged:name", &json!("Ada B."), &json!("Ada Byron"))),
        "{rows:?}"
    );
    assert!(
        rows.contains(&(
            "summary",
            &Value::Null,
            &json!("Writes from home on weekends.")
        )),
        "{rows:?}"
    );
    assert!(rows.iter().any(|(field, old, _)| *field == "merged"
        && old.as_str().is_some_and(|old| old.contains(&home_id))));
    assert_eq!(
        rows.iter()
            .filter(|(field, ..)| *field == "created")
            .count(),
        2,
        "both creations: {rows:?}"
    );
    let db = open_database(desk.server.data_dir()).await;
    let source_log = agent_desk_server::agents::change_log(&db, &home_id)
        .await
        .expect("log");
    assert_eq!(source_log.len(), 1);
    assert_eq!(source_log[0].field, "merged_into");
    assert!(source_log[0]
        .new_value
        .as_deref()
        .is_some_and(|new| new.contains(&work_id)));
}

#[tokio::test]
async fn usergroups_are_set_as_a_whole_and_kept_by_a_merge() {
    let desk = desk().await;
    let ada = create(
        &desk,
        json!({"name": "Ada", "emails": ["ada@byron.example"]}),
    )
    .await;
    let id = ada["id"].as_str().expect("id").to_owned();
    assert_eq!(ada["usergroups"], json!([]));
    for (groups, field) in [
        (json!(["VIP", "vip"]), "usergroups[1]"),
        (json!(["  "]), "usergroups[0]"),
    ] {
        let response = patch(&desk, &id, &ada["version"], json!({"usergroups": groups})).await;
        expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "validation_failed",
            Some(field),
        )
        .await;
    }
    let response = patch(
        &desk,
        &id,
        &ada["version"],
        json!({"usergroups": ["VIP", " beta testers "]}),
    )
    .await;
    let set = expect_json(response, StatusCode::OK).await;
    assert_eq!(set["usergroups"], json!(["beta testers", "VIP"]));
    // Ordered by their lowercase whatever the letters, on either database (SQLite's
    // lower() leaves Á as it is, so it would sort Ázz before ába).
    let accented = patch_ok(
        &desk,
        &id,
        &set["version"],
        json!({"usergroups": ["Ázz", "ába", "VIP"]}),
    )
    .await;
    assert_eq!(accented["usergroups"], json!(["VIP", "ába", "Ázz"]));
    let accented = patch_ok(
        &desk,
        &id,
        &accented["version"],
        json!({"usergroups": ["ába", "VIP", "Ázz"]}),
    )
    .await;
    assert_eq!(accented["usergroups"], json!(["VIP", "ába", "Ázz"]));
    let fewer = patch_ok(
        &desk,
        &id,
        &accented["version"],
        json!({"usergroups": ["VIP"]}),
    )
    .await;
    assert_eq!(fewer["usergroups"], json!(["VIP"]));

    let other = create(
        &desk,
        json!({"name": "Ada B.", "emails": ["ada@home.example"]}),
    )
    .await;
    let other_id = other["id"].as_str().expect("id").to_owned();
    let response = patch(
        &desk,
        &other_id,
        &other["version"],
        json!({"usergroups": ["Newsletter", "VIP"]}),
    )
    .await;
    expect_json(response, StatusCode::OK).await;
    let merged = ok(
        &desk,
        Method::POST,
        &format!("/api/v1/people/{id}/merge"),
        Some(json!({"source": other_id})),
    )
    .await;
    assert_eq!(merged["usergroups"], json!(["Newsletter", "VIP"]));

    let log = ok(
        &desk,
        Method::GET,
        &format!("/api/v1/people/{id}/changes"),
        None,
    )
    .await;
    let groups: Vec<(&Value, &Value)> = log["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|change| change["field"] == "usergroups")
        .map(|change| (&change["old_value"], &change["new_value"]))
        .collect();
    assert!(
        groups.contains(&(&json!("beta testers, VIP"), &json!("VIP, ába, Ázz"))),
        "{groups:?}"
    );
    assert!(
        groups.contains(&(&json!("VIP, ába, Ázz"), &json!("VIP"))),
        "{groups:?}"
    );
    assert_eq!(
        groups
            .iter()
            .filter(|(_, new)| **new == json!("VIP, ába, Ázz"))
            .count(),
        1,
        "the same groups given again in another order change nothing: {groups:?}"
    );
    assert!(
        groups.contains(&(&json!("VIP"), &json!("Newsletter, VIP"))),
        "{groups:?}"
    );
}

#[tokio::test]
async fn each_record_has_its_own_number_found_with_or_without_its_mark() {
    let desk = &desk().await;
    // Made at the same moment by two agents: each takes its own number.
    let made = futures_util::future::join_all((0..8).map(|n| {
        let token = if n % 2 == 0 { &desk.ada } else { &desk.grace };
        let body =
            json!({"name": format!("Customer {n}"), "emails": [format!("c{n}@example.com")]});
        async move {
            let response = desk
                .server
                .call(token, Method::POST, "/api/v1/people", Some(body))
                .await;
            expect_json(response, StatusCode::CREATED).await
        }
    }))
    .await;
    let mut numbers: Vec<i64> = made
        .iter()
        .map(|record| record["number"].as_i64().expect("a number"))
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=8).collect::<Vec<_>>(), "{made:?}");

    // `3` finds the record numbered 3 and, in the text, "Customer 3" (the same record or
    // another); `#3` only the record numbered 3.
    let phone = create(
        desk,
        json!({"name": "Zoe Phone", "emails": ["zoe@example.com"], "phone": "+442071838333"}),
    )
    .await;
    assert_eq!(phone["number"], 9);
    let third = made
        .iter()
        .find(|record| record["number"] == 3)
        .expect("record 3");
    let third_name = third["name"].as_str().expect("name").to_owned();
    let mut by_digits = search(desk, "q=3").await;
    by_digits.sort();
    let mut expected = vec![third_name.clone(), "Customer 3".to_owned()];
    expected.sort();
    expected.dedup();
    assert_eq!(by_digits, expected);
    assert_eq!(search(desk, "q=%233").await, [third_name.as_str()]);
    assert_eq!(search(desk, "q=%23%203").await, [third_name.as_str()]);
    assert_eq!(search(desk, "q=1838333").await, ["Zoe Phone"]);
    assert_eq!(search(desk, "q=%231838333").await, Vec::<String>::new());
    assert_eq!(search(desk, "q=%2399").await, Vec::<String>::new());
    assert_eq!(
        search(desk, "q=9").await,
        ["Zoe Phone"],
        "the number 9 is Zoe's"
    );
    assert_eq!(
        record(desk, third["id"].as_str().expect("id")).await["number"],
        3
    );

    // A merge keeps the number of the record that stays; the other's is not reused.
    let kept = third["id"].as_str().expect("id");
    let gone = made
        .iter()
        .find(|record| record["number"] == 4)
        .and_then(|record| record["id"].as_str())
        .expect("record 4");
    ok(
        desk,
        Method::POST,
        &format!("/api/v1/people/{kept}/merge"),
        Some(json!({"source": gone})),
    )
    .await;
    assert_eq!(record(desk, kept).await["number"], 3);
    assert_eq!(search(desk, "q=%234").await, Vec::<String>::new());
    let next = create(
        desk,
        json!({"name": "Next One", "emails": ["next@example.com"]}),
    )
    .await;
    assert_eq!(next["number"], 10);
}

//! Privacy the server enforces, over real HTTP against the real binary: every field of
//! an agent as seen by themselves, a colleague of the same department, one of another
//! department and an admin, under every visibility and contact preference, in the
//! record, in the directory listing and in what a search can find.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

const SAME_EMAIL: &str = "grace@example.com";
const OTHER_EMAIL: &str = "linus@example.com";

/// Every field of a colleague's record and what has to hold for a viewer to get it.
const FIELDS: &[(&str, Needs)] = &[
    ("id", Needs::Nothing),
    ("display_name", Needs::Nothing),
    ("avatar_url", Needs::Nothing),
    ("emails", Needs::Details),
    ("job_title", Needs::Details),
    ("department", Needs::Details),
    ("office_location", Needs::Details),
    ("timezone", Needs::Details),
    ("language", Needs::Details),
    ("teams", Needs::Details),
    ("visibility", Needs::Details),
    ("contact_prefs", Needs::Details),
    ("phone", Needs::Phones),
    ("mobile", Needs::Phones),
    ("status", Needs::Status),
    ("status_until", Needs::Status),
];

/// Never shown to anyone through the directory.
const NEVER: &[&str] = &[
    "email",
    "signature",
    "use_signature",
    "operator_id",
    "password_hash",
];

#[derive(Debug, Clone, Copy)]
enum Needs {
    Nothing,
    Details,
    Phones,
    Status,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Viewer {
    Myself,
    SameDepartment,
    OtherDepartment,
    Admin,
}

struct Setting {
    visibility: &'static str,
    show_phone: bool,
    show_online_status: bool,
}

fn expected(viewer: Viewer, setting: &Setting, needs: Needs) -> bool {
    let everything = matches!(viewer, Viewer::Myself | Viewer::Admin);
    let details = everything
        || match setting.visibility {
            "public" => true,
            "department" => viewer == Viewer::SameDepartment,
            _ => false,
        };
    match needs {
        Needs::Nothing => true,
        Needs::Details => details,
        Needs::Phones => details && (everything || setting.show_phone),
        Needs::Status => details && (everything || setting.show_online_status),
    }
}

struct Desk {
    server: Server,
    subject: String,
    subject_id: String,
    viewers: Vec<(Viewer, String)>,
}

async fn desk() -> Desk {
    let dir = tempfile::tempdir().expect("temp dir");
    add_agent_ok(dir.path(), EMAIL, NAME, PASSWORD);
    add_agent_ok(dir.path(), SAME_EMAIL, "Grace Hopper", PASSWORD);
    add_agent_ok(dir.path(), OTHER_EMAIL, "Linus Torvalds", PASSWORD);
    add_admin_ok(dir.path());
    let server = Server::start(dir).await;
    let subject = server.login(EMAIL, PASSWORD).await;
    let same = server.login(SAME_EMAIL, PASSWORD).await;
    let other = server.login(OTHER_EMAIL, PASSWORD).await;
    let admin = server.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let (me, etag) = server.me(&subject).await;
    server
        .patch_ok(
            &subject,
            &etag,
            &json!({
                "job_title": "Billing specialist",
                "department": "Billing",
                "phone": "+44 20 7183 8750",
                "office_location": "London",
                "timezone": "Europe/London",
            }),
        )
        .await;
    let (_, etag) = server.me(&same).await;
    // Departments are free text: the same one in other letters is the same.
    server
        .patch_ok(&same, &etag, &json!({"department": " BILLING"}))
        .await;
    let (_, etag) = server.me(&other).await;
    server
        .patch_ok(&other, &etag, &json!({"department": "Sales"}))
        .await;
    approve_departments(&server, &admin).await;
    let team = server
        .request(Method::POST, "/api/v1/admin/teams", Some(&admin))
        .json(&json!({"name": "Escalations", "leads": [], "members": [EMAIL]}))
        .send()
        .await
        .expect("create team");
    expect_json(team, StatusCode::CREATED).await;

    Desk {
        subject_id: me["id"].as_str().expect("id").to_owned(),
        viewers: vec![
            (Viewer::Myself, subject.clone()),
            (Viewer::SameDepartment, same),
            (Viewer::OtherDepartment, other),
            (Viewer::Admin, admin),
        ],
        subject,
        server,
    }
}

async fn get(server: &Server, token: &str, path: &str) -> Value {
    let response = server
        .request(Method::GET, path, Some(token))
        .send()
        .await
        .expect("request");
    expect_json(response, StatusCode::OK).await
}

/// The subject as found by searching `q`, if found.
async fn search(desk: &Desk, token: &str, q: &str) -> Option<Value> {
    let page = get(
        &desk.server,
        token,
        &format!("/api/v1/people?kind=agent&q={}", urlencode(q)),
    )
    .await;
    page["people"]
        .as_array()
        .expect("people")
        .iter()
        .find(|person| person["id"] == desk.subject_id.as_str())
        .cloned()
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn check_fields(record: &Value, viewer: Viewer, setting: &Setting, context: &str) {
    let object = record.as_object().expect("a record is an object");
    assert_eq!(record["kind"], "agent", "{context}");
    for (field, needs) in FIELDS {
        assert_eq!(
            object.contains_key(*field),
            expected(viewer, setting, *needs),
            "{field} for {viewer:?} with {} / show_phone {} / show_online_status {} ({context}): {record}",
            setting.visibility,
            setting.show_phone,
            setting.show_online_status,
        );
    }
    for field in NEVER {
        assert!(
            !object.contains_key(*field),
            "{field} is never shown ({context})"
        );
    }
    let known: Vec<&str> = FIELDS.iter().map(|(field, _)| *field).collect();
    for key in object.keys() {
        assert!(
            key == "kind" || known.contains(&key.as_str()),
            "{key} is in the table ({context})"
        );
    }
}

#[tokio::test]
async fn every_field_under_every_setting_for_every_viewer() {
    let desk = desk().await;
    let record_path = format!("/api/v1/people/{}", desk.subject_id);
    for visibility in ["public", "department", "private"] {
        for show_phone in [true, false] {
            for show_online_status in [true, false] {
                let setting = Setting {
                    visibility,
                    show_phone,
                    show_online_status,
                };
                let (_, etag) = desk.server.me(&desk.subject).await;
                let (saved, _) = desk
                    .server
                    .patch_ok(
                        &desk.subject,
                        &etag,
                        &json!({
                            "visibility": visibility,
                            "contact_prefs": {
                                "allow_direct_messages": true,
                                "show_phone": show_phone,
                                "show_online_status": show_online_status,
                                "calendar_integration": false,
                            },
                        }),
                    )
                    .await;
                assert_eq!(saved["visibility"], visibility);
                assert_eq!(saved["contact_prefs"]["show_phone"], show_phone);

                for (viewer, token) in &desk.viewers {
                    let record = get(&desk.server, token, &record_path).await;
                    check_fields(&record, *viewer, &setting, "record");
                    let listed = search(&desk, token, "ada").await.expect("found by name");
                    check_fields(&listed, *viewer, &setting, "listing");
                    assert_eq!(listed, record, "the listing shows what the record does");

                    // A search finds by what the viewer sees, and by nothing hidden.
                    let by_email = search(&desk, token, EMAIL).await.is_some();
                    assert_eq!(
                        by_email,
                        expected(*viewer, &setting, Needs::Details),
                        "email search for {viewer:?}"
                    );
                    let by_phone = search(&desk, token, "7183 8750").await.is_some();
                    assert_eq!(
                        by_phone,
                        expected(*viewer, &setting, Needs::Phones),
                        "phone search for {viewer:?}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn values_shown_are_the_stored_ones_and_empty_ones_are_null() {
    let desk = desk().await;
    let (_, colleague) = &desk.viewers[1];
    let record = get(
        &desk.server,
        colleague,
        &format!("/api/v1/people/{}", desk.subject_id),
    )
    .await;
    assert_eq!(record["display_name"], NAME);
    assert_eq!(record["job_title"], "Billing specialist");
    assert_eq!(record["phone"], "+442071838750");
    assert_eq!(record["mobile"], Value::Null);
    assert_eq!(record["teams"], json!(["Escalations"]));
    assert_eq!(
        record["emails"],
        json!([{"address": EMAIL, "primary": true}])
    );
    assert_eq!(record["visibility"], "public");
    assert_eq!(
        record["contact_prefs"],
        json!({"allow_direct_messages": true, "show_phone": true, "show_online_status": true, "calendar_integration": false})
    );
}

#[tokio::test]
async fn privacy_settings_are_checked_and_logged() {
    let desk = desk().await;
    let (_, etag) = desk.server.me(&desk.subject).await;
    let before = desk.server.me(&desk.subject).await;
    for (body, code, field) in [
        (json!({"visibility": "friends"}), "wrong_type", "visibility"),
        (
            json!({"contact_prefs": {"show_phone": false}}),
            "missing_field",
            "contact_prefs.allow_direct_messages",
        ),
        (
            json!({"contact_prefs": {"allow_direct_messages": true, "show_phone": "no", "show_online_status": true, "calendar_integration": false}}),
            "wrong_type",
            "contact_prefs.show_phone",
        ),
    ] {
        let response = desk.server.patch(&desk.subject, Some(&etag), &body).await;
        expect_error(response, StatusCode::BAD_REQUEST, code, Some(field)).await;
    }
    desk.server
        .assert_unchanged(&desk.subject, &before, "refused privacy settings")
        .await;

    desk.server
        .patch_ok(
            &desk.subject,
            &etag,
            &json!({"visibility": "private", "contact_prefs": {
                "allow_direct_messages": false, "show_phone": true,
                "show_online_status": true, "calendar_integration": true}}),
        )
        .await;
    let (_, admin) = &desk.viewers[3];
    let db = open_database(desk.server.data_dir()).await;
    let log = agent_desk_server::agents::change_log(&db, &desk.subject_id)
        .await
        .expect("change log");
    let fields: Vec<(String, Option<String>, Option<String>)> = log
        .iter()
        .map(|entry| {
            (
                entry.field.clone(),
                entry.old_value.clone(),
                entry.new_value.clone(),
            )
        })
        .collect();
    for change in [
        ("visibility", "public", "private"),
        ("contact_prefs.allow_direct_messages", "true", "false"),
        ("contact_prefs.calendar_integration", "false", "true"),
    ] {
        assert!(
            fields.contains(&(
                change.0.into(),
                Some(change.1.into()),
                Some(change.2.into())
            )),
            "{change:?} in {fields:?}"
        );
    }
    assert!(
        !fields
            .iter()
            .any(|(field, ..)| field == "contact_prefs.show_phone"),
        "unchanged prefs are not logged"
    );
    // Admins still see the private profile in full.
    let record = get(
        &desk.server,
        admin,
        &format!("/api/v1/people/{}", desk.subject_id),
    )
    .await;
    assert_eq!(record["phone"], "+442071838750");
}

#[tokio::test]
async fn the_directory_pages_filters_by_team_and_refuses_bad_parameters() {
    let desk = desk().await;
    let (_, token) = &desk.viewers[1];
    // Four agents and the admin, two a page, in name order.
    let mut names = Vec::new();
    let mut path = "/api/v1/people?kind=agent&limit=2".to_owned();
    loop {
        let page = get(&desk.server, token, &path).await;
        let people = page["people"].as_array().expect("people");
        assert!(people.len() <= 2);
        names.extend(
            people
                .iter()
                .map(|person| person["display_name"].as_str().expect("name").to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/people?kind=agent&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let mut sorted = names.clone();
    sorted.sort_by_key(|name| name.to_lowercase());
    assert_eq!(names, sorted);
    assert_eq!(names.len(), 4, "{names:?}");

    let backwards = get(&desk.server, token, "/api/v1/people?sort=-name").await;
    let first = backwards["people"][0]["display_name"]
        .as_str()
        .expect("name");
    assert_eq!(first, sorted.last().expect("someone").as_str());

    let teams = get(&desk.server, token, "/api/v1/teams").await;
    let team_id = teams[0]["id"].as_str().expect("team id");
    let members = get(
        &desk.server,
        token,
        &format!("/api/v1/people?team={team_id}"),
    )
    .await;
    let ids: Vec<&Value> = members["people"]
        .as_array()
        .expect("people")
        .iter()
        .map(|p| &p["id"])
        .collect();
    assert_eq!(ids, vec![&json!(desk.subject_id)]);

    let users = get(&desk.server, token, "/api/v1/people?kind=user").await;
    assert_eq!(users["people"], json!([]));

    for (query, field) in [
        ("kind=robot", "kind"),
        ("sort=age", "sort"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=bm90LW91cnM", "cursor"),
    ] {
        let response = desk
            .server
            .request(Method::GET, &format!("/api/v1/people?{query}"), Some(token))
            .send()
            .await
            .expect("request");
        expect_error(
            response,
            StatusCode::BAD_REQUEST,
            "validation_failed",
            Some(field),
        )
        .await;
    }
    let missing = desk
        .server
        .request(Method::GET, "/api/v1/people/no-such-person", Some(token))
        .send()
        .await
        .expect("request");
    expect_error(missing, StatusCode::NOT_FOUND, "not_found", None).await;
    let anonymous = desk
        .server
        .request(Method::GET, "/api/v1/people", None)
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

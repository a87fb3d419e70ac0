//! The outbox against a real server over HTTP, started in-process, stopped and started
//! again on the same port and database to be away and back.

use std::sync::Arc;

use agent_desk_client::{ApiClient, ClientError, PreparedRequest};
use agent_desk_core::{ErrorCode, ProfilePatch, Status, StatusUpdate};
use agent_desk_outbox::{LocalChange, Outbox, Sent};
use serde_json::json;

mod support;

use support::{customer, signed_in, Server};

/// An outbox that has the profile as read from the server.
async fn outbox_with_profile(api: &ApiClient, dir: &std::path::Path) -> (Arc<Outbox>, i64) {
    let outbox = Outbox::open(dir).expect("outbox");
    let profile = api.me().await.expect("profile");
    let version: i64 = profile.etag.trim_matches('"').parse().expect("version");
    outbox
        .remember(
            "profile",
            String::new(),
            serde_json::to_value(&profile).expect("json"),
            Some(version),
        )
        .await
        .expect("kept");
    (outbox, version)
}

#[tokio::test]
async fn changes_made_while_the_server_is_away_reach_it_once_in_order() {
    let mut server = Server::start().await;
    let api = signed_in(&server.url()).await;
    let customer_id = customer(&api, "Grace Hopper", "grace@example.com").await;
    let dir = tempfile::tempdir().expect("outbox dir");
    let (outbox, version) = outbox_with_profile(&api, dir.path()).await;

    server.stop().await;
    let saved = outbox
        .save(
            &api,
            LocalChange::Profile {
                patch: json!({"job_title": "Team lead"}),
                version,
            },
            None,
        )
        .await
        .expect("kept");
    assert_eq!(saved.expect("no refusal"), Sent::Waiting);
    assert!(!outbox.state().reachable);
    // The first edit was tried, so it stays as sent; the status is the latest one.
    for change in [
        LocalChange::Profile {
            patch: json!({"office_location": "Berlin, 3rd floor"}),
            version,
        },
        LocalChange::Status {
            update: StatusUpdate {
                status: Status::Away,
                until: None,
                idle: false,
            },
        },
        LocalChange::Status {
            update: StatusUpdate {
                status: Status::Busy,
                until: None,
                idle: false,
            },
        },
        LocalChange::NoteAdded {
            person_id: customer_id.clone(),
            body: "Called back about the invoice".into(),
        },
        LocalChange::NoteAdded {
            person_id: customer_id.clone(),
            body: "Sent the refund".into(),
        },
    ] {
        outbox.enqueue(change, None).await.expect("kept");
    }
    assert_eq!(outbox.state().waiting(), 5, "{:?}", outbox.state());

    // The app is closed and opened again: what waits is still there.
    drop(outbox);
    let outbox = Outbox::open(dir.path()).expect("outbox again");
    assert_eq!(outbox.state().waiting(), 5);

    server.restart().await;
    let outcomes = outbox.send_waiting(&api, true).await.expect("sent");
    assert_eq!(outcomes.len(), 5);
    assert_eq!(outbox.state().waiting(), 0);
    assert!(outbox.state().reachable);

    let profile = api.me().await.expect("profile").profile;
    assert_eq!(profile.job_title.as_deref(), Some("Team lead"));
    assert_eq!(
        profile.office_location.as_deref(),
        Some("Berlin, 3rd floor")
    );
    assert_eq!(profile.status, Status::Busy);
    let notes = api.notes(&customer_id, None).await.expect("notes");
    assert_eq!(notes.total, 2, "each note once");
    let log = api.changes(&profile.id).await.expect("change log");
    let titles = log
        .changes
        .iter()
        .filter(|change| change.field == "job_title")
        .count();
    assert_eq!(titles, 1, "the job title was changed once");

    // Sending again finds nothing to send.
    assert!(outbox
        .send_waiting(&api, true)
        .await
        .expect("pass")
        .is_empty());
}

#[tokio::test]
async fn a_change_whose_answer_was_lost_is_not_applied_twice() {
    let server = Server::start().await;
    let api = signed_in(&server.url()).await;
    let customer_id = customer(&api, "Ada Byron", "ada@example.com").await;
    let dir = tempfile::tempdir().expect("outbox dir");
    let outbox = Outbox::open(dir.path()).expect("outbox");
    let change = LocalChange::NoteAdded {
        person_id: customer_id.clone(),
        body: "Prefers email".into(),
    };
    let seq = outbox.enqueue(change.clone(), None).await.expect("kept");
    // The first send reached the server, and the app was killed before the answer came:
    // sent here by hand under the key the outbox keeps.
    let key = outbox_key(dir.path(), seq);
    let request: PreparedRequest = change.request(None).expect("request");
    let first = api.send_prepared(&request, &key).await.expect("applied");
    assert!(!first.replayed);

    let outcomes = outbox.send_waiting(&api, true).await.expect("sent");
    match outcomes.get(&seq) {
        Some(agent_desk_outbox::Outcome::Applied(again)) => {
            assert!(again.replayed, "answered from what the server kept");
            assert_eq!(again.body, first.body);
        }
        other => panic!("not applied: {other:?}"),
    }
    assert_eq!(api.notes(&customer_id, None).await.expect("notes").total, 1);
}

/// The key the outbox keeps for change `seq`, read from its file.
fn outbox_key(dir: &std::path::Path, seq: i64) -> String {
    kept_keys(dir)
        .into_iter()
        .find(|(kept, _)| *kept == seq)
        .map(|(_, key)| key)
        .expect("kept change")
}

fn kept_keys(dir: &std::path::Path) -> Vec<(i64, String)> {
    let store = agent_desk_outbox::store::Store::open(&dir.join("outbox.sqlite3")).expect("store");
    store
        .changes()
        .expect("changes")
        .into_iter()
        .map(|row| (row.seq, row.key))
        .collect()
}

#[tokio::test]
async fn a_profile_changed_elsewhere_meanwhile_is_merged_field_by_field() {
    let mut server = Server::start().await;
    let api = signed_in(&server.url()).await;
    let elsewhere = signed_in(&server.url()).await;
    let dir = tempfile::tempdir().expect("outbox dir");
    let (outbox, version) = outbox_with_profile(&api, dir.path()).await;
    let before = api.me().await.expect("profile").profile;

    server.stop().await;
    outbox
        .enqueue(
            LocalChange::Profile {
                patch: json!({"job_title": "Team lead", "mobile": "+49 151 23456789"}),
                version,
            },
            None,
        )
        .await
        .expect("kept");
    server.restart().await;
    // Another device changes the office and the job title meanwhile.
    let current = elsewhere.me().await.expect("profile");
    elsewhere
        .update_me(
            &ProfilePatch {
                job_title: Some("Supervisor".into()),
                office_location: Some("Lisbon".into()),
                ..ProfilePatch::default()
            },
            &current.etag,
        )
        .await
        .expect("changed elsewhere");

    outbox.send_waiting(&api, true).await.expect("sent");
    assert_eq!(outbox.state().waiting(), 0, "{:?}", outbox.state());
    let profile = api.me().await.expect("profile").profile;
    assert_eq!(
        profile.office_location.as_deref(),
        Some("Lisbon"),
        "untouched field kept"
    );
    assert_eq!(
        profile.job_title.as_deref(),
        Some("Team lead"),
        "the agent's field applied"
    );
    assert_eq!(profile.mobile.as_deref(), Some("+4915123456789"));
    let conflicts = outbox.state().conflicts;
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0].conflict.field, "job_title");
    assert_eq!(conflicts[0].conflict.replaced, json!("Supervisor"));
    assert_ne!(before.job_title.as_deref(), Some("Supervisor"));
}

#[tokio::test]
async fn a_change_the_server_refuses_is_kept_with_the_reason_and_the_rest_goes_on() {
    let mut server = Server::start().await;
    let api = signed_in(&server.url()).await;
    let dir = tempfile::tempdir().expect("outbox dir");
    let (outbox, version) = outbox_with_profile(&api, dir.path()).await;
    server.stop().await;
    let missing = outbox
        .enqueue(
            LocalChange::NoteAdded {
                person_id: "no-such-person".into(),
                body: "Lost".into(),
            },
            None,
        )
        .await
        .expect("kept");
    outbox
        .enqueue(
            LocalChange::Profile {
                patch: json!({"job_title": "Coach"}),
                version,
            },
            None,
        )
        .await
        .expect("kept");
    server.restart().await;
    outbox.send_waiting(&api, true).await.expect("sent");
    let state = outbox.state();
    assert_eq!(state.waiting(), 0);
    assert_eq!(state.changes.len(), 1, "the refused one stays");
    assert_eq!(state.changes[0].seq, missing);
    let refusal = state.changes[0].refused.as_ref().expect("reason");
    assert_eq!(refusal.status, 404);
    assert_eq!(refusal.code, "not_found");
    assert_eq!(
        api.me()
            .await
            .expect("profile")
            .profile
            .job_title
            .as_deref(),
        Some("Coach")
    );
    // Sending again does not send it again; discarding removes it.
    outbox.send_waiting(&api, true).await.expect("pass");
    assert_eq!(outbox.state().changes.len(), 1);
    outbox.discard(missing).await.expect("discarded");
    assert!(outbox.state().changes.is_empty());

    // A change refused while the agent looks at it is not kept: the form shows why.
    let refused = outbox
        .save(
            &api,
            LocalChange::NoteAdded {
                person_id: "no-such-person".into(),
                body: "Lost".into(),
            },
            None,
        )
        .await
        .expect("store");
    match refused {
        Err(ClientError::Server { status, body }) => {
            assert_eq!(status, 404);
            assert_eq!(body.code, ErrorCode::NotFound);
        }
        other => panic!("not refused: {other:?}"),
    }
    assert!(outbox.state().changes.is_empty());
}

#[tokio::test]
async fn a_status_whose_time_has_passed_is_not_sent() {
    let mut server = Server::start().await;
    let api = signed_in(&server.url()).await;
    let dir = tempfile::tempdir().expect("outbox dir");
    let outbox = Outbox::open(dir.path()).expect("outbox");
    let before = api.me().await.expect("profile").profile.status;
    server.stop().await;
    outbox
        .enqueue(
            LocalChange::Status {
                update: StatusUpdate {
                    status: Status::Away,
                    until: Some(chrono::Utc::now() + chrono::Duration::milliseconds(300)),
                    idle: false,
                },
            },
            None,
        )
        .await
        .expect("kept");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    server.restart().await;
    let outcomes = outbox.send_waiting(&api, true).await.expect("pass");
    assert!(matches!(
        outcomes.values().next(),
        Some(agent_desk_outbox::Outcome::Dropped)
    ));
    assert_eq!(api.me().await.expect("profile").profile.status, before);
    assert_ne!(before, Status::Away);
}

#[tokio::test]
async fn a_change_sent_long_ago_without_an_answer_is_not_sent_again_blindly() {
    let server = Server::start().await;
    let api = signed_in(&server.url()).await;
    let customer_id = customer(&api, "Ada Byron", "ada@example.com").await;
    let dir = tempfile::tempdir().expect("outbox dir");
    // Sent a week ago (its answer lost), and one made then but never sent.
    let week_ago = chrono::Utc::now() - chrono::Duration::days(7);
    let (sent, unsent) = {
        let mut store = agent_desk_outbox::store::Store::open(&dir.path().join("outbox.sqlite3"))
            .expect("store");
        let note = |body: &str| LocalChange::NoteAdded {
            person_id: customer_id.clone(),
            body: body.into(),
        };
        let sent = store
            .enqueue(&note("Sent last week"), None, None, week_ago)
            .expect("kept");
        store.mark_sent(sent).expect("sent");
        let unsent = store
            .enqueue(&note("Never sent"), None, None, week_ago)
            .expect("kept");
        (sent, unsent)
    };
    let outbox = Outbox::open(dir.path()).expect("outbox");
    outbox.send_waiting(&api, true).await.expect("pass");
    let state = outbox.state();
    assert_eq!(state.changes.len(), 1, "{state:?}");
    assert_eq!(state.changes[0].seq, sent);
    assert_ne!(state.changes[0].seq, unsent);
    let refusal = state.changes[0]
        .refused
        .as_ref()
        .expect("kept for the agent");
    assert_eq!(refusal.code, "unconfirmed");
    let notes = api.notes(&customer_id, None).await.expect("notes");
    assert_eq!(notes.total, 1, "only the one never sent went");
    assert_eq!(notes.notes[0].body, "Never sent");
}

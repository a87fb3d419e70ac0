//! Every command, called as the web view calls it, through the real invoke handler and
//! the real capability, on Tauri's mock runtime: each is registered, allowed to the main
//! window, takes its arguments under the names the generated client sends, and fails as
//! `{code, message, …}`. Nobody is signed in, so what needs a session says so.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;

use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow};

use crate::state::DeskState;

/// What a call must come back with.
enum Expect {
    /// An answer this check accepts.
    Answer(fn(&Value) -> bool),
    /// A failure with this code.
    Fails(&'static str),
    /// An answer, or a failure of the sound system: which devices this machine has
    /// decides.
    AudioAnswers,
}

fn request(command: &str, body: InvokeBody, headers: &[(&'static str, &str)]) -> InvokeRequest {
    let mut header_map = tauri::http::HeaderMap::new();
    for (name, value) in headers {
        if let Ok(value) = value.parse() {
            header_map.insert(*name, value);
        }
    }
    InvokeRequest {
        cmd: command.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().expect("url"),
        body,
        headers: header_map,
        invoke_key: INVOKE_KEY.to_owned(),
    }
}

fn call(window: &WebviewWindow<MockRuntime>, request: InvokeRequest) -> Result<Value, Value> {
    get_ipc_response(window, request)
        .map(|body| body.deserialize::<Value>().expect("a JSON answer"))
}

fn json_call(
    window: &WebviewWindow<MockRuntime>,
    command: &str,
    args: Value,
) -> Result<Value, Value> {
    call(window, request(command, InvokeBody::Json(args), &[]))
}

/// Each command with arguments as the generated client sends them (camelCase), and what
/// it must answer with nobody signed in.
fn calls() -> BTreeMap<&'static str, (Value, Expect)> {
    use Expect::*;
    let signed_out = |args: Value| (args, Fails("not_signed_in"));
    let closed = "http://127.0.0.1:9";
    BTreeMap::from([
        (
            "app_info",
            (
                json!({}),
                Answer(|v| v["version"] == env!("CARGO_PKG_VERSION")),
            ),
        ),
        (
            "set_unsaved_changes",
            (json!({"unsaved": false}), Answer(Value::is_null)),
        ),
        ("restore_session", (json!({}), Answer(Value::is_null))),
        (
            "sign_in",
            (
                json!({"serverUrl": closed, "email": "a@b.example", "password": "x"}),
                Fails("server_unreachable"),
            ),
        ),
        ("sign_out", (json!({}), Answer(Value::is_null))),
        ("get_profile", signed_out(json!({}))),
        (
            "update_profile",
            (
                json!({"patch": {"display_name": ""}, "etag": "\"1\""}),
                Fails("validation_failed"),
            ),
        ),
        (
            "validate_profile",
            (
                json!({"patch": {"phone": "12"}}),
                Answer(|v| v[0]["field"] == "phone"),
            ),
        ),
        (
            "list_timezones",
            (
                json!({}),
                Answer(|v| v.as_array().is_some_and(|zones| zones.len() > 300)),
            ),
        ),
        (
            "list_languages",
            (json!({}), Answer(|v| v[0]["tag"] == "en")),
        ),
        (
            "privacy_preview",
            (
                json!({"visibility": "department", "contactPrefs": {"allow_direct_messages": true, "show_phone": false, "show_online_status": true, "calendar_integration": false}, "department": "Billing"}),
                Answer(|v| {
                    *v == json!({
                        "same_department": {"details": true, "phones": false, "status": true},
                        "other_department": {"details": false, "phones": false, "status": false},
                    })
                }),
            ),
        ),
        ("server_policy", signed_out(json!({}))),
        (
            "check_password",
            (
                json!({"candidate": "password", "current": null, "personal": []}),
                Answer(|v| v["score"].as_u64().is_some_and(|score| score < 2)),
            ),
        ),
        (
            "change_password",
            signed_out(
                json!({"currentPassword": "a", "newPassword": "b", "keepOtherSessions": true}),
            ),
        ),
        (
            "request_password_reset",
            (
                json!({"serverUrl": closed, "email": "a@b.example"}),
                Fails("server_unreachable"),
            ),
        ),
        ("list_sessions", signed_out(json!({}))),
        ("end_session", signed_out(json!({"sessionId": "s-1"}))),
        ("sign_out_other_sessions", signed_out(json!({}))),
        // The raw calls are made with bytes below.
        ("prepare_avatar", signed_out(json!(null))),
        (
            "save_avatar",
            (
                json!({"sourceId": "photo-1", "crop": {"x": 0, "y": 0, "size": 200, "quarter_turns": 0}}),
                Fails("invalid_image"),
            ),
        ),
        ("discard_avatar", (json!({}), Answer(Value::is_null))),
        ("remove_avatar", signed_out(json!({}))),
        (
            "avatar_image",
            signed_out(json!({"url": "/api/v1/avatars/a.webp"})),
        ),
        (
            "initials_avatar",
            (
                json!({"id": "agent-1", "displayName": "Dana Demo"}),
                Answer(|v| v["text"] == "DD"),
            ),
        ),
        (
            "audio_state",
            (json!({}), Answer(|v| v["devices"].is_object())),
        ),
        (
            "choose_audio_device",
            (
                json!({"role": "microphone", "choice": {"kind": "device", "id": "no-such-device", "name": "Nothing"}}),
                AudioAnswers,
            ),
        ),
        (
            "set_alert_volume",
            (json!({"volume": 7.5}), Fails("audio_invalid")),
        ),
        ("start_mic_test", (json!({}), AudioAnswers)),
        ("stop_mic_test", (json!({}), Answer(Value::is_null))),
        (
            "record_sample",
            (json!({"seconds": 0.0}), Fails("audio_invalid")),
        ),
        ("play_sample", (json!({}), AudioAnswers)),
        (
            "test_output",
            (json!({"role": "microphone"}), Fails("audio_invalid")),
        ),
        ("alerts_state", signed_out(json!({}))),
        (
            "set_status",
            signed_out(json!({"status": "busy", "until": null})),
        ),
        ("set_idle_away", signed_out(json!({"minutes": 10}))),
        ("mark_alerts_read", signed_out(json!({}))),
        ("open_alert", signed_out(json!({"seq": 1}))),
        ("notification_prefs", signed_out(json!({}))),
        (
            "save_notification_prefs",
            signed_out(
                json!({"prefs": {"events": [], "quiet_hours": {"enabled": false, "start": "22:00", "end": "07:00"}}, "etag": "\"1\""}),
            ),
        ),
        (
            "check_quiet_hours",
            (
                json!({"quietHours": {"enabled": true, "start": "9:00", "end": "18:00"}}),
                Answer(|v| *v == json!([{"field": "quiet_hours.start", "problem": "invalid"}])),
            ),
        ),
        ("send_test_notification", signed_out(json!({}))),
        ("list_teams", signed_out(json!({}))),
        (
            "request_to_join_team",
            signed_out(json!({"teamId": "team-1", "note": null})),
        ),
        ("list_join_requests", signed_out(json!({}))),
        (
            "decide_join_request",
            signed_out(json!({"requestId": "r-1", "approve": true, "note": null})),
        ),
        ("list_people", signed_out(json!({"filter": {"q": "dana"}}))),
        ("get_person", signed_out(json!({"id": "agent-1"}))),
        (
            "create_user",
            signed_out(json!({"customer": {"name": "Kim", "emails": ["kim@example.com"]}})),
        ),
        (
            "update_user",
            signed_out(json!({"id": "user-1", "patch": {}, "version": 1})),
        ),
        (
            "add_email",
            signed_out(json!({"id": "user-1", "address": "kim@example.com", "primary": false})),
        ),
        (
            "remove_email",
            signed_out(json!({"id": "user-1", "address": "kim@example.com"})),
        ),
        (
            "make_primary_email",
            signed_out(json!({"id": "user-1", "address": "kim@example.com"})),
        ),
        (
            "list_notes",
            signed_out(json!({"id": "user-1", "cursor": null})),
        ),
        (
            "add_note",
            signed_out(json!({"id": "user-1", "body": "Called back"})),
        ),
        (
            "edit_note",
            signed_out(json!({"noteId": "note-1", "body": "Called back twice"})),
        ),
        ("delete_note", signed_out(json!({"noteId": "note-1"}))),
        ("list_changes", signed_out(json!({"id": "user-1"}))),
        ("list_activity", signed_out(json!({"id": "user-1"}))),
        (
            "merge_users",
            signed_out(json!({"id": "user-1", "source": "user-2"})),
        ),
        ("list_organizations", signed_out(json!({}))),
        ("list_files", signed_out(json!({"id": "user-1"}))),
        ("upload_file", signed_out(json!(null))),
        (
            "save_file",
            signed_out(json!({"fileId": "file-1", "name": "contract.pdf"})),
        ),
        (
            "show_saved_file",
            (json!({"path": "/etc/passwd"}), Fails("local_file")),
        ),
        ("delete_file", signed_out(json!({"fileId": "file-1"}))),
        (
            "list_tickets",
            signed_out(json!({"id": "user-1", "sort": "-opened"})),
        ),
        ("list_logins", signed_out(json!({"id": "agent-1"}))),
        (
            "open_ticket",
            (json!({"url": "file:///etc/passwd"}), Fails("local_file")),
        ),
        // Quitting ends the process: called on its own below.
        ("quit_discarding_changes", (json!({}), Answer(|_| true))),
    ])
}

fn check(command: &str, answer: Result<Value, Value>, expect: &Expect) {
    match (expect, &answer) {
        (Expect::Answer(accept), Ok(value)) => {
            assert!(accept(value), "{command} answered {value}")
        }
        (Expect::Fails(code), Err(error)) => assert_eq!(
            (error["code"].as_str(), error["message"].is_string()),
            (Some(*code), true),
            "{command} failed with {error}"
        ),
        (Expect::AudioAnswers, Ok(_)) => {}
        (Expect::AudioAnswers, Err(error)) => assert!(
            error["code"]
                .as_str()
                .is_some_and(|code| code.starts_with("audio_")),
            "{command} failed with {error}"
        ),
        _ => panic!("{command} came back with {answer:?}"),
    }
}

#[test]
fn every_command_is_registered_allowed_and_takes_the_generated_arguments() {
    let home = tempfile::tempdir().expect("a home of its own");
    // The config folder, the credential store's files and the downloads folder stay in
    // this test's own home; no sound server or ALSA setting of the machine's is read.
    std::env::set_var("HOME", home.path());
    std::env::set_var("XDG_CONFIG_HOME", home.path().join(".config"));
    std::env::set_var("XDG_DATA_HOME", home.path().join(".local/share"));
    std::env::remove_var("AGENT_DESK_SERVER_URL");

    let app = mock_builder()
        .plugin(tauri_plugin_opener::init())
        .invoke_handler(crate::ipc::invoke_handler())
        .build(tauri::generate_context!())
        .expect("the app builds on the mock runtime");
    app.manage(DeskState::open(app.handle()).expect("the app's state"));
    // The capability names the window by its label.
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("the main window");

    let calls = calls();
    let specs = crate::ipc::command_specs();
    let names: Vec<&str> = specs.iter().map(|spec| spec.name).collect();
    assert_eq!(
        calls.keys().copied().collect::<Vec<_>>(),
        {
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted
        },
        "every command has a call here, and nothing else does"
    );
    for spec in &specs {
        if spec.is_raw() || spec.name == "quit_discarding_changes" {
            continue;
        }
        let (args, expect) = &calls[spec.name];
        // The arguments sent are those the generated wrapper names.
        let sent: Vec<&str> = args
            .as_object()
            .map_or(vec![], |map| map.keys().map(String::as_str).collect());
        for param in &spec.params {
            assert!(
                sent.contains(&param.name),
                "{}: no {} sent",
                spec.name,
                param.name
            );
        }
        check(
            spec.name,
            json_call(&window, spec.name, args.clone()),
            expect,
        );
    }

    // Raw calls: the bytes as the body, the rest as percent-encoded headers.
    let photo = call(
        &window,
        request(
            "prepare_avatar",
            InvokeBody::Raw(vec![0xff, 0xd8, 0xff]),
            &[],
        ),
    );
    check("prepare_avatar", photo, &Expect::Fails("not_signed_in"));
    let upload = call(
        &window,
        request(
            "upload_file",
            InvokeBody::Raw(b"%PDF-1.7".to_vec()),
            &[
                ("person-id", "user-1"),
                ("file-name", "Angebot%20M%C3%A4rz.pdf"),
            ],
        ),
    );
    check("upload_file", upload, &Expect::Fails("not_signed_in"));
    let as_json = json_call(&window, "prepare_avatar", json!({"photo": [1, 2, 3]}));
    assert_eq!(
        as_json.expect_err("bytes as JSON")["message"],
        "The photo did not arrive as bytes."
    );
    let headless = call(
        &window,
        request(
            "upload_file",
            InvokeBody::Raw(vec![1]),
            &[("file-name", "a.pdf")],
        ),
    );
    assert_eq!(
        headless.expect_err("no record")["message"],
        "The call has no person-id."
    );

    // What the window may not call, it cannot: a command that does not exist, or one
    // from a page that is not the app's.
    assert!(json_call(&window, "no_such_command", json!({})).is_err());
    let mut foreign = request("app_info", InvokeBody::Json(json!({})), &[]);
    foreign.url = "https://evil.example".parse().expect("url");
    assert!(
        call(&window, foreign).is_err(),
        "a remote page called a command"
    );

    // Quitting reaches the runtime's exit, which the mock runtime does not have.
    let quit = std::panic::catch_unwind(AssertUnwindSafe(|| {
        json_call(&window, "quit_discarding_changes", json!({}))
    }));
    assert!(quit.is_err(), "quit_discarding_changes did not try to exit");
}

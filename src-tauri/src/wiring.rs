//! Every command, called as the web view calls it, through the real invoke handler and
//! the real capability, on Tauri's mock runtime: each is registered, allowed to the main
//! window, takes its arguments under the names the generated client sends, and fails as
//! `{code, message, …}`. Nobody is signed in, so what needs a session says so.
//! Commands made with a missing or misnamed argument would fail Tauri's own parsing
//! instead, with a plain string, and so fail here.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;

use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow};

use crate::state::DeskState;

/// How a command is called here.
enum Call {
    /// JSON arguments, as the generated wrapper sends them.
    Json(Value, Expect),
    /// Bytes as the body, the rest as percent-encoded headers.
    Raw {
        body: &'static [u8],
        headers: &'static [(&'static str, &'static str)],
        expect: Expect,
    },
    /// Quitting ends the process: the mock runtime has no exit, so the call panics there.
    Exits,
}

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

fn call_raw(
    window: &WebviewWindow<MockRuntime>,
    command: &str,
    body: &[u8],
    headers: &[(&'static str, &str)],
) -> Result<Value, Value> {
    call(
        window,
        request(command, InvokeBody::Raw(body.to_vec()), headers),
    )
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
fn calls() -> BTreeMap<&'static str, Call> {
    use Expect::*;
    let signed_out = |args: Value| (args, Fails("not_signed_in"));
    let raw = |body, headers| Call::Raw {
        body,
        headers,
        expect: Fails("not_signed_in"),
    };
    let closed = "http://127.0.0.1:9";
    let mut calls: BTreeMap<&'static str, Call> = [
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
        ("sign_out", (json!({"waiting": "ask"}), Answer(Value::is_null))),
        ("get_profile", signed_out(json!({}))),
        (
            "outbox_state",
            (json!({}), Answer(|v| v["changes"] == json!([]))),
        ),
        ("send_waiting_now", signed_out(json!({}))),
        ("discard_change", signed_out(json!({"seq": 1}))),
        ("restore_replaced", signed_out(json!({"conflictId": 1}))),
        ("dismiss_conflict", signed_out(json!({"conflictId": 1}))),
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
        // The strength estimate is the server's: signed out, there is none.
        (
            "check_password",
            signed_out(json!({"candidate": "password", "current": null})),
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
            (json!({}), AudioAnswers),
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
        (
            "this_computer",
            (json!({}), Answer(|v| v["start_at_login"] == false)),
        ),
        // Off: the only change this check makes outside its own folders is none.
        (
            "set_start_at_login",
            (
                json!({"on": false}),
                Answer(|v| *v == json!({"start_at_login": false})),
            ),
        ),
        // A build without an updater key, as this one: it never asks.
        (
            "update_state",
            (
                json!({}),
                Answer(|v| v["enabled"] == false && v["phase"] == json!({"phase": "idle"})),
            ),
        ),
        (
            "check_for_updates",
            (
                json!({}),
                Answer(|v| v["enabled"] == false && v["phase"] == json!({"phase": "idle"})),
            ),
        ),
        (
            "restart_to_update",
            (json!({}), Fails("no_update_ready")),
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
        ("create_organization", signed_out(json!({"name": "Initech"}))),
        ("list_usergroups", signed_out(json!({}))),
        ("list_files", signed_out(json!({"id": "user-1"}))),
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
        (
            "list_agents",
            signed_out(json!({"query": {"q": "ada", "activity": "all"}})),
        ),
        ("get_agent", signed_out(json!({"agentId": "agent-1"}))),
        (
            "create_agent",
            signed_out(json!({"agent": {"email": "kim@example.com", "display_name": "Kim"}})),
        ),
        (
            "update_agent",
            signed_out(json!({"agentId": "agent-1", "patch": {"active": false}, "etag": "\"1\""})),
        ),
        ("send_password_link", signed_out(json!({"agentId": "agent-1"}))),
        (
            "get_agent_notification_prefs",
            signed_out(json!({"agentId": "agent-1"})),
        ),
        (
            "save_agent_notification_prefs",
            signed_out(
                json!({"agentId": "agent-1", "prefs": {"events": [], "quiet_hours": {"enabled": false, "start": "22:00", "end": "07:00"}}, "etag": "\"1\""}),
            ),
        ),
        ("get_notification_locks", signed_out(json!({}))),
        ("list_administered_teams", signed_out(json!({}))),
        (
            "rename_organization",
            signed_out(json!({"organizationId": "org-1", "name": "Initech"})),
        ),
        (
            "merge_organizations",
            signed_out(json!({"organizationId": "org-1", "into": "org-2"})),
        ),
        ("list_administered_fields", signed_out(json!({}))),
        (
            "create_custom_field",
            signed_out(json!({"field": {"name": "Plan", "kind": "text"}})),
        ),
        (
            "update_custom_field",
            signed_out(json!({"fieldId": "field-1", "patch": {"retired": true}})),
        ),
        ("add_usergroup", signed_out(json!({"name": "VIP"}))),
        ("remove_usergroup", signed_out(json!({"usergroupId": "group-1"}))),
        ("create_team", signed_out(json!({"team": {"name": "Night shift"}}))),
        (
            "rename_team",
            signed_out(json!({"teamId": "team-1", "name": "Nights"})),
        ),
        ("delete_team", signed_out(json!({"teamId": "team-1"}))),
        (
            "set_team_member",
            signed_out(json!({"teamId": "team-1", "agentId": "agent-1", "role": "lead"})),
        ),
        (
            "remove_team_member",
            signed_out(json!({"teamId": "team-1", "agentId": "agent-1"})),
        ),
        (
            "save_notification_locks",
            signed_out(json!({"locks": {"locks": []}, "etag": "\"0\""})),
        ),
        ("get_integrations", signed_out(json!({}))),
        (
            "create_integration_token",
            signed_out(json!({"token": {"name": "Router", "scopes": ["routing:read"]}})),
        ),
        ("revoke_integration_token", signed_out(json!({"tokenId": "token-1"}))),
        (
            "set_hook_secret",
            signed_out(json!({"source": "generic", "secret": {"grace_hours": 0}})),
        ),
        ("remove_hook_secrets", signed_out(json!({"source": "zendesk"}))),
        ("list_department_requests", signed_out(json!({}))),
        (
            "decide_department_request",
            signed_out(json!({"requestId": "r-1", "approve": false, "note": null})),
        ),
    ]
    .into_iter()
    .map(|(name, (args, expect))| (name, Call::Json(args, expect)))
    .collect();
    calls.insert("prepare_avatar", raw(&[0xff, 0xd8, 0xff], &[]));
    calls.insert(
        "upload_file",
        raw(
            b"%PDF-1.7",
            &[
                ("person-id", "user-1"),
                ("file-name", "Angebot%20M%C3%A4rz.pdf"),
            ],
        ),
    );
    calls.insert("quit_discarding_changes", Call::Exits);
    calls.insert(
        "take_link",
        Call::Json(json!({}), Expect::Answer(Value::is_null)),
    );
    // Nobody signed in and nothing unsaved: it quits at once.
    calls.insert("quit_app", Call::Exits);
    calls
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
    // The settings, alerts and device choices of a computer nobody signed in on.
    let config = tempfile::tempdir().expect("a config folder of its own");
    let app = mock_builder()
        .plugin(tauri_plugin_opener::init())
        // A login entry of a name no app uses, never written here (see the calls).
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .app_name("agent-desk-wiring-check")
                .build(),
        )
        .invoke_handler(crate::ipc::invoke_handler())
        .build(tauri::generate_context!())
        .expect("the app builds on the mock runtime");
    app.manage(DeskState::open_in(
        config.path().to_owned(),
        config.path().join("data"),
    ));
    app.manage(crate::updates::Updates::new("0.1.0".into(), false));
    // The capability names the window by its label.
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("the main window");

    let mut calls = calls();
    let mut exits = Vec::new();
    for spec in crate::ipc::command_specs() {
        let planned = calls
            .remove(spec.name)
            .unwrap_or_else(|| panic!("{} has no call here", spec.name));
        match planned {
            Call::Json(args, expect) => {
                // Exactly the arguments the generated wrapper names.
                let mut sent: Vec<&str> = args
                    .as_object()
                    .map_or(vec![], |map| map.keys().map(String::as_str).collect());
                let mut named: Vec<&str> = spec.params.iter().map(|param| param.name).collect();
                sent.sort_unstable();
                named.sort_unstable();
                assert_eq!(sent, named, "{}", spec.name);
                check(spec.name, json_call(&window, spec.name, args), &expect);
            }
            Call::Raw {
                body,
                headers,
                expect,
            } => {
                assert!(spec.is_raw(), "{} takes JSON", spec.name);
                let mut sent: Vec<&str> = headers.iter().map(|(name, _)| *name).collect();
                let mut named: Vec<&str> = spec
                    .params
                    .iter()
                    .filter_map(|param| match param.kind {
                        agent_desk_ipc::ParamKind::Header(header) => Some(header),
                        _ => None,
                    })
                    .collect();
                sent.sort_unstable();
                named.sort_unstable();
                assert_eq!(sent, named, "{}", spec.name);
                let answer = call_raw(&window, spec.name, body, headers);
                check(spec.name, answer, &expect);
                // The same call without bytes, or without one of its headers.
                let as_json = call(
                    &window,
                    request(spec.name, InvokeBody::Json(json!({})), headers),
                );
                assert!(
                    as_json.as_ref().is_err_and(|error| error["message"]
                        .as_str()
                        .is_some_and(|message| message.ends_with("did not arrive as bytes."))),
                    "{}: {as_json:?}",
                    spec.name
                );
                if let Some(((first, _), rest)) = headers.split_first() {
                    let answer = call_raw(&window, spec.name, body, rest);
                    assert_eq!(
                        answer.expect_err("a header missing")["message"],
                        format!("The call has no {first}."),
                    );
                }
            }
            // Last, below: the mock runtime panics at the exit.
            Call::Exits => exits.push(spec.name),
        }
    }
    assert!(
        calls.is_empty(),
        "calls for commands that do not exist: {:?}",
        calls.keys()
    );

    // What the window may not call, it cannot: a command that does not exist, or one
    // from a page that is not the app's.
    let unknown = json_call(&window, "no_such_command", json!({}));
    assert!(
        unknown.as_ref().is_err_and(|error| error
            .as_str()
            .is_some_and(|text| text.contains("not found"))),
        "{unknown:?}"
    );
    let mut foreign = request("app_info", InvokeBody::Json(json!({})), &[]);
    foreign.url = "https://evil.example".parse().expect("url");
    let foreign = call(&window, foreign);
    assert!(
        foreign.as_ref().is_err_and(|error| error
            .as_str()
            .is_some_and(|text| text.contains("not allowed"))),
        "a remote page called a command: {foreign:?}"
    );

    for command in exits {
        let quit =
            std::panic::catch_unwind(AssertUnwindSafe(|| json_call(&window, command, json!({}))));
        assert!(quit.is_err(), "{command} did not try to exit");
    }
}

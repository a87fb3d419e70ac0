fn main() {
    // Declaring the app's commands makes each one a permission, so the capability file
    // grants exactly these to the main window and nothing else.
    let commands = &[
        "app_info",
        "restore_session",
        "sign_in",
        "sign_out",
        "get_profile",
        "update_profile",
        "validate_profile",
        "list_timezones",
        "list_languages",
        "set_unsaved_changes",
        "quit_discarding_changes",
        "server_policy",
        "check_password",
        "change_password",
        "request_password_reset",
        "list_sessions",
        "end_session",
        "sign_out_other_sessions",
        "prepare_avatar",
        "save_avatar",
        "discard_avatar",
        "remove_avatar",
        "avatar_image",
        "initials_avatar",
        "audio_state",
        "choose_audio_device",
        "set_alert_volume",
        "start_mic_test",
        "stop_mic_test",
        "record_sample",
        "play_sample",
        "test_output",
        "alerts_state",
        "set_status",
        "set_idle_away",
        "mark_alerts_read",
        "open_alert",
        "notification_prefs",
        "save_notification_prefs",
        "send_test_notification",
        "list_teams",
        "request_to_join_team",
        "list_join_requests",
        "decide_join_request",
        "list_people",
        "get_person",
    ];
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(commands));
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {error:#}");
    }
}

//! The desktop shell: builds the Tauri app, wires plugins, window and commands.
//! Logic lives in the `agent-desk-client` and `agent-desk-core` crates; commands only
//! translate between IPC and those.

mod alerts;
mod commands;
mod state;
mod tray;

use tauri::{Emitter, Manager, WindowEvent};

use state::DeskState;

/// A session logging out or a machine shutting down asks running programs to end
/// (SIGTERM, or Ctrl+C in a terminal): quit the normal way, so the agent goes Offline.
fn quit_on_termination<R: tauri::Runtime>(app: tauri::AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut terminate), Ok(mut interrupt)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        app.exit(0);
    });
}

/// Brings the main window forward: a second launch, the tray, a notification's "Open".
fn show_window<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

pub fn run() {
    let app = tauri::Builder::default()
        // First, so a second launch hands over to the running app before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            show_window(app)
        }))
        // The window is created hidden (tauri.conf.json) and this plugin shows it once its
        // saved size and position are restored: no jump from the default size, and the page
        // is not laid out twice.
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_opener::init())
        .setup(|app| {
            let state = DeskState::open(app.handle())?;
            app.manage(state);
            commands::devices::start_audio_after_startup(app.handle().clone());
            tray::create(app.handle());
            quit_on_termination(app.handle().clone());
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                let state = window.state::<DeskState>();
                if state.has_unsaved_changes() {
                    // The UI asks the agent, then calls `quit_discarding_changes` or stays.
                    api.prevent_close();
                    let _ = window.emit("close-requested", ());
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::app::set_unsaved_changes,
            commands::app::quit_discarding_changes,
            commands::session::restore_session,
            commands::session::sign_in,
            commands::session::sign_out,
            commands::profile::get_profile,
            commands::profile::update_profile,
            commands::profile::validate_profile,
            commands::profile::list_timezones,
            commands::profile::list_languages,
            commands::account::server_policy,
            commands::account::check_password,
            commands::account::change_password,
            commands::account::request_password_reset,
            commands::account::list_sessions,
            commands::account::end_session,
            commands::account::sign_out_other_sessions,
            commands::photo::prepare_avatar,
            commands::photo::save_avatar,
            commands::photo::discard_avatar,
            commands::photo::remove_avatar,
            commands::photo::avatar_image,
            commands::photo::initials_avatar,
            commands::devices::audio_state,
            commands::devices::choose_audio_device,
            commands::devices::set_alert_volume,
            commands::devices::start_mic_test,
            commands::devices::stop_mic_test,
            commands::devices::record_sample,
            commands::devices::play_sample,
            commands::devices::test_output,
            commands::alerts::alerts_state,
            commands::alerts::set_status,
            commands::alerts::set_idle_away,
            commands::alerts::mark_alerts_read,
            commands::alerts::open_alert,
            commands::alerts::notification_prefs,
            commands::alerts::save_notification_prefs,
            commands::alerts::send_test_notification,
            commands::teams::list_teams,
            commands::teams::request_to_join_team,
            commands::teams::list_join_requests,
            commands::teams::decide_join_request,
            commands::people::list_people,
            commands::people::get_person,
            commands::people::create_user,
            commands::people::update_user,
            commands::people::add_email,
            commands::people::remove_email,
            commands::people::make_primary_email,
            commands::people::list_notes,
            commands::people::add_note,
            commands::people::edit_note,
            commands::people::delete_note,
            commands::people::list_changes,
            commands::people::list_activity,
            commands::people::merge_users,
            commands::people::list_organizations,
            commands::records::list_files,
            commands::records::upload_file,
            commands::records::save_file,
            commands::records::show_saved_file,
            commands::records::delete_file,
            commands::records::list_tickets,
            commands::records::list_logins,
            commands::records::open_ticket,
        ])
        .build(tauri::generate_context!());

    match app {
        Ok(app) => app.run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                alerts::go_offline_before_quitting(app);
            }
        }),
        Err(error) => {
            eprintln!("agent-desk: could not start: {error}");
            std::process::exit(1);
        }
    }
}

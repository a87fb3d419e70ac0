//! The desktop shell: builds the Tauri app, wires plugins, window and commands.
//! Logic lives in the `agent-desk-client` and `agent-desk-core` crates; commands only
//! translate between IPC and those.

mod commands;
mod state;

use tauri::{Emitter, Manager, WindowEvent};

use state::DeskState;

pub fn run() {
    let app = tauri::Builder::default()
        // First, so a second launch hands over to the running app before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
        }))
        // The window is created hidden (tauri.conf.json) and this plugin shows it once its
        // saved size and position are restored: no jump from the default size, and the page
        // is not laid out twice.
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .setup(|app| {
            let state = DeskState::open(app.handle())?;
            app.manage(state);
            commands::devices::start_audio_after_startup(app.handle().clone());
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
        ])
        .build(tauri::generate_context!());

    match app {
        Ok(app) => app.run(|_, _| {}),
        Err(error) => {
            eprintln!("agent-desk: could not start: {error}");
            std::process::exit(1);
        }
    }
}

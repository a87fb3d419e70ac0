//! The desktop shell: builds the Tauri app, wires plugins, window and commands.
//! Logic lives in the `agent-desk-client` and `agent-desk-core` crates; commands only
//! translate between IPC and those.

mod alerts;
mod commands;
mod error;
mod events;
mod ipc;
mod state;
mod tray;
#[cfg(test)]
mod wiring;

use agent_desk_ipc::Event;
use tauri::{Manager, WindowEvent};

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
                    let _ = events::CloseRequested.emit(window);
                }
            }
        })
        .invoke_handler(ipc::invoke_handler())
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

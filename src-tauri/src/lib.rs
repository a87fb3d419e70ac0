//! The desktop shell: builds the Tauri app, wires plugins, window and commands.
//! Logic lives in the `agent-desk-client` and `agent-desk-core` crates; commands only
//! translate between IPC and those.

mod account;
mod alerts;
mod commands;
mod computer;
mod error;
mod events;
mod ipc;
mod links;
mod state;
mod tray;
mod updates;
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

/// Closing the window keeps the app running, as agents expect of the app that brings
/// their alerts: hidden to the tray, saying so the first time; minimised where the
/// desktop shows no tray icons, so the window can always be found again.
fn close_to_tray<R: tauri::Runtime>(window: &tauri::Window<R>) {
    let window = window.clone();
    // Asking the session bus whether a tray host runs is not for the event loop's thread.
    let _ = std::thread::Builder::new()
        .name("close-to-tray".into())
        .spawn(move || {
            if !agent_desk_alerts::tray_host::running() {
                let _ = window.minimize();
                return;
            }
            let _ = window.hide();
            let state = window.state::<DeskState>();
            if state.kept.first_hide_to_tray() {
                tray::say_still_running(window.app_handle());
            }
        });
}

/// Quits (going Offline on the way out, `RunEvent::Exit`), unless a form has unsaved
/// changes: then the window comes forward and the UI asks, then calls
/// `quit_discarding_changes` or stays.
fn quit<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    if app.state::<DeskState>().has_unsaved_changes() {
        show_window(app);
        let _ = events::QuitRequested.emit(app);
        return;
    }
    app.exit(0);
}

pub fn run() {
    let context = tauri::generate_context!();
    // Only a build with the team's updater key (the release workflow's) takes updates.
    let takes_updates = updates::configured(context.config());
    let builder = tauri::Builder::default()
        // First, so a second launch hands over to the running app before anything else starts.
        // With its deep-link feature, a second launch's agentdesk:// link reaches this
        // one's deep-link handler below.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            show_window(app)
        }))
        .plugin(tauri_plugin_deep_link::init())
        // The window is created hidden (tauri.conf.json); this plugin restores its saved
        // size and position first, so it shows without a jump and the page is laid out
        // once. Whether it shows is the app's to decide: not when started with the session.
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::all()
                        - tauri_plugin_window_state::StateFlags::VISIBLE,
                )
                .build(),
        )
        .plugin(tauri_plugin_opener::init())
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .app_name(computer::LOGIN_ENTRY_NAME)
                .arg(computer::STARTED_AT_LOGIN)
                .build(),
        );
    // Without a key the plugin would refuse to start: a build without one never asks.
    let builder = if takes_updates {
        builder.plugin(tauri_plugin_updater::Builder::new().build())
    } else {
        builder
    };
    let app = builder
        .setup(move |app| {
            agent_desk_alerts::notifier::use_app_identity(
                computer::installed().then_some(app.config().identifier.as_str()),
            );
            let state = DeskState::open(app.handle())?;
            app.manage(state);
            app.manage(updates::Updates::new(
                app.package_info().version.to_string(),
                takes_updates,
            ));
            updates::follow(app.handle());
            commands::devices::start_audio_after_startup(app.handle().clone());
            tray::create(app.handle());
            quit_on_termination(app.handle().clone());
            // The package registers the scheme with the desktop; a link that started the
            // app is its argument, one that came later is a second launch's.
            {
                use tauri_plugin_deep_link::DeepLinkExt;
                if let Ok(Some(urls)) = app.deep_link().get_current() {
                    links::arrived(app.handle(), &urls);
                }
                let handle = app.handle().clone();
                app.deep_link()
                    .on_open_url(move |event| links::arrived(&handle, &event.urls()));
                // An AppImage is installed by no package: it registers the scheme itself.
                #[cfg(target_os = "linux")]
                if std::env::var_os("APPIMAGE").is_some() {
                    let _ = app.deep_link().register_all();
                }
            }
            // Started with the desktop session: signed in behind the scenes, in the tray
            // until asked for (a tray click, a notification, a second launch).
            // Where no tray icon shows, minimised instead, so it can be found.
            if !computer::started_at_login() {
                show_window(app.handle());
            } else if !agent_desk_alerts::tray_host::running() {
                if let Some(window) = app.get_webview_window("main") {
                    let _ = window.minimize();
                    let _ = window.show();
                }
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                api.prevent_close();
                close_to_tray(window);
            }
        })
        .invoke_handler(ipc::invoke_handler())
        .build(context);

    match app {
        Ok(app) => app.run(|app, event| match event {
            tauri::RunEvent::Exit => alerts::go_offline_before_quitting(app),
            // A click on the Dock icon brings back a window closed to the menu bar.
            #[cfg(target_os = "macos")]
            tauri::RunEvent::Reopen { .. } => show_window(app),
            _ => {}
        }),
        Err(error) => {
            eprintln!("agent-desk: could not start: {error}");
            std::process::exit(1);
        }
    }
}

//! The system tray: the status at a glance and a switch for it, the unread count, and
//! ways back to the window and out of the app.

use std::sync::Mutex;

use agent_desk_alerts::{AlertsState, Notice};
use agent_desk_core::Priority;
use agent_desk_core::{Status, StatusUpdate};
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime};

/// The tray's words, in the app's two languages; the tray lives outside the web UI and
/// its message catalog.
struct Words {
    statuses: [&'static str; 5],
    unread: fn(u32) -> String,
    signed_out: &'static str,
    open: &'static str,
    quit: &'static str,
    /// Said once, the first time closing the window hides it.
    still_running: (&'static str, &'static str),
}

const ENGLISH: Words = Words {
    statuses: ["Available", "Busy", "Away", "Do not disturb", "Offline"],
    unread: |count| match count {
        0 => "No unread alerts".to_owned(),
        1 => "1 unread alert".to_owned(),
        n => format!("{n} unread alerts"),
    },
    signed_out: "Not signed in",
    open: "Open Agent Desk",
    quit: "Quit Agent Desk",
    still_running: (
        "Agent Desk is still running",
        "Your alerts keep coming. Open Agent Desk from its tray icon; quit it from the icon's menu.",
    ),
};

const GERMAN: Words = Words {
    statuses: [
        "Verfügbar",
        "Beschäftigt",
        "Abwesend",
        "Nicht stören",
        "Offline",
    ],
    unread: |count| match count {
        0 => "Keine ungelesenen Hinweise".to_owned(),
        1 => "1 ungelesener Hinweis".to_owned(),
        n => format!("{n} ungelesene Hinweise"),
    },
    signed_out: "Nicht angemeldet",
    open: "Agent Desk öffnen",
    quit: "Agent Desk beenden",
    still_running: (
        "Agent Desk läuft weiter",
        "Ihre Hinweise kommen weiter an. Öffnen Sie Agent Desk über das Symbol im Infobereich; beenden Sie es über dessen Menü.",
    ),
};

fn words(language: &str) -> &'static Words {
    if language.starts_with("de") {
        &GERMAN
    } else {
        &ENGLISH
    }
}

fn status_index(status: Status) -> usize {
    Status::ALL
        .iter()
        .position(|candidate| *candidate == status)
        .unwrap_or(0)
}

/// The tray's menu items, kept to update them.
struct TrayMenu<R: Runtime> {
    icon: TrayIcon<R>,
    statuses: Vec<CheckMenuItem<R>>,
    unread: MenuItem<R>,
    open: MenuItem<R>,
    quit: MenuItem<R>,
    language: Mutex<String>,
    last: Mutex<Option<AlertsState>>,
}

impl<R: Runtime> TrayMenu<R> {
    /// The language the tray speaks, as last told.
    fn language(&self) -> String {
        self.language
            .lock()
            .map(|language| language.clone())
            .unwrap_or_default()
    }
}

/// Builds the tray. Desktops without a tray (some Linux sessions) simply have none.
pub fn create<R: Runtime>(app: &AppHandle<R>) {
    if let Err(error) = build(app) {
        eprintln!("agent-desk: no system tray: {error}");
    }
}

fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let words = words("en");
    let statuses = Status::ALL
        .iter()
        .zip(words.statuses)
        .map(|(status, label)| {
            CheckMenuItem::with_id(
                app,
                format!("status:{}", status.as_str()),
                label,
                false,
                false,
                None::<&str>,
            )
        })
        .collect::<tauri::Result<Vec<_>>>()?;
    let unread = MenuItem::with_id(app, "unread", words.signed_out, false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", words.open, true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", words.quit, true, None::<&str>)?;
    let menu = Menu::new(app)?;
    for item in &statuses {
        menu.append(item)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&unread)?;
    menu.append(&open)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&quit)?;
    let mut builder = TrayIconBuilder::with_id("main")
        .tooltip("Agent Desk")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| on_menu(app, event.id.as_ref()))
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                crate::show_window(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let icon = builder.build(app)?;
    app.manage(TrayMenu {
        icon,
        statuses,
        unread,
        open,
        quit,
        language: Mutex::new("en".into()),
        last: Mutex::new(None),
    });
    Ok(())
}

fn on_menu<R: Runtime>(app: &AppHandle<R>, id: &str) {
    match id {
        "open" => crate::show_window(app),
        "quit" => crate::quit(app),
        _ => {
            let Some(status) = id.strip_prefix("status:").and_then(Status::parse) else {
                return;
            };
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                let update = StatusUpdate {
                    status,
                    until: None,
                    idle: false,
                };
                // A failure leaves the check marks as the server has them.
                if crate::alerts::set_status(&app, update).await.is_err() {
                    refresh(&app);
                }
            });
        }
    }
}

/// The tray's words follow the agent's language.
pub fn set_language<R: Runtime>(app: &AppHandle<R>, language: &str) {
    let Some(tray) = app.try_state::<TrayMenu<R>>() else {
        return;
    };
    if let Ok(mut current) = tray.language.lock() {
        *current = language.to_owned();
    }
    refresh(app);
}

/// Tells the agent, as a notification, that closing the window kept the app running.
pub fn say_still_running<R: Runtime>(app: &AppHandle<R>) {
    let language = app
        .try_state::<TrayMenu<R>>()
        .map(|tray| tray.language())
        .unwrap_or_default();
    let (title, body) = words(&language).still_running;
    let notifier = crate::alerts::app_notifier(app, |_: &str| {});
    let notice = Notice {
        title: title.to_owned(),
        body: body.to_owned(),
        priority: Priority::Normal,
        url: None,
        replaces: None,
    };
    // Without a notification service the agent finds the icon where it always is.
    let _ = notifier.show(&notice);
}

/// Shows the status and unread count.
pub fn show_alerts<R: Runtime>(app: &AppHandle<R>, alerts: &AlertsState) {
    let Some(tray) = app.try_state::<TrayMenu<R>>() else {
        return;
    };
    if let Ok(mut last) = tray.last.lock() {
        *last = Some(alerts.clone());
    }
    refresh(app);
}

pub fn show_signed_out<R: Runtime>(app: &AppHandle<R>) {
    let Some(tray) = app.try_state::<TrayMenu<R>>() else {
        return;
    };
    if let Ok(mut last) = tray.last.lock() {
        *last = None;
    }
    refresh(app);
}

/// Redraws the tray from what it was last told. Menu items are the main thread's: from
/// any other thread the redraw is posted there, never waited for, since the main thread
/// may itself be waiting on async work (going Offline while quitting) that ends here.
fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    // An error means the event loop has ended: there is nothing to draw on any more.
    let _ = app.run_on_main_thread(move || redraw(&handle));
}

fn redraw<R: Runtime>(app: &AppHandle<R>) {
    let Some(tray) = app.try_state::<TrayMenu<R>>() else {
        return;
    };
    let language = tray.language();
    let words = words(&language);
    let _ = tray.open.set_text(words.open);
    let _ = tray.quit.set_text(words.quit);
    for (item, label) in tray.statuses.iter().zip(words.statuses) {
        let _ = item.set_text(label);
    }
    let last = tray.last.lock().ok().and_then(|last| last.clone());
    match last {
        Some(alerts) => {
            let current = status_index(alerts.status.status);
            for (index, item) in tray.statuses.iter().enumerate() {
                let _ = item.set_enabled(true);
                let _ = item.set_checked(index == current);
            }
            let unread = (words.unread)(alerts.unread);
            let _ = tray.unread.set_text(&unread);
            let tooltip = format!("Agent Desk — {} — {unread}", words.statuses[current]);
            let _ = tray.icon.set_tooltip(Some(&tooltip));
        }
        None => {
            for item in &tray.statuses {
                let _ = item.set_enabled(false);
                let _ = item.set_checked(false);
            }
            let _ = tray.unread.set_text(words.signed_out);
            let _ = tray.icon.set_tooltip(Some("Agent Desk"));
        }
    }
}

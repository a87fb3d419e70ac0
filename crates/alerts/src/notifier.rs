//! Native desktop notifications through notify-rust, never trusted to return: every
//! call runs on its own thread and is given up on after a timeout, because a
//! notification service that owns its bus name but never answers blocks forever.
//! Bodies carry what agents and customers wrote, so they are sent as text: escaped for
//! a server that renders markup in them, as they are for one that shows them literally.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use agent_desk_core::Priority;

use crate::inbox::SelfTestProblem;

/// How long a notification service gets to answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(3);
/// Calls still blocked in a service that stopped answering; beyond this many, new
/// notifications fail at once instead of piling up threads.
const MAX_STUCK_CALLS: usize = 4;
/// Notifications whose "Open" is still being waited for.
const MAX_ACTION_WAITERS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    #[error("no desktop session bus: {0}")]
    NoSessionBus(String),
    #[error("no notification service is running: {0}")]
    NoService(String),
    #[error("the notification service did not answer within {} s", ANSWER_TIMEOUT.as_secs())]
    NotAnswering,
    #[error("notifications are turned off for this app: {0}")]
    PermissionDenied(String),
    #[error("the notification could not be shown: {0}")]
    Failed(String),
}

impl NotifyError {
    pub fn problem(&self) -> SelfTestProblem {
        match self {
            Self::NoSessionBus(_) => SelfTestProblem::NoSessionBus,
            Self::NoService(_) | Self::Failed(_) => SelfTestProblem::NoNotificationService,
            Self::NotAnswering => SelfTestProblem::ServiceNotAnswering,
            Self::PermissionDenied(_) => SelfTestProblem::PermissionDenied,
        }
    }

    /// Sorts notify-rust's errors, which are text, into what the agent can act on.
    fn classify(message: String) -> Self {
        let lower = message.to_lowercase();
        if lower.contains("serviceunknown") || lower.contains("was not provided by any") {
            Self::NoService(message)
        } else if lower.contains("dbus_session_bus_address")
            || lower.contains("no such file")
            || lower.contains("connection refused")
            || lower.contains("address")
        {
            Self::NoSessionBus(message)
        } else if lower.contains("denied") || lower.contains("not authorized") {
            Self::PermissionDenied(message)
        } else {
            Self::Failed(message)
        }
    }
}

/// What one notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: String,
    pub body: String,
    pub priority: Priority,
    /// Opened by the notification's "Open" action.
    pub url: Option<String>,
    /// The notification this one replaces (a summary growing in place).
    pub replaces: Option<u32>,
}

/// Shows notifications as the app, and reports "Open" through `on_open`.
pub struct DesktopNotifier {
    app_name: String,
    icon: String,
    on_open: Arc<dyn Fn(&str) + Send + Sync>,
    stuck: Arc<AtomicUsize>,
    waiters: Arc<AtomicUsize>,
    /// Whether the notification server renders markup in bodies, as it last said.
    #[cfg_attr(not(all(unix, not(target_os = "macos"))), allow(dead_code))]
    markup: Arc<Mutex<Option<ServerMarkup>>>,
}

/// What a notification server said about body markup, with its unique name on the bus:
/// a restarted or replaced server has another name, and is asked again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(all(unix, not(target_os = "macos"))), allow(dead_code))]
struct ServerMarkup {
    server: String,
    renders: bool,
}

impl DesktopNotifier {
    /// `icon` is a file path or an icon-theme name.
    pub fn new(app_name: &str, icon: &str, on_open: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Self {
            app_name: app_name.to_owned(),
            icon: icon.to_owned(),
            on_open: Arc::new(on_open),
            stuck: Arc::default(),
            waiters: Arc::default(),
            markup: Arc::default(),
        }
    }

    /// Runs `call` on its own thread and waits at most [`ANSWER_TIMEOUT`] for it.
    fn bounded<T: Send + 'static>(
        &self,
        call: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> Result<T, NotifyError> {
        if self.stuck.load(Ordering::SeqCst) >= MAX_STUCK_CALLS {
            return Err(NotifyError::NotAnswering);
        }
        let (answer, answered) = mpsc::sync_channel(1);
        let stuck = Arc::clone(&self.stuck);
        stuck.fetch_add(1, Ordering::SeqCst);
        let spawned = std::thread::Builder::new()
            .name("notify".into())
            .spawn(move || {
                let result = call();
                stuck.fetch_sub(1, Ordering::SeqCst);
                let _ = answer.send(result);
            });
        if let Err(error) = spawned {
            self.stuck.fetch_sub(1, Ordering::SeqCst);
            return Err(NotifyError::Failed(error.to_string()));
        }
        match answered.recv_timeout(ANSWER_TIMEOUT) {
            Ok(result) => result.map_err(NotifyError::classify),
            Err(_) => Err(NotifyError::NotAnswering),
        }
    }

    /// Shows a notification; returns its id (for replacing it) where the platform has one.
    pub fn show(&self, notice: &Notice) -> Result<u32, NotifyError> {
        let mut notification = notify_rust::Notification::new();
        notification
            .appname(&self.app_name)
            .summary(&notice.title)
            .body(&notice.body)
            .icon(&self.icon);
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            notification
                .urgency(urgency(notice.priority))
                .hint(notify_rust::Hint::Category("im.received".into()))
                .hint(notify_rust::Hint::DesktopEntry("agent-desk".into()));
            if let Some(id) = notice.replaces {
                notification.id(id);
            }
        }
        #[cfg(target_os = "windows")]
        notification.app_id(windows_app_id());
        if notice.url.is_some() {
            // "default" is what a click on the notification's body invokes.
            notification
                .action("default", "Open")
                .action("open", "Open");
        }
        let url = notice.url.clone();
        let on_open = Arc::clone(&self.on_open);
        let waiters = Arc::clone(&self.waiters);
        #[cfg(all(unix, not(target_os = "macos")))]
        let (body, markup) = (notice.body.clone(), Arc::clone(&self.markup));
        self.bounded(move || {
            // Bodies hold what agents and customers wrote. A server that renders markup
            // would turn their tags into bold text, links and images fetched from
            // anywhere; it gets them as text. When it cannot be asked, the body is
            // escaped too: a stray `&amp;` is better than a live link.
            #[cfg(all(unix, not(target_os = "macos")))]
            if renders_body_markup(&markup).unwrap_or(true) {
                notification.body(&agent_desk_core::text::escape_markup(&body));
            }
            let handle = notification.show().map_err(|e| e.to_string())?;
            let id = notification_id(&handle);
            if let Some(url) = url {
                wait_for_open(handle, url, on_open, waiters);
            }
            Ok(id)
        })
    }

    /// The notification service's name and version, to tell the agent it is there.
    pub fn service(&self) -> Result<String, NotifyError> {
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            self.bounded(|| {
                notify_rust::get_server_information()
                    .map(|info| format!("{} {} ({})", info.name, info.version, info.vendor))
                    .map_err(|e| e.to_string())
            })
        }
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        {
            Ok("the system's notification centre".to_owned())
        }
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
const SERVICE: &str = "org.freedesktop.Notifications";

/// Whether the notification server renders markup in bodies (it lists `body-markup`
/// among its capabilities). Asked once per server: the cache is kept by the server's
/// unique bus name, which the bus itself answers, so a hit costs no call to the server.
#[cfg(all(unix, not(target_os = "macos")))]
fn renders_body_markup(known: &Mutex<Option<ServerMarkup>>) -> Result<bool, zbus::Error> {
    zbus::block_on(async {
        let bus = zbus::Connection::session().await?;
        let owner = name_owner(&bus).await.ok();
        let cached = known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let (Some(owner), Some(cached)) = (&owner, cached) {
            if *owner == cached.server {
                return Ok(cached.renders);
            }
        }
        // By its well-known name, which starts a server the bus can activate.
        let capabilities: Vec<String> = bus
            .call_method(
                Some(SERVICE),
                "/org/freedesktop/Notifications",
                Some(SERVICE),
                "GetCapabilities",
                &(),
            )
            .await?
            .body()
            .deserialize()?;
        let renders = capabilities.iter().any(|c| c == "body-markup");
        if let Ok(server) = name_owner(&bus).await {
            *known
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some(ServerMarkup { server, renders });
        }
        Ok(renders)
    })
}

/// The unique name of the connection that owns the notification service now.
#[cfg(all(unix, not(target_os = "macos")))]
async fn name_owner(bus: &zbus::Connection) -> Result<String, zbus::Error> {
    bus.call_method(
        Some("org.freedesktop.DBus"),
        "/org/freedesktop/DBus",
        Some("org.freedesktop.DBus"),
        "GetNameOwner",
        &(SERVICE,),
    )
    .await?
    .body()
    .deserialize()
}

/// The installed app's identity, which notifications carry so the system shows them as
/// the app's: its bundle identifier on macOS, and on Windows the AppUserModelID its
/// installers give its shortcuts. `None` for a build run from its build folder, which no
/// installer registered: notifications then go as the terminal's (macOS) or
/// PowerShell's (Windows), since the system drops those of an unknown app. Call once,
/// before the first notification; nothing to do on Linux, where the desktop entry hint
/// names the app.
pub fn use_app_identity(bundle_id: Option<&str>) {
    #[cfg(target_os = "macos")]
    {
        // Without one the first notification can hang; only the first call counts.
        let _ = notify_rust::set_application(bundle_id.unwrap_or("com.apple.Terminal"));
    }
    #[cfg(target_os = "windows")]
    {
        let id = bundle_id.map_or(POWERSHELL_APP_ID.to_owned(), str::to_owned);
        let _ = WINDOWS_APP_ID.set(id);
    }
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    let _ = bundle_id;
}

#[cfg(target_os = "windows")]
static WINDOWS_APP_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The AppUserModelID Windows shows PowerShell's notifications under.
#[cfg(target_os = "windows")]
const POWERSHELL_APP_ID: &str =
    "{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\\WindowsPowerShell\\v1.0\\powershell.exe";

#[cfg(target_os = "windows")]
fn windows_app_id() -> &'static str {
    WINDOWS_APP_ID
        .get()
        .map_or(POWERSHELL_APP_ID, String::as_str)
}

#[cfg(all(unix, not(target_os = "macos")))]
fn urgency(priority: Priority) -> notify_rust::Urgency {
    match priority {
        Priority::Low => notify_rust::Urgency::Low,
        Priority::Normal | Priority::High => notify_rust::Urgency::Normal,
        Priority::Urgent | Priority::Critical => notify_rust::Urgency::Critical,
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
fn notification_id(handle: &notify_rust::NotificationHandle) -> u32 {
    handle.id()
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn notification_id(_: &notify_rust::NotificationHandle) -> u32 {
    0
}

/// Waits, on a thread of its own, for the notification's "Open"; the wait ends when the
/// notification is closed or expires.
fn wait_for_open(
    handle: notify_rust::NotificationHandle,
    url: String,
    on_open: Arc<dyn Fn(&str) + Send + Sync>,
    waiters: Arc<AtomicUsize>,
) {
    if waiters.fetch_add(1, Ordering::SeqCst) >= MAX_ACTION_WAITERS {
        waiters.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    let waiting = Arc::clone(&waiters);
    let spawned = std::thread::Builder::new()
        .name("notify-action".into())
        .spawn(move || {
            handle.wait_for_action(|action| {
                if action == "default" || action == "open" {
                    on_open(&url);
                }
            });
            waiting.fetch_sub(1, Ordering::SeqCst);
        });
    if spawned.is_err() {
        waiters.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_sorted_into_what_the_agent_can_do() {
        let cases = [
            (
                "org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.Notifications was not provided by any .service files",
                SelfTestProblem::NoNotificationService,
            ),
            (
                "I/O error: No such file or directory (os error 2)",
                SelfTestProblem::NoSessionBus,
            ),
            (
                "DBUS_SESSION_BUS_ADDRESS is not set",
                SelfTestProblem::NoSessionBus,
            ),
            (
                "Notifications are not allowed: access denied",
                SelfTestProblem::PermissionDenied,
            ),
        ];
        for (message, problem) in cases {
            assert_eq!(
                NotifyError::classify(message.to_owned()).problem(),
                problem,
                "{message}"
            );
        }
    }
}

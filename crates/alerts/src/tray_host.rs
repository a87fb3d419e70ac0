//! Whether the desktop shows tray icons. Where none does (stock GNOME without its
//! AppIndicator extension), a window hidden to the tray could not be found again, so the
//! shell minimises it instead.

/// Whether a tray host runs. On Linux, tray icons are StatusNotifierItems, shown by
/// whoever owns the `org.kde.StatusNotifierWatcher` name on the session bus; Windows and
/// macOS always have one.
pub fn running() -> bool {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        watcher_owned().unwrap_or(false)
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    {
        true
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
fn watcher_owned() -> Result<bool, zbus::Error> {
    zbus::block_on(async {
        let bus = zbus::Connection::session().await?;
        bus.call_method(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            Some("org.freedesktop.DBus"),
            "NameHasOwner",
            &("org.kde.StatusNotifierWatcher",),
        )
        .await?
        .body()
        .deserialize()
    })
}

-- Releases of the desktop app that administrators published (`publish-release`), which
-- the app's updater is offered (releases.rs). The bundle's bytes are under
-- <data-dir>/releases/<id>, a folder every instance reads.
CREATE TABLE app_releases (
    id           TEXT PRIMARY KEY,
    version      TEXT NOT NULL,
    -- linux, darwin or windows; x86_64, aarch64, i686 or armv7; as the updater names them.
    target       TEXT NOT NULL,
    arch         TEXT NOT NULL,
    -- deb, rpm, appimage, msi, nsis or app: what the updater installs it as.
    bundle_type  TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    -- The bundle's minisign signature, as the bundler wrote it to <bundle>.sig.
    signature    TEXT NOT NULL,
    notes        TEXT,
    published_at TEXT NOT NULL,
    UNIQUE (target, arch, bundle_type, version)
);

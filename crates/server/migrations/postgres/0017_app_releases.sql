-- Mirrors sqlite/0017_app_releases.sql; INTEGER is BIGINT, text compares byte by byte.
-- Releases of the desktop app that administrators published (`publish-release`), which
-- the app's updater is offered (releases.rs). The bundle's bytes are under
-- <data-dir>/releases/<id>, a folder every instance reads.
CREATE TABLE app_releases (
    id           TEXT COLLATE "C" PRIMARY KEY,
    version      TEXT COLLATE "C" NOT NULL,
    -- linux, darwin or windows; x86_64, aarch64, i686 or armv7; as the updater names them.
    target       TEXT COLLATE "C" NOT NULL,
    arch         TEXT COLLATE "C" NOT NULL,
    -- deb, rpm, appimage, msi, nsis or app: what the updater installs it as.
    bundle_type  TEXT COLLATE "C" NOT NULL,
    file_name    TEXT COLLATE "C" NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT COLLATE "C" NOT NULL,
    -- The bundle's minisign signature, as the bundler wrote it to <bundle>.sig.
    signature    TEXT COLLATE "C" NOT NULL,
    notes        TEXT,
    published_at TEXT COLLATE "C" NOT NULL,
    UNIQUE (target, arch, bundle_type, version)
);

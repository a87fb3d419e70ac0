//! Releases of the desktop app, published by an administrator (`publish-release`) and
//! offered to the app's updater: the rows in `app_releases` and each bundle's bytes under
//! `<data-dir>/releases/<id>`. The server hands out only what was published here; the
//! app checks each bundle's signature against the key built into it.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::FromRow;
use uuid::Uuid;

use crate::clock::{parse_timestamp, timestamp};
use crate::db::Db;

/// Operating systems, as the updater names them (`{{target}}`).
pub const TARGETS: [&str; 3] = ["linux", "darwin", "windows"];
/// Processors, as the updater names them (`{{arch}}`).
pub const ARCHES: [&str; 4] = ["x86_64", "aarch64", "i686", "armv7"];
/// The kinds of install, as the updater names them (`{{bundle_type}}`).
pub const BUNDLE_TYPES: [&str; 6] = ["deb", "rpm", "appimage", "msi", "nsis", "app"];
/// Larger than any bundle of the app; a larger file is refused, not copied.
pub const BUNDLE_MAX_BYTES: u64 = 1 << 30;
/// A minisign signature as the bundler writes it is a few hundred characters.
const SIGNATURE_MAX: usize = 4_096;
const NOTES_MAX: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("--{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("version {version} for {target} {arch} ({bundle_type}) is published already")]
    AlreadyPublished {
        version: String,
        target: String,
        arch: String,
        bundle_type: String,
    },
    #[error("the bundle could not be stored: {0}")]
    Storage(#[from] std::io::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ReleaseError {
    ReleaseError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// What the updater installs a bundle as, from the bundle's name (the bundler's).
pub fn bundle_type(file_name: &str) -> Option<&'static str> {
    let lower = file_name.to_ascii_lowercase();
    [
        (".deb", "deb"),
        (".rpm", "rpm"),
        (".appimage", "appimage"),
        (".msi", "msi"),
        (".exe", "nsis"),
        (".app.tar.gz", "app"),
    ]
    .into_iter()
    .find(|(ending, _)| lower.ends_with(ending))
    .map(|(_, kind)| kind)
}

/// Reads a version the updater compares: semantic versioning, an optional leading `v`.
pub fn parse_version(text: &str) -> Option<semver::Version> {
    semver::Version::parse(text.strip_prefix('v').unwrap_or(text)).ok()
}

fn checked_version(text: &str) -> Result<semver::Version, ReleaseError> {
    parse_version(text).ok_or_else(|| {
        invalid(
            "version",
            format!("{text:?} is not a version such as 1.4.2 (semantic versioning)"),
        )
    })
}

/// Refuses a system or processor the updater does not name.
fn check_system(target: &str, arch: &str) -> Result<(), ReleaseError> {
    if !TARGETS.contains(&target) {
        return Err(invalid(
            "target",
            format!("{target:?} is not one of {}", TARGETS.join(", ")),
        ));
    }
    if !ARCHES.contains(&arch) {
        return Err(invalid(
            "arch",
            format!("{arch:?} is not one of {}", ARCHES.join(", ")),
        ));
    }
    Ok(())
}

/// What `publish-release` is given.
pub struct Publish<'a> {
    pub version: &'a str,
    pub target: &'a str,
    pub arch: &'a str,
    pub file: &'a Path,
    /// The bundler's `.sig` file for `file`.
    pub signature_file: &'a Path,
    pub notes: Option<&'a str>,
}

/// A published release.
#[derive(Debug, Clone, FromRow)]
pub struct Release {
    pub id: String,
    pub version: String,
    pub target: String,
    pub arch: String,
    pub bundle_type: String,
    pub file_name: String,
    pub size: i64,
    pub sha256: String,
    pub signature: String,
    pub notes: Option<String>,
    published_at: String,
}

impl Release {
    pub fn published_at(&self) -> DateTime<Utc> {
        parse_timestamp(&self.published_at)
    }
}

/// Where a release's bytes are.
pub fn bundle_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(id)
}

/// Ids are 32 lower-case hex digits; anything else never reaches the file system.
pub fn is_release_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Checks what was given, copies the bundle into `dir` and records it.
pub async fn publish(
    db: &Db,
    dir: &Path,
    release: &Publish<'_>,
    now: DateTime<Utc>,
) -> Result<Release, ReleaseError> {
    let version = checked_version(release.version)?;
    check_system(release.target, release.arch)?;
    let file_name = release
        .file
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| invalid("file", "the bundle's name is not UTF-8 text"))?
        .to_owned();
    let kind = bundle_type(&file_name).ok_or_else(|| {
        invalid(
            "file",
            format!(
                "{file_name} is not a bundle the updater installs (.deb, .rpm, .AppImage, .msi, .exe, .app.tar.gz)"
            ),
        )
    })?;
    let signature = std::fs::read_to_string(release.signature_file)
        .map_err(|error| {
            invalid(
                "signature",
                format!(
                    "{} cannot be read: {error}",
                    release.signature_file.display()
                ),
            )
        })?
        .trim()
        .to_owned();
    let looks_signed = !signature.is_empty()
        && signature.len() <= SIGNATURE_MAX
        && signature
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if !looks_signed {
        return Err(invalid(
            "signature",
            "not a signature file as the bundler writes it (<bundle>.sig, one line of base64)",
        ));
    }
    let notes = release
        .notes
        .map(str::trim)
        .filter(|notes| !notes.is_empty());
    if notes.is_some_and(|notes| notes.chars().count() > NOTES_MAX) {
        return Err(invalid("notes", format!("at most {NOTES_MAX} characters")));
    }
    let version = version.to_string();
    let taken: Option<String> = crate::storage::query_scalar(
        "SELECT id FROM app_releases
         WHERE target = $1 AND arch = $2 AND bundle_type = $3 AND version = $4",
    )
    .bind(release.target)
    .bind(release.arch)
    .bind(kind)
    .bind(&version)
    .fetch_optional(db)
    .await?;
    if taken.is_some() {
        return Err(ReleaseError::AlreadyPublished {
            version,
            target: release.target.to_owned(),
            arch: release.arch.to_owned(),
            bundle_type: kind.to_owned(),
        });
    }

    let id = Uuid::new_v4().simple().to_string();
    std::fs::create_dir_all(dir)?;
    let (size, sha256) = copy_in(release.file, &bundle_path(dir, &id))
        .map_err(|error| invalid("file", format!("{}: {error}", release.file.display())))?;
    let inserted = crate::storage::query(
        "INSERT INTO app_releases
         (id, version, target, arch, bundle_type, file_name, size, sha256, signature, notes, published_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(&version)
    .bind(release.target)
    .bind(release.arch)
    .bind(kind)
    .bind(&file_name)
    .bind(i64::try_from(size).unwrap_or(i64::MAX))
    .bind(&sha256)
    .bind(&signature)
    .bind(notes)
    .bind(timestamp(now))
    .execute(db)
    .await;
    if let Err(error) = inserted {
        // Published by another at the same moment, or the database failed: no orphan bytes.
        let _ = std::fs::remove_file(bundle_path(dir, &id));
        return Err(error.into());
    }
    find(db, &id)
        .await?
        .ok_or_else(|| ReleaseError::Storage(std::io::Error::other("the release vanished")))
}

/// Takes published releases back: `version` for `target` and `arch`, of `bundle_type`
/// or of every kind. The update check no longer offers them and their bytes are
/// removed; an app that downloaded one already keeps its copy. Answers what was taken.
pub async fn withdraw(
    db: &Db,
    dir: &Path,
    version: &str,
    target: &str,
    arch: &str,
    bundle_type: Option<&str>,
) -> Result<Vec<Release>, ReleaseError> {
    let version = checked_version(version)?.to_string();
    if let Some(kind) = bundle_type {
        if !BUNDLE_TYPES.contains(&kind) {
            return Err(invalid(
                "bundle-type",
                format!("{kind:?} is not one of {}", BUNDLE_TYPES.join(", ")),
            ));
        }
    }
    check_system(target, arch)?;
    let withdrawn: Vec<Release> = crate::storage::query_as(
        "DELETE FROM app_releases
         WHERE version = $1 AND target = $2 AND arch = $3
           AND (CAST($4 AS TEXT) IS NULL OR bundle_type = CAST($4 AS TEXT))
         RETURNING id, version, target, arch, bundle_type, file_name, size, sha256, signature,
                   notes, published_at",
    )
    .bind(&version)
    .bind(target)
    .bind(arch)
    .bind(bundle_type)
    .fetch_all(db)
    .await?;
    for release in &withdrawn {
        // Gone from the table first: a check in between never offers missing bytes.
        match std::fs::remove_file(bundle_path(dir, &release.id)) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error.into()),
            _ => {}
        }
    }
    Ok(withdrawn)
}

/// Copies a bundle beside its final place, then renames it there: a crash leaves no
/// half bundle under an id. Answers its size and SHA-256, read as it is copied.
fn copy_in(from: &Path, to: &Path) -> std::io::Result<(u64, String)> {
    use std::io::Write;
    let mut source = std::fs::File::open(from)?;
    if source.metadata()?.len() > BUNDLE_MAX_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {BUNDLE_MAX_BYTES} bytes"
        )));
    }
    let mut partial = to.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let mut copy = std::fs::File::create(&partial)?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = source.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        copy.write_all(&buffer[..read])?;
        size += read as u64;
    }
    copy.sync_all()?;
    std::fs::rename(&partial, to)?;
    Ok((size, hex::encode(hasher.finalize())))
}

pub async fn find(db: &Db, id: &str) -> Result<Option<Release>, sqlx::Error> {
    crate::storage::query_as(
        "SELECT id, version, target, arch, bundle_type, file_name, size, sha256, signature,
                notes, published_at
         FROM app_releases WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The newest release for `target` and `arch` newer than `current`, of `bundle_type`
/// when the app says how it was installed; otherwise of the first kind published for
/// that system in the updater's order of preference.
pub async fn newer(
    db: &Db,
    target: &str,
    arch: &str,
    bundle_type: Option<&str>,
    current: &semver::Version,
) -> Result<Option<Release>, sqlx::Error> {
    let published: Vec<Release> = crate::storage::query_as(
        "SELECT id, version, target, arch, bundle_type, file_name, size, sha256, signature,
                notes, published_at
         FROM app_releases WHERE target = $1 AND arch = $2",
    )
    .bind(target)
    .bind(arch)
    .fetch_all(db)
    .await?;
    const PREFERENCE: [&str; 6] = ["app", "nsis", "msi", "appimage", "deb", "rpm"];
    let kind = match bundle_type {
        Some(kind) => Some(kind),
        None => PREFERENCE
            .into_iter()
            .find(|kind| published.iter().any(|release| release.bundle_type == *kind)),
    };
    Ok(published
        .into_iter()
        .filter(|release| Some(release.bundle_type.as_str()) == kind)
        .filter_map(|release| Some((parse_version(&release.version)?, release)))
        .filter(|(version, _)| version > current)
        .max_by(|(a, _), (b, _)| a.cmp(b))
        .map(|(_, release)| release))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_are_told_by_their_names() {
        for (name, kind) in [
            ("agent-desk_0.2.0_amd64.deb", Some("deb")),
            ("agent-desk-0.2.0-1.x86_64.rpm", Some("rpm")),
            ("agent-desk_0.2.0_amd64.AppImage", Some("appimage")),
            ("Agent Desk_0.2.0_x64_en-US.msi", Some("msi")),
            ("Agent Desk_0.2.0_x64-setup.exe", Some("nsis")),
            ("Agent Desk.app.tar.gz", Some("app")),
            ("Agent Desk_0.2.0_aarch64.dmg", None),
            ("notes.txt", None),
        ] {
            assert_eq!(bundle_type(name), kind, "{name}");
        }
    }

    #[test]
    fn versions_are_semantic_with_an_optional_v() {
        assert_eq!(parse_version("v1.4.2"), parse_version("1.4.2"));
        assert!(parse_version("1.4.2").is_some());
        assert!(parse_version("1.10.0") > parse_version("1.9.9"));
        for bad in ["", "1.4", "latest", "1.4.2 ", "../1.4.2"] {
            assert_eq!(parse_version(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_generated_ids_name_a_bundle() {
        assert!(is_release_id("0123456789abcdef0123456789abcdef"));
        for bad in [
            "",
            "../etc/passwd",
            "0123456789ABCDEF0123456789ABCDEF",
            "abc",
        ] {
            assert!(!is_release_id(bad), "{bad}");
        }
    }
}

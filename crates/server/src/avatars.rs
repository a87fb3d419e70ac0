//! Stored profile photos: the server's own re-encoded JPEGs under `<data-dir>/avatars`,
//! one file a size, named by a fresh id on every upload so URLs can be cached forever.

use std::path::{Path, PathBuf};

use agent_desk_core::{ProfileField, AVATAR_SIZES};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::agents::AgentError;
use crate::change_log::record_change;
use crate::clock::timestamp;
use crate::Db;

/// The URL path a stored photo is served at.
pub fn url(avatar_id: &str) -> String {
    format!("/api/v1/avatars/{avatar_id}")
}

/// The id in a URL from [`url`].
fn id_of(url: &str) -> Option<&str> {
    url.strip_prefix("/api/v1/avatars/")
        .filter(|id| is_avatar_id(id))
}

/// Ids are 32 lower-case hex digits; anything else never reaches the file system.
pub fn is_avatar_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub fn file(dir: &Path, avatar_id: &str, side: u32) -> PathBuf {
    dir.join(format!("{avatar_id}-{side}.jpg"))
}

/// Writes the encoded sizes (in [`AVATAR_SIZES`] order) under a new id. Each file is
/// written aside and renamed, so a reader never sees half a photo.
pub async fn store(dir: &Path, encoded: &[Vec<u8>]) -> std::io::Result<String> {
    tokio::fs::create_dir_all(dir).await?;
    let avatar_id = Uuid::new_v4().simple().to_string();
    for (side, bytes) in AVATAR_SIZES.iter().zip(encoded) {
        let target = file(dir, &avatar_id, *side);
        let partial = target.with_extension("partial");
        tokio::fs::write(&partial, bytes).await?;
        tokio::fs::rename(&partial, &target).await?;
    }
    Ok(avatar_id)
}

/// Removes a photo's files; missing ones are fine.
pub async fn remove_files(dir: &Path, url: &str) {
    let Some(avatar_id) = id_of(url) else { return };
    for side in AVATAR_SIZES {
        if let Err(error) = tokio::fs::remove_file(file(dir, avatar_id, side)).await {
            if error.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(%error, "could not remove an old photo");
            }
        }
    }
}

/// Points the agent's profile at a new photo (or none), with a change-log row.
/// Answers the previous URL and the profile's new version.
pub async fn set_avatar_url(
    db: &Db,
    agent_id: &str,
    new_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(Option<String>, i64), AgentError> {
    let at = timestamp(now);
    let mut tx = crate::db::begin_write(db).await?;
    tx.lock("agents", agent_id).await?;
    let (old_url, version) = crate::storage::query_as::<(Option<String>, i64)>(
        "SELECT avatar_url, version FROM agents WHERE id = $1",
    )
    .bind(agent_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AgentError::NotFound)?;
    if old_url.as_deref() == new_url {
        return Ok((old_url, version));
    }
    crate::storage::query(
        "UPDATE agents SET avatar_url = $1, updated_at = $2, version = version + 1 WHERE id = $3",
    )
    .bind(new_url)
    .bind(&at)
    .bind(agent_id)
    .execute(&mut *tx)
    .await?;
    record_change(
        &mut tx,
        agent_id,
        agent_id,
        ProfileField::AvatarUrl.as_str(),
        &old_url,
        &new_url.map(str::to_owned),
        &at,
    )
    .await?;
    tx.commit().await?;
    Ok((old_url, version + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_ids_name_files() {
        let id = Uuid::new_v4().simple().to_string();
        assert!(is_avatar_id(&id));
        assert_eq!(id_of(&url(&id)), Some(id.as_str()));
        for bad in [
            "../../etc/passwd",
            "",
            "ABCDEF0123456789ABCDEF0123456789",
            &format!("{id}/x"),
        ] {
            assert!(!is_avatar_id(bad), "{bad}");
        }
        assert_eq!(id_of("/api/v1/avatars/../secret"), None);
    }
}

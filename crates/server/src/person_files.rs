//! Files kept on customers' records: the rows in `person_files` and the bytes under
//! `<data-dir>/files`, one file an id. The type is sniffed from the bytes; what the
//! uploader claims is never stored or served.

use std::path::{Path, PathBuf};

use agent_desk_core::attachments::{file_name, PersonFile, FILES_MAX};
use agent_desk_core::customers::RecordError;
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use crate::change_log::record_change;
use crate::clock::{parse_timestamp, timestamp};
use crate::db::Db;
use crate::uploads::Received;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("no such person")]
    PersonNotFound,
    #[error("no such file")]
    NotFound,
    #[error(transparent)]
    Invalid(#[from] RecordError),
    #[error("a record holds at most {FILES_MAX} files; remove one first")]
    TooMany,
    #[error("only the agent who added a file, or an administrator, can remove it")]
    NotUploader,
    #[error("the file could not be stored: {0}")]
    Storage(#[from] std::io::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Ids are 32 lower-case hex digits; anything else never reaches the file system.
fn is_file_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn path(dir: &Path, id: &str) -> PathBuf {
    dir.join(id)
}

/// The media type of a file: a known signature in its first bytes (`head`), else UTF-8
/// text when the whole of it is (`is_text`), else `application/octet-stream`.
pub fn sniff_content_type(head: &[u8], is_text: bool) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_owned();
    }
    if is_text {
        "text/plain; charset=utf-8".to_owned()
    } else {
        "application/octet-stream".to_owned()
    }
}

#[derive(FromRow)]
struct FileRow {
    id: String,
    person_id: String,
    name: String,
    content_type: String,
    size: i64,
    uploaded_by: Option<String>,
    uploaded_by_name: Option<String>,
    uploaded_at: String,
}

impl FileRow {
    fn into_file(self) -> PersonFile {
        PersonFile {
            id: self.id,
            person_id: self.person_id,
            name: self.name,
            content_type: self.content_type,
            size: u64::try_from(self.size).unwrap_or_default(),
            uploaded_by: self.uploaded_by,
            uploaded_by_name: self.uploaded_by_name,
            uploaded_at: parse_timestamp(&self.uploaded_at),
        }
    }
}

const FILE_SELECT: &str = "SELECT f.id, f.person_id, f.name, f.content_type, f.size, f.uploaded_by,
        a.display_name AS uploaded_by_name, f.uploaded_at
    FROM person_files f LEFT JOIN agents a ON a.id = f.uploaded_by";

async fn person_exists(conn: &mut crate::storage::Conn, person_id: &str) -> Result<(), FileError> {
    crate::storage::query_scalar::<String>("SELECT id FROM people WHERE id = $1")
        .bind(person_id)
        .fetch_optional(conn)
        .await?
        .map(|_| ())
        .ok_or(FileError::PersonNotFound)
}

/// A record's files, newest first.
pub async fn list(db: &Db, person_id: &str) -> Result<Vec<PersonFile>, FileError> {
    let mut conn = db.acquire().await?;
    person_exists(&mut conn, person_id).await?;
    let rows = crate::storage::query_as::<FileRow>(&format!(
        "{FILE_SELECT} WHERE f.person_id = $1 ORDER BY f.uploaded_at DESC, f.id DESC"
    ))
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(FileRow::into_file).collect())
}

/// One file's description, wherever it is kept.
pub async fn find(db: &Db, file_id: &str) -> Result<PersonFile, FileError> {
    if !is_file_id(file_id) {
        return Err(FileError::NotFound);
    }
    let mut conn = db.acquire().await?;
    file(&mut conn, file_id).await
}

async fn file(conn: &mut crate::storage::Conn, file_id: &str) -> Result<PersonFile, FileError> {
    crate::storage::query_as::<FileRow>(&format!("{FILE_SELECT} WHERE f.id = $1"))
        .bind(file_id)
        .fetch_optional(conn)
        .await?
        .map(FileRow::into_file)
        .ok_or(FileError::NotFound)
}

/// Where a found file's bytes are.
pub fn bytes_path(dir: &Path, file: &PersonFile) -> PathBuf {
    path(dir, &file.id)
}

/// Keeps a received upload on a record. The bytes are moved into place before the
/// transaction, so the database's write lock is not held for a disk write, and a listed
/// file always has its bytes; they are removed again when the row is not written.
pub async fn add(
    db: &Db,
    dir: &Path,
    uploader_id: &str,
    person_id: &str,
    name: &str,
    upload: Received,
    now: DateTime<Utc>,
) -> Result<PersonFile, FileError> {
    let name = file_name(name)?;
    let content_type = sniff_content_type(&upload.head, upload.is_text);
    let size = upload.size;
    let id = Uuid::new_v4().simple().to_string();
    let at = timestamp(now);
    let target = path(dir, &id);
    tokio::fs::create_dir_all(dir).await?;
    // A rename within the data folder, done here rather than on a blocking thread: were
    // the request dropped (its client gone) while another thread renamed, nothing would
    // be left to remove the bytes.
    upload.keep_as(&target)?;
    let unlisted = UnlistedBytes(Some(target));
    let stored = async {
        let mut tx = crate::db::begin_write(db).await?;
        // Held to the commit, so concurrent uploads cannot pass the limit together.
        tx.lock("people", person_id).await?;
        person_exists(&mut tx, person_id).await?;
        let count =
            crate::storage::query_scalar::<i64>("SELECT COUNT(*) FROM person_files WHERE person_id = $1")
                .bind(person_id)
                .fetch_one(&mut *tx)
                .await?;
        if count >= FILES_MAX as i64 {
            return Err(FileError::TooMany);
        }
        crate::storage::query(
            "INSERT INTO person_files (id, person_id, name, content_type, size, uploaded_by, uploaded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(person_id)
        .bind(&name)
        .bind(&content_type)
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .bind(uploader_id)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        record_change(&mut tx, person_id, uploader_id, "file", &None, &Some(name.clone()), &at)
            .await?;
        touch(&mut tx, person_id, &at).await?;
        let added = file(&mut tx, &id).await?;
        tx.commit().await?;
        Ok(added)
    }
    .await;
    if stored.is_ok() {
        unlisted.listed();
    }
    stored
}

/// A file's bytes in place before the row that lists them is written: removed when
/// dropped, unless the row was written, whether the request failed or was dropped.
struct UnlistedBytes(Option<PathBuf>);

impl UnlistedBytes {
    fn listed(mut self) {
        self.0 = None;
    }
}

impl Drop for UnlistedBytes {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            if let Err(error) = std::fs::remove_file(&path) {
                if error.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(%error, "could not remove a file's bytes");
                }
            }
        }
    }
}

/// A file's change is the record's change too.
async fn touch(
    conn: &mut crate::storage::Conn,
    person_id: &str,
    at: &str,
) -> Result<(), sqlx::Error> {
    crate::storage::query("UPDATE people SET updated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(person_id)
        .execute(conn)
        .await?;
    Ok(())
}

async fn remove_bytes(target: &Path) {
    if let Err(error) = tokio::fs::remove_file(target).await {
        if error.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(%error, "could not remove a file's bytes");
        }
    }
}

/// Removes a file; only its uploader or an administrator may. The change log keeps
/// its name; the bytes go once the row is gone.
pub async fn remove(
    db: &Db,
    dir: &Path,
    agent_id: &str,
    is_admin: bool,
    file_id: &str,
    now: DateTime<Utc>,
) -> Result<(), FileError> {
    if !is_file_id(file_id) {
        return Err(FileError::NotFound);
    }
    let at = timestamp(now);
    let mut tx = crate::db::begin_write(db).await?;
    let existing = file(&mut tx, file_id).await?;
    if !is_admin && existing.uploaded_by.as_deref() != Some(agent_id) {
        return Err(FileError::NotUploader);
    }
    crate::storage::query("DELETE FROM person_files WHERE id = $1")
        .bind(file_id)
        .execute(&mut *tx)
        .await?;
    record_change(
        &mut tx,
        &existing.person_id,
        agent_id,
        "file",
        &Some(existing.name),
        &None,
        &at,
    )
    .await?;
    touch(&mut tx, &existing.person_id, &at).await?;
    tx.commit().await?;
    remove_bytes(&path(dir, file_id)).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_comes_from_the_bytes() {
        // A signature wins over what the rest looks like.
        assert_eq!(
            sniff_content_type(b"%PDF-1.7\n1 0 obj", true),
            "application/pdf"
        );
        assert_eq!(
            sniff_content_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", false),
            "image/png"
        );
        assert_eq!(
            sniff_content_type("Grüße\n".as_bytes(), true),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            sniff_content_type(&[0, 159, 146, 150], false),
            "application/octet-stream"
        );
    }

    #[test]
    fn only_hex_ids_reach_the_file_system() {
        assert!(is_file_id(&"a1".repeat(16)));
        for bad in ["", "../../etc/passwd", &"A1".repeat(16), &"a".repeat(33)] {
            assert!(!is_file_id(bad), "{bad:?}");
        }
    }
}

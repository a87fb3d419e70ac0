//! Notes agents keep on a customer's record.

use agent_desk_core::customers::{clean_text, Note, NotesPage, RecordError, NOTE_MAX};
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use super::{row, CustomerError};
use crate::change_log::record_change;
use crate::clock::{parse_timestamp, timestamp};
use crate::db::Db;
use crate::people::{decode_cursor, encode_cursor};

#[derive(FromRow)]
pub(super) struct NoteRow {
    id: String,
    person_id: String,
    author_id: Option<String>,
    author_name: Option<String>,
    body: String,
    created_at: String,
    updated_at: String,
}

impl NoteRow {
    pub(super) fn into_note(self) -> Note {
        Note {
            id: self.id,
            person_id: self.person_id,
            author_id: self.author_id,
            author_name: self.author_name,
            body: self.body,
            created_at: parse_timestamp(&self.created_at),
            updated_at: parse_timestamp(&self.updated_at),
        }
    }
}

pub(super) const NOTE_SELECT: &str =
    "SELECT n.id, n.person_id, n.author_id, a.display_name AS author_name,
        n.body, n.created_at, n.updated_at
    FROM person_notes n LEFT JOIN agents a ON a.id = n.author_id";

fn note_body(body: &str) -> Result<String, CustomerError> {
    clean_text("body", body, NOTE_MAX)?
        .ok_or_else(|| RecordError::new("body", "is required").into())
}

/// A person's notes, newest first, `limit` at a time.
pub async fn notes(
    db: &Db,
    person_id: &str,
    cursor: Option<&str>,
    limit: u32,
) -> Result<NotesPage, CustomerError> {
    let mut conn = db.acquire().await?;
    row(&mut conn, person_id).await?;
    let total = crate::storage::query_scalar::<i64>(
        "SELECT COUNT(*) FROM person_notes WHERE person_id = $1",
    )
    .bind(person_id)
    .fetch_one(&mut *conn)
    .await?;
    let after = cursor
        .map(decode_cursor)
        .transpose()
        .map_err(|_| CustomerError::InvalidCursor)?;
    let older = if after.is_some() {
        " AND (n.created_at, n.id) < ($2, $3)"
    } else {
        ""
    };
    let (before_time, before_id) = after.unwrap_or_default();
    let mut rows = crate::storage::query_as::<NoteRow>(&format!(
        "{NOTE_SELECT} WHERE n.person_id = $1{older}
         ORDER BY n.created_at DESC, n.id DESC LIMIT $4"
    ))
    .bind(person_id)
    .bind(&before_time)
    .bind(&before_id)
    .bind(i64::from(limit) + 1)
    .fetch_all(&mut *conn)
    .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| {
            rows.last()
                .map(|last| encode_cursor(&last.created_at, &last.id))
        })
        .flatten();
    Ok(NotesPage {
        notes: rows.into_iter().map(NoteRow::into_note).collect(),
        total: u32::try_from(total).unwrap_or(u32::MAX),
        next_cursor,
    })
}

pub async fn add_note(
    db: &Db,
    author_id: &str,
    person_id: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Note, CustomerError> {
    let body = note_body(body)?;
    let at = timestamp(now);
    let id = Uuid::new_v4().to_string();
    let mut tx = crate::db::begin_write(db).await?;
    row(&mut tx, person_id).await?;
    crate::storage::query(
        "INSERT INTO person_notes (id, person_id, author_id, body, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&id)
    .bind(person_id)
    .bind(author_id)
    .bind(&body)
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    let note = note(&mut tx, &id).await?;
    tx.commit().await?;
    Ok(note)
}

async fn note(conn: &mut crate::storage::Conn, id: &str) -> Result<Note, CustomerError> {
    crate::storage::query_as::<NoteRow>(&format!("{NOTE_SELECT} WHERE n.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(NoteRow::into_note)
        .ok_or(CustomerError::NoteNotFound)
}

/// Changes a note's text; only its author may.
pub async fn edit_note(
    db: &Db,
    agent_id: &str,
    note_id: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Note, CustomerError> {
    let body = note_body(body)?;
    let mut tx = crate::db::begin_write(db).await?;
    tx.lock("person_notes", note_id).await?;
    let existing = note(&mut tx, note_id).await?;
    if existing.author_id.as_deref() != Some(agent_id) {
        return Err(CustomerError::NotAuthor);
    }
    let at = timestamp(now);
    crate::storage::query("UPDATE person_notes SET body = $1, updated_at = $2 WHERE id = $3")
        .bind(&body)
        .bind(&at)
        .bind(note_id)
        .execute(&mut *tx)
        .await?;
    record_change(
        &mut tx,
        &existing.person_id,
        agent_id,
        "note",
        &Some(existing.body.clone()),
        &Some(body.clone()),
        &at,
    )
    .await?;
    let note = note(&mut tx, note_id).await?;
    tx.commit().await?;
    Ok(note)
}

/// Deletes a note; only its author may.
pub async fn delete_note(
    db: &Db,
    agent_id: &str,
    note_id: &str,
    now: DateTime<Utc>,
) -> Result<(), CustomerError> {
    let mut tx = crate::db::begin_write(db).await?;
    tx.lock("person_notes", note_id).await?;
    let existing = note(&mut tx, note_id).await?;
    if existing.author_id.as_deref() != Some(agent_id) {
        return Err(CustomerError::NotAuthor);
    }
    crate::storage::query("DELETE FROM person_notes WHERE id = $1")
        .bind(note_id)
        .execute(&mut *tx)
        .await?;
    // What a deleted note said stays in the change log.
    record_change(
        &mut tx,
        &existing.person_id,
        agent_id,
        "note",
        &Some(existing.body),
        &None,
        &timestamp(now),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

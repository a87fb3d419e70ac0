//! A record's history: its change log, and its notes, edits and ticket events together.

use agent_desk_core::customers::{Activity, Change};
use sqlx::FromRow;

use super::notes::{NoteRow, NOTE_SELECT};
use crate::clock::parse_timestamp;
use crate::db::Db;

#[derive(FromRow)]
struct ChangeRow {
    changed_at: String,
    actor_id: String,
    actor_name: Option<String>,
    field: String,
    old_value: Option<String>,
    new_value: Option<String>,
}

/// The newest `limit` edits of a record or profile, newest first.
pub async fn changes(db: &Db, subject_id: &str, limit: u32) -> Result<Vec<Change>, sqlx::Error> {
    let rows = crate::storage::query_as::<ChangeRow>(format!(
        "SELECT c.changed_at, c.actor_id, a.display_name AS actor_name, c.field, c.old_value,
                c.new_value
         FROM change_log c LEFT JOIN agents a ON a.id = c.actor_id
         WHERE c.subject_id = $1 ORDER BY c.changed_at DESC, {} DESC LIMIT $2",
        db.dialect().insertion_order("c")
    ))
    .bind(subject_id)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Change {
            changed_at: parse_timestamp(&row.changed_at),
            actor_id: row.actor_id,
            actor_name: row.actor_name,
            field: row.field,
            old_value: row.old_value,
            new_value: row.new_value,
        })
        .collect())
}

/// The newest `limit` notes, edits and ticket events of a person together, newest first.
pub async fn activity(
    db: &Db,
    subject: crate::tickets::Subject,
    person_id: &str,
    limit: u32,
) -> Result<Vec<Activity>, sqlx::Error> {
    let notes = crate::storage::query_as::<NoteRow>(&format!(
        "{NOTE_SELECT} WHERE n.person_id = $1 ORDER BY n.created_at DESC, n.id DESC LIMIT $2"
    ))
    .bind(person_id)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    let mut activity: Vec<Activity> = notes
        .into_iter()
        .map(|row| Activity::Note(row.into_note()))
        .chain(
            changes(db, person_id, limit)
                .await?
                .into_iter()
                .map(Activity::Change),
        )
        .chain(
            crate::tickets::events(db, subject, person_id, limit)
                .await?
                .into_iter()
                .map(Activity::Ticket),
        )
        .collect();
    let at = |entry: &Activity| match entry {
        Activity::Note(note) => note.created_at,
        Activity::Change(change) => change.changed_at,
        Activity::Ticket(ticket) => ticket.at,
    };
    activity.sort_by_key(|entry| std::cmp::Reverse(at(entry)));
    activity.truncate(limit as usize);
    Ok(activity)
}

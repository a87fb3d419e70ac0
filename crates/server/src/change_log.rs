//! Writing the change log, one row an edited field, inside the write that changed it.

use uuid::Uuid;

pub(crate) async fn record_change(
    tx: &mut crate::storage::Conn,
    subject_id: &str,
    actor_id: &str,
    field: &str,
    old: &Option<String>,
    new: &Option<String>,
    at: &str,
) -> Result<(), sqlx::Error> {
    crate::storage::query(
        "INSERT INTO change_log (id, subject_id, actor_id, changed_at, field, old_value, new_value)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(subject_id)
    .bind(actor_id)
    .bind(at)
    .bind(field)
    .bind(old)
    .bind(new)
    .execute(tx)
    .await?;
    Ok(())
}

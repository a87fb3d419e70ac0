//! Merging two records of the same person.

use agent_desk_core::customers::{Customer, RecordError};
use chrono::{DateTime, Utc};

use super::fields::custom_values;
use super::usergroups::{set_usergroups, usergroups_of};
use super::{reindex, related, row, CustomerError};
use crate::change_log::record_change;
use crate::clock::timestamp;
use crate::db::Db;

/// Merges `source` (the same person writing from another address) into `target`: its
/// emails, notes, custom values and history move over, the target's empty fields take
/// its values, and where both had a value the target keeps its own and the change log
/// keeps the other. Both change logs record the merge; nothing is lost.
pub async fn merge(
    db: &Db,
    actor_id: &str,
    target_id: &str,
    source_id: &str,
    now: DateTime<Utc>,
) -> Result<Customer, CustomerError> {
    if target_id == source_id {
        return Err(RecordError::new("source", "a record cannot be merged into itself").into());
    }
    let at = timestamp(now);
    let mut tx = crate::db::begin_write(db).await?;
    // Both records held to the commit, always in the same order, so that two merges of
    // the same pair wait for each other rather than deadlock.
    let mut ids = [target_id, source_id];
    ids.sort_unstable();
    for id in ids {
        tx.lock("people", id).await?;
    }
    let target = row(&mut tx, target_id).await?;
    let source = row(&mut tx, source_id)
        .await
        .map_err(|_| RecordError::new("source", "is not a customer's record"))?;

    // Fields: fill the target's blanks; log where both differ, so no value is lost.
    let mut fill = Vec::new();
    for ((field, mine), (_, theirs)) in target.fields().into_iter().zip(source.fields()) {
        match (&mine, &theirs) {
            (None, Some(_)) => fill.push((field, theirs.clone())),
            (Some(kept), Some(other)) if kept != other && field != "suppress_auto_replies" => {
                let name = format!("merged:{field}");
                record_change(&mut tx, target_id, actor_id, &name, &theirs, &mine, &at).await?;
            }
            _ => {}
        }
    }
    for (field, value) in &fill {
        if *field == "organization" {
            crate::storage::query("UPDATE people SET organization_id = $1 WHERE id = $2")
                .bind(&source.organization_id)
                .bind(target_id)
                .execute(&mut *tx)
                .await?;
        } else {
            // Column names come from the fixed list of `fields`, never from input.
            crate::storage::query(format!("UPDATE people SET {field} = $1 WHERE id = $2"))
                .bind(value)
                .bind(target_id)
                .execute(&mut *tx)
                .await?;
        }
        record_change(&mut tx, target_id, actor_id, field, &None, value, &at).await?;
    }
    if source.suppress_auto_replies && !target.suppress_auto_replies {
        crate::storage::query("UPDATE people SET suppress_auto_replies = TRUE WHERE id = $1")
            .bind(target_id)
            .execute(&mut *tx)
            .await?;
    }

    // Custom values: the target's stay; the source's fill its blanks or are logged.
    let values = custom_values(&mut tx, &[target_id, source_id]).await?;
    let mine = values.get(target_id).cloned().unwrap_or_default();
    for theirs in values.get(source_id).cloned().unwrap_or_default() {
        let Some(value) = theirs.value else { continue };
        let kept = mine
            .iter()
            .find(|entry| entry.field.id == theirs.field.id)
            .and_then(|entry| entry.value.clone());
        match kept {
            None => {
                crate::storage::query(
                    "INSERT INTO person_field_values (person_id, field_id, value) VALUES ($1, $2, $3)",
                )
                .bind(target_id)
                .bind(&theirs.field.id)
                .bind(&value)
                .execute(&mut *tx)
                .await?;
                let name = format!("custom:{}", theirs.field.name);
                record_change(
                    &mut tx,
                    target_id,
                    actor_id,
                    &name,
                    &None,
                    &Some(value),
                    &at,
                )
                .await?;
            }
            Some(kept) if kept != value => {
                let name = format!("merged:custom:{}", theirs.field.name);
                record_change(
                    &mut tx,
                    target_id,
                    actor_id,
                    &name,
                    &Some(value),
                    &Some(kept),
                    &at,
                )
                .await?;
            }
            Some(_) => {}
        }
    }

    // Usergroups: the person is in every group either record was in.
    let groups = usergroups_of(&mut tx, &[target_id, source_id]).await?;
    let mut union = groups.get(target_id).cloned().unwrap_or_default();
    for name in groups.get(source_id).cloned().unwrap_or_default() {
        if !union.contains(&name) {
            union.push(name);
        }
    }
    union.sort_by_key(|name| name.to_lowercase());
    set_usergroups(&mut tx, actor_id, target_id, &union, &at).await?;

    // Emails, notes, files and history move; the target's primary stays primary.
    crate::storage::query(
        "UPDATE person_emails SET person_id = $1, is_primary = FALSE WHERE person_id = $2",
    )
    .bind(target_id)
    .bind(source_id)
    .execute(&mut *tx)
    .await?;
    crate::storage::query("UPDATE person_notes SET person_id = $1 WHERE person_id = $2")
        .bind(target_id)
        .bind(source_id)
        .execute(&mut *tx)
        .await?;
    crate::storage::query("UPDATE person_files SET person_id = $1 WHERE person_id = $2")
        .bind(target_id)
        .bind(source_id)
        .execute(&mut *tx)
        .await?;
    crate::storage::query("UPDATE change_log SET subject_id = $1 WHERE subject_id = $2")
        .bind(target_id)
        .bind(source_id)
        .execute(&mut *tx)
        .await?;
    let merged = Some(format!("{} ({source_id})", source.name));
    record_change(
        &mut tx,
        target_id,
        actor_id,
        "merged",
        &merged,
        &Some(target.name.clone()),
        &at,
    )
    .await?;
    // The source's own log keeps where it went, though the record is gone.
    record_change(
        &mut tx,
        source_id,
        actor_id,
        "merged_into",
        &Some(source.name.clone()),
        &Some(format!("{} ({target_id})", target.name)),
        &at,
    )
    .await?;

    let search_id =
        crate::storage::query_scalar::<i64>("SELECT search_id FROM people WHERE id = $1")
            .bind(source_id)
            .fetch_one(&mut *tx)
            .await?;
    crate::storage::query("DELETE FROM people_search WHERE rowid = $1")
        .bind(search_id)
        .execute(&mut *tx)
        .await?;
    crate::storage::query("DELETE FROM person_field_values WHERE person_id = $1")
        .bind(source_id)
        .execute(&mut *tx)
        .await?;
    crate::storage::query("DELETE FROM people WHERE id = $1")
        .bind(source_id)
        .execute(&mut *tx)
        .await?;
    crate::storage::query("UPDATE people SET version = version + 1, updated_at = $1 WHERE id = $2")
        .bind(&at)
        .bind(target_id)
        .execute(&mut *tx)
        .await?;
    reindex(&mut tx, target_id).await?;
    let merged = {
        let row = row(&mut tx, target_id).await?;
        let related = related(&mut tx, &[target_id])
            .await?
            .remove(target_id)
            .unwrap_or_default();
        row.into_customer(related)
    };
    tx.commit().await?;
    Ok(merged)
}

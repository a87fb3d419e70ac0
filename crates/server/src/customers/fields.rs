//! Custom fields admins define for every customer's record, and each record's values.

use std::collections::HashMap;

use agent_desk_core::customers::{
    clean_line, AdministeredField, CustomField, CustomFieldPatch, FieldKind, FieldValue,
    NewCustomField, RecordError, CHOICES_MAX, FIELD_NAME_MAX,
};
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use super::CustomerError;
use crate::change_log::record_change;
use crate::clock::timestamp;
use crate::db::Db;

#[derive(FromRow)]
struct FieldRow {
    id: String,
    name: String,
    kind: String,
    choices: Option<String>,
}

impl FieldRow {
    fn into_field(self) -> CustomField {
        CustomField {
            id: self.id,
            name: self.name,
            kind: FieldKind::parse(&self.kind).unwrap_or(FieldKind::Text),
            choices: self
                .choices
                .and_then(|choices| serde_json::from_str(&choices).ok())
                .unwrap_or_default(),
        }
    }
}

async fn fields_on(conn: &mut crate::storage::Conn) -> Result<Vec<CustomField>, sqlx::Error> {
    Ok(crate::storage::query_as::<FieldRow>(
        "SELECT id, name, kind, choices FROM custom_fields WHERE retired_at IS NULL
         ORDER BY created_at, name",
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(FieldRow::into_field)
    .collect())
}

/// Every field on customers' records (not the retired ones), oldest first.
pub async fn custom_fields(db: &Db) -> Result<Vec<CustomField>, sqlx::Error> {
    let mut conn = db.acquire().await?;
    fields_on(&mut conn).await
}

/// Defines a field for every customer's record.
pub async fn create_field(
    db: &Db,
    new: &NewCustomField,
    now: DateTime<Utc>,
) -> Result<CustomField, CustomerError> {
    let name = clean_line("name", &new.name, FIELD_NAME_MAX)?
        .ok_or_else(|| RecordError::new("name", "is required"))?;
    let choices: Vec<String> = match (new.kind, &new.choices) {
        (FieldKind::Choice, Some(choices)) => {
            let mut cleaned: Vec<String> = Vec::new();
            for (index, choice) in choices.iter().enumerate() {
                let field = format!("choices[{index}]");
                let choice = clean_line(&field, choice, FIELD_NAME_MAX)?
                    .ok_or_else(|| RecordError::new(field.clone(), "is empty"))?;
                if cleaned.contains(&choice) {
                    return Err(RecordError::new(field, "is listed twice").into());
                }
                cleaned.push(choice);
            }
            if cleaned.is_empty() || cleaned.len() > CHOICES_MAX {
                return Err(RecordError::new(
                    "choices",
                    format!("a choice needs 1 to {CHOICES_MAX} options"),
                )
                .into());
            }
            cleaned
        }
        (FieldKind::Choice, None) => {
            return Err(RecordError::new("choices", "a choice needs its options").into());
        }
        (_, Some(choices)) if !choices.is_empty() => {
            return Err(RecordError::new("choices", "only a choice has options").into());
        }
        _ => Vec::new(),
    };
    let id = Uuid::new_v4().to_string();
    let mut tx = crate::db::begin_write(db).await?;
    let taken =
        crate::storage::query_scalar::<String>("SELECT id FROM custom_fields WHERE name = $1")
            .bind(&name)
            .fetch_optional(&mut *tx)
            .await?;
    if taken.is_some() {
        return Err(CustomerError::FieldNameTaken(name));
    }
    crate::storage::query(
        "INSERT INTO custom_fields (id, name, kind, choices, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(&name)
    .bind(new.kind.as_str())
    .bind((!choices.is_empty()).then(|| serde_json::to_string(&choices).unwrap_or_default()))
    .bind(timestamp(now))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(CustomField {
        id,
        name,
        kind: new.kind,
        choices,
    })
}

/// Every field with each person's value (or none), for several people in one query.
pub(super) async fn custom_values(
    conn: &mut crate::storage::Conn,
    ids: &[&str],
) -> Result<HashMap<String, Vec<FieldValue>>, sqlx::Error> {
    let fields = fields_on(conn).await?;
    let mut values: HashMap<String, HashMap<String, String>> = HashMap::new();
    if !fields.is_empty() && !ids.is_empty() {
        let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT person_id, field_id, value FROM person_field_values WHERE person_id IN ({})",
            placeholders.join(", ")
        );
        let mut query = crate::storage::query_as::<(String, String, String)>(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        for (person_id, field_id, value) in query.fetch_all(&mut *conn).await? {
            values.entry(person_id).or_default().insert(field_id, value);
        }
    }
    Ok(ids
        .iter()
        .map(|id| {
            let mine = values.remove(*id).unwrap_or_default();
            let entries = fields
                .iter()
                .map(|field| FieldValue {
                    field: field.clone(),
                    value: mine.get(&field.id).cloned(),
                })
                .collect();
            ((*id).to_owned(), entries)
        })
        .collect())
}

/// One field with whether it is retired and how many records have a value, inside a
/// read or a write.
async fn administered_on(
    conn: &mut crate::storage::Conn,
    id: Option<&str>,
) -> Result<Vec<AdministeredField>, sqlx::Error> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        field: FieldRow,
        retired: bool,
        values_count: i64,
    }
    let rows = crate::storage::query_as::<Row>(
        "SELECT f.id, f.name, f.kind, f.choices, f.retired_at IS NOT NULL AS retired,
                (SELECT COUNT(*) FROM person_field_values v WHERE v.field_id = f.id) AS values_count
           FROM custom_fields f
          WHERE $1 IS NULL OR f.id = $1
          ORDER BY f.created_at, f.name",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| AdministeredField {
            field: row.field.into_field(),
            retired: row.retired,
            values: u32::try_from(row.values_count).unwrap_or(u32::MAX),
        })
        .collect())
}

/// Every field, retired ones too, oldest first.
pub async fn administered_fields(db: &Db) -> Result<Vec<AdministeredField>, sqlx::Error> {
    let mut conn = db.acquire().await?;
    administered_on(&mut conn, None).await
}

/// Renames a field, or retires or restores it; the field's own log has each change.
/// Retired, it leaves customers' records and their forms; its values are kept.
pub async fn update_field(
    db: &Db,
    actor_id: &str,
    id: &str,
    patch: &CustomFieldPatch,
    now: DateTime<Utc>,
) -> Result<AdministeredField, CustomerError> {
    let name = match &patch.name {
        Some(name) => Some(
            clean_line("name", name, FIELD_NAME_MAX)?
                .ok_or_else(|| RecordError::new("name", "is required"))?,
        ),
        None => None,
    };
    let at = timestamp(now);
    let mut tx = crate::db::begin_write(db).await?;
    let before = administered_on(&mut tx, Some(id))
        .await?
        .pop()
        .ok_or(CustomerError::FieldNotFound)?;
    if let Some(name) = name.filter(|name| *name != before.field.name) {
        let taken = crate::storage::query_scalar::<String>(
            "SELECT id FROM custom_fields WHERE name = $1 AND id <> $2",
        )
        .bind(&name)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if taken.is_some() {
            return Err(CustomerError::FieldNameTaken(name));
        }
        crate::storage::query("UPDATE custom_fields SET name = $1 WHERE id = $2")
            .bind(&name)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        record_change(
            &mut tx,
            id,
            actor_id,
            "name",
            &Some(before.field.name.clone()),
            &Some(name),
            &at,
        )
        .await?;
    }
    if let Some(retired) = patch.retired.filter(|&retired| retired != before.retired) {
        crate::storage::query("UPDATE custom_fields SET retired_at = $1 WHERE id = $2")
            .bind(retired.then(|| at.clone()))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        record_change(
            &mut tx,
            id,
            actor_id,
            "retired",
            &Some(before.retired.to_string()),
            &Some(retired.to_string()),
            &at,
        )
        .await?;
    }
    let after = administered_on(&mut tx, Some(id))
        .await?
        .pop()
        .ok_or(CustomerError::FieldNotFound)?;
    tx.commit().await?;
    Ok(after)
}

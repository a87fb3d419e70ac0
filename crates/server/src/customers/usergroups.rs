//! The usergroups a customer is in, and the list of them administrators keep.

use std::collections::HashMap;

use agent_desk_core::customers::{clean_line, RecordError, UsergroupEntry, FIELD_NAME_MAX};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::CustomerError;
use crate::change_log::record_change;
use crate::clock::timestamp;
use crate::db::Db;

/// The usergroups administrators listed, by name, with how many people each has.
pub async fn listed_usergroups(db: &Db) -> Result<Vec<UsergroupEntry>, sqlx::Error> {
    let rows = crate::storage::query_as::<(String, String, i64)>(
        "SELECT g.id, g.name, COUNT(m.person_id) FROM usergroups g
         LEFT JOIN person_usergroups m ON m.usergroup_id = g.id
         WHERE g.listed GROUP BY g.id, g.name",
    )
    .fetch_all(db)
    .await?;
    let mut entries: Vec<UsergroupEntry> = rows
        .into_iter()
        .map(|(id, name, people)| UsergroupEntry {
            id,
            name,
            people: u32::try_from(people).unwrap_or(u32::MAX),
        })
        .collect();
    entries.sort_by(|a, b| (a.name.to_lowercase(), &a.id).cmp(&(b.name.to_lowercase(), &b.id)));
    Ok(entries)
}

/// Adds a usergroup to the list: a group records already name is listed as it is.
pub async fn list_usergroup(
    db: &Db,
    name: &str,
    now: DateTime<Utc>,
) -> Result<UsergroupEntry, CustomerError> {
    let name = clean_line("name", name, FIELD_NAME_MAX)?
        .ok_or_else(|| RecordError::new("name", "is required"))?;
    let mut tx = crate::db::begin_write(db).await?;
    crate::storage::query(
        "INSERT INTO usergroups (id, name, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(&name)
    .bind(timestamp(now))
    .execute(&mut *tx)
    .await?;
    let (id, listed) = crate::storage::query_as::<(String, bool)>(
        "SELECT id, listed FROM usergroups WHERE name = $1",
    )
    .bind(&name)
    .fetch_one(&mut *tx)
    .await?;
    if listed {
        return Err(CustomerError::UsergroupListed(name));
    }
    crate::storage::query("UPDATE usergroups SET listed = TRUE WHERE id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    let people = crate::storage::query_scalar::<i64>(
        "SELECT COUNT(*) FROM person_usergroups WHERE usergroup_id = $1",
    )
    .bind(&id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(UsergroupEntry {
        id,
        name,
        people: u32::try_from(people).unwrap_or(u32::MAX),
    })
}

/// Takes a usergroup off the list; the people in it stay in it.
pub async fn unlist_usergroup(db: &Db, id: &str) -> Result<(), CustomerError> {
    let mut tx = crate::db::begin_write(db).await?;
    let changed =
        crate::storage::query("UPDATE usergroups SET listed = FALSE WHERE id = $1 AND listed")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    if changed.rows_affected() == 0 {
        return Err(CustomerError::UsergroupNotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// Usergroup names in the order records list them. Sorted here as the names given are
/// (core's `usergroups`), not by the database's lower(), which lowers only ASCII on SQLite
/// and every letter on PostgreSQL.
fn sort_names(names: &mut [String]) {
    names.sort_by(|a, b| (a.to_lowercase(), a).cmp(&(b.to_lowercase(), b)));
}

/// The usergroup names of several people, each sorted.
pub(super) async fn usergroups_of(
    conn: &mut crate::storage::Conn,
    ids: &[&str],
) -> Result<HashMap<String, Vec<String>>, sqlx::Error> {
    let mut by_person: HashMap<String, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(by_person);
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT m.person_id, g.name FROM person_usergroups m JOIN usergroups g ON g.id = m.usergroup_id
         WHERE m.person_id IN ({})",
        placeholders.join(", ")
    );
    let mut query = crate::storage::query_as::<(String, String)>(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    for (person_id, name) in query.fetch_all(conn).await? {
        by_person.entry(person_id).or_default().push(name);
    }
    for names in by_person.values_mut() {
        sort_names(names);
    }
    Ok(by_person)
}

/// Puts a person in exactly these usergroups, logging the change. While administrators
/// list none, a new name makes its group; once they list some, a group that is neither
/// listed nor already the person's is refused, naming it.
pub(super) async fn set_usergroups(
    tx: &mut crate::storage::Conn,
    actor_id: &str,
    person_id: &str,
    names: &[String],
    at: &str,
) -> Result<(), CustomerError> {
    let before = usergroups_of(&mut *tx, &[person_id])
        .await?
        .remove(person_id)
        .unwrap_or_default();
    if before == names {
        return Ok(());
    }
    let listed = crate::storage::query_scalar::<String>("SELECT name FROM usergroups WHERE listed")
        .fetch_all(&mut **tx)
        .await?;
    let mut names = names.to_vec();
    if !listed.is_empty() {
        // Each as the list (or the record) spells it: "vip" is the listed "VIP".
        for (index, name) in names.iter_mut().enumerate() {
            let lower = name.to_lowercase();
            let Some(known) = listed
                .iter()
                .chain(&before)
                .find(|other| other.to_lowercase() == lower)
            else {
                return Err(RecordError::new(
                    format!("usergroups[{index}]"),
                    format!("{name} is not one of the usergroups administrators keep"),
                )
                .into());
            };
            name.clone_from(known);
        }
        sort_names(&mut names);
        if before == names {
            return Ok(());
        }
    }
    let names = names.as_slice();
    crate::storage::query("DELETE FROM person_usergroups WHERE person_id = $1")
        .bind(person_id)
        .execute(&mut *tx)
        .await?;
    for name in names {
        // Made unless it is there, then read: one made at once elsewhere is waited for.
        crate::storage::query(
            "INSERT INTO usergroups (id, name, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(name)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let group_id =
            crate::storage::query_scalar::<String>("SELECT id FROM usergroups WHERE name = $1")
                .bind(name)
                .fetch_one(&mut *tx)
                .await?;
        crate::storage::query(
            "INSERT INTO person_usergroups (person_id, usergroup_id) VALUES ($1, $2)",
        )
        .bind(person_id)
        .bind(&group_id)
        .execute(&mut *tx)
        .await?;
    }
    let joined = |names: &[String]| (!names.is_empty()).then(|| names.join(", "));
    record_change(
        tx,
        person_id,
        actor_id,
        "usergroups",
        &joined(&before),
        &joined(names),
        at,
    )
    .await?;
    Ok(())
}

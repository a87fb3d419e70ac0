//! The usergroups a customer is in.

use std::collections::HashMap;

use uuid::Uuid;

use crate::change_log::record_change;

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
    // Sorted here as the names given are (core's `usergroups`), not by the database's
    // lower(), which lowers only ASCII on SQLite and every letter on PostgreSQL.
    for names in by_person.values_mut() {
        names.sort_by(|a, b| (a.to_lowercase(), a).cmp(&(b.to_lowercase(), b)));
    }
    Ok(by_person)
}

/// Puts a person in exactly these usergroups (made when new), logging the change.
pub(super) async fn set_usergroups(
    tx: &mut crate::storage::Conn,
    actor_id: &str,
    person_id: &str,
    names: &[String],
    at: &str,
) -> Result<(), sqlx::Error> {
    let before = usergroups_of(&mut *tx, &[person_id])
        .await?
        .remove(person_id)
        .unwrap_or_default();
    if before == names {
        return Ok(());
    }
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
    .await
}

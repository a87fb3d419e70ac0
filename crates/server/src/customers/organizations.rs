//! The organizations customers belong to.

use agent_desk_core::customers::{clean_line, OrganizationEntry, RecordError, SHORT_MAX};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::CustomerError;
use crate::change_log::record_change;
use crate::clock::timestamp;
use crate::db::Db;

/// Every organization by name, with how many people it has (none, for one made from
/// the picker and not yet given to anyone).
pub async fn organizations(db: &Db) -> Result<Vec<OrganizationEntry>, sqlx::Error> {
    let rows = crate::storage::query_as::<(String, String, i64)>(
        "SELECT o.id, o.name, COUNT(p.id) FROM organizations o
         LEFT JOIN people p ON p.organization_id = o.id
         GROUP BY o.id, o.name",
    )
    .fetch_all(db)
    .await?;
    let mut entries: Vec<OrganizationEntry> = rows
        .into_iter()
        .map(|(id, name, people)| OrganizationEntry {
            id,
            name,
            people: u32::try_from(people).unwrap_or(u32::MAX),
        })
        .collect();
    // By name whatever the letters: the databases' lower() differ beyond ASCII.
    entries.sort_by(|a, b| (a.name.to_lowercase(), &a.id).cmp(&(b.name.to_lowercase(), &b.id)));
    Ok(entries)
}

/// The organization of this name, made if there is none; `None` for an empty name.
pub(super) async fn organization(
    tx: &mut crate::storage::Conn,
    name: &str,
    now: &str,
) -> Result<Option<String>, CustomerError> {
    let Some(name) = clean_line("organization", name, SHORT_MAX)? else {
        return Ok(None);
    };
    // Made unless it is there, then read: a writer making the same one at once is waited
    // for, rather than refused by the unique name.
    crate::storage::query(
        "INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(&name)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let id = crate::storage::query_scalar::<String>("SELECT id FROM organizations WHERE name = $1")
        .bind(&name)
        .fetch_one(&mut *tx)
        .await?;
    Ok(Some(id))
}

/// A name an organization may have: one line, 1 to [`SHORT_MAX`] characters.
fn organization_name(name: &str) -> Result<String, CustomerError> {
    Ok(clean_line("name", name, SHORT_MAX)?
        .ok_or_else(|| RecordError::new("name", "is required"))?)
}

/// One organization with its number of people, inside a write.
async fn entry(
    tx: &mut crate::storage::Conn,
    id: &str,
) -> Result<OrganizationEntry, CustomerError> {
    let (name, people) = crate::storage::query_as::<(String, i64)>(
        "SELECT o.name, (SELECT COUNT(*) FROM people p WHERE p.organization_id = o.id)
           FROM organizations o WHERE o.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(CustomerError::OrganizationNotFound)?;
    Ok(OrganizationEntry {
        id: id.to_owned(),
        name,
        people: u32::try_from(people).unwrap_or(u32::MAX),
    })
}

/// A unique name already taken answers as such, whoever took it first.
fn taken_or(error: sqlx::Error, name: &str) -> CustomerError {
    if crate::storage::is_unique_violation(&error) {
        CustomerError::OrganizationTaken(name.to_owned())
    } else {
        CustomerError::Database(error)
    }
}

/// Makes an organization with no people yet; any agent may, from a record's picker.
pub async fn create_organization(
    db: &Db,
    name: &str,
    now: DateTime<Utc>,
) -> Result<OrganizationEntry, CustomerError> {
    let name = organization_name(name)?;
    let id = Uuid::new_v4().to_string();
    let mut tx = crate::db::begin_write(db).await?;
    crate::storage::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(&name)
        .bind(timestamp(now))
        .execute(&mut *tx)
        .await
        .map_err(|error| taken_or(error, &name))?;
    let made = entry(&mut tx, &id).await?;
    tx.commit().await?;
    Ok(made)
}

/// Renames an organization; each of its people's records has the change in its log.
pub async fn rename_organization(
    db: &Db,
    actor_id: &str,
    id: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<OrganizationEntry, CustomerError> {
    let name = organization_name(name)?;
    let mut tx = crate::db::begin_write(db).await?;
    let before = entry(&mut tx, id).await?;
    if before.name == name {
        return Ok(before);
    }
    crate::storage::query("UPDATE organizations SET name = $1 WHERE id = $2")
        .bind(&name)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|error| taken_or(error, &name))?;
    log_people(&mut tx, actor_id, id, &before.name, &name, now).await?;
    let after = entry(&mut tx, id).await?;
    tx.commit().await?;
    Ok(after)
}

/// Moves every person of `from` into `into` and deletes `from`; each moved record has the
/// change in its log. Returns the organization that stays.
pub async fn merge_organizations(
    db: &Db,
    actor_id: &str,
    from: &str,
    into: &str,
    now: DateTime<Utc>,
) -> Result<OrganizationEntry, CustomerError> {
    if from == into {
        return Err(CustomerError::MergeIntoItself);
    }
    let mut tx = crate::db::begin_write(db).await?;
    let gone = entry(&mut tx, from).await?;
    let stays = entry(&mut tx, into).await.map_err(|error| match error {
        // The body names it: a 400 at `into`, not a 404 of the route.
        CustomerError::OrganizationNotFound => {
            RecordError::new("into", "no organization has this id").into()
        }
        other => other,
    })?;
    log_people(&mut tx, actor_id, from, &gone.name, &stays.name, now).await?;
    crate::storage::query(
        "UPDATE people SET organization_id = $1, version = version + 1 WHERE organization_id = $2",
    )
    .bind(into)
    .bind(from)
    .execute(&mut *tx)
    .await?;
    crate::storage::query("DELETE FROM organizations WHERE id = $1")
        .bind(from)
        .execute(&mut *tx)
        .await?;
    let merged = entry(&mut tx, into).await?;
    tx.commit().await?;
    Ok(merged)
}

/// Writes `organization: old → new` into the log of each person of organization `id`.
async fn log_people(
    tx: &mut crate::storage::Conn,
    actor_id: &str,
    id: &str,
    old: &str,
    new: &str,
    now: DateTime<Utc>,
) -> Result<(), CustomerError> {
    let people =
        crate::storage::query_scalar::<String>("SELECT id FROM people WHERE organization_id = $1")
            .bind(id)
            .fetch_all(&mut **tx)
            .await?;
    let at = timestamp(now);
    for person in people {
        record_change(
            tx,
            &person,
            actor_id,
            "organization",
            &Some(old.to_owned()),
            &Some(new.to_owned()),
            &at,
        )
        .await?;
    }
    Ok(())
}

//! The organizations customers belong to.

use agent_desk_core::customers::{clean_line, OrganizationEntry, SHORT_MAX};
use uuid::Uuid;

use super::CustomerError;
use crate::db::Db;

/// Organizations that have people, by name, with how many.
pub async fn organizations(db: &Db) -> Result<Vec<OrganizationEntry>, sqlx::Error> {
    let rows = crate::storage::query_as::<(String, String, i64)>(
        "SELECT o.id, o.name, COUNT(*) FROM organizations o JOIN people p ON p.organization_id = o.id
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

//! A customer's email addresses: reading them, keeping each on one record, adding,
//! removing and choosing the primary one.

use std::collections::HashMap;

use agent_desk_core::customers::{clean_email, Customer, RecordError, EMAILS_MAX};
use agent_desk_core::EmailAddress;
use chrono::{DateTime, Utc};

use super::{find, reindex, row, CustomerError};
use crate::change_log::record_change;
use crate::clock::timestamp;
use crate::db::Db;

async fn emails_of(
    db: &mut crate::storage::Conn,
    person_id: &str,
) -> Result<Vec<EmailAddress>, sqlx::Error> {
    Ok(emails_of_many(db, &[person_id])
        .await?
        .remove(person_id)
        .unwrap_or_default())
}

/// The emails of several people in one query, primary first.
pub(super) async fn emails_of_many(
    db: &mut crate::storage::Conn,
    ids: &[&str],
) -> Result<HashMap<String, Vec<EmailAddress>>, sqlx::Error> {
    let mut by_person: HashMap<String, Vec<EmailAddress>> = HashMap::new();
    if ids.is_empty() {
        return Ok(by_person);
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT person_id, address, is_primary FROM person_emails
         WHERE person_id IN ({}) ORDER BY is_primary DESC, address",
        placeholders.join(", ")
    );
    let mut query = crate::storage::query_as::<(String, String, bool)>(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    for (person_id, address, primary) in query.fetch_all(db).await? {
        by_person
            .entry(person_id)
            .or_default()
            .push(EmailAddress { address, primary });
    }
    Ok(by_person)
}

/// Refuses an address that is on another customer's record, naming the field it came
/// in. Agents' addresses are not looked at: whether an address is an agent's is theirs
/// and their privacy's to tell, and a refusal here would tell it to any agent who tried.
/// (An agent who also writes in as a customer has a customer's record besides.)
pub(super) async fn email_free(
    tx: &mut crate::storage::Conn,
    address: &str,
    field: &str,
) -> Result<(), CustomerError> {
    let taken = crate::storage::query_scalar::<String>(
        "SELECT person_id FROM person_emails WHERE address = $1",
    )
    .bind(address)
    .fetch_optional(&mut *tx)
    .await?;
    if taken.is_some() {
        return Err(CustomerError::EmailTaken {
            address: address.to_owned(),
            field: field.to_owned(),
        });
    }
    Ok(())
}

/// An address another writer put on a record between `email_free` and the insert: the
/// unique address refuses it, as taken (on SQLite the single writer never lets it).
pub(super) fn taken_by_another(error: sqlx::Error, address: &str, field: &str) -> CustomerError {
    if crate::storage::is_unique_violation(&error) {
        CustomerError::EmailTaken {
            address: address.to_owned(),
            field: field.to_owned(),
        }
    } else {
        error.into()
    }
}

/// Bumps a record's version and logs one change, inside a write that changed it.
async fn touched(
    tx: &mut crate::storage::Conn,
    id: &str,
    actor_id: &str,
    field: &str,
    old: Option<String>,
    new: Option<String>,
    at: &str,
) -> Result<(), CustomerError> {
    let updated = crate::storage::query(
        "UPDATE people SET version = version + 1, updated_at = $1 WHERE id = $2",
    )
    .bind(at)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(CustomerError::NotFound);
    }
    record_change(&mut *tx, id, actor_id, field, &old, &new, at).await?;
    reindex(&mut *tx, id).await?;
    Ok(())
}

/// Adds an address; with `primary` it becomes the primary one.
pub async fn add_email(
    db: &Db,
    actor_id: &str,
    id: &str,
    address: &str,
    primary: bool,
    now: DateTime<Utc>,
) -> Result<Customer, CustomerError> {
    let address = clean_email("address", address)?;
    let at = timestamp(now);
    let mut tx = crate::db::begin_write(db).await?;
    // Concurrent adds for one person wait here: the count and the primary stay right.
    tx.lock("people", id).await?;
    row(&mut tx, id).await?;
    let count = crate::storage::query_scalar::<i64>(
        "SELECT COUNT(*) FROM person_emails WHERE person_id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    if count >= i64::try_from(EMAILS_MAX).unwrap_or(i64::MAX) {
        return Err(RecordError::new(
            "address",
            format!("a person has at most {EMAILS_MAX} emails"),
        )
        .into());
    }
    email_free(&mut tx, &address, "address").await?;
    if primary {
        crate::storage::query("UPDATE person_emails SET is_primary = FALSE WHERE person_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    crate::storage::query(
        "INSERT INTO person_emails (address, person_id, is_primary) VALUES ($1, $2, $3)",
    )
    .bind(&address)
    .bind(id)
    .bind(primary)
    .execute(&mut *tx)
    .await
    .map_err(|error| taken_by_another(error, &address, "address"))?;
    touched(&mut tx, id, actor_id, "emails", None, Some(address), &at).await?;
    tx.commit().await?;
    find(db, id).await
}

/// Removes an address that is not the primary one nor the last.
pub async fn remove_email(
    db: &Db,
    actor_id: &str,
    id: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<Customer, CustomerError> {
    let address = address.trim().to_lowercase();
    let at = timestamp(now);
    let mut tx = crate::db::begin_write(db).await?;
    tx.lock("people", id).await?;
    let emails = emails_of(&mut tx, id).await?;
    let email = emails
        .iter()
        .find(|email| email.address == address)
        .ok_or(CustomerError::NotFound)?;
    if emails.len() == 1 {
        return Err(CustomerError::LastEmail);
    }
    if email.primary {
        return Err(CustomerError::PrimaryEmail);
    }
    crate::storage::query("DELETE FROM person_emails WHERE address = $1 AND person_id = $2")
        .bind(&address)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    touched(&mut tx, id, actor_id, "emails", Some(address), None, &at).await?;
    tx.commit().await?;
    find(db, id).await
}

/// Makes one of the person's addresses the primary one, in one step.
pub async fn make_primary(
    db: &Db,
    actor_id: &str,
    id: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<Customer, CustomerError> {
    let address = address.trim().to_lowercase();
    let at = timestamp(now);
    let mut tx = crate::db::begin_write(db).await?;
    tx.lock("people", id).await?;
    let emails = emails_of(&mut tx, id).await?;
    if !emails.iter().any(|email| email.address == address) {
        return Err(CustomerError::NotFound);
    }
    let old = emails
        .iter()
        .find(|email| email.primary)
        .map(|email| email.address.clone());
    if old.as_deref() != Some(address.as_str()) {
        // In two statements: the index allowing one primary a person is checked row by
        // row, so switching both in one statement may briefly hold two.
        crate::storage::query("UPDATE person_emails SET is_primary = FALSE WHERE person_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        crate::storage::query(
            "UPDATE person_emails SET is_primary = TRUE WHERE person_id = $1 AND address = $2",
        )
        .bind(id)
        .bind(&address)
        .execute(&mut *tx)
        .await?;
        touched(
            &mut tx,
            id,
            actor_id,
            "primary_email",
            old,
            Some(address),
            &at,
        )
        .await?;
    }
    tx.commit().await?;
    find(db, id).await
}

//! Users' (customers') records in the database: contact details, organization, emails,
//! notes, the search index, and a change-log row for every edit. Each write is one
//! transaction: a refused change leaves nothing behind.

use std::collections::HashMap;

use agent_desk_checks::customer_phone;
use agent_desk_core::customers::{
    clean_email, clean_line, clean_name, clean_profile_url, clean_text, clean_twitter, clean_url,
    clean_usergroups, Customer, CustomerPatch, FieldValue, NewCustomer, Organization, RecordError,
    ADDRESS_MAX, EMAILS_MAX, SHORT_MAX, SUMMARY_MAX,
};
use agent_desk_core::locale::{is_supported_language, parse_timezone};
use agent_desk_core::EmailAddress;
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use crate::change_log::record_change;
use crate::clock::{parse_timestamp, timestamp};
use crate::db::Db;

mod changes;
mod demo;
mod emails;
mod fields;
mod merge;
mod notes;
mod organizations;
mod search;
mod usergroups;

pub use changes::{activity, changes};
pub use demo::seed_demo;
pub use emails::{add_email, make_primary, remove_email};
pub use fields::{administered_fields, create_field, custom_fields, update_field};
pub use merge::merge;
pub use notes::{add_note, delete_note, edit_note, notes};
pub use organizations::{
    create_organization, merge_organizations, organizations, rename_organization,
};
pub(crate) use search::{digits, index_person, reindex};
pub use search::{search, search_terms, search_words};
pub use usergroups::{list_usergroup, listed_usergroups, unlist_usergroup};

use emails::{email_free, emails_of_many, taken_by_another};
use fields::custom_values;
use organizations::organization;
use usergroups::{set_usergroups, usergroups_of};

#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error("no such person")]
    NotFound,
    #[error("no such note")]
    NoteNotFound,
    #[error(transparent)]
    Invalid(#[from] RecordError),
    #[error("{address} is already on another customer's record")]
    EmailTaken { address: String, field: String },
    #[error("the record was changed since it was read")]
    VersionConflict,
    #[error("only the author of a note can change or delete it")]
    NotAuthor,
    #[error("a person keeps at least one email; add another before removing this one")]
    LastEmail,
    #[error("the primary email cannot be removed; make another one primary first")]
    PrimaryEmail,
    #[error("the cursor is not one this server gave out")]
    InvalidCursor,
    #[error("a field called {0} exists already")]
    FieldNameTaken(String),
    #[error("no such custom field")]
    FieldNotFound,
    #[error("an organization called {0} already exists")]
    OrganizationTaken(String),
    #[error("no such organization")]
    OrganizationNotFound,
    #[error("an organization cannot be merged into itself")]
    MergeIntoItself,
    #[error("a usergroup called {0} is already listed")]
    UsergroupListed(String),
    #[error("no such usergroup in the list")]
    UsergroupNotFound,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

#[derive(FromRow)]
struct PersonRow {
    id: String,
    name: String,
    organization_id: Option<String>,
    organization_name: Option<String>,
    phone: Option<String>,
    website: Option<String>,
    im: Option<String>,
    twitter: Option<String>,
    linkedin: Option<String>,
    facebook: Option<String>,
    address: Option<String>,
    summary: Option<String>,
    timezone: Option<String>,
    language: Option<String>,
    suppress_auto_replies: bool,
    version: i64,
    updated_at: String,
    number: i64,
}

const PERSON_SELECT: &str = "SELECT p.id, p.name, p.organization_id, o.name AS organization_name,
        p.phone, p.website, p.im, p.twitter, p.linkedin, p.facebook, p.address, p.summary,
        p.timezone, p.language, p.suppress_auto_replies, p.version, p.updated_at, p.number
    FROM people p LEFT JOIN organizations o ON o.id = p.organization_id";

impl PersonRow {
    fn into_customer(self, related: Related) -> Customer {
        let Related {
            emails,
            usergroups,
            custom_fields,
        } = related;
        Customer {
            id: self.id,
            number: self.number,
            name: self.name,
            emails,
            organization: self
                .organization_id
                .zip(self.organization_name)
                .map(|(id, name)| Organization { id, name }),
            phone: self.phone,
            website: self.website,
            im: self.im,
            twitter: self.twitter,
            linkedin: self.linkedin,
            facebook: self.facebook,
            address: self.address,
            summary: self.summary,
            timezone: self.timezone,
            language: self.language,
            suppress_auto_replies: self.suppress_auto_replies,
            usergroups,
            custom_fields,
            version: self.version,
            updated_at: parse_timestamp(&self.updated_at),
        }
    }

    /// Each editable field's stored text, for the change log.
    fn fields(&self) -> Vec<(&'static str, Option<String>)> {
        vec![
            ("name", Some(self.name.clone())),
            ("organization", self.organization_name.clone()),
            ("phone", self.phone.clone()),
            ("website", self.website.clone()),
            ("im", self.im.clone()),
            ("twitter", self.twitter.clone()),
            ("linkedin", self.linkedin.clone()),
            ("facebook", self.facebook.clone()),
            ("address", self.address.clone()),
            ("summary", self.summary.clone()),
            ("timezone", self.timezone.clone()),
            ("language", self.language.clone()),
            (
                "suppress_auto_replies",
                Some(self.suppress_auto_replies.to_string()),
            ),
        ]
    }
}

/// What a record holds besides its row.
#[derive(Default)]
struct Related {
    emails: Vec<EmailAddress>,
    usergroups: Vec<String>,
    custom_fields: Vec<FieldValue>,
}

/// The emails, usergroups and custom values of several people, three queries in all.
async fn related(
    conn: &mut crate::storage::Conn,
    ids: &[&str],
) -> Result<HashMap<String, Related>, sqlx::Error> {
    let mut emails = emails_of_many(&mut *conn, ids).await?;
    let mut groups = usergroups_of(&mut *conn, ids).await?;
    let mut custom = custom_values(&mut *conn, ids).await?;
    Ok(ids
        .iter()
        .map(|id| {
            let related = Related {
                emails: emails.remove(*id).unwrap_or_default(),
                usergroups: groups.remove(*id).unwrap_or_default(),
                custom_fields: custom.remove(*id).unwrap_or_default(),
            };
            ((*id).to_owned(), related)
        })
        .collect())
}

async fn row(db: &mut crate::storage::Conn, id: &str) -> Result<PersonRow, CustomerError> {
    crate::storage::query_as::<PersonRow>(&format!("{PERSON_SELECT} WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or(CustomerError::NotFound)
}

pub async fn find(db: &Db, id: &str) -> Result<Customer, CustomerError> {
    let mut conn = db.acquire().await?;
    let row = row(&mut conn, id).await?;
    let related = related(&mut conn, &[id])
        .await?
        .remove(id)
        .unwrap_or_default();
    Ok(row.into_customer(related))
}

/// A new user, with the first email primary.
pub async fn create(
    db: &Db,
    actor_id: &str,
    new: &NewCustomer,
    now: DateTime<Utc>,
) -> Result<Customer, CustomerError> {
    let name = clean_name(&new.name)?;
    if new.emails.is_empty() {
        return Err(RecordError::new("emails", "at least one email is needed").into());
    }
    if new.emails.len() > EMAILS_MAX {
        return Err(RecordError::new("emails", format!("at most {EMAILS_MAX} emails")).into());
    }
    let mut emails: Vec<String> = Vec::new();
    for (index, email) in new.emails.iter().enumerate() {
        let email = clean_email(&format!("emails[{index}]"), email)?;
        if emails.contains(&email) {
            return Err(RecordError::new(format!("emails[{index}]"), "is listed twice").into());
        }
        emails.push(email);
    }
    let phone = match &new.phone {
        Some(phone) => customer_phone(phone)?,
        None => None,
    };
    let at = timestamp(now);
    let mut tx = crate::db::begin_write(db).await?;
    for (index, email) in emails.iter().enumerate() {
        email_free(&mut tx, email, &format!("emails[{index}]")).await?;
    }
    let organization_id = match &new.organization {
        Some(name) => organization(&mut tx, name, &at).await?,
        None => None,
    };
    let id = insert(
        &mut tx,
        actor_id,
        &name,
        organization_id,
        phone,
        &emails,
        &at,
    )
    .await?;
    let customer = {
        let row = row(&mut tx, &id).await?;
        let related = related(&mut tx, &[&id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        row.into_customer(related)
    };
    tx.commit().await?;
    Ok(customer)
}

/// A helpdesk's requestor as a customer, matched by email: the record that has the
/// address, or a new one. Never an agent's address, and nothing for an address that is
/// not one: `None` then. Part of the caller's transaction.
pub async fn from_helpdesk(
    tx: &mut crate::storage::Conn,
    actor_id: &str,
    name: &str,
    email: &str,
    organization_name: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, CustomerError> {
    let Ok(email) = clean_email("email", email) else {
        return Ok(None);
    };
    let agent = crate::storage::query_scalar::<String>("SELECT id FROM agents WHERE email = $1")
        .bind(&email)
        .fetch_optional(&mut *tx)
        .await?;
    if agent.is_some() {
        return Ok(None);
    }
    let known = crate::storage::query_scalar::<String>(
        "SELECT person_id FROM person_emails WHERE address = $1",
    )
    .bind(&email)
    .fetch_optional(&mut *tx)
    .await?;
    if known.is_some() {
        return Ok(known);
    }
    // A requestor RT knows only by address is named by it.
    let name = clean_name(name).unwrap_or_else(|_| email.clone());
    let at = timestamp(now);
    // An organization name the record would refuse (too long, control characters) is
    // left off rather than losing the customer; the database failing is an error.
    let organization_id = match organization(tx, organization_name, &at).await {
        Ok(id) => id,
        Err(CustomerError::Invalid(_)) => None,
        Err(error) => return Err(error),
    };
    let id = insert(tx, actor_id, &name, organization_id, None, &[email], &at).await?;
    Ok(Some(id))
}

/// The number the next customer's record takes: one more than the highest. Two writers
/// on PostgreSQL take turns for it (SQLite's write transaction holds the database).
pub(crate) async fn next_number(tx: &mut crate::storage::Conn) -> Result<i64, sqlx::Error> {
    tx.lock_name("people_number").await?;
    crate::storage::query_scalar::<i64>("SELECT COALESCE(MAX(number), 0) + 1 FROM people")
        .fetch_one(&mut **tx)
        .await
}

/// Inserts a customer's record with its emails (the first primary), its change-log row
/// and its search entry.
async fn insert(
    tx: &mut crate::storage::Conn,
    actor_id: &str,
    name: &str,
    organization_id: Option<String>,
    phone: Option<String>,
    emails: &[String],
    at: &str,
) -> Result<String, CustomerError> {
    let id = Uuid::new_v4().to_string();
    let number = next_number(tx).await?;
    crate::storage::query(
        "INSERT INTO people (id, name, sort_name, organization_id, phone, created_at, updated_at,
                             number)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
    )
    .bind(&id)
    .bind(name)
    .bind(name.to_lowercase())
    .bind(&organization_id)
    .bind(&phone)
    .bind(at)
    .bind(number)
    .execute(&mut *tx)
    .await?;
    for (index, email) in emails.iter().enumerate() {
        crate::storage::query(
            "INSERT INTO person_emails (address, person_id, is_primary) VALUES ($1, $2, $3)",
        )
        .bind(email)
        .bind(&id)
        .bind(index == 0)
        .execute(&mut *tx)
        .await
        .map_err(|error| taken_by_another(error, email, &format!("emails[{index}]")))?;
    }
    record_change(
        &mut *tx,
        &id,
        actor_id,
        "created",
        &None,
        &Some(name.to_owned()),
        at,
    )
    .await?;
    reindex(&mut *tx, &id).await?;
    Ok(id)
}

/// Applies a patch if the stored version is still `expected_version`; every changed
/// field gets a change-log row.
pub async fn update(
    db: &Db,
    actor_id: &str,
    id: &str,
    patch: &CustomerPatch,
    expected_version: i64,
    now: DateTime<Utc>,
) -> Result<Customer, CustomerError> {
    let text = |field: &str, value: &Option<String>, max: usize| {
        value
            .as_deref()
            .map(|value| clean_line(field, value, max))
            .transpose()
    };
    let name = patch.name.as_deref().map(clean_name).transpose()?;
    let phone = patch.phone.as_deref().map(customer_phone).transpose()?;
    let website = patch
        .website
        .as_deref()
        .map(|v| clean_url("website", v))
        .transpose()?;
    let linkedin = patch
        .linkedin
        .as_deref()
        .map(|v| clean_profile_url("linkedin", v, "linkedin.com"))
        .transpose()?;
    let facebook = patch
        .facebook
        .as_deref()
        .map(|v| clean_profile_url("facebook", v, "facebook.com"))
        .transpose()?;
    let twitter = patch.twitter.as_deref().map(clean_twitter).transpose()?;
    let im = text("im", &patch.im, SHORT_MAX)?;
    let address = patch
        .address
        .as_deref()
        .map(|v| clean_text("address", v, ADDRESS_MAX))
        .transpose()?;
    let summary = patch
        .summary
        .as_deref()
        .map(|v| clean_text("summary", v, SUMMARY_MAX))
        .transpose()?;
    let timezone = text("timezone", &patch.timezone, SHORT_MAX)?;
    if let Some(Some(zone)) = &timezone {
        if parse_timezone(zone).is_none() {
            return Err(RecordError::new("timezone", "is not a known IANA time zone").into());
        }
    }
    let language = text("language", &patch.language, SHORT_MAX)?;
    if let Some(Some(tag)) = &language {
        if !is_supported_language(tag) {
            return Err(RecordError::new("language", "is not a supported language").into());
        }
    }

    let usergroups = patch
        .usergroups
        .as_deref()
        .map(clean_usergroups)
        .transpose()?;
    let custom = match &patch.custom_fields {
        Some(values) => {
            let fields = custom_fields(db).await?;
            let mut cleaned = Vec::new();
            for (field_id, value) in values {
                let field = fields
                    .iter()
                    .find(|field| &field.id == field_id)
                    .ok_or_else(|| {
                        RecordError::new(
                            format!("custom_fields.{field_id}"),
                            "is not a field of customers' records",
                        )
                    })?;
                cleaned.push((field.clone(), field.clean(value)?));
            }
            cleaned
        }
        None => Vec::new(),
    };

    let at = timestamp(now);
    let mut tx = crate::db::begin_write(db).await?;
    // Held to the commit: of two edits made on one version, the second reads the first's.
    tx.lock("people", id).await?;
    let before = row(&mut tx, id).await?;
    if before.version != expected_version {
        return Err(CustomerError::VersionConflict);
    }
    let organization_id = match &patch.organization {
        Some(name) => Some(organization(&mut tx, name, &at).await?),
        None => None,
    };
    let keep =
        |new: Option<Option<String>>, old: &Option<String>| new.unwrap_or_else(|| old.clone());
    let name = name.unwrap_or_else(|| before.name.clone());
    crate::storage::query(
        "UPDATE people SET name = $1, sort_name = $2, organization_id = $3, phone = $4,
                website = $5, im = $6, twitter = $7, linkedin = $8, facebook = $9, address = $10,
                summary = $11, timezone = $12, language = $13, suppress_auto_replies = $14,
                updated_at = $15, version = version + 1
         WHERE id = $16",
    )
    .bind(&name)
    .bind(name.to_lowercase())
    .bind(organization_id.unwrap_or_else(|| before.organization_id.clone()))
    .bind(keep(phone, &before.phone))
    .bind(keep(website, &before.website))
    .bind(keep(im, &before.im))
    .bind(keep(twitter, &before.twitter))
    .bind(keep(linkedin, &before.linkedin))
    .bind(keep(facebook, &before.facebook))
    .bind(keep(address, &before.address))
    .bind(keep(summary, &before.summary))
    .bind(keep(timezone, &before.timezone))
    .bind(keep(language, &before.language))
    .bind(
        patch
            .suppress_auto_replies
            .unwrap_or(before.suppress_auto_replies),
    )
    .bind(&at)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let after = row(&mut tx, id).await?;
    for ((field, old), (_, new)) in before.fields().into_iter().zip(after.fields()) {
        if old != new {
            record_change(&mut tx, id, actor_id, field, &old, &new, &at).await?;
        }
    }
    if let Some(names) = &usergroups {
        set_usergroups(&mut tx, actor_id, id, names, &at).await?;
    }
    let current = custom_values(&mut tx, &[id])
        .await?
        .remove(id)
        .unwrap_or_default();
    for (field, value) in &custom {
        let old = current
            .iter()
            .find(|entry| entry.field.id == field.id)
            .and_then(|entry| entry.value.clone());
        if &old == value {
            continue;
        }
        match value {
            Some(value) => {
                crate::storage::query(
                    "INSERT INTO person_field_values (person_id, field_id, value) VALUES ($1, $2, $3)
                     ON CONFLICT (person_id, field_id) DO UPDATE SET value = excluded.value",
                )
                .bind(id)
                .bind(&field.id)
                .bind(value)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                crate::storage::query(
                    "DELETE FROM person_field_values WHERE person_id = $1 AND field_id = $2",
                )
                .bind(id)
                .bind(&field.id)
                .execute(&mut *tx)
                .await?;
            }
        }
        let name = format!("custom:{}", field.name);
        record_change(&mut tx, id, actor_id, &name, &old, value, &at).await?;
    }
    reindex(&mut tx, id).await?;
    let related = related(&mut tx, &[id])
        .await?
        .remove(id)
        .unwrap_or_default();
    tx.commit().await?;
    Ok(after.into_customer(related))
}

//! Users' (customers') records in the database: contact details, organization, emails,
//! notes, the search index, and a change-log row for every edit. Each write is one
//! transaction: a refused change leaves nothing behind.

use std::collections::HashMap;

use agent_desk_core::customers::{
    clean_email, clean_line, clean_name, clean_phone, clean_profile_url, clean_text, clean_twitter,
    clean_url, clean_usergroups, Activity, Change, CustomField, Customer, CustomerPatch, FieldKind,
    FieldValue, NewCustomField, NewCustomer, Note, NotesPage, Organization, OrganizationEntry,
    RecordError, ADDRESS_MAX, CHOICES_MAX, EMAILS_MAX, FIELD_NAME_MAX, NOTE_MAX, SHORT_MAX,
    SUMMARY_MAX,
};
use agent_desk_core::locale::{is_supported_language, parse_timezone};
use agent_desk_core::EmailAddress;
use chrono::{DateTime, Utc};
use sqlx::{FromRow, SqliteConnection};
use uuid::Uuid;

use crate::agents::{parse_timestamp, record_change, timestamp};
use crate::db::Db;
use crate::people::{decode_cursor, encode_cursor};

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
}

const PERSON_SELECT: &str = "SELECT p.id, p.name, p.organization_id, o.name AS organization_name,
        p.phone, p.website, p.im, p.twitter, p.linkedin, p.facebook, p.address, p.summary,
        p.timezone, p.language, p.suppress_auto_replies, p.version, p.updated_at
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

async fn emails_of(
    db: &mut SqliteConnection,
    person_id: &str,
) -> Result<Vec<EmailAddress>, sqlx::Error> {
    Ok(emails_of_many(db, &[person_id])
        .await?
        .remove(person_id)
        .unwrap_or_default())
}

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

async fn fields_on(conn: &mut SqliteConnection) -> Result<Vec<CustomField>, sqlx::Error> {
    Ok(sqlx::query_as::<_, FieldRow>(
        "SELECT id, name, kind, choices FROM custom_fields ORDER BY created_at, name",
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(FieldRow::into_field)
    .collect())
}

/// Every field admins defined, oldest first.
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
    let taken = sqlx::query_scalar::<_, String>("SELECT id FROM custom_fields WHERE name = $1")
        .bind(&name)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(CustomerError::FieldNameTaken(name));
    }
    sqlx::query(
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
async fn custom_values(
    conn: &mut SqliteConnection,
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
        let mut query = sqlx::query_as::<_, (String, String, String)>(&sql);
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

/// What a record holds besides its row.
#[derive(Default)]
struct Related {
    emails: Vec<EmailAddress>,
    usergroups: Vec<String>,
    custom_fields: Vec<FieldValue>,
}

/// The emails, usergroups and custom values of several people, three queries in all.
async fn related(
    conn: &mut SqliteConnection,
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

/// The usergroup names of several people, each sorted.
async fn usergroups_of(
    conn: &mut SqliteConnection,
    ids: &[&str],
) -> Result<HashMap<String, Vec<String>>, sqlx::Error> {
    let mut by_person: HashMap<String, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(by_person);
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT m.person_id, g.name FROM person_usergroups m JOIN usergroups g ON g.id = m.usergroup_id
         WHERE m.person_id IN ({}) ORDER BY lower(g.name)",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, (String, String)>(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    for (person_id, name) in query.fetch_all(conn).await? {
        by_person.entry(person_id).or_default().push(name);
    }
    Ok(by_person)
}

/// Puts a person in exactly these usergroups (made when new), logging the change.
async fn set_usergroups(
    tx: &mut SqliteConnection,
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
    sqlx::query("DELETE FROM person_usergroups WHERE person_id = $1")
        .bind(person_id)
        .execute(&mut *tx)
        .await?;
    for name in names {
        let found = sqlx::query_scalar::<_, String>("SELECT id FROM usergroups WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let group_id = match found {
            Some(id) => id,
            None => {
                let id = Uuid::new_v4().to_string();
                sqlx::query("INSERT INTO usergroups (id, name, created_at) VALUES ($1, $2, $3)")
                    .bind(&id)
                    .bind(name)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                id
            }
        };
        sqlx::query("INSERT INTO person_usergroups (person_id, usergroup_id) VALUES ($1, $2)")
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

/// The emails of several people in one query, primary first.
async fn emails_of_many(
    db: &mut SqliteConnection,
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
    let mut query = sqlx::query_as::<_, (String, String, bool)>(&sql);
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

async fn row(db: &mut SqliteConnection, id: &str) -> Result<PersonRow, CustomerError> {
    sqlx::query_as::<_, PersonRow>(&format!("{PERSON_SELECT} WHERE p.id = $1"))
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

/// Organizations that have people, by name, with how many.
pub async fn organizations(db: &Db) -> Result<Vec<OrganizationEntry>, sqlx::Error> {
    let rows = sqlx::query_as::<_, (String, String, i64)>(
        "SELECT o.id, o.name, COUNT(*) FROM organizations o JOIN people p ON p.organization_id = o.id
         GROUP BY o.id, o.name ORDER BY lower(o.name), o.id",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, people)| OrganizationEntry {
            id,
            name,
            people: u32::try_from(people).unwrap_or(u32::MAX),
        })
        .collect())
}

/// The organization of this name, made if there is none; `None` for an empty name.
async fn organization(
    tx: &mut SqliteConnection,
    name: &str,
    now: &str,
) -> Result<Option<String>, CustomerError> {
    let Some(name) = clean_line("organization", name, SHORT_MAX)? else {
        return Ok(None);
    };
    let found = sqlx::query_scalar::<_, String>("SELECT id FROM organizations WHERE name = $1")
        .bind(&name)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(id) = found {
        return Ok(Some(id));
    }
    let id = Uuid::new_v4().to_string();
    sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(&name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    Ok(Some(id))
}

/// Refuses an address that is on another customer's record, naming the field it came
/// in. Agents' addresses are not looked at: whether an address is an agent's is theirs
/// and their privacy's to tell, and a refusal here would tell it to any agent who tried.
/// (An agent who also writes in as a customer has a customer's record besides.)
async fn email_free(
    tx: &mut SqliteConnection,
    address: &str,
    field: &str,
) -> Result<(), CustomerError> {
    let taken =
        sqlx::query_scalar::<_, String>("SELECT person_id FROM person_emails WHERE address = $1")
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

/// The shortest ending of a phone number a search finds it by.
const PHONE_SUFFIX_MIN: usize = 7;

/// Digits of a phone number, so a search for "7183 8750" finds "+442071838750".
pub(crate) fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// Rewrites a person's row of the search index from what is stored now.
pub(crate) async fn reindex(tx: &mut SqliteConnection, person_id: &str) -> Result<(), sqlx::Error> {
    let row = sqlx::query_as::<_, (i64, String, Option<String>, Option<String>)>(
        "SELECT p.search_id, p.name, o.name, p.phone FROM people p
         LEFT JOIN organizations o ON o.id = p.organization_id WHERE p.id = $1",
    )
    .bind(person_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((search_id, name, organization, phone)) = row else {
        return Ok(());
    };
    let emails =
        sqlx::query_scalar::<_, String>("SELECT address FROM person_emails WHERE person_id = $1")
            .bind(person_id)
            .fetch_all(&mut *tx)
            .await?;
    let terms = search_terms(&name, &emails, organization.as_deref(), phone.as_deref());
    sqlx::query("DELETE FROM people_search WHERE rowid = $1")
        .bind(search_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO people_search (rowid, terms) VALUES ($1, $2)")
        .bind(search_id)
        .bind(terms)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The text a person is found by. Emails go in whole and split at `@` and `.`, so both
/// "ada@example.com" and "example" find them.
pub fn search_terms(
    name: &str,
    emails: &[String],
    organization: Option<&str>,
    phone: Option<&str>,
) -> String {
    let mut terms = vec![name.to_owned()];
    for email in emails {
        terms.push(email.replace(['@', '.', '+', '-', '_'], " "));
    }
    terms.extend(organization.map(str::to_owned));
    if let Some(phone) = phone {
        // The whole number and its endings, so a search by the local part finds it too.
        let number = digits(phone);
        terms.push(number.clone());
        for start in 1..number.len().saturating_sub(PHONE_SUFFIX_MIN - 1) {
            terms.push(number[start..].to_owned());
        }
    }
    terms.join(" ")
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
        Some(phone) => clean_phone(phone)?,
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
    tx: &mut SqliteConnection,
    actor_id: &str,
    name: &str,
    email: &str,
    organization_name: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, CustomerError> {
    let Ok(email) = clean_email("email", email) else {
        return Ok(None);
    };
    let agent = sqlx::query_scalar::<_, String>("SELECT id FROM agents WHERE email = $1")
        .bind(&email)
        .fetch_optional(&mut *tx)
        .await?;
    if agent.is_some() {
        return Ok(None);
    }
    let known =
        sqlx::query_scalar::<_, String>("SELECT person_id FROM person_emails WHERE address = $1")
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

/// Inserts a customer's record with its emails (the first primary), its change-log row
/// and its search entry.
async fn insert(
    tx: &mut SqliteConnection,
    actor_id: &str,
    name: &str,
    organization_id: Option<String>,
    phone: Option<String>,
    emails: &[String],
    at: &str,
) -> Result<String, CustomerError> {
    let id = Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO people (id, name, sort_name, organization_id, phone, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&id)
    .bind(name)
    .bind(name.to_lowercase())
    .bind(&organization_id)
    .bind(&phone)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    for (index, email) in emails.iter().enumerate() {
        sqlx::query(
            "INSERT INTO person_emails (address, person_id, is_primary) VALUES ($1, $2, $3)",
        )
        .bind(email)
        .bind(&id)
        .bind(index == 0)
        .execute(&mut *tx)
        .await?;
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
    let phone = patch.phone.as_deref().map(clean_phone).transpose()?;
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
    sqlx::query(
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
                sqlx::query(
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
                sqlx::query(
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

/// Bumps a record's version and logs one change, inside a write that changed it.
async fn touched(
    tx: &mut SqliteConnection,
    id: &str,
    actor_id: &str,
    field: &str,
    old: Option<String>,
    new: Option<String>,
    at: &str,
) -> Result<(), CustomerError> {
    let updated =
        sqlx::query("UPDATE people SET version = version + 1, updated_at = $1 WHERE id = $2")
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
    row(&mut tx, id).await?;
    let count =
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM person_emails WHERE person_id = $1")
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
        sqlx::query("UPDATE person_emails SET is_primary = FALSE WHERE person_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("INSERT INTO person_emails (address, person_id, is_primary) VALUES ($1, $2, $3)")
        .bind(&address)
        .bind(id)
        .bind(primary)
        .execute(&mut *tx)
        .await?;
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
    sqlx::query("DELETE FROM person_emails WHERE address = $1 AND person_id = $2")
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
        sqlx::query("UPDATE person_emails SET is_primary = FALSE WHERE person_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
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
            sqlx::query("UPDATE people SET organization_id = $1 WHERE id = $2")
                .bind(&source.organization_id)
                .bind(target_id)
                .execute(&mut *tx)
                .await?;
        } else {
            // Column names come from the fixed list of `fields`, never from input.
            sqlx::query(&format!("UPDATE people SET {field} = $1 WHERE id = $2"))
                .bind(value)
                .bind(target_id)
                .execute(&mut *tx)
                .await?;
        }
        record_change(&mut tx, target_id, actor_id, field, &None, value, &at).await?;
    }
    if source.suppress_auto_replies && !target.suppress_auto_replies {
        sqlx::query("UPDATE people SET suppress_auto_replies = TRUE WHERE id = $1")
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
                sqlx::query(
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
    sqlx::query("UPDATE person_emails SET person_id = $1, is_primary = FALSE WHERE person_id = $2")
        .bind(target_id)
        .bind(source_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE person_notes SET person_id = $1 WHERE person_id = $2")
        .bind(target_id)
        .bind(source_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE person_files SET person_id = $1 WHERE person_id = $2")
        .bind(target_id)
        .bind(source_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE change_log SET subject_id = $1 WHERE subject_id = $2")
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

    let search_id = sqlx::query_scalar::<_, i64>("SELECT search_id FROM people WHERE id = $1")
        .bind(source_id)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM people_search WHERE rowid = $1")
        .bind(search_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM person_field_values WHERE person_id = $1")
        .bind(source_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM people WHERE id = $1")
        .bind(source_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE people SET version = version + 1, updated_at = $1 WHERE id = $2")
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
    let rows = sqlx::query_as::<_, ChangeRow>(
        "SELECT c.changed_at, c.actor_id, a.display_name AS actor_name, c.field, c.old_value,
                c.new_value
         FROM change_log c LEFT JOIN agents a ON a.id = c.actor_id
         WHERE c.subject_id = $1 ORDER BY c.changed_at DESC, c.rowid DESC LIMIT $2",
    )
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
    let notes = sqlx::query_as::<_, NoteRow>(&format!(
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

/// The demo's customers (name, emails, organization, phone, note), made once by
/// `seed-demo`, the note written by the demo agent.
const DEMO_CUSTOMERS: &[(&str, &[&str], &str, &str, &str)] = &[
    (
        "Ada Byron",
        &["ada@byron.example", "countess@analytical.example"],
        "Analytical Engines",
        "+442071838751",
        "Asked for the invoice for order 1842 again; resent it by email.",
    ),
    (
        "Charles Babbage",
        &["charles@difference.example"],
        "Analytical Engines",
        "+442071838752",
        "Prefers a phone call before any change to the contract.",
    ),
    (
        "Émile Zola",
        &["emile@paris.example"],
        "Rougon-Macquart",
        "+33142555555",
        "Writes in French; answers in French too.",
    ),
];

/// The demo's custom fields, and the first demo customer's values of them.
const DEMO_FIELDS: &[(&str, FieldKind, &[&str], &str)] = &[
    (
        "Plan",
        FieldKind::Choice,
        &["Free", "Team", "Enterprise"],
        "Team",
    ),
    ("Seats", FieldKind::Number, &[], "12"),
    ("Contract renewal", FieldKind::Date, &[], "2027-03-31"),
];

/// Makes the demo's customers and fields, leaving any already there.
pub async fn seed_demo(db: &Db, author_id: &str, now: DateTime<Utc>) -> Result<(), CustomerError> {
    let mut first_values = std::collections::BTreeMap::new();
    for (name, kind, choices, value) in DEMO_FIELDS {
        let new = NewCustomField {
            name: (*name).to_owned(),
            kind: *kind,
            choices: (!choices.is_empty())
                .then(|| choices.iter().map(|choice| (*choice).to_owned()).collect()),
        };
        match create_field(db, &new, now).await {
            Ok(field) => {
                first_values.insert(field.id, (*value).to_owned());
            }
            Err(CustomerError::FieldNameTaken(_)) => {}
            Err(other) => return Err(other),
        }
    }
    for (index, (name, emails, organization, phone, note)) in DEMO_CUSTOMERS.iter().enumerate() {
        let new = NewCustomer {
            name: (*name).to_owned(),
            emails: emails.iter().map(|email| (*email).to_owned()).collect(),
            organization: Some((*organization).to_owned()),
            phone: Some((*phone).to_owned()),
        };
        match create(db, author_id, &new, now).await {
            Ok(customer) => {
                add_note(db, author_id, &customer.id, note, now).await?;
                if index == 0 && !first_values.is_empty() {
                    let values = CustomerPatch {
                        custom_fields: Some(first_values.clone()),
                        ..CustomerPatch::default()
                    };
                    update(db, author_id, &customer.id, &values, customer.version, now).await?;
                }
            }
            Err(CustomerError::EmailTaken { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

#[derive(FromRow)]
struct NoteRow {
    id: String,
    person_id: String,
    author_id: Option<String>,
    author_name: Option<String>,
    body: String,
    created_at: String,
    updated_at: String,
}

impl NoteRow {
    fn into_note(self) -> Note {
        Note {
            id: self.id,
            person_id: self.person_id,
            author_id: self.author_id,
            author_name: self.author_name,
            body: self.body,
            created_at: parse_timestamp(&self.created_at),
            updated_at: parse_timestamp(&self.updated_at),
        }
    }
}

const NOTE_SELECT: &str = "SELECT n.id, n.person_id, n.author_id, a.display_name AS author_name,
        n.body, n.created_at, n.updated_at
    FROM person_notes n LEFT JOIN agents a ON a.id = n.author_id";

fn note_body(body: &str) -> Result<String, CustomerError> {
    clean_text("body", body, NOTE_MAX)?
        .ok_or_else(|| RecordError::new("body", "is required").into())
}

/// A person's notes, newest first, `limit` at a time.
pub async fn notes(
    db: &Db,
    person_id: &str,
    cursor: Option<&str>,
    limit: u32,
) -> Result<NotesPage, CustomerError> {
    let mut conn = db.acquire().await?;
    row(&mut conn, person_id).await?;
    let total =
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM person_notes WHERE person_id = $1")
            .bind(person_id)
            .fetch_one(&mut *conn)
            .await?;
    let after = cursor
        .map(decode_cursor)
        .transpose()
        .map_err(|_| CustomerError::InvalidCursor)?;
    let older = if after.is_some() {
        " AND (n.created_at, n.id) < ($2, $3)"
    } else {
        ""
    };
    let (before_time, before_id) = after.unwrap_or_default();
    let mut rows = sqlx::query_as::<_, NoteRow>(&format!(
        "{NOTE_SELECT} WHERE n.person_id = $1{older}
         ORDER BY n.created_at DESC, n.id DESC LIMIT $4"
    ))
    .bind(person_id)
    .bind(&before_time)
    .bind(&before_id)
    .bind(i64::from(limit) + 1)
    .fetch_all(&mut *conn)
    .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| {
            rows.last()
                .map(|last| encode_cursor(&last.created_at, &last.id))
        })
        .flatten();
    Ok(NotesPage {
        notes: rows.into_iter().map(NoteRow::into_note).collect(),
        total: u32::try_from(total).unwrap_or(u32::MAX),
        next_cursor,
    })
}

pub async fn add_note(
    db: &Db,
    author_id: &str,
    person_id: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Note, CustomerError> {
    let body = note_body(body)?;
    let at = timestamp(now);
    let id = Uuid::new_v4().to_string();
    let mut tx = crate::db::begin_write(db).await?;
    row(&mut tx, person_id).await?;
    sqlx::query(
        "INSERT INTO person_notes (id, person_id, author_id, body, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&id)
    .bind(person_id)
    .bind(author_id)
    .bind(&body)
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    let note = note(&mut tx, &id).await?;
    tx.commit().await?;
    Ok(note)
}

async fn note(conn: &mut SqliteConnection, id: &str) -> Result<Note, CustomerError> {
    sqlx::query_as::<_, NoteRow>(&format!("{NOTE_SELECT} WHERE n.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(NoteRow::into_note)
        .ok_or(CustomerError::NoteNotFound)
}

/// Changes a note's text; only its author may.
pub async fn edit_note(
    db: &Db,
    agent_id: &str,
    note_id: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Note, CustomerError> {
    let body = note_body(body)?;
    let mut tx = crate::db::begin_write(db).await?;
    let existing = note(&mut tx, note_id).await?;
    if existing.author_id.as_deref() != Some(agent_id) {
        return Err(CustomerError::NotAuthor);
    }
    let at = timestamp(now);
    sqlx::query("UPDATE person_notes SET body = $1, updated_at = $2 WHERE id = $3")
        .bind(&body)
        .bind(&at)
        .bind(note_id)
        .execute(&mut *tx)
        .await?;
    record_change(
        &mut tx,
        &existing.person_id,
        agent_id,
        "note",
        &Some(existing.body.clone()),
        &Some(body.clone()),
        &at,
    )
    .await?;
    let note = note(&mut tx, note_id).await?;
    tx.commit().await?;
    Ok(note)
}

/// Deletes a note; only its author may.
pub async fn delete_note(
    db: &Db,
    agent_id: &str,
    note_id: &str,
    now: DateTime<Utc>,
) -> Result<(), CustomerError> {
    let mut tx = crate::db::begin_write(db).await?;
    let existing = note(&mut tx, note_id).await?;
    if existing.author_id.as_deref() != Some(agent_id) {
        return Err(CustomerError::NotAuthor);
    }
    sqlx::query("DELETE FROM person_notes WHERE id = $1")
        .bind(note_id)
        .execute(&mut *tx)
        .await?;
    // What a deleted note said stays in the change log.
    record_change(
        &mut tx,
        &existing.person_id,
        agent_id,
        "note",
        &Some(existing.body),
        &None,
        &timestamp(now),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Users matching every word of `q` (as prefixes) in name order after `after` (the
/// sort key and id of the last one shown), at most `limit`, each with its sort key.
pub async fn search(
    db: &Db,
    q: Option<&str>,
    organization_id: Option<&str>,
    descending: bool,
    after: Option<&(String, String)>,
    limit: usize,
) -> Result<Vec<(String, Customer)>, CustomerError> {
    let order = if descending { "DESC" } else { "ASC" };
    let beyond = if descending { "<" } else { ">" };
    let match_expression = q.and_then(fts_query);
    let mut sql = format!("{PERSON_SELECT} WHERE 1 = 1");
    if match_expression.is_some() {
        sql.push_str(
            " AND p.search_id IN (SELECT rowid FROM people_search WHERE people_search MATCH $1)",
        );
    }
    if organization_id.is_some() {
        sql.push_str(" AND p.organization_id = $2");
    }
    if after.is_some() {
        sql.push_str(&format!(" AND (p.sort_name, p.id) {beyond} ($3, $4)"));
    }
    sql.push_str(&format!(
        " ORDER BY p.sort_name {order}, p.id {order} LIMIT $5"
    ));
    let (after_key, after_id) = after.cloned().unwrap_or_default();
    let mut conn = db.acquire().await?;
    let rows = sqlx::query_as::<_, PersonRow>(&sql)
        .bind(match_expression.unwrap_or_default())
        .bind(organization_id.unwrap_or_default())
        .bind(&after_key)
        .bind(&after_id)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await?;
    let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
    let mut related = related(&mut conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let key = row.name.to_lowercase();
            let related = related.remove(&row.id).unwrap_or_default();
            (key, row.into_customer(related))
        })
        .collect())
}

/// Every word as a quoted prefix, all required: `ada lov` → `"ada"* "lov"*`. Quoting
/// keeps FTS5's own syntax out of what an agent types.
pub fn fts_query(q: &str) -> Option<String> {
    // Control characters (NUL among them) are nothing anyone searches for, and FTS5
    // refuses some of them even quoted.
    let q: String = q.chars().filter(|c| !c.is_control()).collect();
    let q = q.as_str();
    // A phone number however written: its digits as one word.
    let phone_like = q
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()/.".contains(c));
    let number = digits(q);
    if phone_like && number.len() >= 3 {
        return Some(format!("\"{number}\"*"));
    }
    let words: Vec<String> = q
        .split(|c: char| c.is_whitespace() || "@.+-_\"'()*:^".contains(c))
        .filter(|word| !word.is_empty())
        .map(|word| format!("\"{}\"*", word.replace('"', "")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_are_prefixes_of_every_word_with_fts_syntax_kept_out() {
        assert_eq!(fts_query("Ada  Lov").as_deref(), Some("\"Ada\"* \"Lov\"*"));
        assert_eq!(
            fts_query("ada@example.com").as_deref(),
            Some("\"ada\"* \"example\"* \"com\"*")
        );
        assert_eq!(
            fts_query("NEAR(a b) OR \"x"),
            Some("\"NEAR\"* \"a\"* \"b\"* \"OR\"* \"x\"*".to_owned())
        );
        assert_eq!(fts_query("  @ . "), None);
        assert_eq!(fts_query("a\0da\u{7}"), Some("\"ada\"*".to_owned()));
        assert_eq!(fts_query("\0"), None);
        assert_eq!(fts_query("+44 20 7183").as_deref(), Some("\"44207183\"*"));
        assert_eq!(fts_query("7183 8750").as_deref(), Some("\"71838750\"*"));
    }

    #[test]
    fn terms_hold_emails_in_parts_and_phone_digits() {
        let terms = search_terms(
            "Ada Lovelace",
            &["ada.l@example.com".to_owned()],
            Some("Analytical Engines"),
            Some("+442071838750"),
        );
        assert_eq!(
            terms,
            "Ada Lovelace ada l example com Analytical Engines 442071838750 42071838750 \
             2071838750 071838750 71838750 1838750"
        );
    }
}

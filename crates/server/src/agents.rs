//! Agents, their profiles, sessions and the change log, in the database.

use agent_desk_checks::check_password;
use agent_desk_core::locale::DEFAULT_LANGUAGE;
use agent_desk_core::profile::FieldChange;
use agent_desk_core::routing::StatusCause;
use agent_desk_core::validation;
use agent_desk_core::{
    ContactPrefs, EmailAddress, PasswordRule, Profile, ProfileField, Status, Visibility,
};
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use crate::change_log::record_change;
use crate::clock::{parse_timestamp, timestamp};
use crate::credentials;
use crate::db::Db;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("an agent with the email {0} already exists")]
    EmailTaken(String),
    #[error("{0} is not a valid email address")]
    InvalidEmail(String),
    #[error("display name {0}")]
    InvalidName(String),
    #[error("the password {}", .0.message())]
    WeakPassword(PasswordRule),
    #[error("the expected version is stale")]
    VersionConflict,
    #[error("no such agent")]
    NotFound,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Hashing(#[from] crate::credentials::HashingError),
    #[error("the demo teams could not be made: {0}")]
    DemoTeams(#[from] crate::teams::TeamError),
    #[error("the demo customers could not be made: {0}")]
    DemoCustomers(#[from] crate::customers::CustomerError),
}

pub struct NewAgent<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub is_admin: bool,
}

pub use agent_desk_core::customers::is_plausible_email;

pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub async fn create(db: &Db, new: NewAgent<'_>, now: DateTime<Utc>) -> Result<Profile, AgentError> {
    let email = normalise_email(new.email);
    if !is_plausible_email(&email) {
        return Err(AgentError::InvalidEmail(email));
    }
    let display_name = validation::display_name(new.display_name)
        .map_err(|e| AgentError::InvalidName(e.message))?;
    let check = check_password(new.password, None, &[&email, &display_name]);
    if let Some(rule) = check.first_failure() {
        return Err(AgentError::WeakPassword(rule));
    }
    let hash = credentials::hash_password_queued(new.password)
        .await
        .map_err(AgentError::Hashing)?;

    let id = Uuid::new_v4().to_string();
    let at = timestamp(now);
    let mut tx = crate::db::begin_write(db).await?;
    let inserted = crate::storage::query(
        "INSERT INTO agents (id, email, password_hash, is_admin, display_name, language, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&id)
    .bind(&email)
    .bind(&hash)
    .bind(new.is_admin)
    .bind(&display_name)
    .bind(DEFAULT_LANGUAGE)
    .bind(&at)
    .execute(&mut *tx)
    .await;
    if let Err(error) = inserted {
        return Err(match error {
            sqlx::Error::Database(e) if e.is_unique_violation() => AgentError::EmailTaken(email),
            other => other.into(),
        });
    }
    crate::storage::query(
        "INSERT INTO agent_emails (agent_id, address, is_primary) VALUES ($1, $2, $3)",
    )
    .bind(&id)
    .bind(&email)
    .bind(true)
    .execute(&mut *tx)
    .await?;
    crate::events::start_feed(&mut tx, &id).await?;
    tx.commit().await?;
    let (profile, _) = profile(db, &id).await?;
    Ok(profile)
}

/// Creates `count` agents `load-00001@example.test`… that share one password, each with
/// a session, for load tests and benchmarks; returns their bearer tokens in order.
/// Agents that exist already are left as they are and get a new session.
pub async fn seed_load(
    db: &Db,
    count: u32,
    password: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AgentError> {
    // One hash for all: hashing thousands of passwords would take minutes and test nothing.
    let hash = credentials::hash_password_queued(password)
        .await
        .map_err(AgentError::Hashing)?;
    let at = timestamp(now);
    let mut tokens = Vec::with_capacity(count as usize);
    let mut tx = crate::db::begin_write(db).await?;
    for n in 1..=count {
        let email = format!("load-{n:05}@example.test");
        let id = Uuid::new_v4().to_string();
        crate::storage::query(
            "INSERT INTO agents (id, email, password_hash, is_admin, display_name, language, created_at, updated_at)
             VALUES ($1, $2, $3, FALSE, $4, $5, $6, $6) ON CONFLICT (email) DO NOTHING",
        )
        .bind(&id)
        .bind(&email)
        .bind(&hash)
        .bind(format!("Load Agent {n}"))
        .bind(DEFAULT_LANGUAGE)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        let agent_id =
            crate::storage::query_scalar::<String>("SELECT id FROM agents WHERE email = $1")
                .bind(&email)
                .fetch_one(&mut *tx)
                .await?;
        crate::storage::query(
            "INSERT INTO agent_emails (agent_id, address, is_primary) VALUES ($1, $2, TRUE)
             ON CONFLICT DO NOTHING",
        )
        .bind(&agent_id)
        .bind(&email)
        .execute(&mut *tx)
        .await?;
        crate::events::start_feed(&mut tx, &agent_id).await?;
        let token = credentials::new_token();
        crate::storage::query(
            "INSERT INTO sessions (id, agent_id, token_hash, created_at, last_seen_at, client_name)
             VALUES ($1, $2, $3, $4, $4, 'seed-load')",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(&agent_id)
        .bind(credentials::token_hash(&token))
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        tokens.push(token);
    }
    tx.commit().await?;
    Ok(tokens)
}

/// The id, stored password hash and whether they are active, of the agent with this
/// sign-in email.
pub async fn credentials_by_email(
    db: &Db,
    email: &str,
) -> Result<Option<(String, String, bool)>, sqlx::Error> {
    crate::storage::query_as::<(String, String, bool)>(
        "SELECT id, password_hash, active FROM agents WHERE email = $1",
    )
    .bind(normalise_email(email))
    .fetch_optional(db)
    .await
}

/// The columns [`AgentRow`] reads, for queries that list agents.
pub const PROFILE_COLUMNS: &str = "id, email, display_name, job_title, department, phone, mobile,
    office_location, timezone, language, signature, use_signature, operator_id, avatar_url,
    visibility, allow_direct_messages, show_phone, show_online_status, calendar_integration,
    status, status_until, is_admin, version, updated_at, active";

#[derive(FromRow)]
pub struct AgentRow {
    pub id: String,
    email: String,
    display_name: String,
    job_title: Option<String>,
    department: Option<String>,
    phone: Option<String>,
    mobile: Option<String>,
    office_location: Option<String>,
    timezone: Option<String>,
    language: String,
    signature: Option<String>,
    use_signature: bool,
    operator_id: Option<String>,
    avatar_url: Option<String>,
    visibility: String,
    allow_direct_messages: bool,
    show_phone: bool,
    show_online_status: bool,
    calendar_integration: bool,
    status: String,
    status_until: Option<String>,
    is_admin: bool,
    version: i64,
    updated_at: String,
    active: bool,
}

impl AgentRow {
    /// False once an administrator deactivated the agent.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// The profile with its version; `emails` are the agent's addresses.
    pub fn into_profile(self, emails: Vec<EmailAddress>, now: DateTime<Utc>) -> (Profile, i64) {
        let (status, status_until) = Status::in_force(
            Status::parse(&self.status).unwrap_or_default(),
            self.status_until.as_deref().map(parse_timestamp),
            now,
        );
        let profile = Profile {
            id: self.id,
            email: self.email,
            emails,
            display_name: self.display_name,
            job_title: self.job_title,
            department: self.department,
            department_request: None,
            phone: self.phone,
            mobile: self.mobile,
            office_location: self.office_location,
            timezone: self.timezone,
            language: self.language,
            signature: self.signature,
            use_signature: self.use_signature,
            operator_id: self.operator_id,
            avatar_url: self.avatar_url,
            // Only this code writes the column, and only the names it parses.
            visibility: Visibility::parse(&self.visibility).unwrap_or(Visibility::Private),
            contact_prefs: ContactPrefs {
                allow_direct_messages: self.allow_direct_messages,
                show_phone: self.show_phone,
                show_online_status: self.show_online_status,
                calendar_integration: self.calendar_integration,
            },
            status,
            status_until,
            is_admin: self.is_admin,
            updated_at: parse_timestamp(&self.updated_at),
        };
        (profile, self.version)
    }
}

/// The agent's profile and its version (the ETag).
pub async fn profile(db: &Db, agent_id: &str) -> Result<(Profile, i64), AgentError> {
    let row = crate::storage::query_as::<AgentRow>(&format!(
        "SELECT {PROFILE_COLUMNS} FROM agents WHERE id = $1"
    ))
    .bind(agent_id)
    .fetch_optional(db)
    .await?
    .ok_or(AgentError::NotFound)?;
    let emails = crate::storage::query_as::<(String, bool)>(
        "SELECT address, is_primary FROM agent_emails WHERE agent_id = $1 ORDER BY is_primary DESC, address",
    )
    .bind(agent_id)
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|(address, primary)| EmailAddress { address, primary })
    .collect();
    let request = crate::departments::pending(db, agent_id).await?;
    let (mut profile, version) = row.into_profile(emails, Utc::now());
    profile.department_request = request;
    Ok((profile, version))
}

/// A profile edit: the fields changed on `profile` (its department the one in force),
/// and the department the agent asks for, if the edit names one (`Some(None)`: none).
pub struct ProfileEdit<'a> {
    pub profile: &'a Profile,
    pub changes: &'a [FieldChange],
    pub department_wish: Option<Option<&'a str>>,
}

/// Stores an edit if the stored version is still `expected_version`, with one
/// change-log row a changed field, and opens, replaces or withdraws the agent's request
/// to change department, all in one transaction. Returns the version after it (the same
/// when nothing changed) and what became of the request.
pub async fn save_profile(
    db: &Db,
    actor_id: &str,
    edit: ProfileEdit<'_>,
    expected_version: i64,
    now: DateTime<Utc>,
) -> Result<(i64, crate::departments::RequestChange), AgentError> {
    use crate::departments::RequestChange;
    let ProfileEdit {
        profile,
        changes,
        department_wish,
    } = edit;
    let at = timestamp(now);
    let mut tx = crate::db::begin_write(db).await?;
    let request = match department_wish {
        Some(wish) => {
            crate::departments::ask(
                &mut tx,
                &profile.id,
                profile.department.as_deref(),
                wish,
                now,
            )
            .await?
        }
        None => RequestChange::None,
    };
    if changes.is_empty() {
        if request == RequestChange::None {
            return Ok((expected_version, request));
        }
        // Only the request changed: the profile as read is no longer current.
        let bumped = crate::storage::query(
            "UPDATE agents SET version = version + 1 WHERE id = $1 AND version = $2",
        )
        .bind(&profile.id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
        if bumped.rows_affected() == 0 {
            return Err(AgentError::VersionConflict);
        }
        tx.commit().await?;
        return Ok((expected_version + 1, request));
    }
    let updated = bind_profile(
        crate::storage::query(format!(
            "UPDATE agents SET {PROFILE_SET}, version = version + 1 WHERE id = $18 AND version = $19"
        )),
        profile,
        &at,
    )
    .bind(&profile.id)
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(AgentError::VersionConflict);
    }
    for change in changes {
        record_change(
            &mut tx,
            &profile.id,
            actor_id,
            change.field.as_str(),
            &change.old,
            &change.new,
            &at,
        )
        .await?;
    }
    tx.commit().await?;
    Ok((expected_version + 1, request))
}

/// The columns an edit of the profile sets, `$1` to `$17`, as [`bind_profile`] binds them.
pub(crate) const PROFILE_SET: &str = "display_name = $1, job_title = $2, department = $3,
    phone = $4, mobile = $5, office_location = $6, timezone = $7, language = $8,
    signature = $9, use_signature = $10, operator_id = $11, updated_at = $12, visibility = $13,
    allow_direct_messages = $14, show_phone = $15, show_online_status = $16,
    calendar_integration = $17";

/// Binds the profile's editable columns and the time of the edit, `$1` to `$17` of
/// [`PROFILE_SET`].
pub(crate) fn bind_profile(
    query: crate::storage::Query,
    profile: &Profile,
    at: &str,
) -> crate::storage::Query {
    query
        .bind(&profile.display_name)
        .bind(&profile.job_title)
        .bind(&profile.department)
        .bind(&profile.phone)
        .bind(&profile.mobile)
        .bind(&profile.office_location)
        .bind(&profile.timezone)
        .bind(&profile.language)
        .bind(&profile.signature)
        .bind(profile.use_signature)
        .bind(&profile.operator_id)
        .bind(at)
        .bind(profile.visibility.as_str())
        .bind(profile.contact_prefs.allow_direct_messages)
        .bind(profile.contact_prefs.show_phone)
        .bind(profile.contact_prefs.show_online_status)
        .bind(profile.contact_prefs.calendar_integration)
}

/// Sets an agent's status, "until" a time or not, with a change-log row. Not a profile
/// edit: the profile's version stays, so a status switch never makes an open profile
/// form stale. Returns whether anything changed.
pub async fn set_status(
    db: &Db,
    actor_id: &str,
    agent_id: &str,
    status: Status,
    until: Option<DateTime<Utc>>,
    cause: StatusCause,
    now: DateTime<Utc>,
) -> Result<bool, AgentError> {
    let mut tx = crate::db::begin_write(db).await?;
    // The agent, idle detection, the clock and a closing stream may change it at once:
    // each reads the status the one before it wrote.
    tx.lock("agents", agent_id).await?;
    let stored = crate::storage::query_as::<(String, Option<String>)>(
        "SELECT status, status_until FROM agents WHERE id = $1",
    )
    .bind(agent_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AgentError::NotFound)?;
    let (old_status, old_until) = Status::in_force(
        Status::parse(&stored.0).unwrap_or_default(),
        stored.1.as_deref().map(parse_timestamp),
        now,
    );
    if old_status == status && old_until == until {
        return Ok(false);
    }
    crate::status::queue_webhook(&mut tx, agent_id, status, until, cause, now).await?;
    let until_text = until.map(timestamp);
    // A spell goes on while the status in force stays (a lapsed "Away until" is over).
    crate::storage::query(
        "UPDATE agents SET status = $1, status_until = $2,
             status_since = CASE WHEN $5 = $1 AND status_since IS NOT NULL
                                 THEN status_since ELSE $4 END
         WHERE id = $3",
    )
    .bind(status.as_str())
    .bind(&until_text)
    .bind(agent_id)
    .bind(timestamp(now))
    .bind(old_status.as_str())
    .execute(&mut *tx)
    .await?;
    let describe = |status: Status, until: &Option<String>| match until {
        Some(until) => format!("{} until {until}", status.as_str()),
        None => status.as_str().to_owned(),
    };
    record_change(
        &mut tx,
        agent_id,
        actor_id,
        ProfileField::Status.as_str(),
        &Some(describe(old_status, &old_until.map(timestamp))),
        &Some(describe(status, &until_text)),
        &timestamp(now),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Agents whose status was set until a time now past: each is made available, as a
/// change of its own (recorded, and posted to the status webhook). Returns their ids.
pub async fn expire_statuses(db: &Db, now: DateTime<Utc>) -> Result<Vec<String>, AgentError> {
    let mut tx = crate::db::begin_write(db).await?;
    let lapsed = crate::storage::query_as::<(String, String, String)>(
        "SELECT id, status, status_until FROM agents
         WHERE status_until IS NOT NULL AND status_until <= $1 ORDER BY status_until",
    )
    .bind(timestamp(now))
    .fetch_all(&mut *tx)
    .await?;
    let mut expired = Vec::with_capacity(lapsed.len());
    for (agent_id, status, until) in lapsed {
        // Only if it is still that status: another writer (the agent, another server)
        // may have changed it since it was read.
        let updated = crate::storage::query(
            "UPDATE agents SET status = $1, status_until = NULL, status_since = $2
             WHERE id = $3 AND status = $4 AND status_until = $2",
        )
        .bind(Status::Available.as_str())
        .bind(&until)
        .bind(&agent_id)
        .bind(&status)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            continue;
        }
        record_change(
            &mut tx,
            &agent_id,
            &agent_id,
            ProfileField::Status.as_str(),
            &Some(format!("{status} until {until}")),
            &Some(Status::Available.as_str().to_owned()),
            &timestamp(now),
        )
        .await?;
        let at = parse_timestamp(&until);
        crate::status::queue_webhook(
            &mut tx,
            &agent_id,
            Status::Available,
            None,
            StatusCause::Expiry,
            at,
        )
        .await?;
        expired.push(agent_id);
    }
    tx.commit().await?;
    Ok(expired)
}

/// One change-log row, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ChangeLogEntry {
    pub actor_id: String,
    pub changed_at: String,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

pub async fn change_log(db: &Db, subject_id: &str) -> Result<Vec<ChangeLogEntry>, sqlx::Error> {
    crate::storage::query_as::<ChangeLogEntry>(
        "SELECT actor_id, changed_at, field, old_value, new_value FROM change_log
         WHERE subject_id = $1 ORDER BY changed_at, field",
    )
    .bind(subject_id)
    .fetch_all(db)
    .await
}

/// The session a bearer token belongs to: (session id, agent id, admin).
/// Sessions end after this long without use…
pub const SESSION_IDLE_LIMIT: chrono::Duration = chrono::Duration::days(14);
/// …and after this long in any case, so a lost device does not stay signed in forever.
pub const SESSION_LIFETIME: chrono::Duration = chrono::Duration::days(30);
/// `last_seen_at` is written at most this often, not on every request.
const LAST_SEEN_RESOLUTION: chrono::Duration = chrono::Duration::minutes(1);

/// What a bearer token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSession {
    /// A live session: its id, the agent's, and whether they are an administrator.
    Live {
        session_id: String,
        agent_id: String,
        is_admin: bool,
    },
    /// The session had lived its time (idle limit or lifetime) and is now deleted.
    Expired {
        session_id: String,
        agent_id: String,
    },
    Unknown,
}

/// The session behind a token. A session past its time is deleted on the way.
pub async fn session_by_token(
    db: &Db,
    token: &str,
    now: DateTime<Utc>,
) -> Result<TokenSession, sqlx::Error> {
    let found = crate::storage::query_as::<(String, String, bool, String, String)>(
        "SELECT sessions.id, agents.id, agents.is_admin, sessions.created_at, sessions.last_seen_at
         FROM sessions JOIN agents ON agents.id = sessions.agent_id
         WHERE sessions.token_hash = $1 AND agents.active",
    )
    .bind(credentials::token_hash(token))
    .fetch_optional(db)
    .await?;
    let Some((session_id, agent_id, is_admin, created_at, last_seen_at)) = found else {
        return Ok(TokenSession::Unknown);
    };
    let last_seen = parse_timestamp(&last_seen_at);
    if now - last_seen > SESSION_IDLE_LIMIT || now - parse_timestamp(&created_at) > SESSION_LIFETIME
    {
        delete_session(db, &session_id).await?;
        return Ok(TokenSession::Expired {
            session_id,
            agent_id,
        });
    }
    if now - last_seen >= LAST_SEEN_RESOLUTION {
        crate::storage::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(timestamp(now))
            .bind(&session_id)
            .execute(db)
            .await?;
    }
    Ok(TokenSession::Live {
        session_id,
        agent_id,
        is_admin,
    })
}

/// When a session ends if nothing uses it meanwhile: 14 days after its last use or 30
/// after it began, whichever is first. None when there is no such session.
pub async fn session_ends_at(
    db: &Db,
    session_id: &str,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let found = crate::storage::query_as::<(String, String)>(
        "SELECT created_at, last_seen_at FROM sessions WHERE id = $1",
    )
    .bind(session_id)
    .fetch_optional(db)
    .await?;
    Ok(found.map(|(created_at, last_seen_at)| {
        (parse_timestamp(&last_seen_at) + SESSION_IDLE_LIMIT)
            .min(parse_timestamp(&created_at) + SESSION_LIFETIME)
    }))
}

pub struct NewSession<'a> {
    pub agent_id: &'a str,
    pub client_name: Option<&'a str>,
    pub client_version: Option<&'a str>,
    pub ip_address: Option<String>,
}

/// Opens a session and returns its bearer token (the only time it exists in clear);
/// None when the agent is not active. The check and the insert are one statement: an
/// agent deactivated while signing in gets no session that outlives the deactivation.
pub async fn create_session(
    db: &Db,
    new: NewSession<'_>,
    now: DateTime<Utc>,
) -> Result<Option<String>, sqlx::Error> {
    let token = credentials::new_token();
    let at = timestamp(now);
    let clip = |text: Option<&str>| text.map(|t| t.chars().take(100).collect::<String>());
    // On PostgreSQL the agent's row is share-locked: a deactivation under way (which
    // updates it, then deletes the sessions) is waited for and its result read.
    let lock = match db.dialect() {
        crate::storage::Dialect::Sqlite => "",
        crate::storage::Dialect::Postgres => " FOR SHARE",
    };
    let created = crate::storage::query(format!(
        "INSERT INTO sessions (id, agent_id, token_hash, created_at, last_seen_at, client_name, client_version, ip_address)
         SELECT $1, id, $3, $4, $4, $5, $6, $7 FROM agents WHERE id = $2 AND active{lock}"
    ))
    .bind(Uuid::new_v4().to_string())
    .bind(new.agent_id)
    .bind(credentials::token_hash(&token))
    .bind(&at)
    .bind(clip(new.client_name))
    .bind(clip(new.client_version))
    .bind(new.ip_address)
    .execute(db)
    .await?;
    Ok((created.rows_affected() == 1).then_some(token))
}

pub async fn delete_session(db: &Db, session_id: &str) -> Result<(), sqlx::Error> {
    crate::storage::query("DELETE FROM sessions WHERE id = $1")
        .bind(session_id)
        .execute(db)
        .await?;
    Ok(())
}

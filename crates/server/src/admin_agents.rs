//! Agents as administrators manage them: the list, a new agent with a welcome link,
//! changes only administrators make (the sign-in address, the department, who is an
//! administrator), and deactivating an agent who leaves without losing their history.

use std::collections::{BTreeSet, HashMap};

use agent_desk_core::admin::{
    AdministeredAgent, AdministeredAgentPatch, AgentActivity, AgentList, AgentSummary,
};
use agent_desk_core::profile::FieldChange;
use agent_desk_core::{validation, EmailAddress, FieldError, ProfileField, ProfilePatch};
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use crate::agents::{
    bind_profile, is_plausible_email, normalise_email, AgentError, AgentRow, PROFILE_COLUMNS,
    PROFILE_SET,
};
use crate::change_log::record_change;
use crate::clock::{parse_timestamp, timestamp};
use crate::credentials;
use crate::db::Db;

/// The name every change to who is an active administrator locks: two administrators
/// demoting each other at once take turns, and the second finds the first's change.
const ADMINISTRATORS_LOCK: &str = "administrators";

#[derive(Debug, thiserror::Error)]
pub enum AdminAgentError {
    #[error("no such agent")]
    NotFound,
    #[error("validation failed")]
    Invalid(Vec<FieldError>),
    #[error("another agent already signs in with or has the address {0}")]
    EmailTaken(String),
    #[error("{0} is the last active administrator: make another agent an administrator first")]
    LastAdministrator(String),
    #[error("the agent was changed since it was read")]
    VersionConflict,
    #[error("an administrator cannot deactivate themselves")]
    DeactivatingSelf,
    #[error("only an administrator can do this")]
    NoLongerAdministrator,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Hashing(#[from] credentials::HashingError),
}

impl From<AgentError> for AdminAgentError {
    fn from(error: AgentError) -> Self {
        match error {
            AgentError::NotFound => Self::NotFound,
            AgentError::VersionConflict => Self::VersionConflict,
            AgentError::Database(error) => Self::Database(error),
            AgentError::Hashing(error) => Self::Hashing(error),
            other => Self::Database(sqlx::Error::Protocol(other.to_string())),
        }
    }
}

/// A unique address taken, or another database error.
fn taken_or(error: sqlx::Error, email: &str) -> AdminAgentError {
    if crate::storage::is_unique_violation(&error) {
        AdminAgentError::EmailTaken(email.to_owned())
    } else {
        error.into()
    }
}

/// What the list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Lower-case words that must each be in the name or the email.
    pub words: Vec<String>,
    pub activity: AgentActivity,
    pub department: Option<String>,
    pub team: Option<String>,
    pub is_admin: Option<bool>,
    pub limit: u32,
    pub offset: u32,
}

#[derive(FromRow)]
struct AdministeredRow {
    #[sqlx(flatten)]
    agent: AgentRow,
    deactivated_at: Option<String>,
    last_sign_in_at: Option<String>,
}

fn administered_columns() -> String {
    format!("{PROFILE_COLUMNS}, deactivated_at, last_sign_in_at")
}

/// Each agent's teams, as (team id, name) by name; one agent's, or everyone's.
async fn teams_by_agent(
    db: &Db,
    agent_id: Option<&str>,
) -> Result<HashMap<String, Vec<(String, String)>>, sqlx::Error> {
    let rows = crate::storage::query_as::<(String, String, String)>(
        "SELECT m.agent_id, t.id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id
         WHERE $1 IS NULL OR m.agent_id = $1 ORDER BY t.name",
    )
    .bind(agent_id)
    .fetch_all(db)
    .await?;
    let mut teams: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (agent, id, name) in rows {
        teams.entry(agent).or_default().push((id, name));
    }
    Ok(teams)
}

/// A page of agents by name, with what the screen counts.
pub async fn list(db: &Db, filter: &Filter) -> Result<AgentList, AdminAgentError> {
    let rows = crate::storage::query_as::<AdministeredRow>(&format!(
        "SELECT {} FROM agents",
        administered_columns()
    ))
    .fetch_all(db)
    .await?;
    let mut teams = teams_by_agent(db, None).await?;
    let pending = crate::storage::query_scalar::<i64>(
        "SELECT COUNT(*) FROM department_requests WHERE state = 'open'",
    )
    .fetch_one(db)
    .await?;
    let now = Utc::now();
    let mut departments = BTreeSet::new();
    let mut matching = Vec::new();
    for row in rows {
        let active = row.agent.is_active();
        let (profile, _) = row.agent.into_profile(Vec::new(), now);
        if let Some(department) = &profile.department {
            departments.insert(department.clone());
        }
        let agent_teams = teams.remove(&profile.id).unwrap_or_default();
        let wanted = match filter.activity {
            AgentActivity::Active => active,
            AgentActivity::Deactivated => !active,
            AgentActivity::All => true,
        } && filter
            .department
            .as_ref()
            .is_none_or(|department| profile.department.as_ref() == Some(department))
            && filter
                .team
                .as_ref()
                .is_none_or(|team| agent_teams.iter().any(|(id, _)| id == team))
            && filter
                .is_admin
                .is_none_or(|admin| profile.is_admin == admin)
            && filter.words.iter().all(|word| {
                profile.display_name.to_lowercase().contains(word)
                    || profile.email.to_lowercase().contains(word)
            });
        if !wanted {
            continue;
        }
        matching.push(AgentSummary {
            id: profile.id,
            display_name: profile.display_name,
            email: profile.email,
            department: profile.department,
            job_title: profile.job_title,
            teams: agent_teams.into_iter().map(|(_, name)| name).collect(),
            status: profile.status,
            is_admin: profile.is_admin,
            active,
            last_sign_in_at: row.last_sign_in_at.as_deref().map(parse_timestamp),
            avatar_url: profile.avatar_url,
        });
    }
    matching.sort_by_cached_key(|agent| (agent.display_name.to_lowercase(), agent.id.clone()));
    let total = u32::try_from(matching.len()).unwrap_or(u32::MAX);
    let agents = matching
        .into_iter()
        .skip(filter.offset as usize)
        .take(filter.limit as usize)
        .collect();
    Ok(AgentList {
        agents,
        total,
        departments: departments.into_iter().collect(),
        pending_department_requests: u32::try_from(pending).unwrap_or(u32::MAX),
    })
}

/// One agent as administrators see them, with the profile's version.
pub async fn get(
    db: &Db,
    agent_id: &str,
    now: DateTime<Utc>,
) -> Result<(AdministeredAgent, i64), AdminAgentError> {
    let row = crate::storage::query_as::<AdministeredRow>(&format!(
        "SELECT {} FROM agents WHERE id = $1",
        administered_columns()
    ))
    .bind(agent_id)
    .fetch_optional(db)
    .await?
    .ok_or(AdminAgentError::NotFound)?;
    let emails = crate::storage::query_as::<(String, bool)>(
        "SELECT address, is_primary FROM agent_emails WHERE agent_id = $1
         ORDER BY is_primary DESC, address",
    )
    .bind(agent_id)
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|(address, primary)| EmailAddress { address, primary })
    .collect();
    let teams = teams_by_agent(db, Some(agent_id))
        .await?
        .remove(agent_id)
        .unwrap_or_default();
    let welcome_pending = crate::storage::query_scalar::<i64>(
        "SELECT COUNT(*) FROM password_resets
         WHERE agent_id = $1 AND purpose = 'welcome' AND used_at IS NULL AND expires_at > $2",
    )
    .bind(agent_id)
    .bind(timestamp(now))
    .fetch_one(db)
    .await?;
    let active = row.agent.is_active();
    let (mut profile, version) = row.agent.into_profile(emails, now);
    profile.department_request = crate::departments::pending(db, agent_id).await?;
    Ok((
        AdministeredAgent {
            profile,
            active,
            deactivated_at: row.deactivated_at.as_deref().map(parse_timestamp),
            last_sign_in_at: row.last_sign_in_at.as_deref().map(parse_timestamp),
            teams: teams.into_iter().map(|(_, name)| name).collect(),
            welcome_pending: welcome_pending > 0,
        },
        version,
    ))
}

/// A sign-in address as typed: normalised, or refused as the `email` field. It must be
/// one the mailer takes too, or the agent's links could never be sent.
pub fn sign_in_address(typed: &str) -> Result<String, FieldError> {
    let email = normalise_email(typed);
    if is_plausible_email(&email) && email.parse::<lettre::Address>().is_ok() {
        Ok(email)
    } else {
        Err(FieldError::invalid_email())
    }
}

/// Refuses unless `actor_id` is still an active administrator, read under the
/// administrators' lock: one demoted while their request was on its way changes nothing.
async fn still_administrator(
    tx: &mut crate::storage::Conn,
    actor_id: &str,
) -> Result<(), AdminAgentError> {
    tx.lock_name(ADMINISTRATORS_LOCK).await?;
    let admin = crate::storage::query_scalar::<i64>(
        "SELECT COUNT(*) FROM agents WHERE id = $1 AND is_admin AND active",
    )
    .bind(actor_id)
    .fetch_one(&mut **tx)
    .await?;
    if admin == 0 {
        return Err(AdminAgentError::NoLongerAdministrator);
    }
    Ok(())
}

/// A new agent: who they are, checked, and who makes them.
pub struct NewAgent<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub department: Option<&'a str>,
    pub is_admin: bool,
    pub created_by: &'a str,
}

/// Makes an agent with no password they know (a welcome link lets them choose one), in
/// the department given; the change log of the new agent says who made them. Returns
/// their id.
pub async fn create(
    db: &Db,
    new: NewAgent<'_>,
    now: DateTime<Utc>,
) -> Result<String, AdminAgentError> {
    let mut errors = Vec::new();
    let email = sign_in_address(new.email).map_err(|e| errors.push(e)).ok();
    let checked = validation::validate_patch(&ProfilePatch {
        display_name: Some(new.display_name.to_owned()),
        department: new.department.map(str::to_owned),
        ..ProfilePatch::default()
    });
    let (display_name, department) = match checked {
        Ok(patch) => (
            patch.display_name.unwrap_or_default(),
            patch.department.filter(|department| !department.is_empty()),
        ),
        Err(mut refused) => {
            errors.append(&mut refused);
            (String::new(), None)
        }
    };
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(AdminAgentError::Invalid(errors));
    };
    // A password nobody knows, so the account cannot be signed in to before the agent
    // chooses theirs through the welcome link.
    let unknowable = credentials::hash_password_queued(&credentials::new_token()).await?;

    let id = Uuid::new_v4().to_string();
    let at = timestamp(now);
    let mut tx = crate::db::begin_write(db).await?;
    if new.is_admin {
        still_administrator(&mut tx, new.created_by).await?;
    }
    crate::storage::query(
        "INSERT INTO agents (id, email, password_hash, is_admin, display_name, department,
                             language, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&id)
    .bind(&email)
    .bind(&unknowable)
    .bind(new.is_admin)
    .bind(&display_name)
    .bind(&department)
    .bind(agent_desk_core::locale::DEFAULT_LANGUAGE)
    .bind(&at)
    .execute(&mut *tx)
    .await
    .map_err(|error| taken_or(error, &email))?;
    crate::storage::query(
        "INSERT INTO agent_emails (agent_id, address, is_primary) VALUES ($1, $2, TRUE)",
    )
    .bind(&id)
    .bind(&email)
    .execute(&mut *tx)
    .await
    .map_err(|error| taken_or(error, &email))?;
    crate::events::start_feed(&mut tx, &id).await?;
    let created = [
        (ProfileField::Email.as_str(), Some(email.clone())),
        (ProfileField::DisplayName.as_str(), Some(display_name)),
        (ProfileField::Department.as_str(), department),
        ("is_admin", Some(new.is_admin.to_string())),
    ];
    for (field, value) in created.iter().filter(|(_, value)| value.is_some()) {
        record_change(&mut tx, &id, new.created_by, field, &None, value, &at).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// What an administrator's change did, for the caller to tell whoever it concerns.
#[derive(Debug, Default)]
pub struct Changed {
    /// The version after the change (the same when nothing changed).
    pub version: i64,
    /// The fields that changed, by their change-log names.
    pub fields: Vec<String>,
    /// The sessions a deactivation ended.
    pub ended_sessions: Vec<String>,
    /// The sign-in address changed while a welcome link waited unused: that link is gone,
    /// and the new address should get one.
    pub welcome_again: bool,
}

/// Applies an administrator's patch if the agent is still at `expected_version`: the
/// profile fields, the sign-in address (unique among every agent's addresses), the
/// department (at once), who is an administrator and who may sign in, with one
/// change-log row a field, in one transaction. Never leaves no active administrator.
pub async fn update(
    db: &Db,
    actor_id: &str,
    agent_id: &str,
    patch: &AdministeredAgentPatch,
    expected_version: i64,
    now: DateTime<Utc>,
) -> Result<Changed, AdminAgentError> {
    let mut errors = Vec::new();
    let email = match patch.profile.email.as_deref().map(sign_in_address) {
        Some(Ok(email)) => Some(email),
        Some(Err(error)) => {
            errors.push(error);
            None
        }
        None => None,
    };
    // The email is checked above: the profile's own rules take it as read-only.
    let without_email = ProfilePatch {
        email: None,
        ..patch.profile.clone()
    };
    let profile_patch = match agent_desk_checks::validate_patch(&without_email) {
        Ok(normalised) => Some(normalised),
        Err(mut refused) => {
            errors.append(&mut refused);
            None
        }
    };
    let Some(profile_patch) = profile_patch.filter(|_| errors.is_empty()) else {
        return Err(AdminAgentError::Invalid(errors));
    };
    if patch.active == Some(false) && agent_id == actor_id {
        return Err(AdminAgentError::DeactivatingSelf);
    }

    let (current, version) = get(db, agent_id, now).await?;
    if version != expected_version {
        return Err(AdminAgentError::VersionConflict);
    }
    let mut profile = current.profile.clone();
    let mut changes: Vec<FieldChange> = profile_patch.apply_to(&mut profile);
    if let Some(email) = email.filter(|email| *email != profile.email) {
        changes.push(FieldChange {
            field: ProfileField::Email,
            old: Some(profile.email.clone()),
            new: Some(email.clone()),
        });
        profile.email = email;
    }
    let mut flags: Vec<(&str, bool, bool)> = Vec::new();
    if let Some(is_admin) = patch
        .is_admin
        .filter(|&wanted| wanted != current.profile.is_admin)
    {
        flags.push(("is_admin", current.profile.is_admin, is_admin));
    }
    if let Some(active) = patch.active.filter(|&wanted| wanted != current.active) {
        flags.push(("active", current.active, active));
    }
    if changes.is_empty() && flags.is_empty() {
        return Ok(Changed {
            version,
            ..Changed::default()
        });
    }
    let is_admin = patch.is_admin.unwrap_or(current.profile.is_admin);
    let active = patch.active.unwrap_or(current.active);

    let at = timestamp(now);
    let mut tx = crate::db::begin_write(db).await?;
    if !flags.is_empty() {
        still_administrator(&mut tx, actor_id).await?;
    }
    let leaves_administrators = current.profile.is_admin && current.active && !(is_admin && active);
    if leaves_administrators {
        let others = crate::storage::query_scalar::<i64>(
            "SELECT COUNT(*) FROM agents WHERE is_admin AND active AND id <> $1",
        )
        .bind(agent_id)
        .fetch_one(&mut *tx)
        .await?;
        if others == 0 {
            return Err(AdminAgentError::LastAdministrator(
                current.profile.display_name,
            ));
        }
    }
    let deactivated_at = match (current.active, active) {
        (true, false) => Some(at.clone()),
        (_, true) => None,
        (false, false) => current.deactivated_at.map(timestamp),
    };
    let updated = bind_profile(
        crate::storage::query(format!(
            "UPDATE agents SET {PROFILE_SET}, email = $18, is_admin = $19, active = $20,
                    deactivated_at = $21, version = version + 1
             WHERE id = $22 AND version = $23"
        )),
        &profile,
        &at,
    )
    .bind(&profile.email)
    .bind(is_admin)
    .bind(active)
    .bind(&deactivated_at)
    .bind(agent_id)
    .bind(expected_version)
    .execute(&mut *tx)
    .await
    .map_err(|error| taken_or(error, &profile.email))?;
    if updated.rows_affected() == 0 {
        return Err(AdminAgentError::VersionConflict);
    }
    if profile.email != current.profile.email {
        // The new address replaces the old as the primary one; if it was already one of
        // the agent's other addresses, that row goes.
        crate::storage::query(
            "DELETE FROM agent_emails WHERE agent_id = $1 AND address = $2 AND NOT is_primary",
        )
        .bind(agent_id)
        .bind(&profile.email)
        .execute(&mut *tx)
        .await?;
        crate::storage::query(
            "UPDATE agent_emails SET address = $1 WHERE agent_id = $2 AND is_primary",
        )
        .bind(&profile.email)
        .bind(agent_id)
        .execute(&mut *tx)
        .await
        .map_err(|error| taken_or(error, &profile.email))?;
    }
    // A link mailed to the old address must not set the password of the account.
    let welcome_again = profile.email != current.profile.email && current.welcome_pending && active;
    if profile.email != current.profile.email {
        crate::storage::query("DELETE FROM password_resets WHERE agent_id = $1")
            .bind(agent_id)
            .execute(&mut *tx)
            .await?;
    }
    // The department an administrator sets, or a deactivation, ends a request to move.
    if profile.department != current.profile.department || !active {
        crate::departments::withdraw_by(&mut tx, agent_id, actor_id, now).await?;
    }
    let mut ended_sessions: Vec<String> = Vec::new();
    if current.active && !active {
        ended_sessions =
            crate::storage::query_scalar("DELETE FROM sessions WHERE agent_id = $1 RETURNING id")
                .bind(agent_id)
                .fetch_all(&mut *tx)
                .await?;
        // A link mailed before must not let them back in.
        crate::storage::query("DELETE FROM password_resets WHERE agent_id = $1")
            .bind(agent_id)
            .execute(&mut *tx)
            .await?;
    }
    let mut fields = Vec::new();
    for change in &changes {
        record_change(
            &mut tx,
            agent_id,
            actor_id,
            change.field.as_str(),
            &change.old,
            &change.new,
            &at,
        )
        .await?;
        fields.push(change.field.as_str().to_owned());
    }
    for (field, old, new) in flags {
        record_change(
            &mut tx,
            agent_id,
            actor_id,
            field,
            &Some(old.to_string()),
            &Some(new.to_string()),
            &at,
        )
        .await?;
        fields.push(field.to_owned());
    }
    tx.commit().await?;
    Ok(Changed {
        version: expected_version + 1,
        fields,
        ended_sessions,
        welcome_again,
    })
}

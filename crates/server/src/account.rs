//! Account security: changing and resetting the password, the agent's sessions and the
//! record of sign-in attempts.

use std::sync::LazyLock;

use agent_desk_core::account::{SessionInfo, SessionList, SessionsEnded, SignInAttempt};
use agent_desk_core::password::{check_rules, PasswordRule};
use agent_desk_core::PASSWORD_RESET_VALID_MINUTES;
use chrono::{DateTime, Duration, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use crate::agents::normalise_email;
use crate::clock::{parse_timestamp, timestamp};
use crate::credentials;
use crate::db::Db;
use crate::mail::{Mail, Mailer};
use crate::workers::WorkerPool;

/// How many sign-in attempts the session list shows.
const RECENT_SIGN_INS: i64 = 10;
/// How long sign-in attempts are kept: they hold what people typed as their address.
pub const SIGN_IN_RETENTION: Duration = Duration::days(90);

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("the new password {}", .0.message())]
    Policy(PasswordRule),
    #[error("this reset link is not valid")]
    ResetTokenInvalid,
    #[error("this reset link was already used or has expired; ask for a new one")]
    ResetTokenSpent,
    #[error("no such agent")]
    NotFound,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Hashing(#[from] crate::credentials::HashingError),
}

/// What the rules need to know of the agent.
#[derive(FromRow)]
struct Credentials {
    email: String,
    display_name: String,
    password_hash: String,
}

async fn credentials_of(db: &Db, agent_id: &str) -> Result<Credentials, AccountError> {
    crate::storage::query_as::<Credentials>(
        "SELECT email, display_name, password_hash FROM agents WHERE id = $1",
    )
    .bind(agent_id)
    .fetch_optional(db)
    .await?
    .ok_or(AccountError::NotFound)
}

/// Strength estimates run on one thread of their own, a few waiting at most: a long, varied
/// password takes the estimator up to half a second, and no flood of them (passwords typed,
/// changed or reset) may take more than that one core from the rest of the server. More
/// waiting than the queue holds are answered 429.
static ESTIMATOR: LazyLock<WorkerPool> =
    LazyLock::new(|| WorkerPool::new("password-strength", 1, ESTIMATES_WAITING));
const ESTIMATES_WAITING: usize = 16;

/// How guessable `password` is for this agent: zxcvbn's score, with their email and name
/// counted as words a guesser tries first.
pub async fn strength(db: &Db, agent_id: &str, password: &str) -> Result<u8, AccountError> {
    let agent = credentials_of(db, agent_id).await?;
    estimate(password, &agent).await
}

async fn estimate(password: &str, agent: &Credentials) -> Result<u8, AccountError> {
    let personal = [agent.email.clone(), agent.display_name.clone()];
    let password = password.to_owned();
    ESTIMATOR
        .run(move || agent_desk_checks::strength(&password, &[&personal[0], &personal[1]]))
        .await
        .map_err(|error| AccountError::Hashing(error.into()))
}

/// Applies the policy; `current` is compared when the caller knows it.
async fn enforce_policy(
    candidate: &str,
    current: Option<&str>,
    agent: &Credentials,
) -> Result<(), AccountError> {
    let check = check_rules(candidate, current, estimate(candidate, agent).await?);
    match check.first_failure() {
        Some(rule) => Err(AccountError::Policy(rule)),
        None => Ok(()),
    }
}

async fn verify(password: &str, hash: &str) -> Result<bool, AccountError> {
    credentials::verify_password_queued(password, hash)
        .await
        .map_err(AccountError::Hashing)
}

async fn hash(password: &str) -> Result<String, AccountError> {
    credentials::hash_password_queued(password)
        .await
        .map_err(AccountError::Hashing)
}

/// Checks the current password, then replaces it. Every other session of the agent is
/// signed out unless `keep_other_sessions`; outstanding reset links stop working.
/// Answers the ids of the sessions it ended.
pub async fn change_password(
    db: &Db,
    agent_id: &str,
    current_session: &str,
    current_password: &str,
    new_password: &str,
    keep_other_sessions: bool,
) -> Result<Vec<String>, AccountError> {
    let agent = credentials_of(db, agent_id).await?;
    // The policy first: it costs no hashing and tells a caller nothing about the password.
    enforce_policy(new_password, Some(current_password), &agent).await?;
    if !verify(current_password, &agent.password_hash).await? {
        return Err(AccountError::WrongPassword);
    }
    let new_hash = hash(new_password).await?;
    let mut tx = crate::db::begin_write(db).await?;
    crate::storage::query("UPDATE agents SET password_hash = $1 WHERE id = $2")
        .bind(&new_hash)
        .bind(agent_id)
        .execute(&mut *tx)
        .await?;
    crate::storage::query("DELETE FROM password_resets WHERE agent_id = $1")
        .bind(agent_id)
        .execute(&mut *tx)
        .await?;
    let ended = if keep_other_sessions {
        Vec::new()
    } else {
        crate::storage::query_scalar(
            "DELETE FROM sessions WHERE agent_id = $1 AND id <> $2 RETURNING id",
        )
        .bind(agent_id)
        .bind(current_session)
        .fetch_all(&mut *tx)
        .await?
    };
    tx.commit().await?;
    Ok(ended)
}

/// What an ended set of sessions is answered as.
pub fn sessions_ended(ended: &[String]) -> SessionsEnded {
    SessionsEnded {
        signed_out_sessions: u32::try_from(ended.len()).unwrap_or(u32::MAX),
    }
}

/// Where a reset request came from, for the mail.
pub struct ResetOrigin<'a> {
    pub ip_address: Option<&'a str>,
    /// The server's public base URL; the link is built on it, never on the request's Host.
    pub public_url: &'a str,
}

/// Sends a reset link when `email` belongs to an agent and does nothing otherwise. The
/// caller answers the same either way, before this finishes.
pub async fn send_reset_link(
    db: &Db,
    mailer: &Mailer,
    email: &str,
    origin: ResetOrigin<'_>,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let found = crate::storage::query_as::<(String, String, String)>(
        "SELECT id, email, display_name FROM agents WHERE email = $1",
    )
    .bind(normalise_email(email))
    .fetch_optional(db)
    .await?;
    let Some((agent_id, address, display_name)) = found else {
        return Ok(());
    };
    let token = credentials::new_token();
    let expires = now + Duration::minutes(i64::from(PASSWORD_RESET_VALID_MINUTES));
    let mut tx = crate::db::begin_write(db).await?;
    // Only the newest link works: requests made at once take their turn here.
    tx.lock("agents", &agent_id).await?;
    crate::storage::query("DELETE FROM password_resets WHERE agent_id = $1")
        .bind(&agent_id)
        .execute(&mut *tx)
        .await?;
    crate::storage::query(
        "INSERT INTO password_resets (token_hash, agent_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(credentials::token_hash(&token))
    .bind(&agent_id)
    .bind(timestamp(now))
    .bind(timestamp(expires))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;

    let link = format!(
        "{}/reset?token={token}",
        origin.public_url.trim_end_matches('/')
    );
    let from = origin
        .ip_address
        .map(|ip| format!(" from the address {ip}"))
        .unwrap_or_default();
    let body = format!(
        "Hello {display_name},\n\n\
         someone, hopefully you, asked{from} on {when} UTC to reset the password of the\n\
         Agent Desk account {address}.\n\n\
         To choose a new password, open this link:\n\n{link}\n\n\
         The link works once, for {PASSWORD_RESET_VALID_MINUTES} minutes. Choosing a new password signs\n\
         out every session of the account.\n\n\
         If you did not ask for this, ignore this mail: your password stays as it is.\n",
        when = now.format("%Y-%m-%d %H:%M"),
    );
    if let Err(error) = mailer
        .send(Mail {
            to: &address,
            subject: "Reset your Agent Desk password",
            body,
        })
        .await
    {
        tracing::error!(%error, "could not send a password-reset mail");
    }
    Ok(())
}

/// What a reset token is worth, without using it.
#[derive(Debug, PartialEq, Eq)]
pub enum ResetToken {
    Usable { agent_id: String },
    Spent,
    Unknown,
}

/// True for text that could be a token this server made (URL-safe base64 of 32 bytes);
/// anything else is refused without a database lookup.
pub fn is_token_shaped(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub async fn reset_token(
    db: &Db,
    token: &str,
    now: DateTime<Utc>,
) -> Result<ResetToken, AccountError> {
    if !is_token_shaped(token) {
        return Ok(ResetToken::Unknown);
    }
    let found = crate::storage::query_as::<(String, String, Option<String>)>(
        "SELECT agent_id, expires_at, used_at FROM password_resets WHERE token_hash = $1",
    )
    .bind(credentials::token_hash(token))
    .fetch_optional(db)
    .await?;
    Ok(match found {
        None => ResetToken::Unknown,
        Some((_, expires_at, used_at))
            if used_at.is_some() || parse_timestamp(&expires_at) <= now =>
        {
            ResetToken::Spent
        }
        Some((agent_id, _, _)) => ResetToken::Usable { agent_id },
    })
}

/// Sets a new password with a reset token, which then stops working, and signs out
/// every session of the agent.
pub async fn reset_password(
    db: &Db,
    token: &str,
    new_password: &str,
    now: DateTime<Utc>,
) -> Result<EndedByReset, AccountError> {
    let agent_id = match reset_token(db, token, now).await? {
        ResetToken::Usable { agent_id } => agent_id,
        ResetToken::Spent => return Err(AccountError::ResetTokenSpent),
        ResetToken::Unknown => return Err(AccountError::ResetTokenInvalid),
    };
    let agent = credentials_of(db, &agent_id).await?;
    enforce_policy(new_password, None, &agent).await?;
    if verify(new_password, &agent.password_hash).await? {
        return Err(AccountError::Policy(PasswordRule::NotCurrent));
    }
    let new_hash = hash(new_password).await?;
    let mut tx = crate::db::begin_write(db).await?;
    // Spends the token only if nobody spent it meanwhile.
    let spent = crate::storage::query(
        "UPDATE password_resets SET used_at = $1
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(timestamp(now))
    .bind(credentials::token_hash(token))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if spent != 1 {
        return Err(AccountError::ResetTokenSpent);
    }
    crate::storage::query("UPDATE agents SET password_hash = $1 WHERE id = $2")
        .bind(&new_hash)
        .bind(&agent_id)
        .execute(&mut *tx)
        .await?;
    let sessions =
        crate::storage::query_scalar("DELETE FROM sessions WHERE agent_id = $1 RETURNING id")
            .bind(&agent_id)
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(EndedByReset { agent_id, sessions })
}

/// A reset's agent and the sessions it ended (all of theirs).
pub struct EndedByReset {
    pub agent_id: String,
    pub sessions: Vec<String>,
}

pub struct AttemptRecord<'a> {
    pub agent_id: Option<&'a str>,
    pub email: &'a str,
    pub succeeded: bool,
    pub client_name: Option<&'a str>,
    pub ip_address: Option<&'a str>,
}

pub async fn record_sign_in(
    db: &Db,
    attempt: AttemptRecord<'_>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let clip = |text: &str, max: usize| text.chars().take(max).collect::<String>();
    crate::storage::query(
        "INSERT INTO sign_in_attempts (id, agent_id, email, succeeded, attempted_at, client_name, ip_address)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(attempt.agent_id)
    .bind(clip(&normalise_email(attempt.email), 254))
    .bind(attempt.succeeded)
    .bind(timestamp(now))
    .bind(attempt.client_name.map(|name| clip(name, 100)))
    .bind(attempt.ip_address)
    .execute(db)
    .await?;
    crate::storage::query("DELETE FROM sign_in_attempts WHERE attempted_at < $1")
        .bind(timestamp(now - SIGN_IN_RETENTION))
        .execute(db)
        .await?;
    Ok(())
}

#[derive(FromRow)]
struct SessionRow {
    id: String,
    created_at: String,
    last_seen_at: String,
    client_name: Option<String>,
    client_version: Option<String>,
    ip_address: Option<String>,
}

#[derive(FromRow)]
struct AttemptRow {
    attempted_at: String,
    succeeded: bool,
    client_name: Option<String>,
    ip_address: Option<String>,
}

pub async fn sessions(
    db: &Db,
    agent_id: &str,
    current_session: &str,
) -> Result<SessionList, sqlx::Error> {
    let sessions = crate::storage::query_as::<SessionRow>(
        "SELECT id, created_at, last_seen_at, client_name, client_version, ip_address
         FROM sessions WHERE agent_id = $1 ORDER BY last_seen_at DESC, created_at DESC",
    )
    .bind(agent_id)
    .fetch_all(db)
    .await?;
    let recent_sign_ins = sign_ins(db, agent_id, RECENT_SIGN_INS).await?;
    Ok(SessionList {
        sessions: sessions
            .into_iter()
            .map(|row| SessionInfo {
                current: row.id == current_session,
                id: row.id,
                created_at: parse_timestamp(&row.created_at),
                last_seen_at: parse_timestamp(&row.last_seen_at),
                client_name: row.client_name,
                client_version: row.client_version,
                ip_address: row.ip_address,
            })
            .collect(),
        recent_sign_ins,
    })
}

/// The agent's newest `limit` sign-in attempts, newest first.
pub async fn sign_ins(
    db: &Db,
    agent_id: &str,
    limit: i64,
) -> Result<Vec<SignInAttempt>, sqlx::Error> {
    let attempts = crate::storage::query_as::<AttemptRow>(
        "SELECT attempted_at, succeeded, client_name, ip_address FROM sign_in_attempts
         WHERE agent_id = $1 ORDER BY attempted_at DESC LIMIT $2",
    )
    .bind(agent_id)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(attempts
        .into_iter()
        .map(|row| SignInAttempt {
            at: parse_timestamp(&row.attempted_at),
            succeeded: row.succeeded,
            client_name: row.client_name,
            ip_address: row.ip_address,
        })
        .collect())
}

/// Ends one of the agent's own sessions; false when the agent has no such session.
pub async fn end_session(db: &Db, agent_id: &str, session_id: &str) -> Result<bool, sqlx::Error> {
    let ended = crate::storage::query("DELETE FROM sessions WHERE id = $1 AND agent_id = $2")
        .bind(session_id)
        .bind(agent_id)
        .execute(db)
        .await?
        .rows_affected();
    Ok(ended == 1)
}

/// Ends every session of the agent but `current_session`; answers the ids it ended.
pub async fn end_other_sessions(
    db: &Db,
    agent_id: &str,
    current_session: &str,
) -> Result<Vec<String>, sqlx::Error> {
    crate::storage::query_scalar(
        "DELETE FROM sessions WHERE agent_id = $1 AND id <> $2 RETURNING id",
    )
    .bind(agent_id)
    .bind(current_session)
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_token_shaped_text_reaches_the_database() {
        assert!(is_token_shaped(&credentials::new_token()));
        assert!(!is_token_shaped(""));
        assert!(!is_token_shaped("' OR 1=1 --"));
        assert!(!is_token_shaped(&"a".repeat(44)));
        assert!(!is_token_shaped(&"é".repeat(20)));
    }
}

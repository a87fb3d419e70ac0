//! Account security: changing and resetting the password, the agent's sessions and the
//! record of sign-in attempts.

use std::sync::LazyLock;

use agent_desk_core::account::{SessionInfo, SessionList, SessionsEnded, SignInAttempt};
use agent_desk_core::admin::WELCOME_LINK_VALID_DAYS;
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
    #[error("the mail could not be sent: {0}")]
    Mail(String),
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

/// Sends a reset link when `email` belongs to an active agent and does nothing
/// otherwise. The caller answers the same either way, before this finishes.
pub async fn send_reset_link(
    db: &Db,
    mailer: &Mailer,
    email: &str,
    origin: ResetOrigin<'_>,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let found =
        crate::storage::query_scalar::<String>("SELECT id FROM agents WHERE email = $1 AND active")
            .bind(normalise_email(email))
            .fetch_optional(db)
            .await?;
    let Some(agent_id) = found else {
        return Ok(());
    };
    let kind = LinkMail::Reset {
        ip_address: origin.ip_address,
    };
    match mail_link(db, mailer, &agent_id, kind, origin.public_url, now).await {
        // Nothing to tell the asker, who hears the same whatever happens.
        Err(AccountError::Mail(_)) => Ok(()),
        other => other,
    }
}

/// What a link mailed to an agent is for, and who had it sent.
#[derive(Debug, Clone, Copy)]
pub enum LinkMail<'a> {
    /// Asked for on the sign-in screen, perhaps from this address.
    Reset { ip_address: Option<&'a str> },
    /// Sent by an administrator, named.
    ResetByAdministrator { administrator: &'a str },
    /// A new agent's first password, their account made by this administrator.
    Welcome { administrator: &'a str },
}

impl LinkMail<'_> {
    fn valid_for(self) -> Duration {
        match self {
            LinkMail::Welcome { .. } => Duration::days(i64::from(WELCOME_LINK_VALID_DAYS)),
            _ => Duration::minutes(i64::from(PASSWORD_RESET_VALID_MINUTES)),
        }
    }

    fn purpose(self) -> &'static str {
        match self {
            LinkMail::Welcome { .. } => "welcome",
            _ => "reset",
        }
    }
}

/// Makes a link that sets the agent's password (only the newest of theirs works) and
/// mails it to their sign-in address. The link exists even when the mail could not be
/// sent ([`AccountError::Mail`]): a retry makes a new one.
pub async fn mail_link(
    db: &Db,
    mailer: &Mailer,
    agent_id: &str,
    kind: LinkMail<'_>,
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let token = credentials::new_token();
    let expires = now + kind.valid_for();
    let mut tx = crate::db::begin_write(db).await?;
    // Only the newest link works: requests made at once take their turn here, and so do
    // a deactivation and a new address, whose outcome is read after the lock.
    tx.lock("agents", agent_id).await?;
    let (address, display_name) = crate::storage::query_as::<(String, String)>(
        "SELECT email, display_name FROM agents WHERE id = $1 AND active",
    )
    .bind(agent_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AccountError::NotFound)?;
    crate::storage::query("DELETE FROM password_resets WHERE agent_id = $1")
        .bind(agent_id)
        .execute(&mut *tx)
        .await?;
    crate::storage::query(
        "INSERT INTO password_resets (token_hash, agent_id, created_at, expires_at, purpose)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(credentials::token_hash(&token))
    .bind(agent_id)
    .bind(timestamp(now))
    .bind(timestamp(expires))
    .bind(kind.purpose())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;

    let link = format!("{}/reset?token={token}", public_url.trim_end_matches('/'));
    let when = now.format("%Y-%m-%d %H:%M");
    let (subject, body) = match kind {
        LinkMail::Reset { ip_address } => {
            let from = ip_address
                .map(|ip| format!(" from the address {ip}"))
                .unwrap_or_default();
            (
                "Reset your Agent Desk password",
                format!(
                    "Hello {display_name},\n\n\
                     someone, hopefully you, asked{from} on {when} UTC to reset the password of the\n\
                     Agent Desk account {address}.\n\n\
                     To choose a new password, open this link:\n\n{link}\n\n\
                     The link works once, for {PASSWORD_RESET_VALID_MINUTES} minutes. Choosing a new password signs\n\
                     out every session of the account.\n\n\
                     If you did not ask for this, ignore this mail: your password stays as it is.\n",
                ),
            )
        }
        LinkMail::ResetByAdministrator { administrator } => (
            "Reset your Agent Desk password",
            format!(
                "Hello {display_name},\n\n\
                 {administrator}, an administrator of Agent Desk, sent you this link on {when} UTC to\n\
                 choose a new password for the account {address}:\n\n{link}\n\n\
                 The link works once, for {PASSWORD_RESET_VALID_MINUTES} minutes. Choosing a new password signs\n\
                 out every session of the account. Until then, your password stays as it is.\n",
            ),
        ),
        LinkMail::Welcome { administrator } => (
            "Welcome to Agent Desk",
            format!(
                "Hello {display_name},\n\n\
                 {administrator} made you an Agent Desk account, {address}. To choose your password,\n\
                 open this link:\n\n{link}\n\n\
                 The link works once, for {WELCOME_LINK_VALID_DAYS} days. Then sign in to the Agent Desk app with\n\
                 this address and your password.\n",
            ),
        ),
    };
    mailer
        .send(Mail {
            to: &address,
            subject,
            body,
        })
        .await
        .map_err(|error| {
            tracing::error!(%error, purpose = kind.purpose(), "could not send a password link");
            AccountError::Mail(error.to_string())
        })
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
        "SELECT r.agent_id, r.expires_at, r.used_at FROM password_resets r
         JOIN agents a ON a.id = r.agent_id WHERE r.token_hash = $1 AND a.active",
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
    if let (true, Some(agent_id)) = (attempt.succeeded, attempt.agent_id) {
        // Kept on the agent too: the attempts go after 90 days, the last sign-in stays.
        crate::storage::query("UPDATE agents SET last_sign_in_at = $1 WHERE id = $2")
            .bind(timestamp(now))
            .bind(agent_id)
            .execute(db)
            .await?;
    }
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

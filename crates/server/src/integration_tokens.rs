//! Integrations' own credentials: a token that works only within its scopes, so a
//! helpdesk's automation never holds an administrator's password.

use agent_desk_core::integrations::IntegrationToken;
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::clock::{parse_timestamp, timestamp};
use crate::credentials;
use crate::db::Db;

/// Integration tokens start so, which tells them from session tokens at a glance.
pub const TOKEN_PREFIX: &str = "adi_";
const NAME_MAX_CHARS: usize = 100;
/// `last_used_at` is written at most this often for a token.
const LAST_USED_RESOLUTION: TimeDelta = TimeDelta::minutes(1);

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `POST /api/v1/admin/events`.
    EventsWrite,
    /// `GET /api/v1/routing/agents`.
    RoutingRead,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Self::EventsWrite, Self::RoutingRead];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EventsWrite => "events:write",
            Self::RoutingRead => "routing:read",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == text)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("an integration needs a name of 1 to 100 characters")]
    BadName,
    #[error("unknown scope {0:?}: the scopes are events:write and routing:read")]
    UnknownScope(String),
    #[error("an integration needs at least one scope: events:write, routing:read")]
    NoScope,
    #[error("an integration called {0} already has a token; revoke it first")]
    NameTaken(String),
    #[error("no integration called {0} has a token in force")]
    Unknown(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Reads `events:write,routing:read`.
pub fn parse_scopes(text: &str) -> Result<Vec<Scope>, TokenError> {
    let mut scopes = Vec::new();
    for part in text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let scope = Scope::parse(part).ok_or_else(|| TokenError::UnknownScope(part.to_owned()))?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err(TokenError::NoScope);
    }
    Ok(scopes)
}

/// Makes an integration's token; it is shown this once and only its hash kept.
pub async fn create(
    db: &Db,
    name: &str,
    scopes: &[Scope],
    now: DateTime<Utc>,
) -> Result<String, TokenError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX_CHARS {
        return Err(TokenError::BadName);
    }
    if scopes.is_empty() {
        return Err(TokenError::NoScope);
    }
    let token = format!("{TOKEN_PREFIX}{}", credentials::new_token());
    let scopes: Vec<&str> = scopes.iter().map(|scope| scope.as_str()).collect();
    let inserted = crate::storage::query(
        "INSERT INTO integration_tokens (id, name, token_hash, scopes, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(name)
    .bind(credentials::token_hash(&token))
    .bind(scopes.join(","))
    .bind(timestamp(now))
    .execute(db)
    .await;
    match inserted {
        Ok(_) => Ok(token),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            Err(TokenError::NameTaken(name.to_owned()))
        }
        Err(error) => Err(error.into()),
    }
}

/// Ends an integration's token at once.
pub async fn revoke(db: &Db, name: &str, now: DateTime<Utc>) -> Result<(), TokenError> {
    let name = name.trim();
    let revoked = crate::storage::query(
        "UPDATE integration_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL",
    )
    .bind(timestamp(now))
    .bind(name)
    .execute(db)
    .await?
    .rows_affected();
    if revoked == 0 {
        return Err(TokenError::Unknown(name.to_owned()));
    }
    Ok(())
}

/// The integration a token in force belongs to, and its scopes.
#[derive(Debug, Clone)]
pub struct Integration {
    pub name: String,
    pub scopes: Vec<Scope>,
}

impl Integration {
    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// Looks a token up; None when it was never made or is revoked.
pub async fn by_token(
    db: &Db,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Integration>, sqlx::Error> {
    let found = crate::storage::query_as::<(String, String, String, Option<String>)>(
        "SELECT id, name, scopes, last_used_at FROM integration_tokens
         WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(credentials::token_hash(token))
    .fetch_optional(db)
    .await?;
    let Some((id, name, scopes, last_used_at)) = found else {
        return Ok(None);
    };
    if last_used_at
        .as_deref()
        .is_none_or(|last| now - parse_timestamp(last) >= LAST_USED_RESOLUTION)
    {
        crate::storage::query("UPDATE integration_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(timestamp(now))
            .bind(&id)
            .execute(db)
            .await?;
    }
    Ok(Some(Integration {
        name,
        scopes: scopes.split(',').filter_map(Scope::parse).collect(),
    }))
}

/// The tokens in force, for `GET /api/v1/admin/integrations`.
pub async fn list(db: &Db) -> Result<Vec<IntegrationToken>, sqlx::Error> {
    let rows = crate::storage::query_as::<(String, String, String, Option<String>)>(
        "SELECT name, scopes, created_at, last_used_at FROM integration_tokens
         WHERE revoked_at IS NULL ORDER BY name",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(name, scopes, created_at, last_used_at)| IntegrationToken {
                name,
                scopes: scopes.split(',').map(str::to_owned).collect(),
                created_at: parse_timestamp(&created_at),
                last_used_at: last_used_at.as_deref().map(parse_timestamp),
            },
        )
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_read_from_a_list_and_unknown_ones_refused() {
        assert_eq!(
            parse_scopes("events:write, routing:read,events:write").ok(),
            Some(vec![Scope::EventsWrite, Scope::RoutingRead])
        );
        assert!(matches!(
            parse_scopes("events:write,admin"),
            Err(TokenError::UnknownScope(scope)) if scope == "admin"
        ));
        assert!(matches!(parse_scopes(" , "), Err(TokenError::NoScope)));
    }
}

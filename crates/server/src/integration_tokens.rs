//! Integrations' own credentials: a token that works only within its scopes, so a
//! helpdesk's automation never holds an administrator's password.

use agent_desk_core::integrations::{
    IntegrationToken, IssuedIntegrationToken, INTEGRATION_NAME_MAX_CHARS,
};
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::clock::{parse_timestamp, timestamp};
use crate::credentials;
use crate::db::Db;

/// Integration tokens start so, which tells them from session tokens at a glance.
pub const TOKEN_PREFIX: &str = "adi_";
/// `last_used_at` is written at most this often for a token.
const LAST_USED_RESOLUTION: TimeDelta = TimeDelta::minutes(1);

pub use agent_desk_core::integrations::IntegrationScope as Scope;

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
    #[error("no integration token in force has that id")]
    NotFound,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Reads `events:write,routing:read`.
pub fn parse_scopes(text: &str) -> Result<Vec<Scope>, TokenError> {
    let scopes = scopes_of(
        text.split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty()),
    )
    .map_err(|(_, error)| error)?;
    if scopes.is_empty() {
        return Err(TokenError::NoScope);
    }
    Ok(scopes)
}

/// The scopes named, each once; on a name that is none, its position and the error.
pub fn scopes_of<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Scope>, (usize, TokenError)> {
    let mut scopes = Vec::new();
    for (index, name) in names.into_iter().enumerate() {
        let scope = Scope::parse(name.trim())
            .ok_or_else(|| (index, TokenError::UnknownScope(name.to_owned())))?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

/// Makes an integration's token; it is shown this once and only its hash kept.
/// `made_by` is the administrator's id, None on the server's command line.
pub async fn create(
    db: &Db,
    name: &str,
    scopes: &[Scope],
    made_by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<IssuedIntegrationToken, TokenError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > INTEGRATION_NAME_MAX_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(TokenError::BadName);
    }
    if scopes.is_empty() {
        return Err(TokenError::NoScope);
    }
    let token = format!("{TOKEN_PREFIX}{}", credentials::new_token());
    let id = Uuid::new_v4().to_string();
    let scope_names: Vec<&str> = scopes.iter().map(|scope| scope.as_str()).collect();
    // In a transaction, whose commit marks an idempotent request applied.
    let mut tx = crate::db::begin_write(db).await?;
    let inserted = crate::storage::query(
        "INSERT INTO integration_tokens (id, name, token_hash, scopes, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(name)
    .bind(credentials::token_hash(&token))
    .bind(scope_names.join(","))
    .bind(timestamp(now))
    .bind(made_by)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(error) if crate::storage::is_unique_violation(&error) => {
            return Err(TokenError::NameTaken(name.to_owned()))
        }
        Err(error) => return Err(error.into()),
    }
    let made_by_name = match made_by {
        Some(agent) => {
            crate::storage::query_scalar("SELECT display_name FROM agents WHERE id = $1")
                .bind(agent)
                .fetch_optional(&mut *tx)
                .await?
        }
        None => None,
    };
    tx.commit().await?;
    Ok(IssuedIntegrationToken {
        integration: IntegrationToken {
            id,
            name: name.to_owned(),
            scopes: scope_names.iter().map(|&scope| scope.to_owned()).collect(),
            created_at: parse_timestamp(&timestamp(now)),
            created_by: made_by_name,
            last_used_at: None,
        },
        token,
    })
}

/// Ends an integration's token at once, by its name (the server's command line).
pub async fn revoke(db: &Db, name: &str, now: DateTime<Utc>) -> Result<(), TokenError> {
    let name = name.trim();
    if !revoke_where(db, TokenKey::Name, name, None, now).await? {
        return Err(TokenError::Unknown(name.to_owned()));
    }
    Ok(())
}

/// Ends an integration's token at once, by its id, as administrator `by` asks in the app.
pub async fn revoke_by_id(
    db: &Db,
    id: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), TokenError> {
    if !revoke_where(db, TokenKey::Id, id, Some(by), now).await? {
        return Err(TokenError::NotFound);
    }
    Ok(())
}

/// What a token to revoke is found by.
#[derive(Clone, Copy)]
enum TokenKey {
    Name,
    Id,
}

/// Revokes the token in force whose `key` is `value`, in a transaction (whose commit
/// marks an idempotent request applied); false when there is none.
async fn revoke_where(
    db: &Db,
    key: TokenKey,
    value: &str,
    by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let column = match key {
        TokenKey::Name => "name",
        TokenKey::Id => "id",
    };
    let mut tx = crate::db::begin_write(db).await?;
    let revoked = crate::storage::query(format!(
        "UPDATE integration_tokens SET revoked_at = $1, revoked_by = $2
         WHERE {column} = $3 AND revoked_at IS NULL"
    ))
    .bind(timestamp(now))
    .bind(by)
    .bind(value)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if revoked == 0 {
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
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
    type Row = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let rows = crate::storage::query_as::<Row>(
        "SELECT t.id, t.name, t.scopes, t.created_at, a.display_name, t.last_used_at
         FROM integration_tokens t LEFT JOIN agents a ON a.id = t.created_by
         WHERE t.revoked_at IS NULL ORDER BY t.name",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, scopes, created_at, created_by, last_used_at)| IntegrationToken {
                id,
                name,
                scopes: scopes.split(',').map(str::to_owned).collect(),
                created_at: parse_timestamp(&created_at),
                created_by,
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

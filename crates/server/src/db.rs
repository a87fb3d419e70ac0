//! The database connection and its migrations.
//!
//! SQLite today; every query is written in the SQL that PostgreSQL also accepts
//! (`$1` placeholders, no vendor functions) so a later `postgres://` pool only swaps
//! the driver.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

pub type Db = sqlx::SqlitePool;

pub async fn connect(url: &str) -> anyhow::Result<Db> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        // 8 MiB of pages per connection (SQLite's default is 2 MiB): an event to
        // thousands of agents touches an index page per recipient.
        .pragma("cache_size", "-8192")
        .busy_timeout(Duration::from_secs(5));
    let db = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&db).await?;
    Ok(db)
}

/// Starts a transaction that will write.
///
/// SQLite's default `BEGIN` is deferred: a transaction that reads and then writes
/// takes the write lock only at its first write, and if another writer got there
/// first in WAL mode it fails at once with "database is locked", busy timeout or
/// not. `BEGIN IMMEDIATE` takes the write lock up front, so concurrent writers
/// queue on the busy timeout instead.
pub async fn begin_write(db: &Db) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
    db.begin_with("BEGIN IMMEDIATE").await
}

//! The storage seam: one set of queries, run on SQLite or PostgreSQL.
//!
//! Domain code writes its SQL once, with `$1` placeholders and the types both databases
//! share (text, 64-bit integers, booleans, floats, bytes), and runs it through
//! [`query`], [`query_as`] and [`query_scalar`] on a [`Db`] or a [`Conn`]. Each database
//! decodes rows with its own driver, so a SQLite `BOOLEAN` column (an integer) and a
//! PostgreSQL `boolean` both read as `bool`. What the two spell differently is asked of
//! the [`Dialect`], one small function per concern.
//!
//! sqlx's own `Any` driver would be the obvious seam, but it cannot read SQLite columns
//! declared `BOOLEAN`, which the schema has had from its first migration.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{Postgres, Sqlite};

/// Which database a [`Db`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The database a URL names: `sqlite:` or `postgres:`/`postgresql:`.
    pub fn of_url(url: &str) -> Result<Self, StorageError> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme);
        match scheme {
            Some("sqlite") => Ok(Self::Sqlite),
            Some("postgres" | "postgresql") => Ok(Self::Postgres),
            _ => Err(StorageError::UnknownUrl(redacted(url))),
        }
    }

    /// The statement that starts a transaction that will write. SQLite's default is
    /// deferred, and a transaction that reads, then writes, fails at once when another
    /// writer got there first; `IMMEDIATE` queues it on the busy timeout instead.
    /// PostgreSQL locks rows as they are written, and waits for them.
    pub const fn begin_write(self) -> &'static str {
        match self {
            Self::Sqlite => "BEGIN IMMEDIATE",
            Self::Postgres => "BEGIN",
        }
    }

    /// What orders a table's rows as they were written, where a timestamp ties:
    /// SQLite's `rowid`, or the `seq` column PostgreSQL's tables have for it.
    pub fn insertion_order(self, alias: &str) -> String {
        match self {
            Self::Sqlite => format!("{alias}.rowid"),
            Self::Postgres => format!("{alias}.seq"),
        }
    }

    /// A search for rows holding every one of `words` as a word's beginning, in the
    /// database's own syntax; each word quoted, so nothing typed is taken as syntax.
    pub fn text_search(self, words: &[String]) -> String {
        match self {
            Self::Sqlite => words
                .iter()
                .map(|word| format!("\"{}\"*", word.replace('"', "")))
                .collect::<Vec<_>>()
                .join(" "),
            Self::Postgres => words
                .iter()
                .map(|word| format!("'{}':*", word.replace('\\', "\\\\").replace('\'', "''")))
                .collect::<Vec<_>>()
                .join(" & "),
        }
    }

    /// Brings the planner's statistics up to date after a large load.
    pub const fn optimize(self) -> &'static str {
        match self {
            Self::Sqlite => "PRAGMA optimize",
            Self::Postgres => "ANALYZE",
        }
    }

    /// Joins `expression`'s values of a group with `separator`.
    pub fn group_concat(self, expression: &str, separator: &str) -> String {
        let separator = separator.replace('\'', "''");
        match self {
            Self::Sqlite => format!("group_concat({expression}, '{separator}')"),
            Self::Postgres => format!("string_agg({expression}, '{separator}')"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{0} is not a database address: use sqlite://PATH or postgres://USER@HOST/DATABASE")]
    UnknownUrl(String),
    #[error(
        "the database was last used by a newer Agent Desk server (schema version {found}, \
         this server knows up to {known}): use that server, or restore a backup"
    )]
    SchemaTooNew { found: i64, known: i64 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migration(#[from] sqlx::migrate::MigrateError),
}

/// A URL with its password replaced, for messages.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// How many connections the server keeps to the database at most.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// A pool of connections to one of the two databases.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl Db {
    /// Opens the database at `url` and brings its schema up to date, in one transaction
    /// a migration; a schema newer than this server knows is refused before anything is
    /// written.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StorageError> {
        let db = match Dialect::of_url(url)? {
            Dialect::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5));
                Self::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(max_connections)
                        .connect_with(options)
                        .await?,
                )
            }
            Dialect::Postgres => {
                let options = PgConnectOptions::from_str(url)?;
                Self::Postgres(
                    PgPoolOptions::new()
                        .max_connections(max_connections)
                        .acquire_timeout(Duration::from_secs(10))
                        .connect_with(options)
                        .await?,
                )
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self {
            Self::Sqlite(_) => &SQLITE_MIGRATIONS,
            Self::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies the migrations this server has and the database lacks.
    async fn migrate(&self) -> Result<(), StorageError> {
        let known = self
            .migrator()
            .iter()
            .map(|migration| migration.version)
            .max()
            .unwrap_or_default();
        // Read before migrating: a table that is not there yet is a new database.
        let found: Option<i64> = query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(self)
            .await
            .unwrap_or(None);
        if let Some(found) = found.filter(|found| *found > known) {
            return Err(StorageError::SchemaTooNew { found, known });
        }
        match self {
            Self::Sqlite(pool) => self.migrator().run(pool).await?,
            Self::Postgres(pool) => self.migrator().run(pool).await?,
        }
        Ok(())
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A connection of the pool, outside any transaction.
    pub async fn acquire(&self) -> Result<Conn, sqlx::Error> {
        Ok(Conn::new(
            match self {
                Self::Sqlite(pool) => Inner::SqlitePooled(pool.acquire().await?),
                Self::Postgres(pool) => Inner::PostgresPooled(pool.acquire().await?),
            },
            false,
        ))
    }

    /// Starts a transaction that reads first, and may write.
    pub async fn begin(&self) -> Result<Conn, sqlx::Error> {
        Ok(Conn::new(
            match self {
                Self::Sqlite(pool) => Inner::SqliteTx(pool.begin().await?),
                Self::Postgres(pool) => Inner::PostgresTx(pool.begin().await?),
            },
            true,
        ))
    }

    /// Starts a transaction that will write (see [`Dialect::begin_write`]).
    pub async fn begin_write(&self) -> Result<Conn, sqlx::Error> {
        let begin = self.dialect().begin_write();
        Ok(Conn::new(
            match self {
                Self::Sqlite(pool) => Inner::SqliteTx(pool.begin_with(begin).await?),
                Self::Postgres(pool) => Inner::PostgresTx(pool.begin_with(begin).await?),
            },
            true,
        ))
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// One connection: pooled, or in a transaction that [`Conn::commit`] ends (dropped
/// without it, the transaction rolls back). Queries run on `&mut conn`, or on
/// `&mut *conn` (its [`Link`]), as they run on a sqlx connection.
#[derive(Debug)]
pub struct Conn {
    link: Link,
    /// A transaction (not a bare pooled connection): its commit is where a request's
    /// effect lands, and what [`APPLIED_MARK`] records.
    transaction: bool,
}

tokio::task_local! {
    /// The `Idempotency-Key` a request is answering (crate::idempotency): the first
    /// transaction the request commits marks the key applied, in that same transaction,
    /// so that after a crash the server can tell a request that changed something from
    /// one that did not.
    pub static APPLIED_MARK: std::sync::Arc<crate::idempotency::AppliedMark>;
}

/// What a [`Conn`] dereferences to, so that code written for sqlx's connections
/// (`&mut *tx`) runs unchanged.
#[derive(Debug)]
pub struct Link(Inner);

impl std::ops::Deref for Conn {
    type Target = Link;

    fn deref(&self) -> &Link {
        &self.link
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Link {
        &mut self.link
    }
}

#[derive(Debug)]
enum Inner {
    SqlitePooled(PoolConnection<Sqlite>),
    SqliteTx(sqlx::Transaction<'static, Sqlite>),
    PostgresPooled(PoolConnection<Postgres>),
    PostgresTx(sqlx::Transaction<'static, Postgres>),
}

impl Link {
    /// Locks row `id` of `table` until the transaction ends, so that what is read next
    /// is not changed by another writer before this one commits: on PostgreSQL a row
    /// lock; on SQLite nothing more, since a write transaction holds the whole database.
    /// False when there is no such row.
    pub async fn lock(&mut self, table: &'static str, id: &str) -> Result<bool, sqlx::Error> {
        let lock = match self.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        };
        let found: Option<i64> = query_scalar(format!(
            "SELECT CAST(1 AS BIGINT) FROM {table} WHERE id = $1{lock}"
        ))
        .bind(id)
        .fetch_optional(&mut *self)
        .await?;
        Ok(found.is_some())
    }

    /// Serializes the transactions that take the same `name` until each ends: on
    /// PostgreSQL a transaction-scoped advisory lock; on SQLite nothing more, since a
    /// write transaction already holds the whole database. For writes that have no row
    /// to lock yet, such as replacing "the current one" of something.
    pub async fn lock_name(&mut self, name: &str) -> Result<(), sqlx::Error> {
        if self.dialect() == Dialect::Postgres {
            query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(name)
                .execute(&mut *self)
                .await?;
        }
        Ok(())
    }

    pub fn dialect(&self) -> Dialect {
        match self.0 {
            Inner::SqlitePooled(_) | Inner::SqliteTx(_) => Dialect::Sqlite,
            Inner::PostgresPooled(_) | Inner::PostgresTx(_) => Dialect::Postgres,
        }
    }
}

impl Conn {
    fn new(inner: Inner, transaction: bool) -> Self {
        Self {
            link: Link(inner),
            transaction,
        }
    }

    /// Commits the transaction; a pooled connection has nothing to commit. Within a
    /// request that carries an `Idempotency-Key`, the first commit also marks the key
    /// applied (see [`APPLIED_MARK`]).
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let mark = if self.transaction {
            APPLIED_MARK.try_with(std::sync::Arc::clone).ok()
        } else {
            None
        };
        let mark = mark.filter(|mark| !mark.is_applied());
        if let Some(mark) = &mark {
            mark.write_into(&mut self).await?;
        }
        let committed = match self.link.0 {
            Inner::SqliteTx(tx) => tx.commit().await,
            Inner::PostgresTx(tx) => tx.commit().await,
            Inner::SqlitePooled(_) | Inner::PostgresPooled(_) => Ok(()),
        };
        if committed.is_ok() {
            if let Some(mark) = mark {
                mark.set_applied();
            }
        }
        committed
    }
}

/// Where a query runs: the pool, or one connection.
pub enum Runner<'a> {
    Pool(&'a Db),
    Conn(&'a mut Link),
}

impl<'a> From<&'a mut Link> for Runner<'a> {
    fn from(link: &'a mut Link) -> Self {
        Self::Conn(link)
    }
}

impl<'a> From<&'a Db> for Runner<'a> {
    fn from(db: &'a Db) -> Self {
        Self::Pool(db)
    }
}

impl<'a> From<&'a mut Conn> for Runner<'a> {
    fn from(conn: &'a mut Conn) -> Self {
        Self::Conn(&mut conn.link)
    }
}

/// A value bound to a placeholder. `None`s keep their type, which PostgreSQL needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Real(Option<f64>),
    Bytes(Option<Vec<u8>>),
}

/// What can be bound to a placeholder.
pub trait IntoArg {
    fn into_arg(self) -> Arg;
}

macro_rules! into_arg {
    ($variant:ident: $($owned:ty => $convert:expr),+ $(,)?) => {$(
        impl IntoArg for $owned {
            fn into_arg(self) -> Arg {
                let convert = $convert;
                Arg::$variant(Some(convert(self)))
            }
        }
        impl IntoArg for Option<$owned> {
            fn into_arg(self) -> Arg {
                let convert = $convert;
                Arg::$variant(self.map(convert))
            }
        }
    )+};
}

into_arg!(Text: String => |v: String| v, &str => |v: &str| v.to_owned());
into_arg!(Int: i64 => |v: i64| v, i32 => i64::from, u32 => i64::from);
into_arg!(Bool: bool => |v: bool| v);
into_arg!(Real: f64 => |v: f64| v);
into_arg!(Bytes: Vec<u8> => |v: Vec<u8>| v, &[u8] => |v: &[u8]| v.to_vec());

/// A borrowed value binds as a copy of it.
impl<T: IntoArg + Clone> IntoArg for &T {
    fn into_arg(self) -> Arg {
        self.clone().into_arg()
    }
}

/// A row both databases can decode into `Self`: tuples of the shared types, and
/// `#[derive(sqlx::FromRow)]` structs.
pub trait Row:
    for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> Row for T where
    T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin
{
}

/// A value both databases can decode into `Self`.
pub trait Value:
    for<'r> sqlx::Decode<'r, Sqlite>
    + sqlx::Type<Sqlite>
    + for<'r> sqlx::Decode<'r, Postgres>
    + sqlx::Type<Postgres>
    + Send
    + Unpin
{
}

impl<T> Value for T where
    T: for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Sqlite>
        + for<'r> sqlx::Decode<'r, Postgres>
        + sqlx::Type<Postgres>
        + Send
        + Unpin
{
}

/// A statement and its arguments, not yet run.
#[derive(Debug, Clone)]
pub struct Statement {
    sql: Cow<'static, str>,
    args: Vec<Arg>,
}

/// SQL text: a constant is borrowed, text built at run time owned.
pub trait Sql {
    fn into_sql(self) -> Cow<'static, str>;
}

impl Sql for &'static str {
    fn into_sql(self) -> Cow<'static, str> {
        Cow::Borrowed(self)
    }
}

impl Sql for String {
    fn into_sql(self) -> Cow<'static, str> {
        Cow::Owned(self)
    }
}

impl Sql for &String {
    fn into_sql(self) -> Cow<'static, str> {
        Cow::Owned(self.clone())
    }
}

/// A statement whose rows are not read (`execute`).
pub fn query(sql: impl Sql) -> Query {
    Query(Statement {
        sql: sql.into_sql(),
        args: Vec::new(),
    })
}

/// A statement whose rows are read as `T`.
pub fn query_as<T: Row>(sql: impl Sql) -> QueryAs<T> {
    QueryAs {
        statement: Statement {
            sql: sql.into_sql(),
            args: Vec::new(),
        },
        row: std::marker::PhantomData,
    }
}

/// A statement whose rows' first column is read as `T`.
pub fn query_scalar<T: Value>(sql: impl Sql) -> QueryScalar<T> {
    QueryScalar(query_as::<(T,)>(sql))
}

pub struct Query(Statement);

pub struct QueryAs<T> {
    statement: Statement,
    row: std::marker::PhantomData<fn() -> T>,
}

pub struct QueryScalar<T>(QueryAs<(T,)>);

/// What a statement changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    rows_affected: u64,
}

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

/// PostgreSQL's text cannot hold NUL: bound there as U+FFFD, so that a lookup by such
/// text finds nothing, as on SQLite, rather than failing. (What is stored is cleaned of
/// control characters before it gets here.)
fn without_nul(dialect: Dialect, value: Option<String>) -> Option<String> {
    match (dialect, value) {
        (Dialect::Postgres, Some(text)) if text.contains('\0') => {
            Some(text.replace('\0', "\u{FFFD}"))
        }
        (_, value) => value,
    }
}

/// Binds the statement's arguments to a sqlx query of either database, in order.
macro_rules! bound {
    ($query:expr, $args:expr, $dialect:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(value) => query.bind(without_nul($dialect, value)),
                Arg::Int(value) => query.bind(value),
                Arg::Bool(value) => query.bind(value),
                Arg::Real(value) => query.bind(value),
                Arg::Bytes(value) => query.bind(value),
            };
        }
        query
    }};
}

/// Runs `$run` (a method of sqlx's query) on whichever database and connection.
macro_rules! run {
    ($runner:expr, $make:ident, $statement:expr, $run:ident) => {{
        let Statement { sql, args } = $statement;
        match $runner.into() {
            Runner::Pool(Db::Sqlite(pool)) => {
                bound!(sqlx::$make::<Sqlite, _>(&sql), args, Dialect::Sqlite)
                    .$run(pool)
                    .await
            }
            Runner::Pool(Db::Postgres(pool)) => {
                bound!(sqlx::$make::<Postgres, _>(&sql), args, Dialect::Postgres)
                    .$run(pool)
                    .await
            }
            Runner::Conn(Link(Inner::SqlitePooled(conn))) => {
                bound!(sqlx::$make::<Sqlite, _>(&sql), args, Dialect::Sqlite)
                    .$run(&mut **conn)
                    .await
            }
            Runner::Conn(Link(Inner::SqliteTx(tx))) => {
                bound!(sqlx::$make::<Sqlite, _>(&sql), args, Dialect::Sqlite)
                    .$run(&mut **tx)
                    .await
            }
            Runner::Conn(Link(Inner::PostgresPooled(conn))) => {
                bound!(sqlx::$make::<Postgres, _>(&sql), args, Dialect::Postgres)
                    .$run(&mut **conn)
                    .await
            }
            Runner::Conn(Link(Inner::PostgresTx(tx))) => {
                bound!(sqlx::$make::<Postgres, _>(&sql), args, Dialect::Postgres)
                    .$run(&mut **tx)
                    .await
            }
        }
    }};
}

impl Query {
    pub fn bind(mut self, value: impl IntoArg) -> Self {
        self.0.args.push(value.into_arg());
        self
    }

    pub async fn execute<'a>(self, runner: impl Into<Runner<'a>>) -> Result<Done, sqlx::Error> {
        let Statement { sql, args } = self.0;
        let rows_affected = match runner.into() {
            Runner::Pool(Db::Sqlite(pool)) => {
                bound!(sqlx::query::<Sqlite>(&sql), args, Dialect::Sqlite)
                    .execute(pool)
                    .await?
                    .rows_affected()
            }
            Runner::Pool(Db::Postgres(pool)) => {
                bound!(sqlx::query::<Postgres>(&sql), args, Dialect::Postgres)
                    .execute(pool)
                    .await?
                    .rows_affected()
            }
            Runner::Conn(Link(Inner::SqlitePooled(conn))) => {
                bound!(sqlx::query::<Sqlite>(&sql), args, Dialect::Sqlite)
                    .execute(&mut **conn)
                    .await?
                    .rows_affected()
            }
            Runner::Conn(Link(Inner::SqliteTx(tx))) => {
                bound!(sqlx::query::<Sqlite>(&sql), args, Dialect::Sqlite)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            }
            Runner::Conn(Link(Inner::PostgresPooled(conn))) => {
                bound!(sqlx::query::<Postgres>(&sql), args, Dialect::Postgres)
                    .execute(&mut **conn)
                    .await?
                    .rows_affected()
            }
            Runner::Conn(Link(Inner::PostgresTx(tx))) => {
                bound!(sqlx::query::<Postgres>(&sql), args, Dialect::Postgres)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            }
        };
        Ok(Done { rows_affected })
    }
}

impl<T: Row> QueryAs<T> {
    pub fn bind(mut self, value: impl IntoArg) -> Self {
        self.statement.args.push(value.into_arg());
        self
    }

    pub async fn fetch_all<'a>(self, runner: impl Into<Runner<'a>>) -> Result<Vec<T>, sqlx::Error> {
        run!(runner, query_as, self.statement, fetch_all)
    }

    pub async fn fetch_optional<'a>(
        self,
        runner: impl Into<Runner<'a>>,
    ) -> Result<Option<T>, sqlx::Error> {
        run!(runner, query_as, self.statement, fetch_optional)
    }

    pub async fn fetch_one<'a>(self, runner: impl Into<Runner<'a>>) -> Result<T, sqlx::Error> {
        run!(runner, query_as, self.statement, fetch_one)
    }
}

impl<T: Value> QueryScalar<T> {
    pub fn bind(self, value: impl IntoArg) -> Self {
        Self(self.0.bind(value))
    }

    pub async fn fetch_all<'a>(self, runner: impl Into<Runner<'a>>) -> Result<Vec<T>, sqlx::Error> {
        Ok(self
            .0
            .fetch_all(runner)
            .await?
            .into_iter()
            .map(|(value,)| value)
            .collect())
    }

    pub async fn fetch_optional<'a>(
        self,
        runner: impl Into<Runner<'a>>,
    ) -> Result<Option<T>, sqlx::Error> {
        Ok(self.0.fetch_optional(runner).await?.map(|(value,)| value))
    }

    pub async fn fetch_one<'a>(self, runner: impl Into<Runner<'a>>) -> Result<T, sqlx::Error> {
        Ok(self.0.fetch_one(runner).await?.0)
    }
}

/// Whether an error is a unique constraint refusing a duplicate, in either database.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(error) if error.is_unique_violation())
}

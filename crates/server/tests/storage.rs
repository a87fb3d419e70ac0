//! The storage seam on both databases: the same queries, the same answers, and the same
//! schema from each database's own migrations.

mod support;

use std::collections::BTreeMap;

use agent_desk_server::storage::{self, Db, Dialect, StorageError};
use support::postgres::PrivatePostgres;

/// A migrated database of each kind, each of its own.
async fn both() -> (Db, Db, tempfile::TempDir, &'static PrivatePostgres) {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite_url = format!("sqlite://{}", dir.path().join("agent-desk.db").display());
    let sqlite = Db::connect(&sqlite_url, 4).await.expect("SQLite");
    let cluster = PrivatePostgres::shared();
    let postgres = Db::connect(&cluster.database_now(), 4)
        .await
        .expect("PostgreSQL");
    (sqlite, postgres, dir, cluster)
}

/// Tables and their columns as (name, nullable, kind), sqlx's own table aside.
async fn schema(db: &Db) -> BTreeMap<String, Vec<(String, bool, &'static str)>> {
    let columns: Vec<(String, String, bool, String)> = match db.dialect() {
        Dialect::Sqlite => {
            storage::query_as(
                "SELECT m.name, p.name, p.\"notnull\" = 0 AND p.pk = 0, lower(p.type)
                 FROM sqlite_master m JOIN pragma_table_info(m.name) p
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
                   AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\'
                   AND m.sql NOT LIKE 'CREATE VIRTUAL TABLE%'
                 ORDER BY m.name, p.cid",
            )
            .fetch_all(db)
            .await
        }
        Dialect::Postgres => {
            storage::query_as(
                "SELECT c.table_name::text, c.column_name::text, c.is_nullable = 'YES',
                        c.data_type::text
                 FROM information_schema.columns c
                 JOIN information_schema.tables t
                   ON t.table_schema = c.table_schema AND t.table_name = c.table_name
                 WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
                   AND c.table_name NOT LIKE '\\_sqlx%'
                 ORDER BY c.table_name, c.ordinal_position",
            )
            .fetch_all(db)
            .await
        }
    }
    .expect("the schema");
    let mut tables: BTreeMap<String, Vec<(String, bool, &'static str)>> = BTreeMap::new();
    for (table, column, nullable, kind) in columns {
        tables
            .entry(table)
            .or_default()
            .push((column, nullable, kind_of(&kind)));
    }
    tables
}

/// A column's kind, as both databases spell it.
fn kind_of(declared: &str) -> &'static str {
    let declared = declared.to_ascii_lowercase();
    if declared.contains("int") {
        "integer"
    } else if declared.contains("bool") {
        "boolean"
    } else if declared.contains("char") || declared.contains("text") {
        "text"
    } else if declared.contains("real") || declared.contains("double") || declared.contains("float")
    {
        "real"
    } else if declared.contains("blob") || declared.contains("bytea") {
        "bytes"
    } else if declared.contains("tsvector") {
        "search"
    } else {
        "other"
    }
}

#[tokio::test]
async fn both_databases_end_with_the_same_tables_and_columns() {
    let (sqlite, postgres, _dir, _cluster) = both().await;
    let mut on_sqlite = schema(&sqlite).await;
    let mut on_postgres = schema(&postgres).await;
    // Search is each database's own: SQLite's FTS5 table, PostgreSQL's tsvector column.
    // PostgreSQL's change log has a seq for its order where SQLite has its rowid.
    if let Some(columns) = on_postgres.get_mut("change_log") {
        columns.retain(|(column, _, _)| column != "seq");
    }
    for tables in [&mut on_sqlite, &mut on_postgres] {
        for columns in tables.values_mut() {
            columns.retain(|(_, _, kind)| *kind != "search");
        }
        tables.retain(|table, _| !table.contains("search"));
    }
    assert_eq!(
        on_sqlite.keys().collect::<Vec<_>>(),
        on_postgres.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (table, columns) in &on_sqlite {
        assert_eq!(
            Some(columns),
            on_postgres.get(table),
            "the columns of {table}"
        );
    }
}

/// A row of the test's table: id, n, ok, note, ratio, raw.
type Thing = (String, Option<i64>, bool, Option<String>, f64, Vec<u8>);

#[tokio::test]
async fn the_same_statements_give_the_same_answers_on_both() {
    let (sqlite, postgres, _dir, _cluster) = both().await;
    for db in [&sqlite, &postgres] {
        let dialect = db.dialect();
        let mut conn = db.begin_write().await.expect("a transaction");
        let bytes = match dialect {
            Dialect::Sqlite => "BLOB",
            Dialect::Postgres => "BYTEA",
        };
        storage::query(format!(
            "CREATE TEMPORARY TABLE things (id TEXT PRIMARY KEY, n BIGINT, ok BOOLEAN NOT NULL,
                                            note TEXT, ratio DOUBLE PRECISION, raw {bytes})"
        ))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|error| panic!("{dialect:?}: {error}"));
        for (id, n, ok, note) in [
            ("a", Some(1_i64), true, Some("first")),
            ("b", None, false, None),
            ("c", Some(i64::MAX), true, Some("l'apostrophe")),
        ] {
            let done = storage::query(
                "INSERT INTO things (id, n, ok, note, ratio, raw) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(n)
            .bind(ok)
            .bind(note)
            .bind(0.5)
            .bind(vec![1_u8, 2, 3])
            .execute(&mut conn)
            .await
            .unwrap_or_else(|error| panic!("{dialect:?}: {error}"));
            assert_eq!(done.rows_affected(), 1);
        }
        let rows: Vec<Thing> =
            storage::query_as("SELECT id, n, ok, note, ratio, raw FROM things ORDER BY id")
                .fetch_all(&mut conn)
                .await
                .unwrap_or_else(|error| panic!("{dialect:?}: {error}"));
        assert_eq!(rows.len(), 3, "{dialect:?}");
        assert_eq!(
            rows[0],
            (
                "a".into(),
                Some(1),
                true,
                Some("first".into()),
                0.5,
                vec![1, 2, 3]
            )
        );
        assert_eq!(rows[1].1, None);
        assert!(!rows[1].2, "{dialect:?}: false reads as false");
        assert_eq!(rows[2].1, Some(i64::MAX));
        let joined: Option<String> = storage::query_scalar(format!(
            "SELECT {} FROM (SELECT id FROM things WHERE ok ORDER BY id) t",
            dialect.group_concat("id", ",")
        ))
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|error| panic!("{dialect:?}: {error}"));
        assert_eq!(joined.as_deref(), Some("a,c"), "{dialect:?}");
        let missing: Option<String> = storage::query_scalar("SELECT id FROM things WHERE id = $1")
            .bind("z")
            .fetch_optional(&mut conn)
            .await
            .unwrap_or_else(|error| panic!("{dialect:?}: {error}"));
        assert_eq!(missing, None);
        let duplicate = storage::query("INSERT INTO things (id, ok) VALUES ($1, $2)")
            .bind("a")
            .bind(false)
            .execute(&mut conn)
            .await
            .expect_err("a duplicate id");
        assert!(
            storage::is_unique_violation(&duplicate),
            "{dialect:?}: {duplicate}"
        );
    }
}

#[tokio::test]
async fn a_transaction_dropped_without_commit_changes_nothing() {
    let (sqlite, postgres, _dir, _cluster) = both().await;
    for db in [&sqlite, &postgres] {
        let insert = || {
            storage::query("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3)")
                .bind("t-1")
                .bind("Billing")
                .bind("2026-12-06T16:00:00.000Z")
        };
        {
            let mut conn = db.begin_write().await.expect("a transaction");
            insert().execute(&mut conn).await.expect("insert");
        }
        let count: i64 = storage::query_scalar("SELECT COUNT(*) FROM teams")
            .fetch_one(db)
            .await
            .expect("count");
        assert_eq!(count, 0, "{:?}: rolled back", db.dialect());
        let mut conn = db.begin_write().await.expect("a transaction");
        insert().execute(&mut conn).await.expect("insert");
        conn.commit().await.expect("commit");
        let count: i64 = storage::query_scalar("SELECT COUNT(*) FROM teams")
            .fetch_one(db)
            .await
            .expect("count");
        assert_eq!(count, 1, "{:?}: committed", db.dialect());
    }
}

/// Records migration 9999 as applied, as a newer server would have.
async fn mark_used_by_a_newer_server(db: &Db) {
    storage::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(9_999_i64)
    .bind("from a newer server")
    .bind(true)
    .bind(vec![0_u8; 48])
    .bind(1_i64)
    .execute(db)
    .await
    .expect("a newer migration");
}

#[tokio::test]
async fn a_wrong_address_or_a_newer_schema_is_refused_with_what_to_do() {
    assert!(matches!(
        Db::connect("mysql://root:secret@localhost/desk", 1).await,
        Err(StorageError::UnknownUrl(url)) if !url.contains("secret")
    ));
    // Nobody listens there.
    let unreachable = Db::connect("postgres://postgres@127.0.0.1:1/desk", 1).await;
    assert!(
        matches!(unreachable, Err(StorageError::Database(_))),
        "{unreachable:?}"
    );
    let (sqlite, postgres, dir, cluster) = both().await;
    let sqlite_url = format!("sqlite://{}", dir.path().join("agent-desk.db").display());
    let postgres_url = match &postgres {
        Db::Postgres(pool) => {
            let options = pool.connect_options();
            cluster.url(options.get_database().expect("a database name"))
        }
        Db::Sqlite(_) => unreachable!("the PostgreSQL database"),
    };
    for (db, url) in [(sqlite, sqlite_url), (postgres, postgres_url)] {
        mark_used_by_a_newer_server(&db).await;
        db.close().await;
        let refused = Db::connect(&url, 1).await;
        assert!(
            matches!(
                refused,
                Err(StorageError::SchemaTooNew { found: 9_999, .. })
            ),
            "{refused:?}"
        );
    }
}

/// The binary says what is wrong with a database address, and starts on PostgreSQL.
#[tokio::test]
async fn the_server_names_a_wrong_database_and_serves_from_postgres() {
    let dir = tempfile::tempdir().expect("temp dir");
    let refused = support::command(dir.path(), &["seed-demo"])
        .env("AGENT_DESK_DATABASE", "mysql://root:hunter2@localhost/desk")
        .output()
        .expect("run the server");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("is not a database address"), "{stderr}");
    assert!(
        !stderr.contains("hunter2"),
        "the password is not shown: {stderr}"
    );

    let url = PrivatePostgres::shared().database_now();
    let seeded = support::command(dir.path(), &["seed-demo"])
        .env("AGENT_DESK_DATABASE", &url)
        .output()
        .expect("run the server");
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let db = Db::connect(&url, 1).await.expect("PostgreSQL");
    let agents: i64 = storage::query_scalar("SELECT COUNT(*) FROM agents")
        .fetch_one(&db)
        .await
        .expect("count");
    let demo = i64::try_from(agent_desk_server::DEMO_ACCOUNTS.len()).expect("a count");
    assert_eq!(agents, demo, "the demo accounts, in PostgreSQL");
}

/// `migrate` brings an empty database up to date on either database and stops, adding
/// no data; it is harmless run again, and refuses a database a newer server has used.
#[tokio::test]
async fn migrate_prepares_either_database_and_refuses_a_newer_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite_url = format!("sqlite://{}", dir.path().join("agent-desk.db").display());
    let postgres_url = PrivatePostgres::shared().database_now();
    let known = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .expect("the migrations")
        .count();
    for url in [sqlite_url, postgres_url] {
        let migrate = || {
            support::command(dir.path(), &["migrate"])
                .env("AGENT_DESK_DATABASE", &url)
                .output()
                .expect("run the server")
        };
        for run in ["first", "second"] {
            let migrated = migrate();
            assert!(
                migrated.status.success(),
                "{url}, {run} run: {}",
                String::from_utf8_lossy(&migrated.stderr)
            );
        }
        let db = Db::connect(&url, 1).await.expect("the database");
        let applied: i64 = storage::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&db)
            .await
            .expect("count the migrations");
        assert_eq!(applied, i64::try_from(known).expect("a count"), "{url}");
        let agents: i64 = storage::query_scalar("SELECT COUNT(*) FROM agents")
            .fetch_one(&db)
            .await
            .expect("count the agents");
        assert_eq!(agents, 0, "{url}: tables, no data");

        mark_used_by_a_newer_server(&db).await;
        db.close().await;
        let refused = migrate();
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            !refused.status.success(),
            "{url}: a newer schema is refused"
        );
        assert!(
            stderr.contains("9999"),
            "{url}: names what it found: {stderr}"
        );
    }
}

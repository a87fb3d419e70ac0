//! The database the server keeps its data in: SQLite by default, or PostgreSQL, through
//! the storage seam ([`crate::storage`]).

pub use crate::storage::{Conn, Db};

/// Opens the database at `url` (`sqlite://PATH` or `postgres://…`) and brings its schema
/// up to date.
pub async fn connect(url: &str) -> anyhow::Result<Db> {
    Ok(Db::connect(url, crate::storage::DEFAULT_MAX_CONNECTIONS).await?)
}

/// Starts a transaction that will write (see [`crate::storage::Dialect::begin_write`]).
pub async fn begin_write(db: &Db) -> sqlx::Result<Conn> {
    db.begin_write().await
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::Duration;

    use agent_desk_core::{EventTarget, EventType, NewEvent, Priority};
    use std::str::FromStr;

    use sqlx::migrate::Migrator;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use sqlx::Executor;

    use super::*;

    /// The first migration with one seq clock for every event.
    const ONE_CLOCK: i64 = 10;
    /// The first migration without the push channel.
    const NO_PUSH: i64 = 11;

    /// A pool on a new database in `dir` with the migrations before `version` applied.
    async fn database_before(dir: &std::path::Path, version: i64) -> (String, sqlx::SqlitePool) {
        let url = format!("sqlite://{}", dir.join("agent-desk.db").display());
        let older = SqliteConnectOptions::from_str(&url)
            .expect("url")
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .connect_with(older)
            .await
            .expect("open");
        let mut before: Migrator = sqlx::migrate!("./migrations/sqlite");
        before.migrations = Cow::Owned(
            before
                .migrations
                .iter()
                .filter(|migration| migration.version < version)
                .cloned()
                .collect(),
        );
        before.run(&pool).await.expect("older migrations");
        (url, pool)
    }

    /// Choices saved with a push channel keep everything but it: before, a stored row
    /// with a field the server no longer knows would read as the defaults.
    #[tokio::test]
    async fn upgrading_past_push_keeps_each_agents_choices() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pool) = database_before(dir.path(), NO_PUSH).await;
        pool.execute(sqlx::query(
            "INSERT INTO agents (id, email, password_hash, is_admin, display_name, language, created_at, updated_at)
             VALUES ('ada', 'ada@example.com', 'x', FALSE, 'Ada', 'en', '2026-11-01T09:00:00.000Z', '2026-11-01T09:00:00.000Z')",
        ))
        .await
        .expect("agent");
        let saved = r#"{"events": [
            {"type": "ticket.assigned", "desktop": false, "sound": true, "push": true, "email": "off", "admin_only": false},
            {"type": "kb.article_published", "desktop": true, "sound": false, "push": false, "email": "digest", "admin_only": false}
        ], "quiet_hours": {"enabled": true, "start": "21:00", "end": "06:30"}, "can_configure_admin_only": false}"#;
        pool.execute(
            sqlx::query(
                "INSERT INTO notification_prefs (agent_id, prefs, version, updated_at)
                 VALUES ('ada', $1, 3, '2026-11-01T09:00:00.000Z')",
            )
            .bind(saved),
        )
        .await
        .expect("prefs");
        pool.close().await;

        let db = connect(&url).await.expect("upgrade");
        let (prefs, version) = crate::notification_prefs::get(&db, "ada")
            .await
            .expect("read");
        assert_eq!(version, 3);
        let assigned = prefs.for_type(EventType::TicketAssigned);
        assert!(!assigned.desktop && assigned.sound);
        assert_eq!(assigned.email, agent_desk_core::EmailFrequency::Off);
        let kb = prefs.for_type(EventType::KbArticlePublished);
        assert!(kb.desktop);
        assert_eq!(kb.email, agent_desk_core::EmailFrequency::Digest);
        assert!(prefs.quiet_hours.enabled);
        assert_eq!(prefs.quiet_hours.start, "21:00");
        let stored: String =
            crate::storage::query_scalar::<String>("SELECT prefs FROM notification_prefs")
                .fetch_one(&db)
                .await
                .expect("row");
        assert!(!stored.contains("push"), "{stored}");
    }

    /// A database from before the shared clock keeps every agent's events, and the next
    /// event's seq is above every one of them.
    #[tokio::test]
    async fn upgrading_to_one_clock_keeps_each_agents_events_and_their_seqs_rise() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pool) = database_before(dir.path(), ONE_CLOCK).await;
        let at = "2026-11-01T09:00:00.000Z";
        for (id, last_seq) in [("ada", 7), ("grace", 3)] {
            pool.execute(
                sqlx::query(
                    "INSERT INTO agents (id, email, password_hash, is_admin, display_name, language, created_at, updated_at)
                     VALUES ($1, $1 || '@example.com', 'x', FALSE, $1, 'en', $2, $2)",
                )
                .bind(id)
                .bind(at),
            )
            .await
            .expect("agent");
            pool.execute(
                sqlx::query("INSERT INTO event_seqs (agent_id, last_seq) VALUES ($1, $2)")
                    .bind(id)
                    .bind(last_seq),
            )
            .await
            .expect("seq");
            for seq in 1..=last_seq {
                pool.execute(
                    sqlx::query(
                        "INSERT INTO events (recipient_id, seq, event_type, priority, title, created_at)
                         VALUES ($1, $2, 'ticket.assigned', 'normal', 'Old', $3)",
                    )
                    .bind(id)
                    .bind(seq)
                    .bind(at),
                )
                .await
                .expect("event");
            }
        }
        pool.close().await;

        let db = connect(&url).await.expect("upgrade");
        for (id, last_seq) in [("ada", 7), ("grace", 3)] {
            let kept = crate::events::after(&db, id, 0, 100).await.expect("read");
            let seqs: Vec<i64> = kept.iter().map(|event| event.seq).collect();
            assert_eq!(seqs, (1..=last_seq).collect::<Vec<_>>());
            assert_eq!(
                crate::events::newest_seq(&db, id).await.expect("newest"),
                last_seq
            );
        }
        let hub = crate::events::EventHub::new(db.clone(), Duration::from_secs(60));
        let new = NewEvent {
            event_type: EventType::SystemMaintenance,
            to: EventTarget::All,
            priority: Priority::Normal,
            title: "Upgrade done".into(),
            body: None,
            ticket_id: None,
            url: None,
            requester: None,
        };
        let published = crate::events::publish(&db, &hub, &new, chrono::Utc::now())
            .await
            .expect("publish");
        assert_eq!(published.seq, 8);
        assert_eq!(
            published.emails(&db).await.expect("recipients"),
            ["ada@example.com", "grace@example.com"]
        );
        let graces = crate::events::after(&db, "grace", 0, 100)
            .await
            .expect("read");
        let seqs: Vec<i64> = graces.iter().map(|event| event.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 8]);
    }
}

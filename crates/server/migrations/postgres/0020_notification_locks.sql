-- Mirrors sqlite/0020_notification_locks.sql.
-- The notifications administrators decide for everyone (notification_prefs.rs): one
-- row holding the locks as JSON (NotificationLocks), versioned for If-Match like an
-- agent's preferences. Agents' own choices stay in notification_prefs, under the locks.
CREATE TABLE notification_locks (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    locks       TEXT COLLATE "C" NOT NULL,
    version     BIGINT NOT NULL,
    updated_by  TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL
);

-- The notifications administrators decide for everyone (notification_prefs.rs): one
-- row holding the locks as JSON (NotificationLocks), versioned for If-Match like an
-- agent's preferences. Agents' own choices stay in notification_prefs, under the locks.
CREATE TABLE notification_locks (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    locks       TEXT NOT NULL,
    version     INTEGER NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

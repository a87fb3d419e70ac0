-- Events, each recipient's own strictly increasing sequence, status expiry, notification
-- preferences and the teams events can be addressed to.

ALTER TABLE agents ADD COLUMN status_until TEXT;
-- The last seq given to an event for this agent; the next is one more.
ALTER TABLE agents ADD COLUMN last_event_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE events (
    recipient_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    event_type   TEXT NOT NULL,
    priority     TEXT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT,
    ticket_id    TEXT,
    url          TEXT,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (recipient_id, seq)
);

-- The agent's choices as the JSON of NotificationPrefs; no row means the defaults.
CREATE TABLE notification_prefs (
    agent_id   TEXT PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    prefs      TEXT NOT NULL,
    version    BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE teams (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- role: 'lead' or 'member'.
CREATE TABLE team_members (
    team_id  TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    role     TEXT NOT NULL,
    PRIMARY KEY (team_id, agent_id)
);
CREATE INDEX team_members_agent ON team_members (agent_id);

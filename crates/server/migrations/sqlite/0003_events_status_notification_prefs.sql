-- Events, each recipient's own strictly increasing sequence, status expiry, notification
-- preferences and the teams events can be addressed to.

ALTER TABLE agents ADD COLUMN status_until TEXT;
-- The last seq given to an event for each agent; the next is one more. A narrow table of
-- its own, so an event to thousands of agents rewrites little.
CREATE TABLE event_seqs (
    agent_id TEXT PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    last_seq BIGINT NOT NULL DEFAULT 0
);
INSERT INTO event_seqs (agent_id) SELECT id FROM agents;

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

-- When each agent's last daily or weekly event mail went out; events after it are in the next.
CREATE TABLE email_digests (
    agent_id     TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    frequency    TEXT NOT NULL,
    last_sent_at TEXT NOT NULL,
    PRIMARY KEY (agent_id, frequency)
);

-- Mirrors sqlite/0003_events_status_notification_prefs.sql; identical (portable SQL).
-- Events, each recipient's own strictly increasing sequence, status expiry, notification
-- preferences and the teams events can be addressed to.

ALTER TABLE agents ADD COLUMN status_until TEXT COLLATE "C";
-- The last seq given to an event for each agent; the next is one more. A narrow table of
-- its own, so an event to thousands of agents rewrites little.
CREATE TABLE event_seqs (
    agent_id TEXT COLLATE "C" PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    last_seq BIGINT NOT NULL DEFAULT 0
);
INSERT INTO event_seqs (agent_id) SELECT id FROM agents;

CREATE TABLE events (
    recipient_id TEXT COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    event_type   TEXT COLLATE "C" NOT NULL,
    priority     TEXT COLLATE "C" NOT NULL,
    title        TEXT COLLATE "C" NOT NULL,
    body         TEXT COLLATE "C",
    ticket_id    TEXT COLLATE "C",
    url          TEXT COLLATE "C",
    created_at   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (recipient_id, seq)
);

-- The agent's choices as the JSON of NotificationPrefs; no row means the defaults.
CREATE TABLE notification_prefs (
    agent_id   TEXT COLLATE "C" PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    prefs      TEXT COLLATE "C" NOT NULL,
    version    BIGINT NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE teams (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at TEXT COLLATE "C" NOT NULL
);

-- role: 'lead' or 'member'.
CREATE TABLE team_members (
    team_id  TEXT COLLATE "C" NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    agent_id TEXT COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    role     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (team_id, agent_id)
);
CREATE INDEX team_members_agent ON team_members (agent_id);

-- When each agent's last daily or weekly event mail went out; events after it are in the next.
CREATE TABLE email_digests (
    agent_id     TEXT COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    frequency    TEXT COLLATE "C" NOT NULL,
    last_sent_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (agent_id, frequency)
);

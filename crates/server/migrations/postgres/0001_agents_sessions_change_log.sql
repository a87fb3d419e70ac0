-- Mirrors sqlite/0001_agents_sessions_change_log.sql; identical (it was written portable).

CREATE TABLE agents (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    is_admin        BOOLEAN NOT NULL DEFAULT FALSE,
    display_name    TEXT NOT NULL,
    job_title       TEXT,
    department      TEXT,
    phone           TEXT,
    mobile          TEXT,
    office_location TEXT,
    timezone        TEXT,
    language        TEXT NOT NULL DEFAULT 'en',
    signature       TEXT,
    use_signature   BOOLEAN NOT NULL DEFAULT FALSE,
    operator_id     TEXT,
    avatar_url      TEXT,
    status          TEXT NOT NULL DEFAULT 'offline',
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- Every address of an agent, the sign-in address among them as the primary one.
CREATE TABLE agent_emails (
    agent_id   TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    address    TEXT NOT NULL UNIQUE,
    is_primary BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (agent_id, address)
);

-- Bearer sessions. Only a SHA-256 of the token is kept.
CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    agent_id       TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    token_hash     TEXT NOT NULL UNIQUE,
    created_at     TEXT NOT NULL,
    last_seen_at   TEXT NOT NULL,
    client_name    TEXT,
    client_version TEXT,
    ip_address     TEXT
);
CREATE INDEX sessions_agent ON sessions (agent_id);

-- Who changed which field of whose record, when, from what to what.
CREATE TABLE change_log (
    id         TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    field      TEXT NOT NULL,
    old_value  TEXT,
    new_value  TEXT
);
CREATE INDEX change_log_subject ON change_log (subject_id, changed_at);

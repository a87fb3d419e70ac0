-- Mirrors sqlite/0001_agents_sessions_change_log.sql. Every text column here and in the
-- later migrations collates as "C" (byte order, as SQLite's BINARY), so the two databases
-- sort and page alike whatever the cluster's locale; change_log has a seq for its order.

CREATE TABLE agents (
    id              TEXT COLLATE "C" PRIMARY KEY,
    email           TEXT COLLATE "C" NOT NULL UNIQUE,
    password_hash   TEXT COLLATE "C" NOT NULL,
    is_admin        BOOLEAN NOT NULL DEFAULT FALSE,
    display_name    TEXT COLLATE "C" NOT NULL,
    job_title       TEXT COLLATE "C",
    department      TEXT COLLATE "C",
    phone           TEXT COLLATE "C",
    mobile          TEXT COLLATE "C",
    office_location TEXT COLLATE "C",
    timezone        TEXT COLLATE "C",
    language        TEXT COLLATE "C" NOT NULL DEFAULT 'en',
    signature       TEXT COLLATE "C",
    use_signature   BOOLEAN NOT NULL DEFAULT FALSE,
    operator_id     TEXT COLLATE "C",
    avatar_url      TEXT COLLATE "C",
    status          TEXT COLLATE "C" NOT NULL DEFAULT 'offline',
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      TEXT COLLATE "C" NOT NULL,
    updated_at      TEXT COLLATE "C" NOT NULL
);

-- Every address of an agent, the sign-in address among them as the primary one.
CREATE TABLE agent_emails (
    agent_id   TEXT COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    address    TEXT COLLATE "C" NOT NULL UNIQUE,
    is_primary BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (agent_id, address)
);

-- Bearer sessions. Only a SHA-256 of the token is kept.
CREATE TABLE sessions (
    id             TEXT COLLATE "C" PRIMARY KEY,
    agent_id       TEXT COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    token_hash     TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at     TEXT COLLATE "C" NOT NULL,
    last_seen_at   TEXT COLLATE "C" NOT NULL,
    client_name    TEXT COLLATE "C",
    client_version TEXT COLLATE "C",
    ip_address     TEXT COLLATE "C"
);
CREATE INDEX sessions_agent ON sessions (agent_id);

-- Who changed which field of whose record, when, from what to what.
CREATE TABLE change_log (
    id         TEXT COLLATE "C" PRIMARY KEY,
    subject_id TEXT COLLATE "C" NOT NULL,
    actor_id   TEXT COLLATE "C" NOT NULL,
    changed_at TEXT COLLATE "C" NOT NULL,
    field      TEXT COLLATE "C" NOT NULL,
    old_value  TEXT COLLATE "C",
    new_value  TEXT COLLATE "C",
    -- The order changes were written in, for those made in the same millisecond (SQLite
    -- has its rowid).
    seq        BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX change_log_subject ON change_log (subject_id, changed_at);

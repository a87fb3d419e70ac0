-- Password-reset links. Only a SHA-256 of the token is kept; a link works once.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    agent_id   TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX password_resets_agent ON password_resets (agent_id);

-- Every sign-in attempt, successful or not. agent_id is NULL when the address has no account.
CREATE TABLE sign_in_attempts (
    id           TEXT PRIMARY KEY,
    agent_id     TEXT REFERENCES agents (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    succeeded    BOOLEAN NOT NULL,
    attempted_at TEXT NOT NULL,
    client_name  TEXT,
    ip_address   TEXT
);
CREATE INDEX sign_in_attempts_agent ON sign_in_attempts (agent_id, attempted_at);
CREATE INDEX sign_in_attempts_time ON sign_in_attempts (attempted_at);

-- Mirrors sqlite/0002_password_resets_sign_in_attempts.sql; identical (portable SQL).
-- Password-reset links. Only a SHA-256 of the token is kept; a link works once.
CREATE TABLE password_resets (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    agent_id   TEXT COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    created_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL,
    used_at    TEXT COLLATE "C"
);
CREATE INDEX password_resets_agent ON password_resets (agent_id);

-- Every sign-in attempt, successful or not. agent_id is NULL when the address has no account.
CREATE TABLE sign_in_attempts (
    id           TEXT COLLATE "C" PRIMARY KEY,
    agent_id     TEXT COLLATE "C" REFERENCES agents (id) ON DELETE CASCADE,
    email        TEXT COLLATE "C" NOT NULL,
    succeeded    BOOLEAN NOT NULL,
    attempted_at TEXT COLLATE "C" NOT NULL,
    client_name  TEXT COLLATE "C",
    ip_address   TEXT COLLATE "C"
);
CREATE INDEX sign_in_attempts_agent ON sign_in_attempts (agent_id, attempted_at);
CREATE INDEX sign_in_attempts_time ON sign_in_attempts (attempted_at);

-- The answers given to requests that carried an Idempotency-Key (idempotency.rs), kept
-- for 7 days after the answer so that a change an app sends again — after a crash, or
-- a weekend offline — is answered the same and applied once. Keys are an agent's or an
-- integration's own (principal), not a session's: they still match after signing in again.
CREATE TABLE idempotency_keys (
    -- 'agent:<id>' or 'integration:<name>'.
    principal    TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    -- SHA-256 of the method, path, query, content type, If-Match and body (hex).
    fingerprint  TEXT NOT NULL,
    -- in_flight, done, or lost (applied, but its answer was not kept).
    state        TEXT NOT NULL,
    -- The instance answering it (instances.id): one that is gone leaves it to others.
    instance_id  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    -- Set by the request's own write transaction as it commits (storage::APPLIED_MARK).
    applied_at   TEXT,
    status       INTEGER,
    -- JSON [[name, value], …] of the headers worth replaying (content type, ETag, Location).
    headers      TEXT,
    body         BLOB,
    expires_at   TEXT NOT NULL,
    PRIMARY KEY (principal, idem_key)
);
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);

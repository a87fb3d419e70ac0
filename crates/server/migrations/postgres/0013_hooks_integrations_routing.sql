-- Mirrors sqlite/0013_hooks_integrations_routing.sql; INTEGER is BIGINT (decoded as i64), AUTOINCREMENT an identity column.
-- Secrets a hosted helpdesk's webhooks are checked with, per source (zendesk, freshdesk,
-- generic). A rotated secret keeps working until `retires_at`, so the helpdesk can be
-- changed over without losing a delivery.
CREATE TABLE hook_secrets (
    id         TEXT COLLATE "C" PRIMARY KEY,
    source     TEXT COLLATE "C" NOT NULL,
    secret     TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    -- NULL while it is the source's current secret.
    retires_at TEXT COLLATE "C"
);
CREATE INDEX hook_secrets_by_source ON hook_secrets (source);

-- Deliveries accepted, by the id the helpdesk gave them: a copy is refused. Kept for a
-- day, far longer than the five minutes a delivery's timestamp may be off by.
CREATE TABLE hook_deliveries (
    source      TEXT COLLATE "C" NOT NULL,
    delivery_id TEXT COLLATE "C" NOT NULL,
    received_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (source, delivery_id)
);
-- Each accepted delivery forgets those older than a day: by this index, not a scan.
CREATE INDEX hook_deliveries_by_age ON hook_deliveries (received_at);

-- How each source's webhooks go, for administrators.
CREATE TABLE hook_counters (
    source           TEXT COLLATE "C" PRIMARY KEY,
    accepted         BIGINT NOT NULL DEFAULT 0,
    refused          BIGINT NOT NULL DEFAULT 0,
    last_accepted_at TEXT COLLATE "C",
    last_refused_at  TEXT COLLATE "C",
    last_refusal     TEXT COLLATE "C"
);

-- Credentials of integrations (a helpdesk's automation, a routing engine): only their
-- hash is kept, and each works only within its scopes.
CREATE TABLE integration_tokens (
    id           TEXT COLLATE "C" PRIMARY KEY,
    name         TEXT COLLATE "C" NOT NULL,
    token_hash   TEXT COLLATE "C" NOT NULL UNIQUE,
    -- Comma-separated: events:write, routing:read.
    scopes       TEXT COLLATE "C" NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL,
    last_used_at TEXT COLLATE "C",
    revoked_at   TEXT COLLATE "C"
);
CREATE UNIQUE INDEX integration_tokens_active_name ON integration_tokens (name)
    WHERE revoked_at IS NULL;

-- Where status changes are posted (`serve --status-webhook`); NULL when nowhere. Set at
-- start, so a change is queued in the same transaction that makes it.
CREATE TABLE status_webhook (
    id                BIGINT PRIMARY KEY CHECK (id = 1),
    url               TEXT COLLATE "C",
    delivered         BIGINT NOT NULL DEFAULT 0,
    given_up          BIGINT NOT NULL DEFAULT 0,
    last_delivered_at TEXT COLLATE "C",
    -- The last failure, until the next delivery.
    last_error        TEXT COLLATE "C",
    last_error_at     TEXT COLLATE "C"
);
INSERT INTO status_webhook (id, url) VALUES (1, NULL);

-- Status changes waiting to be posted, or posted: sent in order per agent, retried with
-- backoff, given up a day after the change.
CREATE TABLE status_deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id        TEXT COLLATE "C" NOT NULL,
    -- The JSON body exactly as it is posted.
    body            TEXT COLLATE "C" NOT NULL,
    created_at      TEXT COLLATE "C" NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT COLLATE "C" NOT NULL,
    delivered_at    TEXT COLLATE "C",
    given_up_at     TEXT COLLATE "C",
    last_error      TEXT COLLATE "C"
);
CREATE INDEX status_deliveries_waiting ON status_deliveries (agent_id, id)
    WHERE delivered_at IS NULL AND given_up_at IS NULL;

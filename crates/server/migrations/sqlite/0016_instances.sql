-- What several server instances on one database share (instances.rs, leases.rs,
-- throttle.rs). SQLite serves one instance, which keeps the same tables, so that both
-- databases behave alike.

-- The instances serving, each seen every few seconds; one not seen for a while is gone
-- (stopped, killed, its machine down).
CREATE TABLE instances (
    id         TEXT PRIMARY KEY,
    -- Host, process and address, for logs.
    name       TEXT NOT NULL,
    started_at TEXT NOT NULL,
    seen_at    TEXT NOT NULL
);

-- Event streams open, by instance and agent: an agent goes Offline when their last
-- stream closes on every instance.
CREATE TABLE open_streams (
    instance_id TEXT NOT NULL,
    agent_id    TEXT NOT NULL,
    streams     INTEGER NOT NULL,
    PRIMARY KEY (instance_id, agent_id)
);
CREATE INDEX open_streams_by_agent ON open_streams (agent_id);

-- Work one instance does at a time (the helpdesk connector, the status webhook): who
-- holds it, until when. A holder renews it well before it expires; another instance
-- takes it over once it has.
CREATE TABLE leases (
    job        TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- Failed attempts by throttle and key (an account, an address), counted by every
-- instance alike.
CREATE TABLE throttles (
    throttle      TEXT NOT NULL,
    key           TEXT NOT NULL,
    failures      INTEGER NOT NULL,
    last_failure  TEXT NOT NULL,
    blocked_until TEXT,
    PRIMARY KEY (throttle, key)
);
CREATE INDEX throttles_by_age ON throttles (last_failure);

-- Addresses an account signed in from: from those, its own limit is kept per address.
CREATE TABLE known_sign_in_addresses (
    account      TEXT NOT NULL,
    address      TEXT NOT NULL,
    signed_in_at TEXT NOT NULL,
    PRIMARY KEY (account, address)
);
CREATE INDEX known_sign_in_addresses_by_age ON known_sign_in_addresses (signed_in_at);

-- Agents whose tickets were given back for an Away spell, by when the spell began: once
-- a spell, whichever instance runs the connector.
CREATE TABLE helpdesk_away_released (
    connector TEXT NOT NULL,
    email     TEXT NOT NULL,
    since     TEXT NOT NULL,
    PRIMARY KEY (connector, email)
);

-- Counts the connector's reads kept: a read is kept only if none was kept since it began,
-- so two instances reading at once (one taking over from the other) tell nothing twice.
ALTER TABLE helpdesk_connectors ADD COLUMN polls INTEGER NOT NULL DEFAULT 0;

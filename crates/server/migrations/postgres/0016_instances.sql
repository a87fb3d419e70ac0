-- Mirrors sqlite/0016_instances.sql; INTEGER is BIGINT, text compares byte by byte.
-- What several server instances on one database share (instances.rs, leases.rs,
-- throttle.rs).

-- The instances serving, each seen every few seconds; one not seen for a while is gone
-- (stopped, killed, its machine down).
CREATE TABLE instances (
    id         TEXT COLLATE "C" PRIMARY KEY,
    -- Host, process and address, for logs.
    name       TEXT COLLATE "C" NOT NULL,
    started_at TEXT COLLATE "C" NOT NULL,
    seen_at    TEXT COLLATE "C" NOT NULL
);

-- Event streams open, by instance and agent: an agent goes Offline when their last
-- stream closes on every instance.
CREATE TABLE open_streams (
    instance_id TEXT COLLATE "C" NOT NULL,
    agent_id    TEXT COLLATE "C" NOT NULL,
    streams     BIGINT NOT NULL,
    PRIMARY KEY (instance_id, agent_id)
);
CREATE INDEX open_streams_by_agent ON open_streams (agent_id);

-- Work one instance does at a time (the helpdesk connector, the status webhook): who
-- holds it, until when. A holder renews it well before it expires; another instance
-- takes it over once it has.
CREATE TABLE leases (
    job        TEXT COLLATE "C" PRIMARY KEY,
    holder     TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL
);

-- Failed attempts by throttle and key (an account, an address), counted by every
-- instance alike.
CREATE TABLE throttles (
    throttle      TEXT COLLATE "C" NOT NULL,
    key           TEXT COLLATE "C" NOT NULL,
    failures      BIGINT NOT NULL,
    last_failure  TEXT COLLATE "C" NOT NULL,
    blocked_until TEXT COLLATE "C",
    PRIMARY KEY (throttle, key)
);
CREATE INDEX throttles_by_age ON throttles (last_failure);

-- Addresses an account signed in from: from those, its own limit is kept per address.
CREATE TABLE known_sign_in_addresses (
    account      TEXT COLLATE "C" NOT NULL,
    address      TEXT COLLATE "C" NOT NULL,
    signed_in_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (account, address)
);
CREATE INDEX known_sign_in_addresses_by_age ON known_sign_in_addresses (signed_in_at);

-- Agents whose tickets were given back for an Away spell, by when the spell began: once
-- a spell, whichever instance runs the connector.
CREATE TABLE helpdesk_away_released (
    connector TEXT COLLATE "C" NOT NULL,
    email     TEXT COLLATE "C" NOT NULL,
    since     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (connector, email)
);

-- Counts the connector's reads kept: a read is kept only if none was kept since it began,
-- so two instances reading at once (one taking over from the other) tell nothing twice.
ALTER TABLE helpdesk_connectors ADD COLUMN polls BIGINT NOT NULL DEFAULT 0;

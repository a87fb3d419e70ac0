-- Mirrors sqlite/0010_one_seq_clock.sql; event_clock.id is BIGINT; also renames the renamed table's key and foreign key (SQLite's are unnamed).

-- One clock gives every event its seq, whoever receives it: a recipient's seqs still only
-- rise, but need not be consecutive, and an event to everyone is stored once rather than
-- once per agent.
CREATE TABLE event_clock (
    id       BIGINT PRIMARY KEY CHECK (id = 1),
    last_seq BIGINT NOT NULL
);
-- Above every seq given so far, so each recipient's next seq is above their last.
INSERT INTO event_clock (id, last_seq) SELECT 1, COALESCE(MAX(last_seq), 0) FROM event_seqs;

-- Each agent's share of the events to everyone: those with a seq above everyone_after,
-- the clock when the agent was created (their old last seq for agents from before).
ALTER TABLE event_seqs RENAME TO event_feeds;
ALTER TABLE event_feeds RENAME COLUMN last_seq TO everyone_after;
ALTER INDEX event_seqs_pkey RENAME TO event_feeds_pkey;
ALTER TABLE event_feeds RENAME CONSTRAINT event_seqs_agent_id_fkey TO event_feeds_agent_id_fkey;

-- Events to everyone, once each. `events` keeps a row per recipient for the others.
CREATE TABLE events_to_everyone (
    seq        BIGINT PRIMARY KEY,
    event_type TEXT COLLATE "C" NOT NULL,
    priority   TEXT COLLATE "C" NOT NULL,
    title      TEXT COLLATE "C" NOT NULL,
    body       TEXT COLLATE "C",
    ticket_id  TEXT COLLATE "C",
    url        TEXT COLLATE "C",
    created_at TEXT COLLATE "C" NOT NULL
);

-- Every agent's events, whichever way they were addressed: what the API reads.
CREATE VIEW agent_events AS
    SELECT recipient_id, seq, event_type, priority, title, body, ticket_id, url, created_at
    FROM events
    UNION ALL
    SELECT feeds.agent_id, everyone.seq, everyone.event_type, everyone.priority,
           everyone.title, everyone.body, everyone.ticket_id, everyone.url, everyone.created_at
    FROM event_feeds AS feeds
    JOIN events_to_everyone AS everyone ON everyone.seq > feeds.everyone_after;

-- Mirrors sqlite/0015_events_by_seq.sql.
-- The event relay between instances (relay.rs) reads events by seq, whoever they went to.
CREATE INDEX events_by_seq ON events (seq);

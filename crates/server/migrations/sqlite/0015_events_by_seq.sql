-- Only PostgreSQL relays events between instances (relay.rs): SQLite serves one instance,
-- and needs no index for it. Kept so that both databases number their migrations alike.
SELECT 1;

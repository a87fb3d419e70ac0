-- Mirrors sqlite/0012_helpdesk_connector.sql; INTEGER is BIGINT (decoded as i64) and strftime('now') is to_char(now()).
-- Since when an agent's status is what it is: an agent Away for some minutes has their
-- helpdesk tickets given back to the queue.
ALTER TABLE agents ADD COLUMN status_since TEXT COLLATE "C";
-- Whatever status an agent has now, as of now: nobody's tickets go back at once.
UPDATE agents SET status_since = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

-- A helpdesk the server follows: how far its changes were read (moved in the same
-- transaction as the events they produced), and how following it goes.
CREATE TABLE helpdesk_connectors (
    name                  TEXT COLLATE "C" PRIMARY KEY,
    url                   TEXT COLLATE "C" NOT NULL,
    -- The last change read: Request Tracker's transaction id; negative until the
    -- helpdesk first answered (then it starts at its newest change).
    cursor                BIGINT NOT NULL,
    -- The helpdesk the cursor is in (its address as checked): another's ids mean nothing.
    cursor_url            TEXT COLLATE "C",
    changes_read          BIGINT NOT NULL DEFAULT 0,
    events_published      BIGINT NOT NULL DEFAULT 0,
    -- Changes for an owner who is not an agent here.
    skipped_unknown_owner BIGINT NOT NULL DEFAULT 0,
    -- Changes not told: the helpdesk sent them, or their ticket, in a form that could
    -- not be read, or no longer shows the ticket (deleted, moved out of sight).
    changes_dropped       BIGINT NOT NULL DEFAULT 0,
    tickets_released      BIGINT NOT NULL DEFAULT 0,
    -- Why the helpdesk last refused to give a ticket back, until it next gives one.
    release_error         TEXT COLLATE "C",
    release_error_at      TEXT COLLATE "C",
    last_success_at       TEXT COLLATE "C",
    -- The helpdesk's own time of the newest change read: how far behind alerts are.
    last_change_at        TEXT COLLATE "C",
    last_error            TEXT COLLATE "C",
    last_error_at         TEXT COLLATE "C",
    started_at            TEXT COLLATE "C" NOT NULL
);

-- Warnings of a ticket's due time already given: once a ticket and due time.
CREATE TABLE helpdesk_due_warnings (
    connector TEXT COLLATE "C" NOT NULL,
    ticket_id TEXT COLLATE "C" NOT NULL,
    due       TEXT COLLATE "C" NOT NULL,
    warned_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (connector, ticket_id, due)
);

-- Ids between the transactions read that RT did not show: most are not tickets' (users,
-- groups, mail records), but a database that commits out of order can show a ticket's
-- later. Asked for again until they are read or are older than a few minutes.
CREATE TABLE helpdesk_gaps (
    connector      TEXT COLLATE "C" NOT NULL,
    transaction_id BIGINT NOT NULL,
    seen_at        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (connector, transaction_id)
);

-- Tickets being given back to the queue, from before the helpdesk is asked until the
-- comment that says why is written: a comment lost to a failure is written at the next
-- poll, once.
CREATE TABLE helpdesk_releases (
    connector  TEXT COLLATE "C" NOT NULL,
    ticket_id  BIGINT NOT NULL,
    reason     TEXT COLLATE "C" NOT NULL,
    started_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (connector, ticket_id)
);

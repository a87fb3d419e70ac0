-- Since when an agent's status is what it is: an agent Away for some minutes has their
-- helpdesk tickets given back to the queue.
ALTER TABLE agents ADD COLUMN status_since TEXT;
-- Whatever status an agent has now, as of now: nobody's tickets go back at once.
UPDATE agents SET status_since = strftime('%Y-%m-%dT%H:%M:%fZ', 'now');

-- A helpdesk the server follows: how far its changes were read (moved in the same
-- transaction as the events they produced), and how following it goes.
CREATE TABLE helpdesk_connectors (
    name                  TEXT PRIMARY KEY,
    url                   TEXT NOT NULL,
    -- The last change read: Request Tracker's transaction id; negative until the
    -- helpdesk first answered (then it starts at its newest change).
    cursor                INTEGER NOT NULL,
    -- The helpdesk the cursor is in (its address as checked): another's ids mean nothing.
    cursor_url            TEXT,
    changes_read          INTEGER NOT NULL DEFAULT 0,
    events_published      INTEGER NOT NULL DEFAULT 0,
    -- Changes for an owner who is not an agent here.
    skipped_unknown_owner INTEGER NOT NULL DEFAULT 0,
    -- Changes not told: the helpdesk sent them, or their ticket, in a form that could
    -- not be read, or no longer shows the ticket (deleted, moved out of sight).
    changes_dropped       INTEGER NOT NULL DEFAULT 0,
    tickets_released      INTEGER NOT NULL DEFAULT 0,
    -- Why the helpdesk last refused to give a ticket back, until it next gives one.
    release_error         TEXT,
    release_error_at      TEXT,
    last_success_at       TEXT,
    -- The helpdesk's own time of the newest change read: how far behind alerts are.
    last_change_at        TEXT,
    last_error            TEXT,
    last_error_at         TEXT,
    started_at            TEXT NOT NULL
);

-- Warnings of a ticket's due time already given: once a ticket and due time.
CREATE TABLE helpdesk_due_warnings (
    connector TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    due       TEXT NOT NULL,
    warned_at TEXT NOT NULL,
    PRIMARY KEY (connector, ticket_id, due)
);

-- Ids between the transactions read that RT did not show: most are not tickets' (users,
-- groups, mail records), but a database that commits out of order can show a ticket's
-- later. Asked for again until they are read or are older than a few minutes.
CREATE TABLE helpdesk_gaps (
    connector      TEXT NOT NULL,
    transaction_id INTEGER NOT NULL,
    seen_at        TEXT NOT NULL,
    PRIMARY KEY (connector, transaction_id)
);

-- Tickets being given back to the queue, from before the helpdesk is asked until the
-- comment that says why is written: a comment lost to a failure is written at the next
-- poll, once.
CREATE TABLE helpdesk_releases (
    connector  TEXT NOT NULL,
    ticket_id  INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    started_at TEXT NOT NULL,
    PRIMARY KEY (connector, ticket_id)
);

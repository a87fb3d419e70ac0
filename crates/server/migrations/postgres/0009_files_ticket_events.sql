-- Mirrors sqlite/0009_files_ticket_events.sql; ticket_events.id (SQLite's rowid alias) is an identity column.
-- Files kept on customers' records; the bytes are under <data-dir>/files, named by id.
CREATE TABLE person_files (
    id           TEXT COLLATE "C" PRIMARY KEY,
    person_id    TEXT COLLATE "C" NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    name         TEXT COLLATE "C" NOT NULL,
    content_type TEXT COLLATE "C" NOT NULL,
    size         BIGINT NOT NULL,
    uploaded_by  TEXT COLLATE "C" REFERENCES agents (id) ON DELETE SET NULL,
    uploaded_at  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX person_files_person ON person_files (person_id, uploaded_at);

-- Each ticket event once, whoever received it, with the email of the customer it is
-- about when the helpdesk named one. Joined to person_emails when read, so a ticket
-- follows its address into whichever record holds it (after a merge too).
-- id counts up in the order the events were stored, which breaks ties of created_at.
CREATE TABLE ticket_events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id       TEXT COLLATE "C" NOT NULL,
    event_type      TEXT COLLATE "C" NOT NULL,
    title           TEXT COLLATE "C" NOT NULL,
    url             TEXT COLLATE "C",
    requester_email TEXT COLLATE "C",
    created_at      TEXT COLLATE "C" NOT NULL
);
CREATE INDEX ticket_events_requester ON ticket_events (requester_email, id);

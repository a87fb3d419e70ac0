-- Files kept on customers' records; the bytes are under <data-dir>/files, named by id.
CREATE TABLE person_files (
    id           TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    uploaded_by  TEXT REFERENCES agents (id) ON DELETE SET NULL,
    uploaded_at  TEXT NOT NULL
);
CREATE INDEX person_files_person ON person_files (person_id, uploaded_at);

-- Each ticket event once, whoever received it, with the email of the customer it is
-- about when the helpdesk named one. Joined to person_emails when read, so a ticket
-- follows its address into whichever record holds it (after a merge too).
-- id counts up in the order the events were stored, which breaks ties of created_at.
CREATE TABLE ticket_events (
    id              INTEGER PRIMARY KEY,
    ticket_id       TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    title           TEXT NOT NULL,
    url             TEXT,
    requester_email TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX ticket_events_requester ON ticket_events (requester_email, id);

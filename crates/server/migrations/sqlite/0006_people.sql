-- The helpdesk's users (customers): records agents keep, with their organizations, emails
-- and notes. Agents are in `agents`; the directory shows both.

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE people (
    -- The person's row in people_search. Declared, so VACUUM keeps it.
    search_id             INTEGER PRIMARY KEY,
    id                    TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    -- lower(name), what the directory sorts and pages by.
    sort_name             TEXT NOT NULL,
    organization_id       TEXT REFERENCES organizations (id) ON DELETE SET NULL,
    phone                 TEXT,
    website               TEXT,
    im                    TEXT,
    twitter               TEXT,
    linkedin              TEXT,
    facebook              TEXT,
    address               TEXT,
    summary               TEXT,
    timezone              TEXT,
    language              TEXT,
    suppress_auto_replies BOOLEAN NOT NULL DEFAULT FALSE,
    version               BIGINT NOT NULL DEFAULT 1,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE INDEX people_sort ON people (sort_name, id);
CREATE INDEX people_organization ON people (organization_id, sort_name, id);

-- An address belongs to one person; each person has exactly one primary address.
CREATE TABLE person_emails (
    address    TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    is_primary BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX person_emails_person ON person_emails (person_id);
CREATE UNIQUE INDEX person_emails_one_primary ON person_emails (person_id) WHERE is_primary;

CREATE TABLE person_notes (
    id         TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    author_id  TEXT REFERENCES agents (id) ON DELETE SET NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX person_notes_person ON person_notes (person_id, created_at DESC, id);

-- What a search matches: the name, every email, the organization and the phone's digits,
-- one row a person under its search_id. SQLite's FTS5, kept by the code that writes
-- a person; no content of its own beyond the index.
CREATE VIRTUAL TABLE people_search USING fts5 (
    terms,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);

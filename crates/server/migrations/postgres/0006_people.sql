-- Mirrors sqlite/0006_people.sql; search_id is an identity column (SQLite's rowid alias), and FTS5's people_search becomes a table with a tsvector (GIN, unaccented) and each person's sort key.

-- The helpdesk's users (customers): records agents keep, with their organizations, emails
-- and notes. Agents are in `agents`; the directory shows both.

CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE TABLE organizations (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE people (
    -- The person's row in people_search.
    search_id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                    TEXT COLLATE "C" NOT NULL UNIQUE,
    name                  TEXT COLLATE "C" NOT NULL,
    -- lower(name), what the directory sorts and pages by.
    sort_name             TEXT COLLATE "C" NOT NULL,
    organization_id       TEXT COLLATE "C" REFERENCES organizations (id) ON DELETE SET NULL,
    phone                 TEXT COLLATE "C",
    website               TEXT COLLATE "C",
    im                    TEXT COLLATE "C",
    twitter               TEXT COLLATE "C",
    linkedin              TEXT COLLATE "C",
    facebook              TEXT COLLATE "C",
    address               TEXT COLLATE "C",
    summary               TEXT COLLATE "C",
    timezone              TEXT COLLATE "C",
    language              TEXT COLLATE "C",
    suppress_auto_replies BOOLEAN NOT NULL DEFAULT FALSE,
    version               BIGINT NOT NULL DEFAULT 1,
    created_at            TEXT COLLATE "C" NOT NULL,
    updated_at            TEXT COLLATE "C" NOT NULL
);
CREATE INDEX people_sort ON people (sort_name, id);
CREATE INDEX people_organization ON people (organization_id, sort_name, id);

-- An address belongs to one person; each person has exactly one primary address.
CREATE TABLE person_emails (
    address    TEXT COLLATE "C" PRIMARY KEY,
    person_id  TEXT COLLATE "C" NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    is_primary BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX person_emails_person ON person_emails (person_id);
CREATE UNIQUE INDEX person_emails_one_primary ON person_emails (person_id) WHERE is_primary;

CREATE TABLE person_notes (
    id         TEXT COLLATE "C" PRIMARY KEY,
    person_id  TEXT COLLATE "C" NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    author_id  TEXT COLLATE "C" REFERENCES agents (id) ON DELETE SET NULL,
    body       TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX person_notes_person ON person_notes (person_id, created_at DESC, id);

-- What a search matches (search::search_terms), one row a person, kept by the code that
-- writes a person. `rowid` is named as in SQLite so the same DELETE works. `words` is
-- lowercased and unaccented like FTS5's unicode61 remove_diacritics, for prefix search
-- (`words @@ to_tsquery('people_search', 'ada:* & lov:*')`).
--
-- The row also carries what a page of results is chosen and ordered by (the person's
-- sort key, id and organization), so a search takes its page from the matching rows
-- alone: a common first name matches thousands of people, and joining each to `people`
-- before sorting, or walking `people` in name order until enough match, costs tens to
-- hundreds of milliseconds where this costs a few.
CREATE TEXT SEARCH CONFIGURATION people_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION people_search
    ALTER MAPPING FOR asciiword, word, numword, asciihword, hword, numhword,
                      hword_asciipart, hword_part, hword_numpart
    WITH unaccent, simple;

CREATE TABLE people_search (
    rowid           BIGINT PRIMARY KEY REFERENCES people (search_id) ON DELETE CASCADE,
    terms           TEXT COLLATE "C" NOT NULL,
    words           TSVECTOR GENERATED ALWAYS AS (to_tsvector('people_search'::regconfig, terms)) STORED,
    person_id       TEXT COLLATE "C" NOT NULL,
    sort_name       TEXT COLLATE "C" NOT NULL,
    organization_id TEXT COLLATE "C" REFERENCES organizations (id) ON DELETE SET NULL
);
CREATE INDEX people_search_words ON people_search USING GIN (words);

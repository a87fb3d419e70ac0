-- Mirrors sqlite/0007_custom_fields.sql; identical (portable SQL).
-- Fields admins define for customers' records, and each record's values.
CREATE TABLE custom_fields (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL UNIQUE,
    -- text, number, date or choice
    kind       TEXT COLLATE "C" NOT NULL,
    -- For a choice: the options as a JSON array of strings.
    choices    TEXT COLLATE "C",
    created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE person_field_values (
    person_id TEXT COLLATE "C" NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    field_id  TEXT COLLATE "C" NOT NULL REFERENCES custom_fields (id) ON DELETE CASCADE,
    value     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (person_id, field_id)
);

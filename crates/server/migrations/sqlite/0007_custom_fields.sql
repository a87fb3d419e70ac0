-- Fields admins define for customers' records, and each record's values.
CREATE TABLE custom_fields (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    -- text, number, date or choice
    kind       TEXT NOT NULL,
    -- For a choice: the options as a JSON array of strings.
    choices    TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE person_field_values (
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    field_id  TEXT NOT NULL REFERENCES custom_fields (id) ON DELETE CASCADE,
    value     TEXT NOT NULL,
    PRIMARY KEY (person_id, field_id)
);

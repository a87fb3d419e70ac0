-- Mirrors sqlite/0008_usergroups.sql; identical (portable SQL).
-- Groups customers belong to (for permissions and routing in the helpdesk).
CREATE TABLE usergroups (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE person_usergroups (
    person_id    TEXT COLLATE "C" NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    usergroup_id TEXT COLLATE "C" NOT NULL REFERENCES usergroups (id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, usergroup_id)
);

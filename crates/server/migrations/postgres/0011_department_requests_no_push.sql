-- Mirrors sqlite/0011_department_requests_no_push.sql; the push-removing UPDATE uses jsonb in place of SQLite's json functions.

-- An agent's change of department, asked for by the agent and decided by an
-- administrator: the department decides what "department only" profiles show, so an
-- agent cannot move themselves. `value` NULL asks for no department.
-- state: 'open', 'approved', 'denied' or 'withdrawn'.
CREATE TABLE department_requests (
    id            TEXT COLLATE "C" PRIMARY KEY,
    agent_id      TEXT COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    value         TEXT COLLATE "C",
    state         TEXT COLLATE "C" NOT NULL,
    requested_at  TEXT COLLATE "C" NOT NULL,
    decided_by    TEXT COLLATE "C" REFERENCES agents (id) ON DELETE SET NULL,
    decided_at    TEXT COLLATE "C",
    decision_note TEXT COLLATE "C"
);
-- One open request an agent; decided ones are kept as history.
CREATE UNIQUE INDEX department_requests_open ON department_requests (agent_id)
    WHERE state = 'open';
CREATE INDEX department_requests_state ON department_requests (state, requested_at);

-- There is no push channel: nothing ever delivered one. Stored choices lose the field.
UPDATE notification_prefs SET prefs = jsonb_set(
    prefs::jsonb,
    '{events}',
    (SELECT COALESCE(jsonb_agg(CASE WHEN jsonb_typeof(row.value) = 'object'
                                    THEN row.value - 'push' ELSE row.value END
                               ORDER BY row.ordinality), '[]'::jsonb)
     FROM jsonb_array_elements(prefs::jsonb -> 'events') WITH ORDINALITY AS row)
)::text
WHERE jsonb_typeof(prefs::jsonb -> 'events') = 'array';

-- Mirrors sqlite/0011_department_requests_no_push.sql; the push-removing UPDATE uses jsonb in place of SQLite's json functions.

-- An agent's change of department, asked for by the agent and decided by an
-- administrator: the department decides what "department only" profiles show, so an
-- agent cannot move themselves. `value` NULL asks for no department.
-- state: 'open', 'approved', 'denied' or 'withdrawn'.
CREATE TABLE department_requests (
    id            TEXT PRIMARY KEY,
    agent_id      TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    value         TEXT,
    state         TEXT NOT NULL,
    requested_at  TEXT NOT NULL,
    decided_by    TEXT REFERENCES agents (id) ON DELETE SET NULL,
    decided_at    TEXT,
    decision_note TEXT
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

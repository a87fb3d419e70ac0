-- Mirrors sqlite/0004_team_join_requests.sql; identical (portable SQL).
-- Requests to join a team, decided by one of its leads or an administrator.
-- state: 'open', 'approved' or 'denied'.
CREATE TABLE team_join_requests (
    id           TEXT COLLATE "C" PRIMARY KEY,
    team_id      TEXT COLLATE "C" NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    agent_id     TEXT COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    note         TEXT COLLATE "C",
    state        TEXT COLLATE "C" NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL,
    decided_by   TEXT COLLATE "C" REFERENCES agents (id) ON DELETE SET NULL,
    decided_at   TEXT COLLATE "C",
    decision_note TEXT COLLATE "C"
);
-- One open request per agent and team; decided ones are kept as history.
CREATE UNIQUE INDEX team_join_requests_open ON team_join_requests (team_id, agent_id)
    WHERE state = 'open';
CREATE INDEX team_join_requests_agent ON team_join_requests (agent_id, created_at);
CREATE INDEX team_join_requests_team_state ON team_join_requests (team_id, state);

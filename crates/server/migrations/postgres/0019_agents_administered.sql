-- Mirrors sqlite/0019_agents_administered.sql.
-- Agents as administrators manage them (admin_agents.rs): an agent who leaves is
-- deactivated, not deleted, so their history stays; the list shows when each last signed
-- in; and a new agent's first password comes through a welcome link, which stays valid
-- longer than a reset link (purpose 'welcome' or 'reset').
ALTER TABLE agents ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE agents ADD COLUMN deactivated_at TEXT COLLATE "C";
ALTER TABLE agents ADD COLUMN last_sign_in_at TEXT COLLATE "C";
ALTER TABLE password_resets ADD COLUMN purpose TEXT COLLATE "C" NOT NULL DEFAULT 'reset';
UPDATE agents SET last_sign_in_at = (
    SELECT MAX(attempted_at) FROM sign_in_attempts
    WHERE sign_in_attempts.agent_id = agents.id AND sign_in_attempts.succeeded
);
CREATE INDEX agents_admins ON agents (is_admin, active);

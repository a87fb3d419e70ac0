-- Mirrors sqlite/0005_privacy.sql; identical (portable SQL).
-- Who sees an agent's profile beyond name and photo, and how colleagues may reach them.
ALTER TABLE agents ADD COLUMN visibility TEXT COLLATE "C" NOT NULL DEFAULT 'public';
ALTER TABLE agents ADD COLUMN allow_direct_messages BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE agents ADD COLUMN show_phone BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE agents ADD COLUMN show_online_status BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE agents ADD COLUMN calendar_integration BOOLEAN NOT NULL DEFAULT FALSE;

-- Administrators keep the list of usergroups (customers/usergroups.rs): once any group is
-- listed, a record takes only listed ones. Groups made before the list stay, unlisted,
-- with their members.
ALTER TABLE usergroups ADD COLUMN listed BOOLEAN NOT NULL DEFAULT FALSE;

-- Who made and who revoked an integration's token, and who set a webhook's secret, when
-- an administrator did so in the app (integration_tokens.rs, hooks.rs); NULL when it was
-- done on the server's command line.
ALTER TABLE integration_tokens ADD COLUMN created_by TEXT;
ALTER TABLE integration_tokens ADD COLUMN revoked_by TEXT;
ALTER TABLE hook_secrets ADD COLUMN created_by TEXT;

-- A custom field administrators retire leaves customers' records but keeps its values
-- (customers/fields.rs); restored, it shows them again.
ALTER TABLE custom_fields ADD COLUMN retired_at TEXT;

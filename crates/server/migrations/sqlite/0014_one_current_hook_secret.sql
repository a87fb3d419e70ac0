-- A source has one current secret at most (the others are retiring), whatever writes
-- them: `add-hook` also serializes rotations, and this makes it a rule of the table.
CREATE UNIQUE INDEX hook_secrets_current ON hook_secrets (source) WHERE retires_at IS NULL;

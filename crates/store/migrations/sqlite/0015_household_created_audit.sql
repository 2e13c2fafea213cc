-- The audit record that registered a household (the import batch or the
-- generator's batch it came in), so its history starts with how it arrived.
ALTER TABLE household ADD COLUMN created_audit INTEGER;

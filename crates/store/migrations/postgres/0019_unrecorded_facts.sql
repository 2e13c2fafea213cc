-- A household registered from a sheet without income (or assets) columns has
-- them not recorded: a rule that reads them cannot decide for it.
ALTER TABLE household ADD COLUMN income_unrecorded BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE household ADD COLUMN assets_unrecorded BOOLEAN NOT NULL DEFAULT FALSE;

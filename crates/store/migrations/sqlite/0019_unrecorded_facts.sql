-- A household registered from a sheet without income (or assets) columns has
-- them not recorded: a rule that reads them cannot decide for it.
ALTER TABLE household ADD COLUMN income_unrecorded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE household ADD COLUMN assets_unrecorded INTEGER NOT NULL DEFAULT 0;

-- A member registered from a sheet without some of the facts the policies read
-- (marital status, health, work ability, employment, schooling) has them at a
-- default, not recorded: bits of `policy::Unrecorded` (4, 8, 16, 32, 64). A
-- rule that reads such a fact cannot decide for the household until the
-- member's form is saved.
ALTER TABLE person ADD COLUMN unrecorded INTEGER NOT NULL DEFAULT 0;

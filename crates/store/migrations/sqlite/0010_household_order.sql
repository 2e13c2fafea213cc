-- Registry lists are in the ledger's order, community then 户编号. This index
-- gives that order within any area, so a page of a long list is read by
-- walking it rather than by sorting every match. It starts with community, so
-- it also serves everything the index on community alone did.
CREATE INDEX household_area_number ON household (community, number);
DROP INDEX household_community;

-- Walking that order tests each household for a category held on a day: the
-- household's holdings with their category and dates, read from the index
-- alone. It starts with household_id, so it replaces the index on that column.
CREATE INDEX holding_held ON holding (household_id, category, start_date, end_date);
DROP INDEX holding_household;

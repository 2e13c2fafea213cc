-- A registry list filtered by category within a street counted and paged every
-- household of the street, testing each for the category. Each holding now
-- carries its household's community, so the holdings of one category in one
-- area are an index range (read without touching the table).
ALTER TABLE holding ADD COLUMN community TEXT NOT NULL DEFAULT '';
UPDATE holding SET community = (SELECT h.community FROM household h WHERE h.id = holding.household_id);
DROP INDEX holding_category;
CREATE INDEX holding_area ON holding (category, community, start_date, end_date, household_id);

-- Kept true whatever writes: a holding inserted without its community takes
-- its household's; a household that moves community takes its holdings along;
-- a holding moved to another household takes that household's.
CREATE TRIGGER holding_community_on_insert AFTER INSERT ON holding
    WHEN NEW.community = ''
BEGIN
    UPDATE holding SET community = (SELECT community FROM household WHERE id = NEW.household_id) WHERE id = NEW.id;
END;
CREATE TRIGGER holding_community_on_move AFTER UPDATE OF household_id ON holding
BEGIN
    UPDATE holding SET community = (SELECT community FROM household WHERE id = NEW.household_id) WHERE id = NEW.id;
END;
CREATE TRIGGER household_community_to_holdings AFTER UPDATE OF community ON household
    WHEN NEW.community <> OLD.community
BEGIN
    UPDATE holding SET community = NEW.community WHERE household_id = NEW.id;
END;

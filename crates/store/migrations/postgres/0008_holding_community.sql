-- A registry list filtered by category within a street counted and paged every
-- household of the street, testing each for the category. Each holding now
-- carries its household's community, so the holdings of one category in one
-- area are an index range (read without touching the table).
ALTER TABLE holding ADD COLUMN community TEXT NOT NULL DEFAULT '';
UPDATE holding g SET community = h.community FROM household h WHERE h.id = g.household_id;
DROP INDEX holding_category;
CREATE INDEX holding_area ON holding (category, community, start_date, end_date, household_id);

-- Kept true whatever writes: a holding inserted without its community takes
-- its household's; a household that moves community takes its holdings along;
-- a holding moved to another household takes that household's.
CREATE FUNCTION holding_take_community() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.community := (SELECT community FROM household WHERE id = NEW.household_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER holding_community_on_insert BEFORE INSERT ON holding
    FOR EACH ROW WHEN (NEW.community = '') EXECUTE FUNCTION holding_take_community();
CREATE TRIGGER holding_community_on_move BEFORE UPDATE OF household_id ON holding
    FOR EACH ROW EXECUTE FUNCTION holding_take_community();

CREATE FUNCTION household_community_to_holdings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE holding SET community = NEW.community WHERE household_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER household_community_to_holdings AFTER UPDATE OF community ON household
    FOR EACH ROW WHEN (NEW.community <> OLD.community) EXECUTE FUNCTION household_community_to_holdings();

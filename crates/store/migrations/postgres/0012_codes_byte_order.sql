-- Division codes and household numbers compare byte by byte, as in SQLite.
-- A jurisdiction or a number's start is read as a range of an index
-- (`community >= '430602001' AND community < '430602001~'`); under a
-- database's linguistic default collation (ICU, or a locale such as
-- zh_CN.UTF-8) punctuation sorts before digits, and those ranges came back empty.
-- The triggers that keep each holding's community name the column, so they
-- are dropped for the change and made again as they were.
DROP TRIGGER household_community_to_holdings ON household;
DROP TRIGGER holding_community_on_insert ON holding;
ALTER TABLE household
    ALTER COLUMN community TYPE TEXT COLLATE "C",
    ALTER COLUMN number TYPE TEXT COLLATE "C";
ALTER TABLE holding
    ALTER COLUMN community TYPE TEXT COLLATE "C";
CREATE TRIGGER holding_community_on_insert BEFORE INSERT ON holding
    FOR EACH ROW WHEN (NEW.community = '') EXECUTE FUNCTION holding_take_community();
CREATE TRIGGER household_community_to_holdings AFTER UPDATE OF community ON household
    FOR EACH ROW WHEN (NEW.community <> OLD.community) EXECUTE FUNCTION household_community_to_holdings();

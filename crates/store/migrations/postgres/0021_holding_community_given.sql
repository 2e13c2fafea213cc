-- Every statement that adds a holding names its household's community
-- (`INSERT_HOLDING` and `ADD_HOLDING`), so the trigger that filled an empty
-- one in goes, as on SQLite (where it made each insert keep a statement
-- journal). The triggers that carry the community along when a household or
-- a holding moves stay, and so does their function.
DROP TRIGGER holding_community_on_insert ON holding;

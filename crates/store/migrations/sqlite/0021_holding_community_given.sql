-- Every statement that adds a holding names its household's community
-- (`INSERT_HOLDING` and `ADD_HOLDING`), so the trigger that filled an empty
-- one in goes. On SQLite its mere presence made each single-row insert into
-- `holding` keep a statement journal (a copy of every page it touched), a
-- third of what an import's holdings cost. The triggers that carry the
-- community along when a household or a holding moves stay.
DROP TRIGGER holding_community_on_insert;

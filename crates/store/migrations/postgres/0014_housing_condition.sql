-- The state of a household's home (住房条件: good, fair, poor), beside the 危房 flag; NULL when not recorded.
ALTER TABLE household ADD COLUMN housing_condition TEXT;

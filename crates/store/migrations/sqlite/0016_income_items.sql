-- A household's own monthly income (家庭收入项目: business, property, transfer, other),
-- as `kind:fen` pairs, and their sum, which the per-capita income adds to the members'.
ALTER TABLE household ADD COLUMN income_items TEXT NOT NULL DEFAULT '';
ALTER TABLE household ADD COLUMN items_income_fen INTEGER NOT NULL DEFAULT 0;

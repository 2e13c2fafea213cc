-- A household's id is never given again: PostgreSQL's identity columns already keep
-- to that (SQLite's table is rebuilt with AUTOINCREMENT in the same migration). Nothing
-- to change here.
SELECT 1;

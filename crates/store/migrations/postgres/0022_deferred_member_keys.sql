-- The index of holdings by member leaves out the household's own (person_id NULL),
-- which no query looks up by member. (On SQLite this migration also has the
-- references of person and holding checked at commit, for a reason of SQLite's
-- own: its statement journal. PostgreSQL's references stay as they are.)
DROP INDEX holding_person;
CREATE INDEX holding_person ON holding (person_id) WHERE person_id IS NOT NULL;

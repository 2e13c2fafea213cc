-- foreign keys off: this migration rebuilds person and holding (holding refers to person);
-- they are checked before it commits.
--
-- The references of person and holding to their household and member are checked
-- when the transaction commits (DEFERRABLE INITIALLY DEFERRED) instead of after each
-- statement. An immediate check has SQLite keep a statement journal, a copy of each
-- page a statement changes, for every statement that may write more rows than one;
-- the import writes members and holdings many rows a statement and rolls back whole
-- on any error, so that journal was a third of its holdings' time. Deleting a
-- household or a member still removes what depends on it at once (ON DELETE CASCADE).
-- The index of holdings by member leaves out the household's own (person_id NULL),
-- which no query looks up by member.
-- Tables rebuilt as SQLite's documentation describes (new table, copy, drop, rename);
-- the triggers naming holding are rebuilt around it.
DROP TRIGGER household_community_to_holdings;
DROP TRIGGER holding_community_on_move;

CREATE TABLE person_new (
    id                 INTEGER PRIMARY KEY,
    household_id       INTEGER NOT NULL REFERENCES household (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    name               TEXT NOT NULL,
    id_cipher          BLOB NOT NULL,
    id_bidx            BLOB NOT NULL UNIQUE,
    id_masked          TEXT NOT NULL,
    sex                TEXT NOT NULL CHECK (sex IN ('male', 'female')),
    birth_date         TEXT NOT NULL,
    relation           TEXT NOT NULL,
    phone_cipher       BLOB,
    phone_bidx         BLOB,
    phone_masked       TEXT,
    marital            TEXT NOT NULL,
    health             TEXT NOT NULL,
    disability_kind    TEXT,
    disability_grade   INTEGER CHECK (disability_grade BETWEEN 1 AND 4),
    disability_cert    BLOB,
    work_ability       TEXT NOT NULL,
    employment         TEXT NOT NULL,
    schooling          TEXT NOT NULL,
    monthly_income_fen INTEGER NOT NULL DEFAULT 0,
    death_date         TEXT,
    unrecorded         INTEGER NOT NULL DEFAULT 0
);
INSERT INTO person_new (id, household_id, name, id_cipher, id_bidx, id_masked, sex, birth_date, relation,
    phone_cipher, phone_bidx, phone_masked, marital, health, disability_kind, disability_grade, disability_cert,
    work_ability, employment, schooling, monthly_income_fen, death_date, unrecorded)
SELECT id, household_id, name, id_cipher, id_bidx, id_masked, sex, birth_date, relation,
    phone_cipher, phone_bidx, phone_masked, marital, health, disability_kind, disability_grade, disability_cert,
    work_ability, employment, schooling, monthly_income_fen, death_date, unrecorded
FROM person ORDER BY id;
DROP TABLE person;
ALTER TABLE person_new RENAME TO person;
CREATE INDEX person_household ON person (household_id);
CREATE INDEX person_phone ON person (phone_bidx);
-- Exactly one head per household.
CREATE UNIQUE INDEX person_one_head ON person (household_id) WHERE relation = 'head';

CREATE TABLE holding_new (
    id           INTEGER PRIMARY KEY,
    household_id INTEGER NOT NULL REFERENCES household (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    person_id    INTEGER REFERENCES person (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    category     TEXT NOT NULL,
    start_date   TEXT NOT NULL,
    end_date     TEXT,
    community    TEXT NOT NULL DEFAULT ''
);
INSERT INTO holding_new (id, household_id, person_id, category, start_date, end_date, community)
SELECT id, household_id, person_id, category, start_date, end_date, community FROM holding ORDER BY id;
DROP TABLE holding;
ALTER TABLE holding_new RENAME TO holding;
CREATE INDEX holding_person ON holding (person_id) WHERE person_id IS NOT NULL;
CREATE INDEX holding_area ON holding (category, community, start_date, end_date, household_id);
CREATE INDEX holding_held ON holding (household_id, category, start_date, end_date);

CREATE TRIGGER household_community_to_holdings AFTER UPDATE OF community ON household
    WHEN NEW.community <> OLD.community
BEGIN
    UPDATE holding SET community = NEW.community WHERE household_id = NEW.id;
END;
CREATE TRIGGER holding_community_on_move AFTER UPDATE OF household_id ON holding
BEGIN
    UPDATE holding SET community = (SELECT community FROM household WHERE id = NEW.household_id) WHERE id = NEW.id;
END;

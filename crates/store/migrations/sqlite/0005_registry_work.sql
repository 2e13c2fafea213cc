-- A keyed digest of each household's content (reveals nothing by itself):
-- a re-import compares it to tell unchanged households from changed ones.
ALTER TABLE household ADD COLUMN digest BLOB;
CREATE INDEX person_name ON person (name);
CREATE INDEX person_birth ON person (birth_date);
CREATE INDEX holding_person ON holding (person_id);

-- Households paired with a social worker or helper (结对帮扶); they see only these.
CREATE TABLE pairing (
    id           INTEGER PRIMARY KEY,
    household_id INTEGER NOT NULL REFERENCES household (id) ON DELETE CASCADE,
    account_id   INTEGER NOT NULL REFERENCES account (id),
    started      TEXT NOT NULL,
    ended        TEXT
);
CREATE UNIQUE INDEX pairing_live ON pairing (household_id, account_id) WHERE ended IS NULL;
CREATE INDEX pairing_account ON pairing (account_id, household_id) WHERE ended IS NULL;

-- Column mappings an account saved for its own ledgers: header text → field.
CREATE TABLE import_mapping (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES account (id),
    name       TEXT NOT NULL,
    columns    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (account_id, name)
);

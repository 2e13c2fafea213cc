-- Administrative divisions (NBS), loaded from data/divisions.tsv.gz by `zhongfu migrate`.
CREATE TABLE division (
    code         TEXT PRIMARY KEY CHECK (length(code) = 12),
    name         TEXT NOT NULL,
    level        TEXT NOT NULL CHECK (level IN ('province', 'city', 'county', 'township', 'village')),
    parent       TEXT,
    has_children INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX division_parent ON division (parent, code);
CREATE INDEX division_name ON division (name);

-- Small facts about the database itself (e.g. the division data's checksum).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- The household registry (一户一表).
CREATE TABLE household (
    id                INTEGER PRIMARY KEY,
    number            TEXT NOT NULL UNIQUE,
    community         TEXT NOT NULL REFERENCES division (code),
    address           TEXT NOT NULL,
    phone_cipher      BLOB,
    phone_bidx        BLOB,
    phone_masked      TEXT,
    registration      TEXT NOT NULL,
    tenure            TEXT NOT NULL,
    dangerous_housing INTEGER NOT NULL DEFAULT 0,
    assets_fen        INTEGER NOT NULL DEFAULT 0,
    tags              TEXT NOT NULL DEFAULT '',
    version           INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX household_community ON household (community);
CREATE INDEX household_phone ON household (phone_bidx);

CREATE TABLE person (
    id                 INTEGER PRIMARY KEY,
    household_id       INTEGER NOT NULL REFERENCES household (id) ON DELETE CASCADE,
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
    death_date         TEXT
);
CREATE INDEX person_household ON person (household_id);
CREATE INDEX person_phone ON person (phone_bidx);
-- Exactly one head per household.
CREATE UNIQUE INDEX person_one_head ON person (household_id) WHERE relation = 'head';

-- Assistance categories held by a household (person_id NULL) or one member.
CREATE TABLE holding (
    id           INTEGER PRIMARY KEY,
    household_id INTEGER NOT NULL REFERENCES household (id) ON DELETE CASCADE,
    person_id    INTEGER REFERENCES person (id) ON DELETE CASCADE,
    category     TEXT NOT NULL,
    start_date   TEXT NOT NULL,
    end_date     TEXT
);
CREATE INDEX holding_household ON holding (household_id);
CREATE INDEX holding_category ON holding (category);

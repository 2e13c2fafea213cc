-- foreign keys off: this migration rebuilds household, which other tables refer to
-- (dropping it with them on would delete their rows); they are checked before it commits.
--
-- A household's id is never given again. Without AUTOINCREMENT, SQLite gives a new row
-- one more than the largest id in the table, so a household merged away while it had the
-- largest id lent that id to the next one registered: the newcomer's history showed the
-- old household's records, and the sweep took its first version for a stale copy.
-- The table is rebuilt as SQLite's documentation describes (new table, copy, drop,
-- rename); the triggers of holding name household, so they are rebuilt around it.
CREATE TABLE household_new (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
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
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    digest            BLOB,
    housing_condition TEXT,
    created_audit     INTEGER,
    income_items      TEXT NOT NULL DEFAULT '',
    items_income_fen  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO household_new (id, number, community, address, phone_cipher, phone_bidx, phone_masked, registration, tenure,
    dangerous_housing, assets_fen, tags, version, created_at, updated_at, digest, housing_condition, created_audit,
    income_items, items_income_fen)
SELECT id, number, community, address, phone_cipher, phone_bidx, phone_masked, registration, tenure,
    dangerous_housing, assets_fen, tags, version, created_at, updated_at, digest, housing_condition, created_audit,
    income_items, items_income_fen FROM household;
DROP TRIGGER holding_community_on_insert;
DROP TRIGGER holding_community_on_move;
DROP TABLE household;
ALTER TABLE household_new RENAME TO household;
CREATE INDEX household_phone ON household (phone_bidx);
CREATE INDEX household_area_number ON household (community, number);
CREATE TRIGGER household_community_to_holdings AFTER UPDATE OF community ON household
    WHEN NEW.community <> OLD.community
BEGIN
    UPDATE holding SET community = NEW.community WHERE household_id = NEW.id;
END;
CREATE TRIGGER holding_community_on_insert AFTER INSERT ON holding
    WHEN NEW.community = ''
BEGIN
    UPDATE holding SET community = (SELECT community FROM household WHERE id = NEW.household_id) WHERE id = NEW.id;
END;
CREATE TRIGGER holding_community_on_move AFTER UPDATE OF household_id ON holding
BEGIN
    UPDATE holding SET community = (SELECT community FROM household WHERE id = NEW.household_id) WHERE id = NEW.id;
END;

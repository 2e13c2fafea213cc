-- The policy catalogue: a policy and its versions. A version is drafted by
-- one account and made active by another (maker ≠ checker); the shipped
-- catalogue's versions have no drafter.
CREATE TABLE policy (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE policy_version (
    id          INTEGER PRIMARY KEY,
    policy_id   INTEGER NOT NULL REFERENCES policy (id),
    version     INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'active', 'superseded', 'discarded')),
    definition  TEXT NOT NULL,
    drafted_by  INTEGER REFERENCES account (id),
    drafted_at  TEXT NOT NULL,
    approved_by INTEGER REFERENCES account (id),
    approved_at TEXT,
    CHECK (approved_by IS NULL OR drafted_by IS NULL OR approved_by <> drafted_by),
    UNIQUE (policy_id, version)
);
CREATE UNIQUE INDEX policy_version_one_active ON policy_version (policy_id) WHERE status = 'active';
CREATE UNIQUE INDEX policy_version_one_draft ON policy_version (policy_id) WHERE status = 'draft';

-- The district's dated parameters (params.*), one JSON definition each.
CREATE TABLE policy_param (
    name       TEXT PRIMARY KEY,
    definition TEXT NOT NULL
);

-- A worker's mark on a sweep result: proposed for intake, or dismissed with a
-- reason until the household changes (its version moves on).
CREATE TABLE sweep_mark (
    policy_id         INTEGER NOT NULL REFERENCES policy (id),
    household_id      INTEGER NOT NULL REFERENCES household (id) ON DELETE CASCADE,
    person_id         INTEGER NOT NULL DEFAULT 0,
    kind              TEXT NOT NULL CHECK (kind IN ('missing', 'stale')),
    status            TEXT NOT NULL CHECK (status IN ('proposed', 'dismissed')),
    reason            TEXT,
    household_version INTEGER NOT NULL,
    marked_by         INTEGER NOT NULL REFERENCES account (id),
    marked_at         TEXT NOT NULL,
    PRIMARY KEY (policy_id, household_id, person_id, kind)
);
CREATE INDEX sweep_mark_household ON sweep_mark (household_id);

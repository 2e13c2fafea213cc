-- A gradual exit (渐退期) can be ended early: its mark keeps kind 'taper' and
-- takes status 'ended', with the reason, and ends_on the day before the sweep
-- it was ended on. SQLite can't widen a CHECK, so the table is rebuilt with
-- its rows (no table refers to sweep_mark).
CREATE TABLE sweep_mark_end (
    policy_id         INTEGER NOT NULL REFERENCES policy (id),
    household_id      INTEGER NOT NULL REFERENCES household (id) ON DELETE CASCADE,
    person_id         INTEGER NOT NULL DEFAULT 0,
    kind              TEXT NOT NULL CHECK (kind IN ('missing', 'stale', 'taper')),
    status            TEXT NOT NULL CHECK (status IN ('proposed', 'dismissed', 'started', 'ended')),
    reason            TEXT,
    household_version INTEGER NOT NULL,
    marked_by         INTEGER NOT NULL REFERENCES account (id),
    marked_at         TEXT NOT NULL,
    ends_on           TEXT,
    CHECK ((kind = 'taper') = (status IN ('started', 'ended'))),
    CHECK ((kind = 'taper') = (ends_on IS NOT NULL)),
    PRIMARY KEY (policy_id, household_id, person_id, kind)
);
INSERT INTO sweep_mark_end (policy_id, household_id, person_id, kind, status, reason, household_version, marked_by,
                            marked_at, ends_on)
SELECT policy_id, household_id, person_id, kind, status, reason, household_version, marked_by, marked_at, ends_on
  FROM sweep_mark;
DROP TABLE sweep_mark;
ALTER TABLE sweep_mark_end RENAME TO sweep_mark;
CREATE INDEX sweep_mark_household ON sweep_mark (household_id);

-- 渐退期 (gradual exit): on an 应退未退 row of a policy with taper_months, a
-- worker starts the period; it is a mark of kind 'taper', status 'started',
-- ending on ends_on. Unlike a dismissal it holds whatever the household's
-- version. SQLite can't widen a CHECK, so the table is rebuilt with its rows
-- (no table refers to sweep_mark).
CREATE TABLE sweep_mark_taper (
    policy_id         INTEGER NOT NULL REFERENCES policy (id),
    household_id      INTEGER NOT NULL REFERENCES household (id) ON DELETE CASCADE,
    person_id         INTEGER NOT NULL DEFAULT 0,
    kind              TEXT NOT NULL CHECK (kind IN ('missing', 'stale', 'taper')),
    status            TEXT NOT NULL CHECK (status IN ('proposed', 'dismissed', 'started')),
    reason            TEXT,
    household_version INTEGER NOT NULL,
    marked_by         INTEGER NOT NULL REFERENCES account (id),
    marked_at         TEXT NOT NULL,
    ends_on           TEXT,
    CHECK ((kind = 'taper') = (status = 'started')),
    CHECK ((kind = 'taper') = (ends_on IS NOT NULL)),
    PRIMARY KEY (policy_id, household_id, person_id, kind)
);
INSERT INTO sweep_mark_taper (policy_id, household_id, person_id, kind, status, reason, household_version, marked_by,
                              marked_at)
SELECT policy_id, household_id, person_id, kind, status, reason, household_version, marked_by, marked_at
  FROM sweep_mark;
DROP TABLE sweep_mark;
ALTER TABLE sweep_mark_taper RENAME TO sweep_mark;
CREATE INDEX sweep_mark_household ON sweep_mark (household_id);

-- 渐退期 (gradual exit): on an 应退未退 row of a policy with taper_months, a
-- worker starts the period; it is a mark of kind 'taper', status 'started',
-- ending on ends_on. Unlike a dismissal it holds whatever the household's
-- version.
ALTER TABLE sweep_mark
    ADD COLUMN ends_on DATE,
    DROP CONSTRAINT sweep_mark_kind_check,
    DROP CONSTRAINT sweep_mark_status_check,
    ADD CONSTRAINT sweep_mark_kind_check CHECK (kind IN ('missing', 'stale', 'taper')),
    ADD CONSTRAINT sweep_mark_status_check CHECK (status IN ('proposed', 'dismissed', 'started')),
    ADD CONSTRAINT sweep_mark_taper_status CHECK ((kind = 'taper') = (status = 'started')),
    ADD CONSTRAINT sweep_mark_taper_ends CHECK ((kind = 'taper') = (ends_on IS NOT NULL));

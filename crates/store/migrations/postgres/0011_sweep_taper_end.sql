-- A gradual exit (渐退期) can be ended early: its mark keeps kind 'taper' and
-- takes status 'ended', with the reason, and ends_on the day before the sweep
-- it was ended on.
ALTER TABLE sweep_mark
    DROP CONSTRAINT sweep_mark_status_check,
    DROP CONSTRAINT sweep_mark_taper_status,
    ADD CONSTRAINT sweep_mark_status_check CHECK (status IN ('proposed', 'dismissed', 'started', 'ended')),
    ADD CONSTRAINT sweep_mark_taper_status CHECK ((kind = 'taper') = (status IN ('started', 'ended')));

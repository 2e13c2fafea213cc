-- A recorded death ends the member's categories at the end of its month. Each
-- category so ended keeps the end it had before (`end_before_death`, NULL: it ran
-- on), so a death cleared or corrected gives back exactly what it ended.
-- Deaths recorded before this kept nothing: their categories ended that month
-- are marked as having run on, as the correction of a death took them until now.
ALTER TABLE holding ADD COLUMN death_ended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE holding ADD COLUMN end_before_death TEXT;
UPDATE holding SET death_ended = 1
WHERE person_id IS NOT NULL
  AND end_date = (SELECT date(p.death_date, 'start of month', '+1 month', '-1 day')
                  FROM person p WHERE p.id = holding.person_id AND p.death_date IS NOT NULL);

-- A keyed digest of what an import last wrote of a member (NULL: unknown, or
-- changed since by hand), so a sheet read again tells the members it changes from
-- those it leaves as they are, and writes only the first.
ALTER TABLE person ADD COLUMN digest BYTEA;

-- Names are searched by any part (LIKE '%…%') and ages only within a
-- household (person_household serves), so these two indexes served no query
-- and cost every person written, an import's most.
DROP INDEX person_name;
DROP INDEX person_birth;

-- SQLite already compares text byte by byte (BINARY): the PostgreSQL
-- migration of the same number pins division codes and household numbers
-- to that order there.
SELECT 1;

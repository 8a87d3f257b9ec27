-- The smallest query, and several constant columns in one row.
SELECT 1;
SELECT 1, 2, 3;
SELECT 1 AS x, 'a' AS y;

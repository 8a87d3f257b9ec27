-- UNION ALL concatenates results; the outer ORDER BY makes the order deterministic.
SELECT x FROM (SELECT 1 AS x UNION ALL SELECT 2 UNION ALL SELECT 3) ORDER BY x;
SELECT x FROM (SELECT 1 AS x UNION ALL SELECT 1) ORDER BY x;
SELECT count() FROM (SELECT number FROM numbers(3) UNION ALL SELECT number FROM numbers(4));
SELECT s FROM (SELECT 'b' AS s UNION ALL SELECT 'a') ORDER BY s;

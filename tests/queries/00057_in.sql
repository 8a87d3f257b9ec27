-- IN / NOT IN with literal lists and subqueries.
SELECT 1 IN (1, 2, 3), 4 IN (1, 2, 3), 'b' IN ('a', 'b'), 2 NOT IN (1, 3), 1 NOT IN (1, 3);
SELECT number FROM numbers(10) WHERE number IN (1, 3, 5, 11) ORDER BY number;
SELECT number FROM numbers(5) WHERE number NOT IN (1, 3) ORDER BY number;
SELECT toUInt64(3) IN (SELECT number FROM numbers(5)), toUInt64(7) IN (SELECT number FROM numbers(5));
SELECT number FROM numbers(10) WHERE number IN (SELECT number * 3 FROM numbers(3)) ORDER BY number;
SELECT 1 IN (1), 'a' IN ('a');

-- Aliases defined in SELECT are visible in WHERE, ORDER BY and other expressions.
SELECT number * 2 AS y FROM numbers(10) WHERE y > 10 ORDER BY y;
SELECT 1 + 1 AS a, a * 3 AS b, b - a;
SELECT number AS n, n % 2 = 0 AS even FROM numbers(4) WHERE even ORDER BY n;

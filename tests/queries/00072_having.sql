-- HAVING filters groups after aggregation.
SELECT number % 5 AS k, count() AS c FROM numbers(12) GROUP BY k HAVING c > 2 ORDER BY k;
SELECT number % 5 AS k, sum(number) AS s FROM numbers(12) GROUP BY k HAVING s > 15 AND k != 3 ORDER BY s DESC;
SELECT number % 4 AS k FROM numbers(8) GROUP BY k HAVING max(number) >= 6 ORDER BY k;

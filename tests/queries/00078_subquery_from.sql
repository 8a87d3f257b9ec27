-- Subqueries in FROM, nested, with aliases and SELECT *.
SELECT x * 2 FROM (SELECT number AS x FROM numbers(3)) ORDER BY x;
SELECT * FROM (SELECT 1 AS a, 'b' AS b);
SELECT y FROM (SELECT x + 1 AS y FROM (SELECT number AS x FROM numbers(3))) ORDER BY y DESC;
SELECT sum(c) FROM (SELECT number % 3 AS k, count() AS c FROM numbers(10) GROUP BY k);
SELECT t.x FROM (SELECT 42 AS x) AS t;

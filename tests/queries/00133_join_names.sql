-- hand-written: aliases, qualified names, subqueries, chained joins, column names (ClickHouse JOIN clause docs, new analyzer naming)
SELECT * FROM (SELECT 1 AS a, 'x' AS s) AS l JOIN (SELECT 1 AS a, 'y' AS s) AS r USING (a) FORMAT TSVWithNames;
SELECT * FROM (SELECT 1 AS a, 'x' AS s) AS l JOIN (SELECT 1 AS a, 'y' AS s) AS r ON l.a = r.a FORMAT TSVWithNames;
SELECT l.s, r.s, a FROM (SELECT 1 AS a, 'x' AS s) AS l JOIN (SELECT 1 AS a, 'y' AS s) AS r USING (a) FORMAT TSVWithNames;
SELECT l.* FROM (SELECT 1 AS a, 'x' AS s) AS l JOIN (SELECT 1 AS a, 'y' AS s) AS r USING (a) FORMAT TSVWithNames;
SELECT x, y, z FROM (SELECT number AS x FROM numbers(6)) AS t1
  JOIN (SELECT number * 2 AS x, number AS y FROM numbers(6)) AS t2 USING (x)
  LEFT JOIN (SELECT number * 4 AS x, 'four' AS z FROM numbers(3)) AS t3 USING (x) ORDER BY x;
SELECT t1.number, t2.number, t3.number FROM numbers(4) AS t1 JOIN numbers(4) AS t2 ON t1.number = t2.number + 1
  JOIN numbers(4) AS t3 ON t2.number = t3.number + 1 ORDER BY t1.number;
SELECT number, x FROM numbers(3) AS n LEFT JOIN (SELECT 1 AS number, 'one' AS x) AS o USING number ORDER BY number;
SELECT s FROM (SELECT 1 AS a, 'x' AS s) AS l JOIN (SELECT 1 AS a, 'y' AS s) AS r USING (a); -- { serverError 352 }
SELECT 1 FROM (SELECT 1 AS a) AS l JOIN (SELECT 1 AS b) AS r ON l.a = r.zz; -- { serverError 47 }
SELECT 1 FROM (SELECT 1 AS a) AS l JOIN (SELECT 1 AS b) AS r USING (zz); -- { serverError 47 }
SELECT 1 FROM (SELECT 1 AS a) AS l ASOF JOIN (SELECT 1 AS a) AS r USING (a); -- { serverError 48 }
SELECT 1 FROM (SELECT 1 AS a) AS l LEFT JOIN (SELECT 1 AS b) AS r ON l.a < r.b; -- { serverError 48 }
SELECT 1 FROM (SELECT 1 AS a) AS l FULL JOIN (SELECT 1 AS b) AS r ON l.a = r.b AND l.a + r.b > 1; -- { serverError 48 }

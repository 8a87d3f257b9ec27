-- JSONCompactEachRow: one array per line.
-- hand-written: JSONCompactEachRow is not in ClickHouse 18.16.
SELECT number AS n, toString(number) AS s FROM numbers(2) ORDER BY n FORMAT JSONCompactEachRow;
SELECT 1 AS a, 'x' AS b, [1, 2] AS c, NULL AS d FORMAT JSONCompactEachRow;

-- JSONEachRow: one object per line.
SELECT number AS n, toString(number) AS s FROM numbers(3) ORDER BY n FORMAT JSONEachRow;
SELECT 1 AS a, -1.5 AS f, [1, 2] AS arr, NULL AS n, toDate('2024-01-02') AS d, toUInt64(7) AS u FORMAT JSONEachRow;
SELECT number AS n FROM numbers(3) WHERE number > 5 FORMAT JSONEachRow;

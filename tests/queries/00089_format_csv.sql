-- CSV quotes strings, dates and arrays with double quotes; numbers and NULL are bare.
SELECT number, toString(number) AS s FROM numbers(3) ORDER BY number FORMAT CSV;
SELECT 'x,y' AS a, 'say "hi"' AS b, '' AS c, NULL AS n, 1.5 AS f FORMAT CSV;
SELECT [1, 2] AS a, ['a', 'b'] AS sa, toDate('2024-01-02') AS d, toDateTime('2024-01-02 03:04:05', 'UTC') AS t FORMAT CSV;
SELECT 'line1\nline2' AS s, 'tab\there' AS t, 'back\\slash' AS b FORMAT CSV;
SELECT -1 AS i, toUInt64(18446744073709551615) AS u, 0.1 + 0.2 AS f FORMAT CSV;

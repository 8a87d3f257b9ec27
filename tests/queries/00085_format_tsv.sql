-- TabSeparated is the default; TSV is its alias.
SELECT number, toString(number * 10) AS s, [number, 1] AS a FROM numbers(3) ORDER BY number;
SELECT number, 'x' AS s FROM numbers(2) ORDER BY number FORMAT TabSeparated;
SELECT 1 AS a, 'b' AS b FORMAT TSV;
SELECT toDate('2024-01-02') AS d, toDateTime('2024-01-02 03:04:05', 'UTC') AS t, 1.5 AS f, NULL AS n FORMAT TSV;

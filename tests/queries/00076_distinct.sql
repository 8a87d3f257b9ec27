-- SELECT DISTINCT on one and several columns.
SELECT DISTINCT number % 3 AS x FROM numbers(10) ORDER BY x;
SELECT DISTINCT number % 2 AS a, number % 3 AS b FROM numbers(12) ORDER BY a, b;
SELECT DISTINCT x FROM (SELECT arrayJoin(['b', 'a', 'b', 'a']) AS x) ORDER BY x;
SELECT count() FROM (SELECT DISTINCT number % 4 FROM numbers(100));

-- GROUP BY an expression, by an alias, and by several keys.
SELECT number % 3 AS k, count(), sum(number) FROM numbers(10) GROUP BY k ORDER BY k;
SELECT number % 2 AS a, number % 3 AS b, count() FROM numbers(12) GROUP BY a, b ORDER BY a, b;
SELECT length(s) AS len, count() FROM (SELECT arrayJoin(['a', 'bb', 'cc', 'ddd']) AS s) GROUP BY len ORDER BY len;
SELECT number % 3, sum(number) FROM numbers(10) GROUP BY number % 3 ORDER BY number % 3;

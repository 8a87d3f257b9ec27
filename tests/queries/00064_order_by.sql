-- ORDER BY several keys, expressions, and ASC/DESC per key.
SELECT number % 3 AS k, number FROM numbers(9) ORDER BY k, number DESC;
SELECT number FROM numbers(6) ORDER BY number % 2 DESC, number ASC;
SELECT number, -number AS neg FROM numbers(4) ORDER BY neg;

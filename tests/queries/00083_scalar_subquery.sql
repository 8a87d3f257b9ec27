-- Scalar subqueries in the SELECT list and in WHERE.
SELECT (SELECT 42), (SELECT max(number) FROM numbers(5));
SELECT number FROM numbers(5) WHERE number > (SELECT 2) ORDER BY number;
SELECT number, number = (SELECT min(number) FROM numbers(3)) FROM numbers(3) ORDER BY number;

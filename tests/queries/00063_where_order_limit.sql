-- WHERE, ORDER BY DESC, LIMIT and OFFSET together.
SELECT number FROM numbers(20) WHERE number % 3 = 0 ORDER BY number DESC;
SELECT number FROM numbers(20) WHERE number % 3 = 0 ORDER BY number DESC LIMIT 3;
SELECT number FROM numbers(20) WHERE number % 3 = 0 ORDER BY number DESC LIMIT 3 OFFSET 1;
SELECT number FROM numbers(20) WHERE number % 3 = 0 ORDER BY number LIMIT 1, 2;
SELECT number FROM numbers(10) WHERE number > 100;
SELECT number FROM numbers(10) ORDER BY number LIMIT 0;

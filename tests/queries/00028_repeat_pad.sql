-- repeat, and leftPad/rightPad padding to a byte length.
-- hand-written: repeat, leftPad and rightPad are not in ClickHouse 18.16.
SELECT repeat('ab', 3), repeat('x', 1), concat('[', repeat('x', 0), ']');
SELECT leftPad('abc', 7, '*'), rightPad('abc', 7, '*'), leftPad('abc', 7, 'xy');
SELECT concat('[', leftPad('def', 7), ']'), concat('[', rightPad('def', 7), ']');

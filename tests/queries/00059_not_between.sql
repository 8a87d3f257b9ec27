-- NOT BETWEEN.
-- hand-written: NOT BETWEEN is not in ClickHouse 18.16.
SELECT 5 NOT BETWEEN 1 AND 3, 2 NOT BETWEEN 1 AND 3;
SELECT number FROM numbers(6) WHERE number NOT BETWEEN 1 AND 4 ORDER BY number;

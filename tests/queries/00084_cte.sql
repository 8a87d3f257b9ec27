-- WITH name AS (subquery) as a common table expression.
-- hand-written: WITH name AS (subquery) is not in ClickHouse 18.16.
WITH t AS (SELECT number AS x FROM numbers(5)) SELECT sum(x) FROM t;
WITH t AS (SELECT number AS x FROM numbers(5)) SELECT x FROM t WHERE x > 2 ORDER BY x;

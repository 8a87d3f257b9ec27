-- Without GROUP BY an aggregate over no rows gives one row of defaults; with GROUP BY it gives no rows.
SELECT count(), sum(number), uniqExact(number) FROM numbers(10) WHERE number > 100;
SELECT number % 2 AS k, count() FROM numbers(10) WHERE number > 100 GROUP BY k;
SELECT countIf(number > 100) FROM numbers(10);

-- numbers(N) and numbers(start, N).
SELECT * FROM numbers(5) ORDER BY number;
SELECT number FROM numbers(3, 4) ORDER BY number;
SELECT count(), sum(number), min(number), max(number) FROM numbers(1000);
SELECT count() FROM numbers(3) WHERE number > 5;

-- Aggregate functions over numbers(10) and their result types.
SELECT count(), sum(number), avg(number), min(number), max(number) FROM numbers(10);
SELECT count(number), sum(number * 2), avg(number + 1), min(10 - number), max(number % 7) FROM numbers(10);
SELECT toTypeName(count()), toTypeName(sum(number)), toTypeName(avg(number)), toTypeName(min(number)) FROM numbers(10);
SELECT toTypeName(sum(toInt8(1))), toTypeName(sum(toFloat32(1))), toTypeName(sum(1)), toTypeName(avg(1)), toTypeName(min(toInt8(1)));
SELECT sum(number) / count() FROM numbers(10);

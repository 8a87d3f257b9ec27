-- uniqExact and count(DISTINCT).
SELECT uniqExact(number % 7), uniqExact(number), count(DISTINCT number % 3) FROM numbers(100);
SELECT uniqExact(toString(number % 4)), uniqExact(number % 2, number % 3) FROM numbers(100);
SELECT toTypeName(uniqExact(number)) FROM numbers(1);

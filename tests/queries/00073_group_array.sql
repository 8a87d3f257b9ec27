-- groupArray collects values; sorted here so the output does not depend on read order.
SELECT number % 3 AS k, arraySort(groupArray(number)) FROM numbers(10) GROUP BY k ORDER BY k;
SELECT arraySort(groupArray(toString(number))) FROM numbers(4);
SELECT length(groupArray(number)) FROM numbers(100);

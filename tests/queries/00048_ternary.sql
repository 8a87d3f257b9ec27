-- The cond ? a : b operator.
SELECT 1 ? 'a' : 'b', 0 ? 'a' : 'b', 1 > 2 ? 10 : 20;
SELECT number, number < 2 ? 'lt2' : (number < 4 ? 'lt4' : 'ge4') FROM numbers(5) ORDER BY number;

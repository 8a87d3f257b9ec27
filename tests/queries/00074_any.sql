-- any() returns a value from the group; here every value in a group is the same.
SELECT number % 3 AS k, any(number % 3), anyLast(number % 3), any(k * 10) FROM numbers(9) GROUP BY k ORDER BY k;
SELECT any(1), any('x') FROM numbers(5);

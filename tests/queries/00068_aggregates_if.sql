-- The -If combinator.
SELECT countIf(number % 2 = 0), sumIf(number, number > 5), avgIf(number, number < 4) FROM numbers(10);
SELECT minIf(number, number > 3), maxIf(number, number < 3), countIf(number > 100) FROM numbers(10);

-- WITH expr AS name defines a constant usable in the query.
WITH 5 AS x SELECT x + 1;
WITH 'abc' AS s SELECT upper(s), length(s);
WITH 2 AS k SELECT number * k FROM numbers(3) ORDER BY number;
WITH 1 AS a, 2 AS b SELECT a + b;

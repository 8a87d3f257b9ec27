-- WITH (subquery) AS name binds the scalar result of a subquery.
WITH (SELECT max(number) FROM numbers(10)) AS m SELECT m, m * 2;
WITH (SELECT sum(number) FROM numbers(5)) AS total SELECT number, total FROM numbers(2) ORDER BY number;

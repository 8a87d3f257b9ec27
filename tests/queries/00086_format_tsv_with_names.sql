-- TSVWithNames adds a header row of column names (escaped like values).
SELECT number AS n, toString(number) AS s FROM numbers(2) ORDER BY n FORMAT TSVWithNames;
SELECT 1 AS x FORMAT TabSeparatedWithNames;
SELECT 1 AS `a b`, 2 AS `tab	name` FORMAT TSVWithNames;
SELECT number AS n FROM numbers(3) WHERE number > 5 FORMAT TSVWithNames;

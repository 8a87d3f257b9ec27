-- TSVWithNamesAndTypes adds a names row and a types row.
SELECT number AS n, toString(number) AS s, [1, 2] AS a, toDateTime('2024-01-02 03:04:05', 'UTC') AS t FROM numbers(2) ORDER BY n FORMAT TSVWithNamesAndTypes;
SELECT toNullable(1) AS x, NULL AS y FORMAT TabSeparatedWithNamesAndTypes;

-- NULL helpers.
SELECT isNull(NULL), isNull(1), isNotNull(NULL), isNotNull(1);
SELECT ifNull(NULL, 5), ifNull(3, 5), coalesce(NULL, NULL, 3), coalesce(NULL, 'x', 'y'), coalesce(1, 2);
SELECT nullIf(1, 1), nullIf(1, 2), assumeNotNull(toNullable(5)), toNullable(7);
SELECT coalesce(NULL, NULL);
SELECT x, ifNull(x, 0), isNull(x) FROM (SELECT arrayJoin([1, NULL, 3]) AS x) ORDER BY x;

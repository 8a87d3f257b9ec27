-- arrayJoin in the SELECT list turns one row into one row per element.
SELECT arrayJoin([1, 2, 3]);
SELECT arrayJoin(['a', 'b']) AS x, length(x);
SELECT 'const', arrayJoin([10, 20]) AS v ORDER BY v;
SELECT count() FROM (SELECT arrayJoin(range(10)));
SELECT x FROM (SELECT [1, 2] AS arr) ARRAY JOIN arr AS x;

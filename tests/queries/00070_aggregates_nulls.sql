-- Aggregates skip NULLs; count() counts rows.
SELECT sum(x), count(x), count(), avg(x), min(x), max(x) FROM (SELECT arrayJoin([1, NULL, 3]) AS x);
SELECT toTypeName(sum(x)) FROM (SELECT arrayJoin([1, NULL, 3]) AS x);
SELECT count(x), count() FROM (SELECT arrayJoin([CAST(NULL AS Nullable(UInt8)), NULL]) AS x);

-- settings: output_format_write_statistics=0
-- JSONCompact: like JSON but each row is an array.
SELECT toUInt64(arrayJoin([0, 1])) AS n, toString(n) AS s FORMAT JSONCompact;
SELECT 1 AS a, 'x' AS b, [1, 2] AS c, NULL AS d FORMAT JSONCompact;

-- settings: output_format_write_statistics=0
-- JSON: meta, data as objects, rows; statistics disabled for a stable output.
-- No LIMIT/ORDER BY/numbers() here: those make some versions add rows_before_limit_at_least.
SELECT toUInt64(arrayJoin([0, 1])) AS n, toString(n) AS s FORMAT JSON;
SELECT 1 AS x FORMAT JSON;
SELECT 1 AS x WHERE 0 FORMAT JSON;

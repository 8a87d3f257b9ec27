-- settings: output_format_write_statistics=0
-- JSON renders numbers bare (64-bit ints quoted), strings, dates, arrays and NULL.
SELECT toUInt8(1) AS u8, toInt32(-2) AS i32, toUInt64(3) AS u64, toInt64(-4) AS i64, 1.5 AS f, 'str' AS s FORMAT JSON;
SELECT toDate('2024-01-02') AS d, toDateTime('2024-01-02 03:04:05', 'UTC') AS t, [1, 2] AS a, ['x'] AS sa, NULL AS n, toNullable(5) AS nn FORMAT JSON;

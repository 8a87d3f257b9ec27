-- hand-written: 18.16 has no DateTime64; current ClickHouse compares DateTime64 values of different precisions at the finer one (Grafana's $__fromTime is fromUnixTimestamp64Milli(...), a DateTime64(3), against DateTime64(9) columns)
SELECT toDateTime64('2025-01-05 00:00:00.5', 9, 'UTC') = toDateTime64('2025-01-05 00:00:00.5', 1, 'UTC');
SELECT toDateTime64('2025-01-05 00:00:00.123456789', 9, 'UTC') > toDateTime64('2025-01-05 00:00:00.123', 3, 'UTC');
SELECT toDateTime64('2025-01-05 00:00:00.123', 9, 'UTC') <= toDateTime64('2025-01-05 00:00:00.123', 3, 'UTC');
SELECT toDateTime64('2025-01-04 00:00:00', 9, 'UTC') < fromUnixTimestamp64Milli(1736000000000, 'UTC');
DROP TABLE IF EXISTS dt64_cmp;
CREATE TABLE dt64_cmp (t DateTime64(9, 'UTC'), k UInt8) ENGINE = MergeTree ORDER BY (k, toDateTime(t), t);
INSERT INTO dt64_cmp VALUES ('2025-01-04 14:13:19.999999999', 1), ('2025-01-04 14:13:20', 1), ('2025-01-05 18:00:00.000000001', 1), ('2025-01-05 17:59:59', 2);
SELECT count() FROM dt64_cmp WHERE t >= fromUnixTimestamp64Milli(1736000000000, 'UTC') AND t <= toDateTime64('2025-01-05 18:00:00', 3, 'UTC');
SELECT k, count() FROM dt64_cmp WHERE t > toDateTime64('2025-01-04 14:13:20', 6, 'UTC') GROUP BY k ORDER BY k;
DROP TABLE dt64_cmp;

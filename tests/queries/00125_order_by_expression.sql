-- hand-written: written without a ClickHouse to record from; ReplacingMergeTree FINAL and OPTIMIZE FINAL over a sorting key with expressions (toStartOfHour, intDiv), whose values spanhouse computes instead of storing.
DROP TABLE IF EXISTS t00125;
CREATE TABLE t00125 (k String, x UInt64, ts DateTime('UTC'), v UInt32) ENGINE = ReplacingMergeTree(v) ORDER BY (k, toStartOfHour(ts), intDiv(x, 10), x) SETTINGS index_granularity = 4;
INSERT INTO t00125 SELECT concat('k', toString(number % 3)), number, toDateTime('2024-01-01 00:00:00', 'UTC') + number * 600, 1 FROM numbers(60);
INSERT INTO t00125 SELECT concat('k', toString(number * 2 % 3)), number * 2, toDateTime('2024-01-01 00:00:00', 'UTC') + number * 1200, 2 FROM numbers(30);
SELECT count(), sum(v) FROM t00125 FINAL;
SELECT k, x, v FROM t00125 FINAL WHERE x IN (3, 4) ORDER BY x;
SELECT x FROM t00125 FINAL WHERE k = 'k1' AND toStartOfHour(ts) = toDateTime('2024-01-01 02:00:00', 'UTC') ORDER BY x;
OPTIMIZE TABLE t00125 FINAL;
SELECT count() AS parts FROM system.parts WHERE database = currentDatabase() AND table = 't00125' AND active;
SELECT count(), sum(v) FROM t00125;
SELECT k, min(x), max(x), count() FROM t00125 GROUP BY k ORDER BY k;
SELECT x, v FROM t00125 WHERE k = 'k1' AND toStartOfHour(ts) = toDateTime('2024-01-01 02:00:00', 'UTC') ORDER BY x;
SELECT k, intDiv(x, 10) AS b, count() FROM t00125 WHERE x >= 50 GROUP BY k, b ORDER BY k, b;
DROP TABLE t00125;

-- settings: async_insert=1
-- hand-written: ClickHouse 18.16 has no async_insert; current ClickHouse answers the same (with wait_for_async_insert=1 the rows are readable once the INSERT returns)
DROP TABLE IF EXISTS t_async;
CREATE TABLE t_async (d Date, k UInt32, s String) ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY k;
INSERT INTO t_async VALUES ('2024-01-02', 2, 'b'), ('2024-02-03', 1, 'a'), ('2024-01-05', 3, 'c');
INSERT INTO t_async VALUES ('2024-02-09', 4, 'd');
SELECT k, s, _partition_id FROM t_async ORDER BY k;
SELECT count(), sum(k) FROM t_async WHERE s IN ('a', 'd');
OPTIMIZE TABLE t_async FINAL;
SELECT partition, rows FROM system.parts WHERE database = currentDatabase() AND table = 't_async' AND active ORDER BY partition;
SELECT k, s FROM t_async ORDER BY k;
DROP TABLE t_async;

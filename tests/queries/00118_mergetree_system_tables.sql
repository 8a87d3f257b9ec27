-- system.tables / system.columns / system.parts / system.merges over MergeTree tables; OPTIMIZE.
DROP DATABASE IF EXISTS t00118;
CREATE DATABASE t00118;
CREATE TABLE t00118.p (d Date, k UInt32 CODEC(Delta, LZ4), s String DEFAULT 'x') ENGINE = MergeTree PARTITION BY toYYYYMM(d) ORDER BY k SETTINGS index_granularity = 2;
INSERT INTO t00118.p (d, k) VALUES ('2024-01-01', 1), ('2024-01-02', 2), ('2024-02-01', 3);
INSERT INTO t00118.p (d, k) VALUES ('2024-01-03', 4);
OPTIMIZE TABLE t00118.p FINAL;
SELECT database, name, engine, total_rows, total_bytes > 0, partition_key, sorting_key, primary_key FROM system.tables WHERE database = 't00118';
SELECT create_table_query FROM system.tables WHERE database = 't00118' AND name = 'p';
SELECT name, type, position, default_kind, default_expression, compression_codec, is_in_partition_key, is_in_sorting_key, data_compressed_bytes > 0, data_uncompressed_bytes > 0 FROM system.columns WHERE database = 't00118' ORDER BY position;
SELECT partition, partition_id, rows, level > 0, min_block_number, max_block_number, min_date, max_date, disk_name, bytes_on_disk > 0 FROM system.parts WHERE database = 't00118' AND table = 'p' AND active ORDER BY partition;
SELECT count() FROM system.merges WHERE database = 't00118';
SELECT _partition_id, count(), uniqExact(_part) FROM t00118.p GROUP BY _partition_id ORDER BY 1;
SELECT name FROM system.databases WHERE name = 't00118';
DROP DATABASE t00118;
SELECT count() FROM system.tables WHERE database = 't00118';

-- A filter on a key column AND another column, selecting a third: the
-- automatic PREWHERE evaluates the second condition only on rows the first
-- kept, over a block that holds just the filter's columns.
DROP TABLE IF EXISTS prewhere_sc;
CREATE TABLE prewhere_sc (service LowCardinality(String), name String, duration UInt64, id String) ENGINE = MergeTree ORDER BY (service, name);
INSERT INTO prewhere_sc SELECT ['api', 'db', 'web'][number % 3 + 1], concat('op', toString(number % 7)), number * 1000, concat('id', toString(number)) FROM numbers(30000);
SELECT count(), min(id), max(id), sum(length(id)) FROM prewhere_sc WHERE service = 'db' AND duration > 29000000;
SELECT count(), min(duration), max(duration) FROM prewhere_sc WHERE service = 'web' AND duration > 15000000 AND name != 'op3';
DROP TABLE prewhere_sc;

-- Column CODEC chains are stored, shown and round-trip the data.
DROP TABLE IF EXISTS t00120;
CREATE TABLE t00120 (
    id UInt64 CODEC(Delta, ZSTD(1)),
    a UInt32 CODEC(NONE),
    b Int64 CODEC(DoubleDelta),
    c Float64 CODEC(Gorilla),
    d UInt16 CODEC(T64, LZ4),
    e String CODEC(ZSTD(3)),
    f DateTime CODEC(Delta(4), LZ4),
    g Float32 CODEC(Gorilla, ZSTD)
) ENGINE = MergeTree ORDER BY id;
INSERT INTO t00120 SELECT number, number * 7, number * number, number / 3, number % 1000, repeat('x', number % 5), toDateTime('2024-01-01 00:00:00') + number, number / 4 FROM numbers(20000);
SELECT count(), sum(id), sum(a), sum(b), round(sum(c), 3), sum(d), sum(length(e)), min(f), max(f), sum(g) FROM t00120;
SELECT * FROM t00120 WHERE id IN (0, 1, 19999) ORDER BY id;
SELECT name, compression_codec FROM system.columns WHERE table = 't00120' ORDER BY position;
CREATE TABLE t00120_bad (x UInt32 CODEC(NoSuchCodec)) ENGINE = MergeTree ORDER BY x; -- { serverError 432 }
DROP TABLE t00120;

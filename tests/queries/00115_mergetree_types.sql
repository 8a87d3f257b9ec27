-- Column types stored in MergeTree parts and read back; DEFAULT / MATERIALIZED / ALIAS; Nested.
DROP TABLE IF EXISTS t00115;
CREATE TABLE t00115 (
    id UInt32,
    i8 Int8, u16 UInt16, i64 Int64, f32 Float32,
    b Bool,
    s String, fs FixedString(3), lc LowCardinality(String),
    d Date, dt DateTime('UTC'), dt64 DateTime64(3, 'UTC'),
    u UUID,
    e Enum8('a' = 1, 'b' = 2),
    n Nullable(Int32),
    arr Array(UInt8),
    m Map(String, UInt64),
    tup Tuple(a UInt8, b String),
    nest Nested(x UInt8, y String),
    dflt UInt32 DEFAULT id * 10,
    mat String MATERIALIZED concat('m', toString(id)),
    al UInt64 ALIAS id + 1000
) ENGINE = MergeTree ORDER BY id;
INSERT INTO t00115 (id, i8, u16, i64, f32, b, s, fs, lc, d, dt, dt64, u, e, n, arr, m, tup, nest.x, nest.y) VALUES (1, -5, 65535, -9000000000, 1.5, true, 'hello', 'abc', 'low', '2024-01-02', '2024-01-02 03:04:05', '2024-01-02 03:04:05.678', '61f0c404-5cb3-11e7-907b-a6006ad3dba0', 'b', NULL, [1, 2, 3], {'k1': 1, 'k2': 2}, (7, 'seven'), [1, 2], ['p', 'q']);
INSERT INTO t00115 (id, s, n, dflt) VALUES (2, 'two', 42, 5);
SELECT id, i8, u16, i64, f32, b, s, fs, lc, d, dt, dt64, u, e, n FROM t00115 ORDER BY id;
SELECT id, arr, m, tup, nest.x, nest.y FROM t00115 ORDER BY id;
SELECT id, dflt, mat, al FROM t00115 ORDER BY id;
SELECT m['k2'], arr[2], tup.2, length(nest.x) FROM t00115 WHERE id = 1;
SELECT * FROM t00115 WHERE id = 2;
INSERT INTO t00115 (id, mat) VALUES (3, 'x'); -- { serverError 44 }
INSERT INTO t00115 (id, nosuch) VALUES (3, 1); -- { serverError 16 }
DESCRIBE TABLE t00115;
DROP TABLE t00115;

-- hand-written: key types compared by value, NULL keys never match, ON conditions (ClickHouse JOIN clause docs)
DROP TABLE IF EXISTS j132_a;
DROP TABLE IF EXISTS j132_b;
CREATE TABLE j132_a (id Int32, name String, n Nullable(UInt8)) ENGINE = MergeTree ORDER BY id;
CREATE TABLE j132_b (id UInt16, name LowCardinality(String), n Nullable(Int64)) ENGINE = MergeTree ORDER BY id;
INSERT INTO j132_a VALUES (1, 'one', 1), (2, 'two', NULL), (3, 'three', 3);
INSERT INTO j132_b VALUES (1, 'one', 1), (2, 'two', NULL), (4, 'three', 3);
SELECT a.id, b.id FROM j132_a a JOIN j132_b b ON a.id = b.id ORDER BY a.id;
SELECT a.name, b.id FROM j132_a a JOIN j132_b b ON a.name = b.name ORDER BY b.id;
SELECT a.id, b.id FROM j132_a a JOIN j132_b b ON a.n = b.n ORDER BY a.id;
SELECT a.id, b.id, b.n FROM j132_a a LEFT JOIN j132_b b ON a.n = b.n ORDER BY a.id;
SELECT a.id, b.id FROM j132_a a FULL JOIN j132_b b ON a.n = b.n ORDER BY a.id, b.id;
SELECT a.id, b.id FROM j132_a a JOIN j132_b b ON a.id = b.id AND a.name = b.name ORDER BY a.id;
SELECT a.id, b.id FROM j132_a a JOIN j132_b b ON toString(a.id) = toString(b.id) ORDER BY a.id;
-- extra conditions: one side, both sides (INNER)
SELECT a.id, b.id FROM j132_a a JOIN j132_b b ON a.name = b.name AND b.id > 1 ORDER BY a.id;
SELECT a.id, b.id FROM j132_a a LEFT JOIN j132_b b ON a.name = b.name AND b.id > 1 ORDER BY a.id;
SELECT a.id, b.id FROM j132_a a LEFT JOIN j132_b b ON a.name = b.name AND a.id > 1 ORDER BY a.id;
SELECT a.id, b.id FROM j132_a a JOIN j132_b b ON a.name = b.name AND a.id < b.id ORDER BY a.id;
SELECT count() FROM j132_a a JOIN j132_b b ON a.id < b.id;
DROP TABLE j132_a;
DROP TABLE j132_b;

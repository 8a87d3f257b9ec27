-- INSERT into MergeTree: VALUES, FORMAT <input format> with inline data, column lists, defaults, INSERT … SELECT, all-or-nothing.
DROP TABLE IF EXISTS t00116;
CREATE TABLE t00116 (k UInt32, s String DEFAULT 'dflt', n Nullable(Float64), a Array(String)) ENGINE = MergeTree ORDER BY k;
INSERT INTO t00116 VALUES (1, 'values', 1.5, ['x']), (2, 'two', NULL, []);
INSERT INTO t00116 (k) VALUES (3);
INSERT INTO t00116 FORMAT JSONEachRow {"k": 4, "s": "json", "n": 4.25, "a": ["p", "q"]} {"k": 5};
INSERT INTO t00116 FORMAT JSONCompactEachRow [6, "compact", null, ["r"]];
INSERT INTO t00116 (k, s) FORMAT CSV 7,"csv, quoted";
INSERT INTO t00116 (s, k) FORMAT TSV tsv	8;
INSERT INTO t00116 (k, s) FORMAT Values (9, 'fmt values');
INSERT INTO t00116 (k, s) SELECT number + 10, concat('sel', toString(number)) FROM numbers(3);
SELECT * FROM t00116 ORDER BY k;
INSERT INTO t00116 (k, s) VALUES (20, 'ok'), ('bad', 'row'); -- { serverError 27 }
INSERT INTO t00116 FORMAT JSONEachRow {"k": 21} {"k": "x"}; -- { serverError 27 }
INSERT INTO t00116 (k, s) SELECT number, 'x' FROM numbers(2) UNION ALL SELECT throwIf(1), 'y'; -- { serverError 395 }
SELECT count(), max(k) FROM t00116;
INSERT INTO t00116 (k, s) SELECT 1; -- { serverError 20 }
INSERT INTO t00116 FORMAT NoSuchFormat 1; -- { serverError 73 }
DROP TABLE t00116;

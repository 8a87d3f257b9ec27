-- hand-written: JOIN kinds, USING vs ON, join_use_nulls (ClickHouse JOIN clause docs; not in the 18.16 reference server with this syntax)
DROP TABLE IF EXISTS j130_l;
DROP TABLE IF EXISTS j130_r;
CREATE TABLE j130_l (k UInt32, v String) ENGINE = MergeTree ORDER BY k;
CREATE TABLE j130_r (k UInt64, w String) ENGINE = MergeTree ORDER BY k;
INSERT INTO j130_l VALUES (1, 'a'), (2, 'b'), (3, 'c');
INSERT INTO j130_r VALUES (2, 'x'), (3, 'y'), (3, 'z'), (4, 'q');
SELECT * FROM j130_l INNER JOIN j130_r USING (k) ORDER BY k, w FORMAT TSVWithNames;
SELECT * FROM j130_l JOIN j130_r ON j130_l.k = j130_r.k ORDER BY j130_l.k, w FORMAT TSVWithNames;
SELECT * FROM j130_l AS a LEFT JOIN j130_r AS b ON a.k = b.k ORDER BY a.k, w FORMAT TSVWithNames;
SELECT * FROM j130_l LEFT OUTER JOIN j130_r USING k ORDER BY k, w FORMAT TSVWithNames;
SELECT * FROM j130_l AS a RIGHT JOIN j130_r AS b ON a.k = b.k ORDER BY b.k, w FORMAT TSVWithNames;
SELECT * FROM j130_l RIGHT JOIN j130_r USING (k) ORDER BY k, w FORMAT TSVWithNames;
SELECT * FROM j130_l AS a FULL OUTER JOIN j130_r AS b ON a.k = b.k ORDER BY a.k, b.k, w FORMAT TSVWithNames;
SELECT * FROM j130_l FULL JOIN j130_r USING (k) ORDER BY k, w FORMAT TSVWithNames;
SELECT a.k, b.k, v, w FROM j130_l AS a CROSS JOIN j130_r AS b ORDER BY a.k, b.k, w;
SELECT count() FROM j130_l, j130_r;
SELECT a.k, b.w FROM j130_l a, j130_r b WHERE a.k = b.k ORDER BY a.k, b.w;
-- join_use_nulls
SELECT a.k, b.k, v, w FROM j130_l AS a LEFT JOIN j130_r AS b ON a.k = b.k ORDER BY a.k, w SETTINGS join_use_nulls = 1;
SELECT a.k, b.k, v, w FROM j130_l AS a RIGHT JOIN j130_r AS b ON a.k = b.k ORDER BY b.k, w SETTINGS join_use_nulls = 1;
SELECT k, v, w FROM j130_l FULL JOIN j130_r USING (k) ORDER BY k, w SETTINGS join_use_nulls = 1;
SELECT toTypeName(b.k), toTypeName(w), toTypeName(a.k) FROM j130_l AS a LEFT JOIN j130_r AS b ON a.k = b.k LIMIT 1 SETTINGS join_use_nulls = 1;
SELECT toTypeName(b.k), toTypeName(w) FROM j130_l AS a LEFT JOIN j130_r AS b ON a.k = b.k LIMIT 1;
DROP TABLE j130_l;
DROP TABLE j130_r;

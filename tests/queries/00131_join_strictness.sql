-- hand-written: ANY vs ALL, duplicate keys, empty sides (ClickHouse JOIN clause docs, any_join_distinct_right_table_keys = 0)
DROP TABLE IF EXISTS j131_l;
DROP TABLE IF EXISTS j131_r;
CREATE TABLE j131_l (k UInt8, v String) ENGINE = MergeTree ORDER BY tuple();
CREATE TABLE j131_r (k UInt8, w String) ENGINE = MergeTree ORDER BY tuple();
INSERT INTO j131_l VALUES (1, 'a'), (2, 'b'), (2, 'bb'), (3, 'c');
INSERT INTO j131_r VALUES (2, 'x'), (2, 'xx'), (3, 'y'), (5, 'q');
SELECT v, w FROM j131_l ALL INNER JOIN j131_r USING (k) ORDER BY v, w;
SELECT count() FROM j131_l JOIN j131_r USING (k);
SELECT v, w FROM j131_l ANY LEFT JOIN j131_r USING (k) ORDER BY v;
SELECT count() FROM j131_l ANY INNER JOIN j131_r USING (k);
SELECT k, w FROM j131_l ANY RIGHT JOIN j131_r USING (k) ORDER BY k, w;
SELECT count() FROM j131_l ANY FULL JOIN j131_r USING (k); -- { serverError 48 }
-- empty sides
SELECT count() FROM j131_l JOIN (SELECT * FROM j131_r WHERE 0) AS e USING (k);
SELECT v, w FROM j131_l LEFT JOIN (SELECT * FROM j131_r WHERE 0) AS e USING (k) ORDER BY v;
SELECT k, v FROM (SELECT * FROM j131_l WHERE 0) AS e RIGHT JOIN j131_r USING (k) ORDER BY k, w;
SELECT count() FROM (SELECT * FROM j131_l WHERE 0) AS e FULL JOIN (SELECT * FROM j131_r WHERE 0) AS f USING (k);
DROP TABLE j131_l;
DROP TABLE j131_r;

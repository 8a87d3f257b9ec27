-- Plain views (a stored SELECT, run when read) and materialized views with an
-- inner table (ENGINE instead of TO), filled from existing rows by POPULATE.
DROP TABLE IF EXISTS vw_src;
DROP TABLE IF EXISTS vw_plain;
DROP TABLE IF EXISTS vw_plain2;
DROP TABLE IF EXISTS vw_agg;
CREATE TABLE vw_src (k String, v UInt32) ENGINE = MergeTree ORDER BY k;
INSERT INTO vw_src VALUES ('a', 1), ('b', 2), ('a', 3);
CREATE VIEW vw_plain AS SELECT k, v * 2 AS w FROM vw_src WHERE v > 1;
SELECT k, w FROM vw_plain ORDER BY k, w;
SELECT count() FROM vw_plain WHERE k = 'a';
CREATE MATERIALIZED VIEW vw_agg ENGINE = SummingMergeTree ORDER BY k POPULATE AS SELECT k, sum(v) AS s, count() AS c FROM vw_src GROUP BY k;
SELECT k, s, c FROM vw_agg ORDER BY k;
INSERT INTO vw_src VALUES ('a', 10), ('c', 5);
SELECT k, sum(s), sum(c) FROM vw_agg GROUP BY k ORDER BY k;
SELECT k, w FROM vw_plain ORDER BY k, w;
SELECT name, engine FROM system.tables WHERE database = currentDatabase() AND name LIKE 'vw%' ORDER BY name;
INSERT INTO vw_plain VALUES ('x', 1); -- { serverError 48 }
RENAME TABLE vw_plain TO vw_plain2;
SELECT sum(w) FROM vw_plain2;
DROP TABLE vw_agg;
SELECT count() FROM system.tables WHERE database = currentDatabase() AND name LIKE '%vw_agg%';
DROP TABLE vw_plain2;
DROP TABLE vw_src;

-- settings: default_format=JSONEachRow
-- The default_format URL parameter applies when the query has no FORMAT clause.
SELECT 1 AS x, 'a' AS y;
SELECT 2 AS x FORMAT TSV;

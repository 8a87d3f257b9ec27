-- TabSeparatedRaw writes strings without escaping.
SELECT 'a\\b' AS s, 'it''s' AS q FORMAT TabSeparatedRaw;
SELECT 'a\\b' AS s, 'it''s' AS q FORMAT TSVRaw;
SELECT 1 AS x, 'plain' AS y FORMAT TabSeparatedRaw;

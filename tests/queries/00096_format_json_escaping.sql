-- JSON string escaping: quote, backslash, slash, control characters; UTF-8 passes through.
SELECT 'a"b' AS s FORMAT JSONEachRow;
SELECT 'a\\b' AS s FORMAT JSONEachRow;
SELECT 'a/b' AS s FORMAT JSONEachRow;
SELECT 'tab\tnl\ncr\rbs\bff\f' AS s FORMAT JSONEachRow;
SELECT 'x\x01y\x1Fz\0' AS s FORMAT JSONEachRow;
SELECT 'é € 😀' AS s FORMAT JSONEachRow;
SELECT 1 AS `we"ird` FORMAT JSONEachRow;

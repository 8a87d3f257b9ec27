-- Strings sort by bytes: uppercase before lowercase, prefixes first.
SELECT s FROM (SELECT arrayJoin(['b', 'a', 'B', 'ab', '', 'A', 'é']) AS s) ORDER BY s;
SELECT s FROM (SELECT arrayJoin(['10', '9', '100']) AS s) ORDER BY s DESC;

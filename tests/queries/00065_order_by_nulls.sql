-- NULLs sort last by default, in both directions; NULLS FIRST/LAST override it.
SELECT x FROM (SELECT arrayJoin([3, NULL, 1, 2]) AS x) ORDER BY x;
SELECT x FROM (SELECT arrayJoin([3, NULL, 1, 2]) AS x) ORDER BY x DESC;
SELECT x FROM (SELECT arrayJoin([3, NULL, 1, 2]) AS x) ORDER BY x NULLS FIRST;
SELECT x FROM (SELECT arrayJoin([3, NULL, 1, 2]) AS x) ORDER BY x DESC NULLS LAST;

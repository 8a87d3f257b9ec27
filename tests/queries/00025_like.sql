-- LIKE: % matches any run, _ one character, backslash escapes; matching is case-sensitive.
SELECT 'abc' LIKE 'a%', 'abc' LIKE '%c', 'abc' LIKE '%b%', 'abc' LIKE 'b%', 'abc' LIKE 'abc';
SELECT 'abc' LIKE '_b_', 'abc' LIKE '__', 'abc' LIKE '___', 'ABC' LIKE 'a%';
SELECT 'abc' NOT LIKE 'a%', 'abc' NOT LIKE 'z%', like('abc', '%c'), notLike('abc', '%c');
SELECT '100%' LIKE '100\\%', '100x' LIKE '100\\%', 'a_c' LIKE 'a\\_c', 'abc' LIKE 'a\\_c';
SELECT '' LIKE '%', '' LIKE '_';

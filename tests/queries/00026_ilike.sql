-- ILIKE is LIKE ignoring case.
-- hand-written: ILIKE is not in ClickHouse 18.16.
SELECT 'ABC' ILIKE 'a%', 'abc' ILIKE 'A_C', 'abc' ILIKE 'b%';
SELECT 'Hello' NOT ILIKE 'h%', ilike('Hello', '%LL%'), notILike('Hello', '%LL%');

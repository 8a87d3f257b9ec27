-- Searched CASE, simple CASE, and CASE without ELSE (NULL).
SELECT number, CASE WHEN number < 2 THEN 'low' WHEN number < 4 THEN 'mid' ELSE 'high' END FROM numbers(5) ORDER BY number;
SELECT CASE 2 WHEN 1 THEN 'a' WHEN 2 THEN 'b' ELSE 'c' END, CASE 5 WHEN 1 THEN 'a' ELSE 'c' END;
SELECT CASE 3 WHEN 1 THEN 'a' WHEN 2 THEN 'b' END;
SELECT number, CASE WHEN number = 1 THEN 'one' END FROM numbers(3) ORDER BY number;

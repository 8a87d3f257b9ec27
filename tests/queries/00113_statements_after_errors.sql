-- Errors do not disturb the statements around them; multi-line statements are fine.
SELECT 1;
SELECT nosuch(); -- { serverError 46 }
SELECT
    2 AS two,
    -- a comment inside a statement
    3 AS three;
SELECT [1, 'a']; -- { serverError 386 }
SELECT 4;

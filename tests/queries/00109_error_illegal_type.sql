-- Code 43 ILLEGAL_TYPE_OF_ARGUMENT.
SELECT length(1); -- { serverError 43 }
SELECT 1 + 'a'; -- { serverError 43 }
SELECT lower(1); -- { serverError 43 }
SELECT sum('a'); -- { serverError 43 }
SELECT arrayMap(x -> x, 1); -- { serverError 43 }
SELECT [1, 2][1.5]; -- { serverError 43 }
SELECT length([1]);

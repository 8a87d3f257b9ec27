-- Code 386 NO_COMMON_TYPE when values of incompatible types must share one type.
SELECT [1, 'a']; -- { serverError 386 }
SELECT if(number = 0, 1, 'a') FROM numbers(1); -- { serverError 386 }
SELECT CASE WHEN number = 0 THEN 1 ELSE 'a' END FROM numbers(1); -- { serverError 386 }
SELECT arrayConcat([1], ['a']); -- { serverError 386 }
SELECT [1, 2.5];

-- Code 46 UNKNOWN_FUNCTION, for plain and aggregate functions.
SELECT foo(1); -- { serverError 46 }
SELECT lenght('a'); -- { serverError 46 }
SELECT nosuchagg(number) FROM numbers(3); -- { serverError 46 }
SELECT length('ok');

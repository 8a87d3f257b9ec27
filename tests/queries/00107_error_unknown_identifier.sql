-- Code 47 UNKNOWN_IDENTIFIER.
SELECT x; -- { serverError 47 }
SELECT nosuch FROM system.one; -- { serverError 47 }
SELECT number FROM numbers(3) ORDER BY nosuch; -- { serverError 47 }
SELECT number FROM numbers(3) WHERE nosuch = 1; -- { serverError 47 }
SELECT dummy FROM system.one;

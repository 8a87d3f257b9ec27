-- Code 42 NUMBER_OF_ARGUMENTS_DOESNT_MATCH.
SELECT length(); -- { serverError 42 }
SELECT substring('a'); -- { serverError 42 }
SELECT length('a', 'b'); -- { serverError 42 }
SELECT toTypeName(); -- { serverError 42 }
SELECT substring('abc', 2);

-- Other error codes: 395 throwIf, 153 division by zero, 73 unknown format, 50 unknown type, 6 parse failure.
SELECT throwIf(1); -- { serverError 395 }
SELECT throwIf(number = 3) FROM numbers(5); -- { serverError 395 }
SELECT intDiv(1, 0); -- { serverError 153 }
SELECT 1 FORMAT NoSuchFormat; -- { serverError 73 }
SELECT CAST(1 AS NoSuchType); -- { serverError 50 }
SELECT toUInt8('x'); -- { serverError 6 }
SELECT throwIf(0);

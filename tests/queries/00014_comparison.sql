-- Comparison operators return UInt8 0/1; mixed signed/unsigned compare by value.
SELECT 1 < 2, 2 <= 2, 3 > 4, 4 >= 5, 1 = 1, 1 == 1, 1 != 2, 1 <> 1;
SELECT equals(1, 1), notEquals(1, 2), less(1, 2), greater(1, 2), lessOrEquals(2, 2), greaterOrEquals(1, 2);
SELECT 'a' < 'b', 'abc' = 'abc', 'B' < 'a', 'ab' < 'abc', '' < 'a';
SELECT -1 < 1, toUInt64(18446744073709551615) > -1, 1 = 1.0, 0.1 + 0.2 = 0.3;
SELECT toTypeName(1 < 2), toTypeName('a' = 'b');

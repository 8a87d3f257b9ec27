-- system.numbers is an endless UInt64 sequence starting at 0.
SELECT number FROM system.numbers LIMIT 5;
SELECT number FROM system.numbers LIMIT 3 OFFSET 2;
SELECT number FROM system.numbers LIMIT 2, 3;
SELECT toTypeName(number) FROM system.numbers LIMIT 1;

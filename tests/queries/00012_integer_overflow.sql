-- Promotion avoids overflow for small types; 64-bit arithmetic wraps around.
SELECT toUInt8(255) + toUInt8(1), toUInt8(0) - toUInt8(1), toInt8(-128) - toInt8(1);
SELECT toUInt64(18446744073709551615) + 1;
SELECT toInt64(-9223372036854775808) - 1;
SELECT toInt64(9223372036854775807) + 1;

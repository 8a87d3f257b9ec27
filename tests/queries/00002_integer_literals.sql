-- An unsigned literal gets the smallest UInt type that holds it, a negative one the smallest Int type.
SELECT 0, 255, 256, 65535, 65536, 4294967295, 4294967296, 18446744073709551615;
SELECT toTypeName(0), toTypeName(255), toTypeName(256), toTypeName(65536), toTypeName(4294967296);
SELECT -1, -128, -129, -32769, -2147483649, -9223372036854775808;
SELECT toTypeName(-1), toTypeName(-128), toTypeName(-129), toTypeName(-32769), toTypeName(-2147483649);

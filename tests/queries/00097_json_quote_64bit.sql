-- By default JSON formats quote Int64/UInt64 values so JavaScript does not lose precision.
SELECT toUInt64(18446744073709551615) AS u, toInt64(-9223372036854775808) AS i, toUInt32(4294967295) AS u32 FORMAT JSONEachRow;
SELECT count() AS c, sum(number) AS s FROM numbers(10) FORMAT JSONEachRow;
SELECT [toUInt64(1), 2] AS a FORMAT JSONEachRow;

-- settings: output_format_json_quote_64bit_integers=0&output_format_write_statistics=0
-- With output_format_json_quote_64bit_integers=0, 64-bit integers are bare numbers.
SELECT toUInt64(18446744073709551615) AS u, toInt64(-9223372036854775808) AS i FORMAT JSONEachRow;
SELECT toUInt64(10) AS c FORMAT JSON;
